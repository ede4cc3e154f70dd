// The chat view: messages rendered into one bounded document, streamed chunks appended to the
// last block, pages of older and newer messages swapped in and out, and the keyed links of its
// controls. Over 600 lines on purpose: these share one document and its invariants (bounded,
// append-only while streaming), which split files would have to expose to each other.
#include "gui/chatview.h"

#include "gui/answerfooter.h"
#include "gui/attachmentcache.h"
#include "gui/attachmentfiles.h"
#include "gui/icons.h"
#include "gui/markdownstream.h"
#include "gui/sealeddocument.h"

#include <QAbstractButton>
#include <QAbstractTextDocumentLayout>
#include <QApplication>
#include <QClipboard>
#include <QContextMenuEvent>
#include <QDesktopServices>
#include <QMenu>
#include <QMessageBox>
#include <QPainter>
#include <QScrollBar>
#include <QTextBlock>
#include <QTextFrame>
#include <QTextImageFormat>
#include <QTimer>
#include <QUuid>

#include <iterator>

namespace holdfast {

namespace {
constexpr int kFollowSlack = 24; // pixels from the bottom that still count as "at the bottom"
constexpr int kPadding = 12;     // around a message's text
constexpr int kGap = 4;          // between messages (each side)
// Marks the block of a left-out notice, so that it is written once per shown answer.
constexpr int kNoticeProperty = QTextFormat::UserProperty + 21;

} // namespace

ChatView::ChatView(QWidget *parent)
    : QTextBrowser(parent), m_linkKey(QUuid::createUuid().toString(QUuid::Id128))
{
    setDocument(new SealedDocument(this));
    setOpenLinks(false);
    setAccessibleName(tr("Conversation"));
    setFrameShape(QFrame::NoFrame);
    setUndoRedoEnabled(false);
    document()->setUndoRedoEnabled(false);
    document()->setDocumentMargin(18);
    setTextInteractionFlags(Qt::TextBrowserInteraction);
    restyle();
    connect(this, &QTextBrowser::anchorClicked, this, &ChatView::onAnchor);
    connect(this, &QTextBrowser::highlighted, this, [this](const QUrl &url) {
        Q_EMIT linkHovered(MarkdownStream::isExternalLink(url) ? MarkdownStream::linkTarget(url)
                                                               : QString());
    });
    QScrollBar *bar = verticalScrollBar();
    connect(bar, &QScrollBar::valueChanged, this, [this, bar](int value) {
        if (!m_holding)
            m_follow = !m_hasNewer && value >= bar->maximum() - kFollowSlack;
        if (bar->maximum() <= 0)
            return;
        if (value == bar->minimum() && m_hasOlder)
            Q_EMIT olderWanted();
        else if (value == bar->maximum() && m_hasNewer)
            Q_EMIT newerWanted();
    });
    connect(bar, &QScrollBar::rangeChanged, this, [this, bar](int, int max) {
        if (m_holding)
            restorePlace();
        else if (m_follow)
            bar->setValue(max);
    });
}

ChatView::~ChatView() = default;

void ChatView::restyle()
{
    m_style = ChatStyle::fromPalette(palette(), font());
    document()->setDefaultFont(font());
}

void ChatView::setFontPointSize(qreal points)
{
    QFont f = font();
    f.setPointSizeF(points);
    setFont(f);
    restyle();
}

void ChatView::changeEvent(QEvent *event)
{
    QTextBrowser::changeEvent(event);
    if (event->type() == QEvent::PaletteChange || event->type() == QEvent::FontChange)
        restyle(); // new messages take the new colours; shown ones keep theirs until reloaded
}

void ChatView::clearMessages()
{
    m_stream.reset();
    m_streamFrame = nullptr;
    m_toolTail = nullptr;
    m_streamPrefix.clear();
    m_liveCalls.clear();
    m_toolBlocks.clear();
    m_answerTurn = 0;
    m_entries.clear();
    m_codeBlocks.clear();
    m_files.clear();
    m_thumbnailUrls.clear();
    m_frameThumbnails.clear();
    m_loadedThumbnails.clear();
    m_answerInfo.clear();
    m_hasOlder = false;
    m_hasNewer = false;
    m_follow = true;
    m_holding = false;
    document()->clear();
    document()->setDocumentMargin(18);
    updateAccessibleSummary();
}

qint64 ChatView::firstIndex() const
{
    return m_entries.empty() ? -1 : m_entries.front().message.index;
}

qint64 ChatView::lastIndex() const
{
    for (auto it = m_entries.rbegin(); it != m_entries.rend(); ++it) {
        if (it->frame != m_streamFrame && it->message.index >= 0)
            return it->message.index;
    }
    return -1;
}

void ChatView::setHasNewer(bool hasNewer)
{
    m_hasNewer = hasNewer;
    if (hasNewer)
        m_follow = false;
}

// Assistant messages have no bubble: their space is margins, so that a long one can go on in
// further frames without a seam (continueAfter takes the margins away where two frames meet).
QTextFrameFormat ChatView::messageFormat(bool user) const
{
    QTextFrameFormat format;
    if (user) {
        format.setPadding(kPadding);
        format.setTopMargin(kGap);
        format.setBottomMargin(kGap);
        format.setBackground(m_style.userBubble);
        format.setLeftMargin(48);
    } else {
        format.setTopMargin(kGap + kPadding);
        format.setBottomMargin(kGap + kPadding);
        format.setLeftMargin(kPadding);
        format.setRightMargin(24 + kPadding);
    }
    return format;
}

QTextFrame *ChatView::insertFrame(QTextCursor &at, const Message &message, const QString &model)
{
    QTextFrame *frame = at.insertFrame(messageFormat(message.role == QLatin1String("user")));
    writeHeader(at, message, model);
    if (!message.attachments.isEmpty())
        writeAttachments(frame, at, message);
    return frame;
}

// The next frame of a long assistant message, right after `full`, the two joined without a gap.
QTextFrame *ChatView::continueAfter(QTextFrame *full)
{
    QTextFrameFormat joined = full->frameFormat();
    const qreal bottom = joined.bottomMargin();
    joined.setBottomMargin(0);
    full->setFrameFormat(joined);
    QTextFrameFormat next = joined;
    next.setTopMargin(0);
    next.setBottomMargin(bottom);
    QTextCursor at(document());
    at.setPosition(full->lastPosition() + 1);
    QTextFrame *frame = at.insertFrame(next);
    MarkdownStream::flattenBlock(document(), full->lastPosition() + 1);
    return frame;
}

QTextFrame *ChatView::lastFrameOf(const Entry &entry) const
{
    if (entry.frame == m_streamFrame && m_stream)
        return m_toolTail ? m_toolTail : m_stream->frame();
    return entry.last;
}

QString ChatView::liveSource() const
{
    if (!m_stream)
        return {};
    return m_toolTail ? m_streamPrefix : m_streamPrefix + m_stream->source();
}

void ChatView::writeHeader(QTextCursor &at, const Message &message, const QString &model)
{
    const bool user = message.role == QLatin1String("user");
    QTextCharFormat name;
    name.setFontWeight(QFont::Bold);
    name.setForeground(user ? m_style.accent : m_style.text);
    at.insertText(user ? tr("You") : tr("Assistant"), name);
    QTextCharFormat meta;
    meta.setForeground(m_style.muted);
    meta.setFontPointSize(m_style.body.pointSizeF() * 0.85);
    QString details;
    const QDateTime when = message.createdAt.isValid() ? message.createdAt.toLocalTime()
                                                       : QDateTime::currentDateTime();
    details += QStringLiteral("   ") + QLocale().toString(when.time(), QLocale::ShortFormat);
    if (!model.isEmpty())
        details += QStringLiteral(" · ") + model;
    at.insertText(details, meta);
    if (message.state != Message::State::Complete) {
        QTextCharFormat badge = meta;
        badge.setForeground(message.state == Message::State::Error ? m_style.error
                                                                   : QColor(0xc0, 0x7a, 0x10));
        at.insertText(QStringLiteral(" · ") + messageStateName(message.state), badge);
    }
}

void ChatView::setAttachmentCache(AttachmentCache *cache)
{
    m_attachmentCache = cache;
    connect(cache, &AttachmentCache::thumbnailReady, this, &ChatView::onThumbnail);
}

// A box of the thumbnail's size, shown until the picture is decoded (or when it cannot be).
QImage ChatView::placeholder(bool failed) const
{
    const QSize box = attachmentfiles::kThumbnailBox;
    QImage image(box, QImage::Format_ARGB32_Premultiplied);
    image.fill(Qt::transparent);
    QPainter p(&image);
    p.setRenderHint(QPainter::Antialiasing);
    p.setPen(QPen(m_style.codeBorder, 1));
    p.setBrush(m_style.codeBackground);
    p.drawRoundedRect(QRectF(0.5, 0.5, box.width() - 1, box.height() - 1), 6, 6);
    const QPixmap glyph =
        icons::icon(failed ? icons::Name::File : icons::Name::Image).pixmap(QSize(28, 28));
    p.setOpacity(0.6);
    p.drawPixmap((box.width() - 28) / 2, (box.height() - 28) / 2, glyph);
    return image;
}

// Pictures first, as thumbnails (each a link to the file), then the other files as chips.
void ChatView::writeAttachments(QTextFrame *frame, QTextCursor &at, const Message &message)
{
    QTextBlockFormat block;
    block.setTopMargin(6);
    block.setBottomMargin(2);
    const QSize box = attachmentfiles::kThumbnailBox;
    bool pictures = false;
    for (const Attachment &file : message.attachments) {
        if (!attachmentfiles::isImageType(file.type))
            continue;
        if (!pictures)
            at.insertBlock(block, QTextCharFormat());
        pictures = true;
        const int n = int(m_files.size());
        m_files << file;
        const QUrl name(QStringLiteral("hf-thumb:%1?%2").arg(n).arg(m_linkKey));
        QImage shown = m_attachmentCache ? m_attachmentCache->thumbnail(m_sid, file.id) : QImage();
        if (!shown.isNull())
            m_loadedThumbnails.insert(file.id);
        else
            shown = placeholder(m_attachmentCache && m_attachmentCache->hasFailed(m_sid, file.id));
        document()->addResource(QTextDocument::ImageResource, name, shown);
        m_thumbnailUrls.insert(file.id, name);
        m_frameThumbnails[frame] << qMakePair(file.id, name);
        QTextImageFormat image;
        image.setName(name.toString());
        image.setWidth(box.width());
        image.setHeight(box.height());
        image.setAnchor(true);
        image.setAnchorHref(QStringLiteral("hf-file:%1?%2").arg(n).arg(m_linkKey));
        image.setToolTip(tr("%1 (%2) — click to open, right-click to save")
                             .arg(file.name, attachmentfiles::formatSize(file.size)));
        image.setVerticalAlignment(QTextCharFormat::AlignBottom);
        at.insertImage(image);
        at.insertText(QStringLiteral("  "), QTextCharFormat());
    }
    bool chips = false;
    for (const Attachment &file : message.attachments) {
        if (attachmentfiles::isImageType(file.type))
            continue;
        if (!chips)
            at.insertBlock(block, QTextCharFormat());
        chips = true;
        const int n = int(m_files.size());
        m_files << file;
        const QString href = QStringLiteral("hf-file:%1?%2").arg(n).arg(m_linkKey);
        const QString tip = tr("%1 (%2, %3) — click to open, right-click to save")
                                .arg(file.name, file.type, attachmentfiles::formatSize(file.size));
        const QUrl glyph(QStringLiteral("hf-glyph:file?%1").arg(m_linkKey));
        if (document()->resource(QTextDocument::ImageResource, glyph).isNull())
            document()->addResource(QTextDocument::ImageResource, glyph,
                                    icons::icon(icons::Name::File).pixmap(QSize(18, 18)).toImage());
        QTextImageFormat icon;
        icon.setName(glyph.toString());
        icon.setWidth(18);
        icon.setHeight(18);
        icon.setAnchor(true);
        icon.setAnchorHref(href);
        icon.setToolTip(tip);
        icon.setVerticalAlignment(QTextCharFormat::AlignMiddle);
        at.insertImage(icon);
        QTextCharFormat name;
        name.setAnchor(true);
        name.setAnchorHref(href);
        name.setToolTip(tip);
        name.setForeground(m_style.accent);
        at.insertText(QStringLiteral(" ") + file.name, name);
        QTextCharFormat size = name;
        size.setForeground(m_style.muted);
        size.setFontPointSize(m_style.body.pointSizeF() * 0.85);
        at.insertText(QStringLiteral(" · ") + attachmentfiles::formatSize(file.size), size);
        at.insertText(QStringLiteral("      "), QTextCharFormat());
    }
}

void ChatView::onThumbnail(const QString &sid, const QString &aid, const QImage &image)
{
    if (sid != m_sid || !m_thumbnailUrls.contains(aid))
        return;
    // Same name, same size: the layout stays as it is, only the pixels change.
    const QImage shown = image.isNull() ? placeholder(true) : image;
    for (const QUrl &name : m_thumbnailUrls.values(aid))
        document()->addResource(QTextDocument::ImageResource, name, shown);
    if (!image.isNull())
        m_loadedThumbnails.insert(aid);
    viewport()->update();
}

std::optional<Attachment> ChatView::attachmentOfLink(const QUrl &url) const
{
    if (url.scheme() != QLatin1String("hf-file") || url.query() != m_linkKey)
        return std::nullopt;
    bool ok = false;
    const int n = url.path().toInt(&ok);
    if (!ok || n < 0 || n >= m_files.size())
        return std::nullopt;
    return m_files.at(n);
}

QImage ChatView::thumbnailShown(const QString &aid) const
{
    const auto names = m_thumbnailUrls.values(aid);
    return names.isEmpty()
               ? QImage()
               : document()->resource(QTextDocument::ImageResource, names.first()).value<QImage>();
}

// Renders a stored message into its frame; returns the last frame it took.
QTextFrame *ChatView::renderInto(QTextFrame *frame, const Message &message)
{
    MarkdownStream::ContinueFn next;
    if (message.role != QLatin1String("user"))
        next = [this](QTextFrame *full) { return continueAfter(full); };
    if (message.toolCalls.isEmpty()) {
        MarkdownStream stream(frame, &m_style, &m_codeBlocks, m_linkKey, std::move(next));
        stream.append(message.content);
        stream.finish();
        m_finishedWork += stream.work();
        return stream.frame();
    }
    // Each call's block goes where the model asked for it: after `offset` characters of text.
    QTextFrame *last = frame;
    bool fresh = false; // `last` is a tool block: text goes on in a new frame after it
    qsizetype from = 0;
    const auto text = [&](qsizetype to) {
        const QString part = message.content.mid(from, to - from);
        from = to;
        if (fresh && part.trimmed().isEmpty())
            return;
        if (fresh)
            last = textFrameAfter(last);
        MarkdownStream stream(last, &m_style, &m_codeBlocks, m_linkKey, next);
        if (fresh)
            stream.beginInEmptyFrame(kToolGap);
        stream.append(part);
        stream.finish();
        m_finishedWork += stream.work();
        last = stream.frame();
        fresh = false;
    };
    for (const MessageToolCall &call : message.toolCalls) {
        text(std::clamp<qsizetype>(qsizetype(call.offset), from, message.content.size()));
        last = insertToolBlock(last, call);
        fresh = true;
    }
    text(message.content.size());
    if (fresh) { // the controls and the footer go under the last block, not into it
        last = textFrameAfter(last);
        MarkdownStream::flattenBlock(document(), last->firstPosition());
    }
    return last;
}

void ChatView::appendMessage(const Message &message)
{
    QTextCursor at(document()->rootFrame()->lastCursorPosition());
    const int codeFrom = int(m_codeBlocks.size());
    QTextFrame *frame = insertFrame(at, message);
    QTextFrame *last = renderInto(frame, message);
    m_entries.push_back({frame, last, message, codeFrom, int(m_codeBlocks.size()), false});
    writeControls(m_entries.back());
    updateAccessibleSummary();
    if (message.role == QLatin1String("assistant") && message.turn > 0)
        Q_EMIT answersShown();
}

void ChatView::prependMessages(const QList<Message> &messages)
{
    if (messages.isEmpty())
        return;
    holdPlace();
    QTextCursor at(document());
    at.movePosition(QTextCursor::Start);
    std::vector<Entry> older;
    for (const Message &message : messages) {
        const int codeFrom = int(m_codeBlocks.size());
        QTextFrame *frame = insertFrame(at, message);
        QTextFrame *last = renderInto(frame, message);
        older.push_back({frame, last, message, codeFrom, int(m_codeBlocks.size()), false});
        writeControls(older.back());
        at.setPosition(last->lastPosition() + 1);
    }
    m_entries.insert(m_entries.begin(), older.begin(), older.end());
    if (m_entries.size() > std::size_t(m_maxShown)) {
        removeEntries(std::size_t(m_maxShown), m_entries.size());
        setHasNewer(true);
    }
    restorePlace();
    updateAccessibleSummary();
    Q_EMIT answersShown();
}

void ChatView::appendNewerMessages(const QList<Message> &messages)
{
    if (messages.isEmpty())
        return;
    holdPlace();
    for (const Message &message : messages)
        appendMessage(message);
    if (m_entries.size() > std::size_t(m_maxShown)) {
        removeEntries(0, m_entries.size() - std::size_t(m_maxShown));
        m_hasOlder = true;
    }
    restorePlace();
}

// Takes m_entries[from, to) out of the document (a contiguous run of frames of the root).
void ChatView::removeEntries(std::size_t from, std::size_t to)
{
    if (from >= to || to > m_entries.size())
        return;
    QTextCursor cut(document());
    cut.setPosition(m_entries[from].frame->firstPosition() - 1);
    cut.setPosition(lastFrameOf(m_entries[to - 1])->lastPosition() + 1, QTextCursor::KeepAnchor);
    for (std::size_t i = from; i < to; ++i) {
        Entry &entry = m_entries[i];
        if (entry.frame == m_streamFrame) { // the live answer comes back with the newest page
            entry.codeTo = int(m_codeBlocks.size());
            m_stream.reset();
            m_streamFrame = nullptr;
            m_toolTail = nullptr;
            m_streamPrefix.clear();
            m_liveCalls.clear();
            m_answerTurn = 0;
        }
        for (int c = entry.codeFrom; c < entry.codeTo && c < m_codeBlocks.size(); ++c)
            m_codeBlocks[c] = QString(); // their Copy links leave with them
        // Their thumbnails' pixels too (the document keeps a resource until it is cleared).
        for (const auto &[aid, name] : m_frameThumbnails.take(entry.frame)) {
            document()->addResource(QTextDocument::ImageResource, name, QVariant());
            m_thumbnailUrls.remove(aid, name);
        }
    }
    m_entries.erase(m_entries.begin() + qsizetype(from), m_entries.begin() + qsizetype(to));
    cut.removeSelectedText(); // restorePlace() runs in here, as the scroll range shrinks
}

int ChatView::topOf(QTextFrame *frame) const
{
    const QTextBlock block = document()->findBlock(frame->firstPosition());
    return qRound(document()->documentLayout()->blockBoundingRect(block).top());
}

// Remembers the message at the top of the viewport, to keep it there while pages come and go.
void ChatView::holdPlace()
{
    m_holding = false;
    if (m_entries.empty())
        return;
    // The last message that starts at or above the viewport's top edge (the messages are in
    // document order, so their tops ascend).
    const int value = verticalScrollBar()->value();
    const auto after =
        std::upper_bound(m_entries.begin() + 1, m_entries.end(), value,
                         [this](int y, const Entry &entry) { return y < topOf(entry.frame); });
    QTextFrame *top = std::prev(after)->frame;
    m_anchor = top;
    m_anchorOffset = verticalScrollBar()->value() - topOf(top);
    m_holding = true;
    // The layout of what comes in may finish later: keep the place until it has.
    const int serial = ++m_holdSerial;
    QTimer::singleShot(200, this, [this, serial] {
        if (serial == m_holdSerial)
            m_holding = false;
    });
}

void ChatView::restorePlace()
{
    // The anchor is a QObject of the document: it is null once its message has left.
    if (m_holding && m_anchor)
        verticalScrollBar()->setValue(topOf(m_anchor) + m_anchorOffset);
}

void ChatView::beginAnswer(int turn, const QString &model, const QString &text)
{
    if (m_stream)
        finishAnswer(TurnRecord{});
    Message message;
    message.role = QStringLiteral("assistant");
    message.turn = turn;
    message.createdAt = QDateTime::currentDateTimeUtc();
    QTextCursor at(document()->rootFrame()->lastCursorPosition());
    m_streamFrame = insertFrame(at, message, model);
    m_answerTurn = turn;
    m_answerModel = model;
    m_toolTail = nullptr;
    m_streamPrefix.clear();
    m_liveCalls.clear();
    m_stream =
        std::make_unique<MarkdownStream>(m_streamFrame, &m_style, &m_codeBlocks, m_linkKey,
                                         [this](QTextFrame *full) { return continueAfter(full); });
    m_entries.push_back(
        {m_streamFrame, m_streamFrame, message, int(m_codeBlocks.size()), 0, false});
    m_stream->append(text);
    updateAccessibleSummary(); // "writing…": not written again per chunk
}

void ChatView::appendAnswer(const QString &text)
{
    if (!m_stream || text.isEmpty())
        return;
    if (m_toolTail) { // the text goes on below the last tool block, in a stream of its own
        QTextFrame *frame = textFrameAfter(m_toolTail);
        m_toolTail = nullptr;
        m_stream = std::make_unique<MarkdownStream>(
            frame, &m_style, &m_codeBlocks, m_linkKey,
            [this](QTextFrame *full) { return continueAfter(full); });
        m_stream->beginInEmptyFrame(kToolGap);
    }
    m_stream->append(text);
}

void ChatView::finishAnswer(const TurnRecord &turn)
{
    if (!m_stream)
        return;
    Entry &entry = m_entries.back();
    entry.message.content = liveSource();
    if (m_toolTail) { // ended with a tool block: the controls go under it, not into it
        entry.last = textFrameAfter(m_toolTail);
        MarkdownStream::flattenBlock(document(), entry.last->firstPosition());
        m_toolTail = nullptr;
    } else {
        m_stream->finish();
        m_finishedWork += m_stream->work();
        entry.last = m_stream->frame();
    }
    for (const int n : std::as_const(m_liveCalls)) {
        if (m_toolBlocks[std::size_t(n)].waiting) {
            m_toolBlocks[std::size_t(n)].waiting = false;
            writeToolBlock(m_toolBlocks[std::size_t(n)]);
        }
    }
    m_liveCalls.clear();
    m_streamPrefix.clear();
    entry.codeTo = int(m_codeBlocks.size());
    entry.message.index = turn.responseIndex;
    entry.message.parent = turn.promptIndex;
    m_stream.reset();
    using S = TurnRecord::State;
    if (turn.state == S::Cancelled || turn.state == S::Interrupted) {
        entry.message.state = Message::State::Interrupted;
        updateHeader(entry, tr("interrupted"), QColor(0xc0, 0x7a, 0x10));
    } else if (turn.state == S::Error) {
        entry.message.state = Message::State::Error;
        updateHeader(entry, tr("error"), m_style.error);
        QTextCursor at(entry.last->lastCursorPosition());
        QTextBlockFormat block;
        block.setTopMargin(6);
        at.insertBlock(block);
        QTextCharFormat error;
        error.setForeground(m_style.error);
        at.insertText(
            QStringLiteral("⚠ ") +
                (turn.errorMessage.isEmpty() ? tr("The model failed.") : turn.errorMessage) +
                QStringLiteral("   "),
            error);
        QTextCharFormat link;
        link.setAnchor(true);
        link.setAnchorHref(QStringLiteral("hf-retry:%1?%2").arg(turn.id).arg(m_linkKey));
        link.setForeground(m_style.accent);
        link.setFontUnderline(true);
        at.insertText(tr("Retry"), link);
    }
    m_streamFrame = nullptr;
    m_answerTurn = 0;
    if (turn.id > 0 && turn.ended())
        m_answerInfo.insert(turn.id, {AnswerFooter::text(turn), AnswerFooter::leftOutNotice(turn)});
    writeControls(entry);
    updateAccessibleSummary();
}

void ChatView::addLink(QTextCursor &at, const QString &text, const QString &scheme, qint64 target,
                       const QString &tip, bool large)
{
    QTextCharFormat link;
    link.setAnchor(true);
    link.setAnchorHref(QStringLiteral("%1:%2?%3").arg(scheme).arg(target).arg(m_linkKey));
    link.setForeground(m_style.accent);
    link.setFontPointSize(m_style.body.pointSizeF() * (large ? 1.15 : 0.85));
    if (large)
        link.setFontWeight(QFont::Bold);
    link.setToolTip(tip);
    at.insertText(text, link);
}

// The line under a stored message: ‹ n/N › between its versions, then Edit or Regenerate. It is
// the last block of the message's last frame, written again when the versions change.
void ChatView::writeControls(Entry &entry)
{
    const Message &m = entry.message;
    writeNotice(entry);
    const bool controls = m.index >= 0 && m_branchControls;
    const bool footer =
        m.role == QLatin1String("assistant") && !m_answerInfo.value(m.turn).footer.isEmpty();
    if (!controls && !footer)
        return;
    QTextCursor at(lastFrameOf(entry)->lastCursorPosition());
    QTextBlockFormat block;
    block.setTopMargin(6);
    if (entry.controls) {
        at.movePosition(QTextCursor::StartOfBlock, QTextCursor::KeepAnchor);
        at.removeSelectedText();
        at.setBlockFormat(block);
    } else if (at.block().length() > 1) {
        at.insertBlock(block, QTextCharFormat());
    } else {
        at.setBlockFormat(block);
    }
    entry.controls = true;
    if (!controls) {
        writeFooter(at, entry, false);
        return;
    }
    QTextCharFormat plain;
    plain.setForeground(m_style.muted);
    plain.setFontPointSize(m_style.body.pointSizeF() * 0.85);
    const qsizetype n = m.siblings.indexOf(m.index);
    if (m.siblings.size() > 1 && n >= 0) {
        // The arrows are the larger targets; an arrow with nowhere to go is shown, muted.
        QTextCharFormat arrow = plain;
        arrow.setFontPointSize(m_style.body.pointSizeF() * 1.15);
        arrow.setFontWeight(QFont::Bold);
        arrow.setForeground(m_style.codeBorder);
        if (n > 0)
            addLink(at, QStringLiteral("‹"), QStringLiteral("hf-version"), m.siblings.at(n - 1),
                    tr("Previous version (Alt+Left)"), true);
        else
            at.insertText(QStringLiteral("‹"), arrow);
        at.insertText(QStringLiteral(" %1/%2 ").arg(n + 1).arg(m.siblings.size()), plain);
        if (n + 1 < m.siblings.size())
            addLink(at, QStringLiteral("›"), QStringLiteral("hf-version"), m.siblings.at(n + 1),
                    tr("Next version (Alt+Right)"), true);
        else
            at.insertText(QStringLiteral("›"), arrow);
        at.insertText(QStringLiteral("     "), plain);
    }
    if (m.role == QLatin1String("user"))
        addLink(at, tr("✎ Edit"), QStringLiteral("hf-edit"), m.index,
                tr("Edit this message and send it as a new version"));
    else
        addLink(at, tr("↻ Regenerate"), QStringLiteral("hf-regen"), m.index,
                tr("Answer again: a new version (Ctrl+Shift+R)"));
    writeFooter(at, entry, true);
}

// The answer's footer (AnswerFooter::text), quiet, at the end of its line of controls.
void ChatView::writeFooter(QTextCursor &at, const Entry &entry, bool afterControls)
{
    if (entry.message.role != QLatin1String("assistant"))
        return;
    const QString footer = m_answerInfo.value(entry.message.turn).footer;
    if (footer.isEmpty())
        return;
    QTextCharFormat quiet;
    quiet.setForeground(m_style.muted);
    quiet.setFontPointSize(m_style.body.pointSizeF() * 0.8);
    // A narrow view breaks the line between the parts only ("0.25 s" stays whole).
    QString unbroken = footer;
    unbroken.replace(u' ', QChar::Nbsp)
        .replace(QStringLiteral("\u00a0·\u00a0"), QStringLiteral("\u00a0· "));
    at.insertText((afterControls ? QStringLiteral("      ") : QString()) + unbroken, quiet);
}

// The notice that older messages were left out of the answer's context: a quiet line under the
// answer's header (the header stays the frame's first block, where its badges go).
void ChatView::writeNotice(const Entry &entry)
{
    if (entry.message.role != QLatin1String("assistant") || entry.frame == m_streamFrame)
        return;
    const QString notice = m_answerInfo.value(entry.message.turn).notice;
    if (notice.isEmpty())
        return;
    const QTextBlock header = document()->findBlock(entry.frame->firstPosition());
    if (header.next().blockFormat().property(kNoticeProperty).toBool())
        return;
    QTextCursor at(header);
    at.movePosition(QTextCursor::EndOfBlock);
    QTextBlockFormat block;
    block.setTopMargin(2);
    block.setBottomMargin(2);
    block.setProperty(kNoticeProperty, true);
    QTextCharFormat quiet;
    quiet.setForeground(m_style.muted);
    quiet.setFontItalic(true);
    quiet.setFontPointSize(m_style.body.pointSizeF() * 0.85);
    at.insertBlock(block, quiet);
    at.insertText(QStringLiteral("⋯ ") + notice, quiet);
}

void ChatView::setTurnDetails(const TurnRecord &turn)
{
    if (turn.id <= 0 || !turn.ended())
        return;
    const AnswerInfo info{AnswerFooter::text(turn), AnswerFooter::leftOutNotice(turn)};
    if (const auto it = m_answerInfo.constFind(turn.id); it != m_answerInfo.cend() && *it == info)
        return;
    m_answerInfo.insert(turn.id, info);
    for (Entry &entry : m_entries) {
        if (entry.message.turn == turn.id && entry.message.role == QLatin1String("assistant") &&
            entry.frame != m_streamFrame)
            writeControls(entry);
    }
}

QList<int> ChatView::answerTurnsWithoutDetails() const
{
    QList<int> turns;
    for (const Entry &entry : m_entries) {
        const int turn = entry.message.turn;
        if (entry.message.role == QLatin1String("assistant") && turn > 0 &&
            entry.frame != m_streamFrame && !m_answerInfo.contains(turn) && !turns.contains(turn))
            turns << turn;
    }
    return turns;
}

const ChatView::Entry *ChatView::entryOf(qint64 index) const
{
    if (index < 0)
        return nullptr;
    for (auto it = m_entries.rbegin(); it != m_entries.rend(); ++it) {
        if (it->message.index == index && it->frame != m_streamFrame)
            return &*it;
    }
    return nullptr;
}

const Message *ChatView::shownMessage(qint64 index) const
{
    const Entry *entry = entryOf(index);
    return entry ? &entry->message : nullptr;
}

qint64 ChatView::parentOf(qint64 index) const
{
    const Entry *entry = entryOf(index);
    if (!entry)
        return -1;
    // A message loaded from a store knows its siblings, and so its parent too.
    if (!entry->message.siblings.isEmpty() || entry->message.parent >= 0)
        return entry->message.parent;
    if (entry == &m_entries.front())
        return entry->message.index == 0 ? -1 : entry->message.index - 1;
    return std::prev(entry)->message.index;
}

qint64 ChatView::promptOf(qint64 answerIndex) const
{
    const qint64 parent = parentOf(answerIndex);
    const Message *prompt = shownMessage(parent);
    return prompt && prompt->role == QLatin1String("user") ? parent : -1;
}

qint64 ChatView::lastIndexOfRole(const QString &role) const
{
    for (auto it = m_entries.rbegin(); it != m_entries.rend(); ++it) {
        if (it->message.role == role && it->frame != m_streamFrame && it->message.index >= 0)
            return it->message.index;
    }
    return -1;
}

qint64 ChatView::lastWithVersions() const
{
    for (auto it = m_entries.rbegin(); it != m_entries.rend(); ++it) {
        if (it->message.siblings.size() > 1 && it->frame != m_streamFrame)
            return it->message.index;
    }
    return -1;
}

qint64 ChatView::shownVersionOf(qint64 index) const
{
    for (const Entry &entry : m_entries) {
        if (entry.message.index == index || entry.message.siblings.contains(index))
            return entry.message.index;
    }
    return -1;
}

bool ChatView::truncateFrom(qint64 index)
{
    for (std::size_t i = 0; i < m_entries.size(); ++i) {
        if (m_entries[i].message.index == index && m_entries[i].frame != m_streamFrame) {
            removeEntries(i, m_entries.size());
            m_hasNewer = false;
            m_follow = true;
            updateAccessibleSummary();
            return true;
        }
    }
    return false;
}

bool ChatView::truncateAfter(qint64 index)
{
    for (std::size_t i = 0; i < m_entries.size(); ++i) {
        if (m_entries[i].message.index == index && m_entries[i].frame != m_streamFrame) {
            removeEntries(i + 1, m_entries.size());
            m_hasNewer = false;
            m_follow = true;
            updateAccessibleSummary();
            return true;
        }
    }
    return false;
}

void ChatView::updateMessage(const Message &message)
{
    for (Entry &entry : m_entries) {
        if (entry.message.index == message.index && entry.frame != m_streamFrame) {
            entry.message.parent = message.parent;
            entry.message.siblings = message.siblings;
            writeControls(entry);
            updateAccessibleSummary();
            return;
        }
    }
}

void ChatView::updateHeader(const Entry &entry, const QString &note, const QColor &color)
{
    QTextCursor at(entry.frame->firstCursorPosition());
    at.movePosition(QTextCursor::EndOfBlock);
    QTextCharFormat badge;
    badge.setForeground(color);
    badge.setFontPointSize(m_style.body.pointSizeF() * 0.85);
    at.insertText(QStringLiteral(" · ") + note, badge);
}

qint64 ChatView::renderWork() const
{
    return m_finishedWork + (m_stream && !m_toolTail ? m_stream->work() : 0);
}

QString ChatView::messageTextAt(const QPoint &pos) const
{
    // The messages are in document order: the last one that starts at or before the position.
    const int at = cursorForPosition(pos).position();
    const auto after =
        std::upper_bound(m_entries.begin(), m_entries.end(), at, [](int p, const Entry &entry) {
            return p < entry.frame->firstPosition();
        });
    if (after == m_entries.begin())
        return {};
    const Entry &e = *std::prev(after);
    if (at > lastFrameOf(e)->lastPosition())
        return {};
    return e.frame == m_streamFrame && m_stream ? liveSource() : e.message.content;
}

QString ChatView::lastAnswerText() const
{
    for (auto it = m_entries.rbegin(); it != m_entries.rend(); ++it) {
        if (it->message.role == QLatin1String("assistant"))
            return it->frame == m_streamFrame && m_stream ? liveSource() : it->message.content;
    }
    return {};
}

QString ChatView::promptOfTurn(int turn) const
{
    for (auto it = m_entries.rbegin(); it != m_entries.rend(); ++it) {
        if (it->message.turn == turn && it->message.role == QLatin1String("user"))
            return it->message.content;
    }
    return {};
}

qint64 ChatView::promptIndexOfTurn(int turn) const
{
    for (auto it = m_entries.rbegin(); it != m_entries.rend(); ++it) {
        if (it->message.turn == turn && it->message.role == QLatin1String("user"))
            return it->message.index;
    }
    return -1;
}

QVariant ChatView::loadResource(int, const QUrl &)
{
    return {};
}

void ChatView::onAnchor(const QUrl &url)
{
    const bool own = url.query() == m_linkKey; // a message may write "hf-retry:1" too
    if (url.scheme() == QLatin1String("hf-copy")) {
        const int i = url.path().toInt();
        if (own && i >= 0 && i < m_codeBlocks.size()) {
            QApplication::clipboard()->setText(m_codeBlocks.at(i));
            Q_EMIT copied(tr("Code copied to the clipboard"));
        }
    } else if (url.scheme() == QLatin1String("hf-retry")) {
        if (own)
            Q_EMIT retryRequested(url.path().toInt());
    } else if (url.scheme() == QLatin1String("hf-edit")) {
        if (own)
            Q_EMIT editRequested(url.path().toLongLong());
    } else if (url.scheme() == QLatin1String("hf-regen")) {
        if (own)
            Q_EMIT regenerateRequested(url.path().toLongLong());
    } else if (url.scheme() == QLatin1String("hf-version")) {
        if (own)
            Q_EMIT versionRequested(url.path().toLongLong());
    } else if (url.scheme() == QLatin1String("hf-tool")) {
        if (own)
            setToolBlockExpanded(url.path().toInt(), !toolBlockExpanded(url.path().toInt()));
    } else if (url.scheme() == QLatin1String("hf-file")) {
        if (const auto file = attachmentOfLink(url))
            Q_EMIT attachmentOpenRequested(m_sid, *file);
    } else if (MarkdownStream::isExternalLink(url)) {
        askToOpen(url);
    }
}

// The question shows the whole target (cut after kShownChars, which still shows the host), in
// lines short enough for the box; it is window-modal, so the window's event loop goes on.
void ChatView::askToOpen(const QUrl &url)
{
    constexpr qsizetype kShownChars = 1000;
    constexpr qsizetype kLineChars = 80;
    const QString target = MarkdownStream::linkTarget(url);
    QStringList lines;
    for (qsizetype i = 0; i < std::min(target.size(), kShownChars); i += kLineChars)
        lines << target.mid(i, std::min(kLineChars, kShownChars - i));
    if (target.size() > kShownChars)
        lines << tr("… (%n more characters)", nullptr, int(target.size() - kShownChars));
    auto *box = new QMessageBox(QMessageBox::Question, tr("Open Link"),
                                tr("Open this link?") + QStringLiteral("\n\n") + lines.join(u'\n'),
                                QMessageBox::Open | QMessageBox::Cancel, this);
    box->setTextFormat(Qt::PlainText);
    box->setDefaultButton(QMessageBox::Cancel);
    box->setAttribute(Qt::WA_DeleteOnClose);
    connect(box, &QMessageBox::buttonClicked, this, [box, url](QAbstractButton *button) {
        if (box->standardButton(button) == QMessageBox::Open)
            QDesktopServices::openUrl(url);
    });
    box->open();
}

void ChatView::contextMenuEvent(QContextMenuEvent *event)
{
    QMenu *menu = createStandardContextMenu(event->pos());
    if (const auto file = attachmentOfLink(QUrl(anchorAt(event->pos())))) {
        const Attachment a = *file;
        const QString sid = m_sid;
        menu->insertSeparator(menu->actions().value(0));
        QAction *save = new QAction(tr("Save “%1” As…").arg(a.name), menu);
        connect(save, &QAction::triggered, this,
                [this, sid, a] { Q_EMIT attachmentSaveRequested(sid, a); });
        menu->insertAction(menu->actions().value(0), save);
        QAction *open = new QAction(tr("Open “%1”").arg(a.name), menu);
        connect(open, &QAction::triggered, this,
                [this, sid, a] { Q_EMIT attachmentOpenRequested(sid, a); });
        menu->insertAction(save, open);
    }
    const QString text = messageTextAt(event->pos());
    if (!text.isEmpty()) {
        menu->addSeparator();
        menu->addAction(tr("Copy Message as Markdown"), this, [this, text] {
            QApplication::clipboard()->setText(text);
            Q_EMIT copied(tr("Message copied to the clipboard"));
        });
    }
    menu->exec(event->globalPos());
    delete menu;
}

} // namespace holdfast
