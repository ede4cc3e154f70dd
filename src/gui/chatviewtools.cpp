// The chat view's tool blocks (issue 24; a second file of ChatView, as its own file is long): a
// tool call and its result as one framed block between the frames of an answer's text, collapsed
// to a line that opens on a click, written anew only when its state changes.
#include "gui/chatview.h"

#include "gui/markdownstream.h"

#include <QJsonDocument>
#include <QTextBlock>
#include <QTextFrame>

namespace holdfast {

namespace {
// The result the service gives the model for a declined call (shared/API.md, Tools (MCP)).
const QLatin1String kDeclined("the user declined this tool call");

// At most `limit` characters of `text`, and how many more there were.
QString bounded(const QString &text, int limit)
{
    if (text.size() <= limit)
        return text;
    return text.left(limit) + QStringLiteral("\n… ") +
           ChatView::tr("(%n more characters)", nullptr, int(text.size() - limit));
}
} // namespace

// Frames of an answer follow each other in the root frame; the space under the answer moves to
// the new last one.
QTextFrame *ChatView::insertToolBlock(QTextFrame *after, const MessageToolCall &call)
{
    QTextFrameFormat above = after->frameFormat();
    const qreal bottom = above.bottomMargin();
    above.setBottomMargin(0);
    after->setFrameFormat(above);
    QTextFrameFormat format;
    const QTextFrameFormat text = messageFormat(false); // its sides line up with the text's
    format.setLeftMargin(text.leftMargin());
    format.setRightMargin(text.rightMargin());
    format.setTopMargin(kToolGap);
    format.setBottomMargin(std::max<qreal>(bottom, kToolGap));
    format.setPadding(6);
    format.setBorder(1);
    format.setBorderBrush(m_style.codeBorder);
    format.setBorderStyle(QTextFrameFormat::BorderStyle_Solid);
    format.setBackground(m_style.codeBackground);
    QTextCursor at(document());
    at.setPosition(after->lastPosition() + 1);
    QTextFrame *frame = at.insertFrame(format);
    MarkdownStream::flattenBlock(document(), after->lastPosition() + 1);
    ToolBlock block;
    block.frame = frame;
    block.call = call;
    m_toolBlocks.push_back(block);
    writeToolBlock(m_toolBlocks.back());
    return frame;
}

QTextFrame *ChatView::textFrameAfter(QTextFrame *tool)
{
    QTextFrameFormat above = tool->frameFormat();
    const qreal bottom = above.bottomMargin();
    above.setBottomMargin(kToolGap);
    tool->setFrameFormat(above);
    QTextFrameFormat format = messageFormat(false);
    format.setTopMargin(0);
    format.setBottomMargin(std::max<qreal>(bottom - kToolGap, 0));
    QTextCursor at(document());
    at.setPosition(tool->lastPosition() + 1);
    QTextFrame *frame = at.insertFrame(format);
    MarkdownStream::flattenBlock(document(), tool->lastPosition() + 1);
    return frame;
}

QString ChatView::toolStatus(const ToolBlock &block, QColor *color) const
{
    *color = m_style.muted;
    const MessageToolCall &call = block.call;
    if (!call.result) {
        if (block.waiting) {
            *color = QColor(0xc0, 0x7a, 0x10);
            return tr("waiting for your approval");
        }
        return m_stream && m_liveCalls.contains(call.id) ? tr("running…") : tr("no result");
    }
    if (call.isError && *call.result == kDeclined) {
        *color = QColor(0xc0, 0x7a, 0x10);
        return tr("declined");
    }
    if (call.isError) {
        *color = m_style.error;
        return tr("error");
    }
    return tr("done");
}

// The block's text, written anew (a status change, opened or closed): a few lines, rarely.
void ChatView::writeToolBlock(ToolBlock &block)
{
    if (!block.frame)
        return;
    const int n = int(&block - m_toolBlocks.data());
    QTextCursor at(document());
    at.beginEditBlock();
    at.setPosition(block.frame->firstPosition());
    at.setPosition(block.frame->lastPosition(), QTextCursor::KeepAnchor);
    at.removeSelectedText();
    at.setBlockFormat(QTextBlockFormat());
    QTextCharFormat link;
    link.setAnchor(true);
    link.setAnchorHref(QStringLiteral("hf-tool:%1?%2").arg(n).arg(m_linkKey));
    link.setForeground(m_style.text);
    link.setToolTip(block.expanded ? tr("Hide the arguments and the result")
                                   : tr("Show the arguments and the result"));
    at.insertText(block.expanded ? QStringLiteral("▾ ⚙ ") : QStringLiteral("▸ ⚙ "), link);
    QTextCharFormat name = link;
    name.setFontWeight(QFont::DemiBold);
    at.insertText(block.call.name, name);
    QColor color;
    const QString status = toolStatus(block, &color);
    QTextCharFormat state = link;
    state.setForeground(color);
    at.insertText(QStringLiteral(" — ") + status, state);
    if (block.expanded) {
        QTextCharFormat label;
        label.setForeground(m_style.muted);
        label.setFontPointSize(m_style.body.pointSizeF() * 0.85);
        QTextCharFormat mono;
        mono.setFont(m_style.mono);
        mono.setForeground(m_style.text);
        QTextBlockFormat head;
        head.setTopMargin(6);
        const auto section = [&](const QString &title, const QString &text, bool error) {
            at.insertBlock(head, label);
            at.insertText(title, label);
            QTextCharFormat body = mono;
            if (error)
                body.setForeground(m_style.error);
            at.insertBlock(QTextBlockFormat(), body);
            at.insertText(bounded(text, kToolTextShown), body); // plain text: never markup
        };
        const QString arguments =
            QString::fromUtf8(QJsonDocument(block.call.arguments).toJson(QJsonDocument::Indented))
                .trimmed();
        section(tr("Arguments"), arguments, false);
        if (block.call.result)
            section(tr("Result"), *block.call.result, block.call.isError);
    }
    at.endEditBlock();
}

QString ChatView::toolBlockTitle(int n) const
{
    if (n < 0 || n >= toolBlockCount() || !m_toolBlocks[std::size_t(n)].frame)
        return {};
    const QTextFrame *frame = m_toolBlocks[std::size_t(n)].frame;
    return document()->findBlock(frame->firstPosition()).text();
}

bool ChatView::toolBlockExpanded(int n) const
{
    return n >= 0 && n < toolBlockCount() && m_toolBlocks[std::size_t(n)].expanded;
}

int ChatView::toolBlockPosition(int n) const
{
    if (n < 0 || n >= toolBlockCount() || !m_toolBlocks[std::size_t(n)].frame)
        return -1;
    return m_toolBlocks[std::size_t(n)].frame->firstPosition();
}

void ChatView::setToolBlockExpanded(int n, bool expanded)
{
    if (n < 0 || n >= toolBlockCount())
        return;
    ToolBlock &block = m_toolBlocks[std::size_t(n)];
    if (block.expanded == expanded || !block.frame)
        return;
    block.expanded = expanded;
    holdPlace(); // the reader's place stays while the block grows or shrinks
    writeToolBlock(block);
    restorePlace();
}

void ChatView::appendToolStep(const Chunk &chunk)
{
    if (!m_stream)
        return;
    if (chunk.toolCall) {
        if (m_liveCalls.contains(chunk.toolCall->id))
            return;
        QTextFrame *after = m_toolTail;
        if (!after) { // the text so far is complete: it ends where the call begins
            m_stream->finish();
            m_finishedWork += m_stream->work();
            m_streamPrefix += m_stream->source();
            after = m_stream->frame();
        }
        MessageToolCall call;
        call.id = chunk.toolCall->id;
        call.name = chunk.toolCall->name;
        call.arguments = chunk.toolCall->arguments;
        call.offset = m_streamPrefix.size();
        m_liveCalls.insert(call.id, int(m_toolBlocks.size()));
        m_toolTail = insertToolBlock(after, call);
        m_entries.back().message.toolCalls << call;
    } else if (chunk.toolResult) {
        const auto it = m_liveCalls.constFind(chunk.toolResult->id);
        if (it == m_liveCalls.cend())
            return;
        ToolBlock &block = m_toolBlocks[std::size_t(*it)];
        block.call.result = chunk.toolResult->content;
        block.call.isError = chunk.toolResult->isError;
        block.waiting = false;
        writeToolBlock(block);
        for (MessageToolCall &call : m_entries.back().message.toolCalls) {
            if (call.id == block.call.id)
                call = block.call;
        }
    }
}

void ChatView::setToolCallWaiting(const QString &cid, bool waiting)
{
    const auto it = m_liveCalls.constFind(cid);
    if (it == m_liveCalls.cend())
        return;
    ToolBlock &block = m_toolBlocks[std::size_t(*it)];
    if (block.waiting == waiting || block.call.result)
        return;
    block.waiting = waiting;
    writeToolBlock(block);
}

} // namespace holdfast
