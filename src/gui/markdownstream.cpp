#include "gui/markdownstream.h"

#include "gui/chatstyle.h"
#include "gui/sealeddocument.h"

#include <QRegularExpression>
#include <QTextBlock>
#include <QTextDocument>
#include <QTextFrame>
#include <QTextList>
#include <QTextTable>
#include <QUrl>

#include <utility>

namespace holdfast {

namespace {
// "```lang" or "~~~" after up to three spaces: the fence and its info string.
bool fenceLine(QStringView line, QString *fence, QString *info)
{
    qsizetype i = 0;
    while (i < line.size() && i < 3 && line[i] == u' ')
        ++i;
    const QStringView rest = line.mid(i);
    for (const QChar c : {u'`', u'~'}) {
        qsizetype n = 0;
        while (n < rest.size() && rest[n] == c)
            ++n;
        if (n >= 3) {
            *fence = QString(n, c);
            *info = rest.mid(n).trimmed().toString();
            return !(c == u'`' && info->contains(u'`'));
        }
    }
    return false;
}

bool isBlank(QStringView line)
{
    return line.trimmed().isEmpty();
}
} // namespace

MarkdownStream::MarkdownStream(QTextFrame *frame, const ChatStyle *style, QStringList *codeBlocks,
                               const QString &linkKey, ContinueFn continueAfter)
    : m_frame(frame), m_style(style), m_codeBlocks(codeBlocks), m_linkKey(linkKey),
      m_continue(std::move(continueAfter))
{
    m_tailAnchor = QTextCursor(frame->document());
    m_tailAnchor.setKeepPositionOnInsert(true);
}

QTextCursor MarkdownStream::endCursor() const
{
    QTextCursor c = m_frame->lastCursorPosition();
    return c;
}

void MarkdownStream::beginInEmptyFrame(qreal gap)
{
    m_fresh = true;
    m_joinMargin = gap;
}

void MarkdownStream::append(const QString &text)
{
    if (text.isEmpty())
        return;
    // One edit block per chunk: the document is laid out once for all the edits it makes.
    QTextCursor edit(m_frame->document());
    edit.beginEditBlock();
    m_source += text;
    scan(false);
    if (!m_code)
        renderTail();
    edit.endEditBlock();
}

void MarkdownStream::finish()
{
    QTextCursor edit(m_frame->document());
    edit.beginEditBlock();
    scan(true);
    if (m_code)
        closeCode();
    if (m_tailStart < m_source.size())
        commit(m_source.size());
    edit.endEditBlock();
}

// Takes every complete line since the last scan (and with `final` the unfinished one too).
void MarkdownStream::scan(bool final)
{
    for (;;) {
        const qsizetype end = m_source.indexOf(u'\n', m_scanned);
        if (end < 0)
            break;
        line(m_scanned, end, false);
        m_scanned = end + 1;
    }
    if (m_code && m_scanned < m_source.size()) {
        if (final) {
            line(m_scanned, m_source.size(), true);
            m_scanned = m_source.size();
        } else {
            setCodeLine(m_source.mid(m_scanned), false);
        }
    }
}

void MarkdownStream::line(qsizetype start, qsizetype end, bool final)
{
    const QStringView text = QStringView(m_source).mid(start, end - start);
    QString fence, info;
    if (m_code) {
        QString closing;
        if (fenceLine(text, &closing, &info) && info.isEmpty() && closing.at(0) == m_fence.at(0) &&
            closing.size() >= m_fence.size()) {
            closeCode();
        } else {
            setCodeLine(text.toString(), true);
        }
        m_tailStart = final ? end : end + 1;
        return;
    }
    if (fenceLine(text, &fence, &info)) {
        if (m_tailStart < start)
            commit(start);
        clearTail(); // the fence line itself, shown as text while it arrived
        m_fence = fence;
        openCode(info);
        m_tailStart = end + 1;
        return;
    }
    // A paragraph ends at a blank line; a very long one is cut at a line end to bound the tail.
    if (isBlank(text) || end + 1 - m_tailStart > kMaxTail)
        commit(end + 1);
}

// The tail: the unfinished paragraph at the end. It is the only part rendered again.
void MarkdownStream::renderTail()
{
    if (m_tailRendered == m_source.size())
        return;
    clearTail();
    const QString tail = m_source.mid(m_tailStart);
    if (tail.trimmed().isEmpty())
        return;
    continueIfFull();
    m_tailAnchor.setPosition(m_frame->lastPosition());
    m_tailFresh = m_fresh;
    render(tail);
    m_tailRendered = m_source.size();
}

void MarkdownStream::clearTail()
{
    if (m_tailRendered < 0)
        return;
    // Only the position of a keep-position cursor stays put on insertion, not its anchor.
    QTextCursor c(m_frame->document());
    c.setPosition(m_tailAnchor.position());
    c.setPosition(m_frame->lastPosition(), QTextCursor::KeepAnchor);
    c.removeSelectedText();
    if (m_tailFresh) {
        if (QTextList *list = c.block().textList())
            list->remove(c.block());
        c.setBlockFormat(QTextBlockFormat());
    }
    m_fresh = m_tailFresh;
    m_tailRendered = -1;
}

// Renders [m_tailStart, end) for good; it becomes part of the stable text.
void MarkdownStream::commit(qsizetype end)
{
    const bool rendered = m_tailRendered == end;
    if (!rendered) {
        clearTail();
        const QString text = m_source.mid(m_tailStart, end - m_tailStart);
        if (!text.trimmed().isEmpty()) {
            continueIfFull();
            render(text);
        }
    }
    m_tailRendered = -1;
    m_tailStart = end;
}

void MarkdownStream::render(const QString &markdown)
{
    m_work += markdown.size();
    SealedDocument scratch;
    scratch.setMarkdown(markdown, QTextDocument::MarkdownFeatures(
                                      QTextDocument::MarkdownDialectGitHub |
                                      QTextDocument::MarkdownNoHTML)); // HTML shows as text
    m_lists.clear();
    QTextCursor out = endCursor();
    QTextFrame *root = scratch.rootFrame();
    for (auto it = root->begin(); !it.atEnd(); ++it) {
        if (auto *table = qobject_cast<QTextTable *>(it.currentFrame()))
            copyTable(out, table);
        else if (it.currentBlock().isValid())
            copyBlock(out, it.currentBlock());
    }
}

// Moves on to a new frame once this one is full, before a paragraph (not before a code block or
// while the frame ends in an unused block: either would leave an empty line behind).
void MarkdownStream::continueIfFull()
{
    if (!m_continue || m_code || m_fresh || m_tailRendered >= 0)
        return;
    if (m_frame->lastPosition() - m_frame->firstPosition() < kFrameChars)
        return;
    const qreal above = endCursor().blockFormat().bottomMargin();
    if (QTextFrame *next = m_continue(m_frame)) {
        m_frame = next;
        m_fresh = true; // a new frame holds one empty block
        m_joinMargin = above;
    }
}

void MarkdownStream::beginBlock(QTextCursor &out, const QTextBlockFormat &block,
                                const QTextCharFormat &chars)
{
    if (m_fresh) {
        // Qt drops the margins of a frame's first and last blocks, which would collapse into
        // one within a frame: where a message goes on in a new frame, that frame's top margin
        // is the space the two blocks would have had.
        if (m_joinMargin >= 0 && out.position() == m_frame->firstPosition()) {
            QTextFrameFormat frame = m_frame->frameFormat();
            const qreal gap = std::max(m_joinMargin, block.topMargin());
            if (!qFuzzyCompare(frame.topMargin(), gap)) {
                frame.setTopMargin(gap);
                m_frame->setFrameFormat(frame);
            }
        }
        out.setBlockFormat(block);
        out.setBlockCharFormat(chars);
        m_fresh = false;
    } else {
        out.insertBlock(block, chars);
    }
}

QTextCharFormat MarkdownStream::styled(QTextCharFormat format) const
{
    if (format.fontFixedPitch() ||
        format.fontFamilies().toStringList().contains(QStringLiteral("monospace"))) {
        format.setFontFamilies({m_style->mono.family()});
        format.setFontFixedPitch(true);
        format.setBackground(m_style->codeBackground);
    }
    // Qt's layout reports the href under the mouse as a link whether or not isAnchor() is set.
    if (format.isAnchor() || format.hasProperty(QTextFormat::AnchorHref)) {
        const QUrl url(format.anchorHref());
        if (isExternalLink(url)) {
            format.setForeground(m_style->accent);
            format.setFontUnderline(true);
            format.setToolTip(linkTarget(url));
        } else { // a file, a script, the view's own links: shown as text, never followed
            format.setAnchor(false);
            format.clearProperty(QTextFormat::AnchorHref);
            format.clearForeground();
            format.setToolTip(QObject::tr("Link not opened: %1").arg(linkTarget(url)));
        }
    }
    return format;
}

// The text a fragment of the rendered Markdown shows. An image is its alt text (a link to it when
// it is on the web): the view loads nothing a message names.
QString MarkdownStream::shownText(const QTextFragment &fragment, QTextCharFormat *format) const
{
    if (!format->isImageFormat())
        return fragment.text();
    const QString source = format->stringProperty(QTextFormat::ImageName);
    QString alt = format->stringProperty(QTextFormat::ImageAltText);
    if (alt.isEmpty())
        alt = source;
    for (const int property :
         {int(QTextFormat::ObjectType), int(QTextFormat::ImageName), int(QTextFormat::ImageTitle),
          int(QTextFormat::ImageAltText), int(QTextFormat::ImageWidth),
          int(QTextFormat::ImageHeight), int(QTextFormat::ImageQuality)})
        format->clearProperty(property);
    format->setFontItalic(true);
    if (!format->isAnchor()) {
        if (isExternalLink(QUrl(source))) {
            format->setAnchor(true);
            format->setAnchorHref(source);
        } else {
            format->setForeground(m_style->muted);
            format->setToolTip(QObject::tr("Image not shown: %1").arg(linkTarget(QUrl(source))));
        }
    }
    // Qt's importer gives each piece of an alt text its own image; equal images next to each
    // other make one fragment, one character each.
    return fragment.length() == 1 ? alt : alt.repeated(fragment.length());
}

bool MarkdownStream::isExternalLink(const QUrl &url)
{
    const QString scheme = url.scheme();
    return url.isValid() && (scheme == QLatin1String("http") || scheme == QLatin1String("https") ||
                             scheme == QLatin1String("mailto"));
}

QString MarkdownStream::linkTarget(const QUrl &url)
{
    return url.toString(QUrl::FullyEncoded);
}

void MarkdownStream::copyBlock(QTextCursor &out, const QTextBlock &block)
{
    QTextBlockFormat format = block.blockFormat();
    if (format.hasProperty(QTextFormat::BlockCodeFence) ||
        format.hasProperty(QTextFormat::BlockCodeLanguage)) {
        format.setBackground(m_style->codeBackground);
        format.setLeftMargin(8);
    }
    if (format.intProperty(QTextFormat::BlockQuoteLevel) > 0) {
        format.setLeftMargin(14);
        format.setRightMargin(8);
    }
    if (format.headingLevel() > 0)
        format.setTopMargin(10);
    beginBlock(out, format, styled(block.charFormat()));
    if (QTextList *list = block.textList()) {
        if (QTextList *target = m_lists.value(list))
            target->add(out.block());
        else
            m_lists.insert(list, out.createList(list->format()));
    }
    const bool quote = format.intProperty(QTextFormat::BlockQuoteLevel) > 0;
    for (auto it = block.begin(); !it.atEnd(); ++it) {
        const QTextFragment fragment = it.fragment();
        QTextCharFormat chars = fragment.charFormat();
        const QString text = shownText(fragment, &chars);
        chars = styled(chars);
        if (quote && !chars.isAnchor())
            chars.setForeground(m_style->muted);
        out.insertText(text, chars);
        m_work += fragment.length();
    }
}

void MarkdownStream::copyTable(QTextCursor &out, QTextTable *table)
{
    QTextTableFormat format = table->format();
    format.setBorder(1);
    format.setBorderStyle(QTextFrameFormat::BorderStyle_Solid);
    format.setBorderBrush(m_style->tableBorder);
    format.setBorderCollapse(true);
    format.setCellPadding(6);
    format.setCellSpacing(0);
    format.setTopMargin(6);
    format.setBottomMargin(6);
    format.clearColumnWidthConstraints();
    QTextTable *target = out.insertTable(table->rows(), table->columns(), format);
    for (int r = 0; r < table->rows(); ++r) {
        for (int c = 0; c < table->columns(); ++c) {
            const QTextTableCell cell = table->cellAt(r, c);
            QTextTableCell into = target->cellAt(r, c);
            if (r == 0) {
                QTextTableCellFormat cellFormat = into.format().toTableCellFormat();
                cellFormat.setBackground(m_style->tableHeader);
                into.setFormat(cellFormat);
            }
            QTextCursor cc = into.firstCursorPosition();
            bool first = true;
            for (auto it = cell.begin(); !it.atEnd(); ++it) {
                const QTextBlock block = it.currentBlock();
                if (!block.isValid())
                    continue;
                if (!first)
                    cc.insertBlock(block.blockFormat());
                else
                    cc.setBlockFormat(block.blockFormat());
                first = false;
                for (auto f = block.begin(); !f.atEnd(); ++f) {
                    QTextCharFormat chars = f.fragment().charFormat();
                    const QString text = shownText(f.fragment(), &chars);
                    chars = styled(chars);
                    if (r == 0)
                        chars.setFontWeight(QFont::DemiBold);
                    cc.insertText(text, chars);
                    m_work += f.fragment().length();
                }
            }
        }
    }
    out.setPosition(target->lastPosition() + 1);
    m_fresh = true;
}

void MarkdownStream::openCode(const QString &info)
{
    QTextCursor out = endCursor();
    QTextFrameFormat format;
    format.setBackground(m_style->codeBackground);
    format.setBorder(1);
    format.setBorderBrush(m_style->codeBorder);
    format.setBorderStyle(QTextFrameFormat::BorderStyle_Solid);
    format.setPadding(8);
    format.setTopMargin(6);
    format.setBottomMargin(6);
    m_code = out.insertFrame(format);
    m_codeIndex = int(m_codeBlocks->size());
    m_codeBlocks->append(QString());
    // The header line: the language and a "Copy" link the view handles.
    QTextCharFormat label;
    label.setForeground(m_style->muted);
    label.setFontPointSize(m_style->body.pointSizeF() * 0.85);
    out.insertText(info.isEmpty() ? QStringLiteral("code") : info.section(u' ', 0, 0), label);
    out.insertText(QStringLiteral("    "), label);
    QTextCharFormat link = label;
    link.setAnchor(true);
    link.setAnchorHref(QStringLiteral("hf-copy:%1?%2").arg(m_codeIndex).arg(m_linkKey));
    link.setForeground(m_style->accent);
    out.insertText(QObject::tr("Copy"), link);
    m_codeLineOpen = false;
    m_codeEmpty = true;
    m_codePart = nullptr;
    m_codeLines = 0;
    m_fresh = false;
    m_language = CodeHighlighter::language(info);
    m_codeState = 0;
    m_openRuns.clear();
}

void MarkdownStream::setCodeLine(const QString &text, bool complete)
{
    int endState = m_codeState;
    if (m_language && text.size() <= kMaxHighlightedLine) {
        endState = CodeHighlighter::highlightLine(*m_language, text, m_codeState, &m_runs);
    } else {
        m_runs.clear();
        if (!text.isEmpty())
            m_runs.append(CodeRun{0, int(text.size()), CodeToken::Plain});
    }
    const QTextCharFormat &plain = m_style->code[std::size_t(CodeToken::Plain)];
    // A diff's added or removed line is marked across the box, as its colour alone is faint.
    QColor background;
    if (m_runs.size() == 1 && m_runs.first().kind == CodeToken::Added)
        background = m_style->codeAddedLine;
    else if (m_runs.size() == 1 && m_runs.first().kind == CodeToken::Removed)
        background = m_style->codeRemovedLine;
    if (!m_codeLineOpen && m_codeLines > 0 && m_codeLines % kCodePartLines == 0)
        startCodePart();
    QTextCursor out = (m_codePart ? m_codePart : m_code)->lastCursorPosition();
    int keep = 0;       // characters of the line already shown as they should be
    qsizetype from = 0; // the first run not shown in full
    if (m_codeLineOpen) {
        // The line only grew at its end: the runs that did not change stay, and a last run that
        // only grew is extended, so a chunk costs what it adds (plus reading its line again).
        while (from < m_openRuns.size() && from < m_runs.size() &&
               m_openRuns.at(from) == m_runs.at(from))
            keep = m_runs.at(from++).end();
        if (from + 1 == m_openRuns.size() && from < m_runs.size() &&
            m_openRuns.at(from).start == m_runs.at(from).start &&
            m_openRuns.at(from).kind == m_runs.at(from).kind &&
            m_runs.at(from).length >= m_openRuns.at(from).length)
            keep = m_openRuns.at(from).end();
        const int shown = m_openRuns.isEmpty() ? 0 : m_openRuns.last().end();
        if (keep < shown) {
            out.setPosition(out.block().position() + keep, QTextCursor::KeepAnchor);
            out.removeSelectedText();
        }
        QTextBlockFormat block = out.blockFormat();
        const bool marked = block.hasProperty(QTextFormat::BackgroundBrush);
        if (marked != background.isValid() ||
            (marked && block.background().color() != background)) {
            if (background.isValid())
                block.setBackground(background);
            else
                block.clearBackground();
            out.setBlockFormat(block);
        }
    } else {
        QTextBlockFormat block;
        block.setNonBreakableLines(true);
        if (background.isValid())
            block.setBackground(background);
        if (std::exchange(m_codePartFresh, false)) {
            out.setBlockFormat(block);
            out.setBlockCharFormat(plain);
        } else {
            out.insertBlock(block, plain);
        }
        ++m_codeLines;
    }
    for (qsizetype r = from; r < m_runs.size(); ++r) {
        const CodeRun &run = m_runs.at(r);
        const int start = std::max(run.start, keep);
        if (start < run.end())
            out.insertText(text.mid(start, run.end() - start),
                           m_style->code[std::size_t(run.kind)]);
    }
    m_work += text.size();
    m_codeLineOpen = !complete;
    if (complete) {
        m_codeState = endState; // the next line starts where this one ended
        m_openRuns.clear();
        QString &code = (*m_codeBlocks)[m_codeIndex];
        if (!m_codeEmpty)
            code += u'\n';
        code += text;
        m_codeEmpty = false;
    } else {
        std::swap(m_openRuns, m_runs);
    }
}

// A long code block goes on in a new part, a plain frame inside its box, every kCodePartLines
// lines: Qt walks the frame a line lands in, and a part keeps that walk short. The empty block Qt
// keeps after a frame gets no height, so the lines run on without a gap.
void MarkdownStream::startCodePart()
{
    QTextCursor at(m_code->document());
    at.setPosition(m_code->lastPosition());
    m_codePart = at.insertFrame(QTextFrameFormat());
    m_codePartFresh = true; // a new frame holds one empty block
    flattenBlock(m_code->document(), m_codePart->lastPosition() + 1);
}

void MarkdownStream::flattenBlock(QTextDocument *document, int position)
{
    QTextCursor at(document);
    at.setPosition(position);
    QTextBlockFormat flat;
    flat.setLineHeight(0, QTextBlockFormat::FixedHeight);
    at.setBlockFormat(flat);
}

void MarkdownStream::closeCode()
{
    if (m_codeLineOpen) { // what looked like a code line was the closing fence arriving
        QTextCursor out = (m_codePart ? m_codePart : m_code)->lastCursorPosition();
        out.movePosition(QTextCursor::StartOfBlock, QTextCursor::KeepAnchor);
        if (m_codePart && out.selectionStart() == m_codePart->firstPosition()) {
            // That line was all of a new part: the part goes with it.
            out.setPosition(m_codePart->firstPosition() - 1);
            out.setPosition(m_codePart->lastPosition() + 1, QTextCursor::KeepAnchor);
        } else {
            out.movePosition(QTextCursor::PreviousCharacter, QTextCursor::KeepAnchor);
        }
        out.removeSelectedText();
        m_codeLineOpen = false;
        m_openRuns.clear();
    }
    m_code = nullptr;
    m_codePart = nullptr;
    m_fresh = true; // the block Qt keeps after a frame
}

} // namespace holdfast
