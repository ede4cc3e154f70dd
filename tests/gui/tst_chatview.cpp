// The chat view alone: Markdown rendered, and streaming cost that does not grow with the answer;
// code blocks highlighted per language, streamed or whole, in the light and the dark palette.
// Over 600 lines: one view, and the highlighting's rows per language (data-driven) with it.
#include "darkpalette.h"
#include "fakes/testutil.h"
#include "gui/answerfooter.h"
#include "gui/attachmentcache.h"
#include "gui/attachmentfiles.h"
#include "gui/chatstyle.h"
#include "gui/chatview.h"
#include "gui/codehighlighter.h"
#include "gui/markdownstream.h"

#include <QAbstractTextDocumentLayout>
#include <QApplication>
#include <QBuffer>
#include <QClipboard>
#include <QCoroTimer>
#include <QDir>
#include <QJsonObject>
#include <QPainter>
#include <QPixmap>
#include <QScrollBar>
#include <QSignalSpy>
#include <QTest>
#include <QTextBlock>
#include <QTextFrame>
#include <QTextTable>

using namespace holdfast;
using holdfast::test::spinUntil;
using namespace Qt::StringLiterals;

namespace {

// Everything in the document, frames and tables included.
struct DocumentFacts
{
    int tables = 0;
    int codeFrames = 0;
    bool boldFound = false;
    bool monoFound = false;
    bool copyLink = false;
    int headings = 0;
    int listItems = 0;
};

DocumentFacts inspect(QTextDocument *doc)
{
    DocumentFacts f;
    for (QTextBlock b = doc->begin(); b.isValid(); b = b.next()) {
        if (b.textList())
            ++f.listItems;
        if (b.blockFormat().headingLevel() > 0)
            ++f.headings;
        for (auto it = b.begin(); !it.atEnd(); ++it) {
            const QTextCharFormat c = it.fragment().charFormat();
            if (c.fontWeight() >= QFont::Bold && !it.fragment().text().trimmed().isEmpty())
                f.boldFound = true;
            if (c.fontFixedPitch() || c.font().fixedPitch())
                f.monoFound = true;
            if (c.anchorHref().startsWith(QLatin1String("hf-copy:")))
                f.copyLink = true;
        }
    }
    std::function<void(QTextFrame *)> walk = [&](QTextFrame *frame) {
        for (QTextFrame *child : frame->childFrames()) {
            if (qobject_cast<QTextTable *>(child))
                ++f.tables;
            else if (child->frameFormat().border() > 0)
                ++f.codeFrames;
            walk(child);
        }
    };
    walk(doc->rootFrame());
    return f;
}

const QString kSample =
    QStringLiteral("## Plan\n\nHere is **bold** and `inline code`.\n\n- one\n- two\n\n"
                   "```cpp\nint main()\n{\n    return 0;\n}\n```\n\n"
                   "| name | value |\n|---|---|\n| a | 1 |\n| b | 2 |\n\nThe end.");

Message assistant(const QString &text)
{
    Message m;
    m.index = 1;
    m.role = QStringLiteral("assistant");
    m.content = text;
    m.createdAt = QDateTime::currentDateTimeUtc();
    return m;
}

const QHash<QString, CodeToken> &kindNames()
{
    static const QHash<QString, CodeToken> names = {
        {QStringLiteral("plain"), CodeToken::Plain},
        {QStringLiteral("keyword"), CodeToken::Keyword},
        {QStringLiteral("type"), CodeToken::Type},
        {QStringLiteral("constant"), CodeToken::Constant},
        {QStringLiteral("number"), CodeToken::Number},
        {QStringLiteral("string"), CodeToken::String},
        {QStringLiteral("comment"), CodeToken::Comment},
        {QStringLiteral("meta"), CodeToken::Meta},
        {QStringLiteral("function"), CodeToken::Function},
        {QStringLiteral("variable"), CodeToken::Variable},
        {QStringLiteral("tag"), CodeToken::Tag},
        {QStringLiteral("attribute"), CodeToken::Attribute},
        {QStringLiteral("heading"), CodeToken::Heading},
        {QStringLiteral("added"), CodeToken::Added},
        {QStringLiteral("removed"), CodeToken::Removed},
        {QStringLiteral("emphasis"), CodeToken::Emphasis},
    };
    return names;
}

QString fenced(const QString &language, const QString &code)
{
    return QStringLiteral("```") + language + u'\n' + code + QStringLiteral("\n```\n");
}

// What the reader sees of the code lines (not the header) of every code block: runs of one look.
struct Look
{
    QString text;
    QString colour;
    bool italic = false;
    bool bold = false;
};

QList<Look> codeLooks(QTextDocument *doc)
{
    QList<Look> looks;
    const auto add = [&looks](const QString &text, const QTextCharFormat &f) {
        const QString colour = f.foreground().color().name();
        const bool bold = f.fontWeight() >= QFont::Bold;
        if (!looks.isEmpty() && looks.last().colour == colour &&
            looks.last().italic == f.fontItalic() && looks.last().bold == bold)
            looks.last().text += text;
        else
            looks.append(Look{text, colour, f.fontItalic(), bold});
    };
    const std::function<void(QTextFrame *)> walk = [&](QTextFrame *frame) {
        for (QTextFrame *child : frame->childFrames()) {
            if (qobject_cast<QTextTable *>(child) || child->frameFormat().border() <= 0) {
                walk(child);
                continue;
            }
            const int last = child->lastPosition();
            for (QTextBlock b = doc->findBlock(child->firstPosition()).next();
                 b.isValid() && b.position() <= last; b = b.next()) {
                for (auto it = b.begin(); !it.atEnd(); ++it)
                    add(it.fragment().text(), it.fragment().charFormat());
                QTextCharFormat lineEnd; // its colour: the line's background, if it has one
                if (b.blockFormat().hasProperty(QTextFormat::BackgroundBrush))
                    lineEnd.setForeground(b.blockFormat().background());
                add(QStringLiteral("\n"), lineEnd);
            }
        }
    };
    walk(doc->rootFrame());
    return looks;
}

QString describe(const QList<Look> &looks)
{
    QStringList parts;
    for (const Look &l : looks)
        parts << QStringLiteral("[%1|%2%3%4]")
                     .arg(l.text, l.colour, l.italic ? QStringLiteral("|i") : QString(),
                          l.bold ? QStringLiteral("|b") : QString());
    return parts.join(QString());
}

// The format of the first occurrence of `text` in the document, and whether all its characters
// share it (a token is one run).
QTextCharFormat formatOf(QTextDocument *doc, const QString &text, bool *found, bool *uniform)
{
    const bool word = text.front().isLetterOrNumber() && text.back().isLetterOrNumber();
    // From the first code block on: the message header above it shows the time ("06:10").
    int from = 0;
    for (QTextBlock b = doc->begin(); b.isValid() && from == 0; b = b.next()) {
        if (b.text().endsWith(QLatin1String("    Copy")))
            from = b.position();
    }
    const QTextCursor hit =
        doc->find(text, from,
                  QTextDocument::FindCaseSensitively |
                      (word ? QTextDocument::FindWholeWords : QTextDocument::FindFlags()));
    *found = !hit.isNull();
    *uniform = true;
    if (hit.isNull())
        return {};
    QTextCursor at(doc);
    at.setPosition(hit.selectionStart() + 1);
    const QTextCharFormat first = at.charFormat();
    for (int p = hit.selectionStart() + 2; p <= hit.selectionEnd(); ++p) {
        at.setPosition(p);
        if (at.charFormat().foreground() != first.foreground() ||
            at.charFormat().fontItalic() != first.fontItalic())
            *uniform = false;
    }
    return first;
}

void finishStream(ChatView &view)
{
    TurnRecord done;
    done.id = 1;
    done.state = TurnRecord::State::Done;
    view.finishAnswer(done);
}

const QString kCppSample =
    QStringLiteral("#include <vector>\n"
                   "/* A widget\n   with parts. */\n"
                   "class Widget final {\n"
                   "    std::vector<int> items; // the parts\n"
                   "    bool empty() const { return items.size() == 0 && this != nullptr; }\n"
                   "    const char *name = \"widget\\n\";\n"
                   "};");

} // namespace

class TestChatView : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void rendersMarkdown();
    void streamedEqualsWhole_data();
    void streamedEqualsWhole();
    void streamingCostIsFlat();
    void longAnswerGoesOnInSmallFrames();
    void longCodeBlockGoesOnInParts();
    void closingFenceArrivingInPieces();
    void boundedWindowOfMessages();
    void attachmentsShownWithThePrompt();
    void highlightsLanguages_data();
    void highlightsLanguages();
    void aliasesName_data();
    void aliasesName();
    void spacesJoinTheirNeighbours();
    void spansAcrossChunks_data();
    void spansAcrossChunks();
    void unknownLanguageIsMonochrome_data();
    void unknownLanguageIsMonochrome();
    void darkPaletteHasItsOwnColours();
    void copyGivesPlainCode();
    void highlightScreenshots_data();
    void highlightScreenshots();
    void footerText_data();
    void footerText();
    void tokenEstimate_data();
    void tokenEstimate();
    void footerAndNoticeUnderStoredAnswers();
    void footerOfStreamedAnswerIsLocal();
    void toolStepsLiveInChunkOrder();
    void textAfterToolBlockCostsItsOwn();
    void toolBlocksOfStoredAnswer_data();
    void toolBlocksOfStoredAnswer();
    void toolBlockStatus_data();
    void toolBlockStatus();
    void toolBlockOpensOnItsLinkOnly();
    void toolScreenshots_data();
    void toolScreenshots();
};

void TestChatView::rendersMarkdown()
{
    ChatView view;
    view.appendMessage(assistant(kSample));
    const DocumentFacts f = inspect(view.document());
    QCOMPARE(f.tables, 1);
    QCOMPARE(f.codeFrames, 1);
    QVERIFY(f.boldFound);
    QVERIFY(f.monoFound);
    QVERIFY(f.copyLink);
    QCOMPARE(f.headings, 1);
    QCOMPARE(f.listItems, 2);
    const QString text = view.toPlainText();
    QVERIFY(text.contains(QLatin1String("return 0;")));
    QVERIFY(!text.contains(QLatin1String("**bold**"))); // rendered, not shown as source
    QVERIFY(!text.contains(QLatin1String("```")));
}

void TestChatView::streamedEqualsWhole_data()
{
    QTest::addColumn<int>("chunkSize");
    QTest::addRow("1 char") << 1;
    QTest::addRow("3 chars") << 3;
    QTest::addRow("16 chars") << 16;
    QTest::addRow("whole") << 100000;
}

// However the text is cut, the streamed rendering ends as the rendering of the whole.
void TestChatView::streamedEqualsWhole()
{
    QFETCH(int, chunkSize);
    ChatView whole;
    whole.appendMessage(assistant(kSample));
    ChatView streamed;
    streamed.beginAnswer(1, QStringLiteral("demo"), QString());
    for (qsizetype i = 0; i < kSample.size(); i += chunkSize)
        streamed.appendAnswer(kSample.mid(i, chunkSize));
    TurnRecord done;
    done.id = 1;
    done.state = TurnRecord::State::Done;
    streamed.finishAnswer(done);
    // Bodies compare equal; headers differ (the streamed one names the model).
    const auto body = [](const QString &text) { return text.section(u'\n', 2); };
    QCOMPARE(body(streamed.toPlainText()), body(whole.toPlainText()));
    const DocumentFacts a = inspect(whole.document());
    const DocumentFacts b = inspect(streamed.document());
    QCOMPARE(b.tables, a.tables);
    QCOMPARE(b.codeFrames, a.codeFrames);
    QCOMPARE(b.listItems, a.listItems);
    QCOMPARE(b.headings, a.headings);
}

// The work of each 16-byte chunk must not grow with the length of the answer: late chunks cost
// what early ones did. Two counts, no clock: the characters handed to the renderer, and the
// characters of the document the chunk's edits touched (the range Qt reports changed, which its
// layout redoes), so that a pass over what is already shown (restyling links or images, say) fails
// here. The answer holds what the renderer rewrites: links, images, raw HTML, tables, code, lists.
void TestChatView::streamingCostIsFlat()
{
    QString answer;
    for (int i = 0; answer.size() < 256 * 1024; ++i) {
        answer +=
            QStringLiteral("Paragraph %1 has some **bold** words and `code` in it, and goes on "
                           "for a while so that it spans a few lines of text.\n\n")
                .arg(i);
        if (i % 7 == 0)
            answer += QStringLiteral("- item one\n- item two\n\n```\nline a\nline b\n```\n\n");
        if (i % 5 == 0)
            answer +=
                QStringLiteral("See [the docs](https://example.com/%1), ![a chart](chart%1.png), "
                               "![remote](https://example.com/%1.png) and <b>raw</b> "
                               "[a file](file:///etc/passwd).\n\n")
                    .arg(i);
        if (i % 11 == 0)
            answer += QStringLiteral("| a | b |\n|---|---|\n| [x](https://example.com) | 2 |\n\n");
    }
    ChatView view;
    view.beginAnswer(1, QStringLiteral("demo"), QString());
    qint64 touched = 0;
    connect(view.document(), &QTextDocument::contentsChange, &view,
            [&touched](int, int removed, int added) { touched += removed + added; });
    constexpr int kChunk = 16;
    const int chunks = int(answer.size() / kChunk);
    QList<qint64> renders;
    QList<qint64> edits;
    renders.reserve(chunks);
    edits.reserve(chunks);
    for (int i = 0; i < chunks; ++i) {
        const qint64 before = view.renderWork();
        touched = 0;
        view.appendAnswer(answer.mid(qsizetype(i) * kChunk, kChunk));
        renders.append(view.renderWork() - before);
        edits.append(touched);
    }
    const auto check = [&](const QList<qint64> &costs, const char *what, qint64 bound) {
        const auto average = [&](int from, int to) {
            qint64 sum = 0;
            for (int i = from; i < to; ++i)
                sum += costs.at(i);
            return double(sum) / (to - from);
        };
        const double early = average(0, chunks / 10);
        const double late = average(chunks - chunks / 10, chunks);
        const qint64 worst = *std::max_element(costs.cbegin(), costs.cend());
        qInfo("%s per chunk: early %.1f, late %.1f, worst %lld chars; answer %lld chars", what,
              early, late, worst, qint64(answer.size()));
        QVERIFY2(late <= early * 1.5 + kChunk,
                 qPrintable(QStringLiteral("%1: the cost per chunk grew with the answer")
                                .arg(QLatin1String(what))));
        QVERIFY2(worst <= bound, qPrintable(QStringLiteral("%1: one chunk cost %2 characters")
                                                .arg(QLatin1String(what))
                                                .arg(worst)));
    };
    check(renders, "rendered", 2 * MarkdownStream::kMaxTail + 4 * kChunk);
    if (QTest::currentTestFailed())
        return;
    // A full frame is restyled once as the answer goes on in the next one (a format change counts
    // its range as removed and added).
    check(edits, "touched", 2 * (MarkdownStream::kFrameChars + 2 * MarkdownStream::kMaxTail));
    if (QTest::currentTestFailed())
        return;
    QVERIFY(view.toPlainText().contains(QLatin1String("Paragraph 1000 has some bold words")));
}

// Qt lays out and paints a nested frame by walking all its blocks, so a long answer goes on in a
// new frame every few KiB: the frame each chunk lands in stays small, whatever the answer's length.
// The frames join without a seam and still make one message.
void TestChatView::longAnswerGoesOnInSmallFrames()
{
    QString answer;
    for (int i = 0; answer.size() < 64 * 1024; ++i) {
        answer +=
            QStringLiteral("Paragraph %1 goes on for a while, long enough to wrap.\n\n").arg(i);
        if (i % 9 == 0)
            answer +=
                QStringLiteral("```\ncode %1\n```\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n").arg(i);
    }
    ChatView view;
    view.resize(700, 500);
    view.show(); // laid out, to measure
    QVERIFY(QTest::qWaitForWindowExposed(&view));
    view.beginAnswer(1, QStringLiteral("demo"), QString());
    int largest = 0;
    for (qsizetype i = 0; i < answer.size(); i += 16) {
        view.appendAnswer(answer.mid(i, 16));
        const QList<QTextFrame *> frames = view.document()->rootFrame()->childFrames();
        largest = std::max(largest, frames.last()->lastPosition() - frames.last()->firstPosition());
    }
    TurnRecord done;
    done.id = 1;
    done.state = TurnRecord::State::Done;
    view.finishAnswer(done);
    const QList<QTextFrame *> frames = view.document()->rootFrame()->childFrames();
    qInfo("a %lld-char answer in %lld frames, the largest %d chars", qint64(answer.size()),
          qint64(frames.size()), largest);
    QVERIFY(frames.size() >= answer.size() / (2 * MarkdownStream::kFrameChars));
    QVERIFY2(largest <= MarkdownStream::kFrameChars + 2 * MarkdownStream::kMaxTail,
             "the frame an answer grows in must stay bounded");
    QCOMPARE(view.messageCount(), 1);
    QCOMPARE(view.lastAnswerText(), answer);

    // The same answer stored and shown from history is split the same way and reads the same.
    ChatView stored;
    stored.resize(700, 500);
    stored.appendMessage(assistant(answer));
    QCOMPARE(stored.document()->rootFrame()->childFrames().size(), frames.size());
    const auto body = [](const QString &text) { return text.section(u'\n', 2); };
    QCOMPARE(body(view.toPlainText()), body(stored.toPlainText()));

    // No seam: where one frame ends and the next begins, two paragraphs are as far apart as
    // inside a frame.
    QAbstractTextDocumentLayout *layout = view.document()->documentLayout();
    const auto gap = [&](const QTextBlock &above, const QTextBlock &below) {
        return layout->blockBoundingRect(below).top() - layout->blockBoundingRect(above).bottom();
    };
    QTextBlock inside = view.document()->findBlock(frames.at(1)->firstPosition());
    while (inside.isValid() && !(inside.text().startsWith(QLatin1String("Paragraph")) &&
                                 inside.next().text().startsWith(QLatin1String("Paragraph"))))
        inside = inside.next();
    QVERIFY(inside.isValid());
    const QTextBlock end = view.document()->findBlock(frames.at(1)->lastPosition());
    const QTextBlock start = view.document()->findBlock(frames.at(2)->firstPosition());
    QVERIFY(end.text().startsWith(QLatin1String("Paragraph")));
    QVERIFY(start.text().startsWith(QLatin1String("Paragraph")));
    QVERIFY(layout->blockBoundingRect(end).height() > 0);
    QCOMPARE(gap(end, start), gap(inside, inside.next()));
    QCOMPARE(layout->blockBoundingRect(start).left(), layout->blockBoundingRect(inside).left());

    // One message for the reader: its text anywhere in it, and it leaves the document whole.
    view.verticalScrollBar()->setValue(view.verticalScrollBar()->maximum() / 2);
    const QPoint middle(view.viewport()->width() / 2, view.viewport()->height() / 2);
    QVERIFY(view.cursorForPosition(middle).position() > frames.at(2)->firstPosition());
    QCOMPARE(view.messageTextAt(middle), answer);
    // A picture of a place where two frames meet, to look at (build folder).
    view.verticalScrollBar()->setValue(int(layout->blockBoundingRect(start).top()) - 200);
    const QString picture =
        QCoreApplication::applicationDirPath() + QStringLiteral("/chatview-seam.png");
    QVERIFY(view.grab().save(picture));
    qInfo("screenshot: %s", qPrintable(picture));
    view.setMaxShown(1);
    view.appendNewerMessages({assistant(QStringLiteral("next"))});
    QCOMPARE(view.messageCount(), 1);
    QCOMPARE(view.document()->rootFrame()->childFrames().size(), 1);
    QVERIFY(!view.toPlainText().contains(QLatin1String("Paragraph")));
}

// A long code block goes on in parts (plain frames in its box), so the frame a line lands in stays
// small too; the box is still one, its Copy text exact, and the lines run on without a gap.
void TestChatView::longCodeBlockGoesOnInParts()
{
    constexpr int kLines = 2 * MarkdownStream::kCodePartLines;
    QStringList lines;
    for (int i = 0; i < kLines; ++i)
        lines << QStringLiteral("    total += step(%1); // line %1").arg(i);
    // The closing fence arrives in pieces right where a new part would begin.
    const QStringList pieces = {QStringLiteral("Before.\n\n```cpp\n") + lines.join(u'\n') + u'\n',
                                QStringLiteral("`"), QStringLiteral("`"),
                                QStringLiteral("`\nAfter.")};
    ChatView view;
    view.resize(700, 500);
    view.show();
    QVERIFY(QTest::qWaitForWindowExposed(&view));
    view.beginAnswer(1, QStringLiteral("demo"), QString());
    int largest = 0;
    const auto walk = [&largest](QTextFrame *frame, const auto &self) -> void {
        int blocks = 0;
        for (auto it = frame->begin(); !it.atEnd(); ++it)
            blocks += it.currentBlock().isValid() ? 1 : 0;
        largest = std::max(largest, blocks);
        for (QTextFrame *child : frame->childFrames())
            self(child, self);
    };
    for (const QString &piece : pieces) {
        for (qsizetype i = 0; i < piece.size(); i += 16) {
            view.appendAnswer(piece.mid(i, 16));
            walk(view.document()->rootFrame()->childFrames().last(), walk);
        }
    }
    view.finishAnswer(TurnRecord{});
    qInfo("a %d-line code block: at most %d blocks directly in any frame", kLines, largest);
    QVERIFY2(largest <= MarkdownStream::kCodePartLines + 4, "a code line landed in a large frame");
    const DocumentFacts f = inspect(view.document());
    QCOMPARE(f.codeFrames, 1);
    const QString text = view.toPlainText();
    QVERIFY(text.contains(lines.first()) && text.contains(lines.last()));
    QVERIFY(!text.contains(QLatin1String("``")));
    QVERIFY(text.trimmed().endsWith(QLatin1String("After.")));

    // Copy gives the code exactly.
    QTextCursor link(view.document());
    QString href;
    for (QTextBlock b = view.document()->begin(); b.isValid() && href.isEmpty(); b = b.next()) {
        for (auto it = b.begin(); !it.atEnd(); ++it) {
            if (it.fragment().charFormat().anchorHref().startsWith(QLatin1String("hf-copy:")))
                href = it.fragment().charFormat().anchorHref();
        }
    }
    QVERIFY(!href.isEmpty());
    QSignalSpy copied(&view, &ChatView::copied);
    Q_EMIT view.anchorClicked(QUrl(href));
    QCOMPARE(copied.size(), 1);
    QCOMPARE(QApplication::clipboard()->text(), lines.join(u'\n'));

    // No gap where one part ends and the next begins: the lines are as far apart as elsewhere.
    QAbstractTextDocumentLayout *layout = view.document()->documentLayout();
    const auto top = [&](const QString &line) {
        const QTextCursor found = view.document()->find(line);
        return layout->blockBoundingRect(found.block()).top();
    };
    const int seam = MarkdownStream::kCodePartLines;
    const qreal step = top(lines.at(11)) - top(lines.at(10));
    QVERIFY(step > 0);
    QCOMPARE(top(lines.at(seam)) - top(lines.at(seam - 1)), step);
    QCOMPARE(top(lines.at(seam + 1)) - top(lines.at(seam)), step);
    view.verticalScrollBar()->setValue(int(top(lines.at(seam))) - 150);
    const QString picture =
        QCoreApplication::applicationDirPath() + QStringLiteral("/chatview-code-seam.png");
    QVERIFY(view.grab().save(picture));
    qInfo("screenshot: %s", qPrintable(picture));
}

void TestChatView::closingFenceArrivingInPieces()
{
    ChatView view;
    view.beginAnswer(1, {}, QString());
    for (const QString &piece :
         {QStringLiteral("```py\nprint(1)\n`"), QStringLiteral("`"), QStringLiteral("`\nafter")})
        view.appendAnswer(piece);
    view.finishAnswer(TurnRecord{});
    const QString text = view.toPlainText();
    QVERIFY(text.contains(QLatin1String("print(1)")));
    QVERIFY(!text.contains(QLatin1String("``")));
    QVERIFY(text.trimmed().endsWith(QLatin1String("after")));
}

// Pages that come in push the farthest messages out of the document, frames, text and code
// blocks alike, and never more than maxShown() messages stay.
void TestChatView::boundedWindowOfMessages()
{
    ChatView view;
    view.setMaxShown(3);
    const auto message = [](qint64 index) {
        Message m = assistant(QStringLiteral("Message %1\n\n```\ncode %1\n```\n").arg(index));
        m.index = index;
        return m;
    };
    for (qint64 i = 10; i < 13; ++i)
        view.appendMessage(message(i));
    view.setHasOlder(true);
    view.prependMessages({message(8), message(9)});
    QCOMPARE(view.messageCount(), 3);
    QCOMPARE(view.document()->rootFrame()->childFrames().size(), 3);
    QCOMPARE(view.firstIndex(), 8);
    QCOMPARE(view.lastIndex(), 10);
    QVERIFY(view.hasNewer());
    QVERIFY(!view.followsBottom());
    QString text = view.toPlainText();
    QVERIFY(text.contains(QLatin1String("code 8")) && text.contains(QLatin1String("code 10")));
    QVERIFY(!text.contains(QLatin1String("Message 11")));
    QVERIFY(!text.contains(QLatin1String("code 12")));

    view.appendNewerMessages({message(11), message(12)});
    QCOMPARE(view.messageCount(), 3);
    QCOMPARE(view.document()->rootFrame()->childFrames().size(), 3);
    QCOMPARE(view.firstIndex(), 10);
    QCOMPARE(view.lastIndex(), 12);
    QVERIFY(view.hasOlder());
    text = view.toPlainText();
    QVERIFY(!text.contains(QLatin1String("Message 8")) && !text.contains(QLatin1String("code 9")));
    QVERIFY(text.contains(QLatin1String("code 12")));
}

void TestChatView::highlightsLanguages_data()
{
    QTest::addColumn<QString>("language");
    QTest::addColumn<QString>("code");
    QTest::addColumn<QStringList>("expected"); // "kind:text": the first `text` is one run of `kind`
    const auto row = [](const char *name, const char *language, const QString &code,
                        const QStringList &expected) {
        QTest::addRow("%s", name) << QString::fromLatin1(language) << code << expected;
    };
    row("C", "c",
        QStringLiteral("#include <stdio.h>\nint main(void) {\n    /* say\n       it */\n"
                       "    printf(\"hi\\n\", 'x'); // note\n    return 0;\n}"),
        {QStringLiteral("meta:#include <stdio.h>"), QStringLiteral("type:int"),
         QStringLiteral("function:main"), QStringLiteral("comment:/* say"),
         QStringLiteral("comment:it */"), QStringLiteral("function:printf"),
         QStringLiteral("string:\"hi\\n\""), QStringLiteral("string:'x'"),
         QStringLiteral("comment:// note"), QStringLiteral("keyword:return"),
         QStringLiteral("plain:0")});
    row("C++", "c++", kCppSample,
        {QStringLiteral("meta:#include <vector>"), QStringLiteral("comment:with parts. */"),
         QStringLiteral("keyword:class"), QStringLiteral("type:Widget"),
         QStringLiteral("keyword:final"), QStringLiteral("plain:items"),
         QStringLiteral("comment:// the parts"), QStringLiteral("type:bool"),
         QStringLiteral("function:size"), QStringLiteral("constant:this"),
         QStringLiteral("constant:nullptr"), QStringLiteral("string:\"widget\\n\"")});
    row("Python", "py",
        QStringLiteral("@dataclass\nclass Point:\n    \"\"\"A point,\n    two numbers.\"\"\"\n"
                       "    def norm(self) -> float:\n        return abs(self.x) + 1.5  # length\n"
                       "print('done', None)"),
        {QStringLiteral("meta:@dataclass"), QStringLiteral("keyword:class"),
         QStringLiteral("type:Point"), QStringLiteral("string:\"\"\"A point,"),
         QStringLiteral("string:two numbers.\"\"\""), QStringLiteral("keyword:def"),
         QStringLiteral("function:norm"), QStringLiteral("constant:self"),
         QStringLiteral("keyword:return"), QStringLiteral("plain:1.5"),
         QStringLiteral("comment:# length"), QStringLiteral("string:'done'"),
         QStringLiteral("constant:None")});
    row("JavaScript", "js",
        QStringLiteral("const total = items.reduce((a, b) => a + b, 0); // sum\n"
                       "console.log(`total ${total}`);\nlet none = null;"),
        {QStringLiteral("keyword:const"), QStringLiteral("plain:total"),
         QStringLiteral("function:reduce"), QStringLiteral("plain:0"),
         QStringLiteral("comment:// sum"), QStringLiteral("type:console"),
         QStringLiteral("string:`total ${total}`"), QStringLiteral("keyword:let"),
         QStringLiteral("constant:null")});
    row("TypeScript", "ts",
        QStringLiteral("interface User { name: string; age?: number }\n"
                       "export function greet(u: User): void {}"),
        {QStringLiteral("keyword:interface"), QStringLiteral("type:User"),
         QStringLiteral("type:string"), QStringLiteral("type:number"),
         QStringLiteral("keyword:export"), QStringLiteral("function:greet")});
    row("Java", "java",
        QStringLiteral("@Override\npublic String toString() {\n    return \"x\" + 'c' + 42L;\n}"),
        {QStringLiteral("meta:@Override"), QStringLiteral("keyword:public"),
         QStringLiteral("type:String"), QStringLiteral("function:toString"),
         QStringLiteral("keyword:return"), QStringLiteral("string:\"x\""),
         QStringLiteral("string:'c'"), QStringLiteral("plain:42L")});
    row("Go", "golang",
        QStringLiteral("package main\n\nfunc main() {\n\tmsg := `raw\nline`\n"
                       "\tfmt.Println(msg, nil, 3.14)\n}"),
        {QStringLiteral("keyword:package"), QStringLiteral("plain:main"),
         QStringLiteral("keyword:func"), QStringLiteral("string:`raw"),
         QStringLiteral("string:line`"), QStringLiteral("function:Println"),
         QStringLiteral("constant:nil"), QStringLiteral("plain:3.14")});
    row("Rust", "rs",
        QStringLiteral("#[derive(Debug)]\nfn longest<'a>(x: &'a str) -> Option<&'a str> {\n"
                       "    let c = 'z';\n    println!(\"{}\", x);\n    None\n}"),
        {QStringLiteral("meta:#[derive(Debug)]"), QStringLiteral("keyword:fn"),
         QStringLiteral("plain:x"), QStringLiteral("type:str"), QStringLiteral("type:Option"),
         QStringLiteral("keyword:let"), QStringLiteral("string:'z'"),
         QStringLiteral("function:println!"), QStringLiteral("string:\"{}\""),
         QStringLiteral("constant:None")});
    row("Shell", "bash",
        QStringLiteral("#!/bin/bash\n# install\nexport NAME=\"world $USER\"\n"
                       "if [ -n \"$1\" ]; then echo 'hi'; fi"),
        {QStringLiteral("comment:#!/bin/bash"), QStringLiteral("comment:# install"),
         QStringLiteral("keyword:export"), QStringLiteral("string:\"world "),
         QStringLiteral("variable:$USER"), QStringLiteral("keyword:if"),
         QStringLiteral("variable:$1"), QStringLiteral("keyword:then"), QStringLiteral("type:echo"),
         QStringLiteral("string:'hi'"), QStringLiteral("keyword:fi")});
    row("SQL", "sql",
        QStringLiteral("SELECT name, COUNT(*) FROM users -- all\n"
                       "WHERE active = TRUE AND id > 1024 /* big */\n  AND note = 'it''s';"),
        {QStringLiteral("keyword:SELECT"), QStringLiteral("plain:name"),
         QStringLiteral("function:COUNT"), QStringLiteral("keyword:FROM"),
         QStringLiteral("comment:-- all"), QStringLiteral("keyword:WHERE"),
         QStringLiteral("constant:TRUE"), QStringLiteral("plain:1024"),
         QStringLiteral("comment:/* big */"), QStringLiteral("string:'it''s'")});
    row("JSON", "json",
        QStringLiteral("{\n  \"name\": \"holdfast\",\n  \"port\": 8080,\n  \"tls\": false,\n"
                       "  \"tags\": [null]\n}"),
        {QStringLiteral("attribute:\"name\""), QStringLiteral("string:\"holdfast\""),
         QStringLiteral("number:8080"), QStringLiteral("constant:false"),
         QStringLiteral("constant:null")});
    row("YAML", "yml",
        QStringLiteral("# config\nserver:\n  port: 8080\n  hosts:\n    - name: \"a\"\n"
                       "  debug: true"),
        {QStringLiteral("comment:# config"), QStringLiteral("attribute:server"),
         QStringLiteral("attribute:port"), QStringLiteral("number:8080"),
         QStringLiteral("keyword:- "), QStringLiteral("attribute:name"),
         QStringLiteral("string:\"a\""), QStringLiteral("constant:true")});
    row("HTML", "html",
        QStringLiteral("<!-- top -->\n<a href=\"/x\" class='y'>Link &amp; text</a>\n<div\n"
                       "  id=\"z\">"),
        {QStringLiteral("comment:<!-- top -->"), QStringLiteral("tag:<a"),
         QStringLiteral("attribute:href"), QStringLiteral("string:\"/x\""),
         QStringLiteral("string:'y'"), QStringLiteral("plain:Link"),
         QStringLiteral("constant:&amp;"), QStringLiteral("tag:</a"), QStringLiteral("tag:<div"),
         QStringLiteral("attribute:id"), QStringLiteral("string:\"z\"")});
    row("CSS", "css",
        QStringLiteral("/* theme */\n.button:hover {\n  color: #333;\n  margin: 0 auto;\n"
                       "  width: 50%;\n}\n@media print { }"),
        {QStringLiteral("comment:/* theme */"), QStringLiteral("plain:button"),
         QStringLiteral("plain:hover"), QStringLiteral("attribute:color"),
         QStringLiteral("attribute:margin"), QStringLiteral("number:0"),
         QStringLiteral("constant:auto"), QStringLiteral("number:50%"),
         QStringLiteral("meta:@media")});
    row("Markdown", "markdown",
        QStringLiteral("# Title\n\nSome **bold** and `code`.\n- item\n> quote\n"
                       "[link](https://example.org)"),
        {QStringLiteral("heading:# Title"), QStringLiteral("plain:Some"),
         QStringLiteral("emphasis:**bold**"), QStringLiteral("string:`code`"),
         QStringLiteral("keyword:- "), QStringLiteral("comment:> quote"),
         QStringLiteral("attribute:](https://example.org)")});
    row("diff", "diff",
        QStringLiteral("diff --git a/f b/f\n--- a/f\n+++ b/f\n@@ -1,2 +1,2 @@\n context\n"
                       "-old line\n+new line"),
        {QStringLiteral("heading:diff --git a/f b/f"), QStringLiteral("heading:--- a/f"),
         QStringLiteral("heading:+++ b/f"), QStringLiteral("meta:@@ -1,2 +1,2 @@"),
         QStringLiteral("plain:context"), QStringLiteral("removed:-old line"),
         QStringLiteral("added:+new line")});
}

// Per language: its keywords, strings, comments (and what else it has) take their colours; the
// label names the language and the Copy link is there.
void TestChatView::highlightsLanguages()
{
    QFETCH(QString, language);
    QFETCH(QString, code);
    QFETCH(QStringList, expected);
    ChatView view;
    view.appendMessage(assistant(fenced(language, code)));
    const ChatStyle style = ChatStyle::fromPalette(view.palette(), view.font());
    QTextDocument *doc = view.document();
    QVERIFY(view.toPlainText().contains(language + QStringLiteral("    ") + QObject::tr("Copy")));
    QVERIFY(inspect(doc).copyLink);
    for (const QString &e : expected) {
        const QString kindName = e.section(u':', 0, 0);
        const QString text = e.mid(kindName.size() + 1);
        QVERIFY2(kindNames().contains(kindName), qPrintable(kindName));
        const CodeToken kind = kindNames().value(kindName);
        bool found = false;
        bool uniform = false;
        const QTextCharFormat f = formatOf(doc, text, &found, &uniform);
        QVERIFY2(found, qPrintable(QStringLiteral("not shown: ") + text));
        const QString want = style.code[std::size_t(kind)].foreground().color().name();
        QVERIFY2(uniform && f.foreground().color().name() == want,
                 qPrintable(QStringLiteral("%1 should be %2 (%3) in %4")
                                .arg(text, kindName, want, describe(codeLooks(doc)))));
        // A diff's added and removed lines are marked across the box; other lines are not.
        const QTextBlock line = doc->find(text).block();
        const bool marked = line.blockFormat().hasProperty(QTextFormat::BackgroundBrush);
        QCOMPARE(marked, kind == CodeToken::Added || kind == CodeToken::Removed);
        if (marked)
            QCOMPARE(line.blockFormat().background().color(),
                     kind == CodeToken::Added ? style.codeAddedLine : style.codeRemovedLine);
    }
}

void TestChatView::aliasesName_data()
{
    QTest::addColumn<QString>("info");
    QTest::addColumn<QString>("language"); // "": none, monochrome
    const QList<std::pair<const char *, const char *>> rows = {
        {"c", "C"},
        {"C", "C"},
        {"c++", "C++"},
        {"cpp", "C++"},
        {"cc", "C++"},
        {"h", "C++"},
        {"hpp", "C++"},
        {"python", "Python"},
        {"py", "Python"},
        {"{.python}", "Python"},
        {"python title=\"x\"", "Python"},
        {"javascript", "JavaScript"},
        {"js", "JavaScript"},
        {"jsx", "JavaScript"},
        {"typescript", "TypeScript"},
        {"ts", "TypeScript"},
        {"java", "Java"},
        {"go", "Go"},
        {"golang", "Go"},
        {"main.go", "Go"},
        {"rust", "Rust"},
        {"rs", "Rust"},
        {"language-rust", "Rust"},
        {"sh", "Shell"},
        {"bash", "Shell"},
        {"zsh", "Shell"},
        {"sql", "SQL"},
        {"postgresql", "SQL"},
        {"json", "JSON"},
        {"yaml", "YAML"},
        {"yml", "YAML"},
        {"html", "HTML"},
        {"xml", "HTML"},
        {"css", "CSS"},
        {"markdown", "Markdown"},
        {"md", "Markdown"},
        {"diff", "Diff"},
        {"patch", "Diff"},
        {"brainfuck", ""},
        {"", ""},
        {"text", ""},
    };
    for (const auto &[info, language] : rows)
        QTest::addRow("%s", info) << QString::fromUtf8(info) << QString::fromUtf8(language);
}

void TestChatView::aliasesName()
{
    QFETCH(QString, info);
    QFETCH(QString, language);
    const CodeLanguage *found = CodeHighlighter::language(info);
    QCOMPARE(found ? found->name : QString(), language);
    QVERIFY(CodeHighlighter::languageNames().size() >= 16);
}

// Spaces take the colour of a neighbour: every run is a text item Qt paints on each repaint.
void TestChatView::spacesJoinTheirNeighbours()
{
    const CodeLanguage *cpp = CodeHighlighter::language(u"cpp");
    QVERIFY(cpp);
    const QString line = QStringLiteral("    return total;   // done  ");
    QList<CodeRun> runs;
    QCOMPARE(CodeHighlighter::highlightLine(*cpp, line, 0, &runs), 0);
    QCOMPARE(runs.size(), 3);
    QCOMPARE(runs.at(0), (CodeRun{0, 10, CodeToken::Keyword}));
    QCOMPARE(runs.at(1), (CodeRun{10, 10, CodeToken::Plain}));
    QCOMPARE(runs.at(2), (CodeRun{20, int(line.size()) - 20, CodeToken::Comment}));
    // A block comment left open goes on in the next line's state.
    const int open = CodeHighlighter::highlightLine(*cpp, u"int x; /* open", 0, &runs);
    QVERIFY(open != 0);
    QCOMPARE(CodeHighlighter::highlightLine(*cpp, u"still */ int y;", open, &runs), 0);
    QCOMPARE(runs.first(), (CodeRun{0, 9, CodeToken::Comment}));
}

void TestChatView::spansAcrossChunks_data()
{
    QTest::addColumn<QString>("answer");
    QTest::addColumn<int>("chunkSize");
    const QString python = fenced(
        QStringLiteral("python"),
        QStringLiteral("def f():\n    '''Docs that go\n    on: # not a comment\n    for lines.'''\n"
                       "    return \"x\"  # a comment"));
    const QString html =
        fenced(QStringLiteral("html"),
               QStringLiteral("<p class=\"a\n  b\">text <!-- a\ncomment --></p>\n<img\n src=x>"));
    const QString diff =
        fenced(QStringLiteral("diff"), QStringLiteral("@@ -1 +1 @@\n-old\n+new\n same\n+\n-"));
    const QString answer = QStringLiteral("Here:\n\n") + fenced(QStringLiteral("cpp"), kCppSample) +
                           QStringLiteral("\nand\n\n") + python + html + diff +
                           QStringLiteral("Done.");
    for (const int size : {1, 2, 3, 7, 16})
        QTest::addRow("%d-char chunks", size) << answer << size;
}

// A block comment, a string or a tag that spans lines, streamed in pieces, ends as the whole text
// rendered at once: every line is read from the state the line above ended in.
void TestChatView::spansAcrossChunks()
{
    QFETCH(QString, answer);
    QFETCH(int, chunkSize);
    ChatView whole;
    whole.appendMessage(assistant(answer));
    ChatView streamed;
    streamed.beginAnswer(1, QStringLiteral("demo"), QString());
    for (qsizetype i = 0; i < answer.size(); i += chunkSize)
        streamed.appendAnswer(answer.mid(i, chunkSize));
    finishStream(streamed);
    const QList<Look> expected = codeLooks(whole.document());
    const QList<Look> got = codeLooks(streamed.document());
    QCOMPARE(describe(got), describe(expected));
    // The spans did colour what they span (a continued comment, a docstring, a tag).
    const ChatStyle style = ChatStyle::fromPalette(whole.palette(), whole.font());
    bool found = false;
    bool uniform = false;
    for (const auto &[text, kind] :
         {std::pair{QStringLiteral("with parts. */"), CodeToken::Comment},
          std::pair{QStringLiteral("on: # not a comment"), CodeToken::String},
          std::pair{QStringLiteral("# a comment"), CodeToken::Comment},
          std::pair{QStringLiteral("b\""), CodeToken::String},
          std::pair{QStringLiteral("comment -->"), CodeToken::Comment},
          std::pair{QStringLiteral("src"), CodeToken::Attribute}}) {
        const QTextCharFormat f = formatOf(streamed.document(), text, &found, &uniform);
        QVERIFY2(found && uniform, qPrintable(text));
        QCOMPARE(f.foreground().color().name(),
                 style.code[std::size_t(kind)].foreground().color().name());
    }
}

void TestChatView::unknownLanguageIsMonochrome_data()
{
    QTest::addColumn<QString>("language");
    QTest::addRow("unknown") << QStringLiteral("brainfuck");
    QTest::addRow("none") << QString();
    QTest::addRow("plain text") << QStringLiteral("text");
}

void TestChatView::unknownLanguageIsMonochrome()
{
    QFETCH(QString, language);
    ChatView view;
    view.appendMessage(assistant(fenced(language, kCppSample)));
    const ChatStyle style = ChatStyle::fromPalette(view.palette(), view.font());
    const QList<Look> looks = codeLooks(view.document());
    QVERIFY(!looks.isEmpty());
    for (const Look &look : looks) {
        if (look.text == QLatin1String("\n"))
            continue;
        QVERIFY2(look.colour == style.text.name() && !look.italic && !look.bold,
                 qPrintable(describe(looks)));
    }
    QVERIFY(view.toPlainText().contains((language.isEmpty() ? QStringLiteral("code") : language) +
                                        QStringLiteral("    Copy")));
}

// A dark window gets colours of its own, each readable on its code background, as in the light.
void TestChatView::darkPaletteHasItsOwnColours()
{
    ChatView light;
    ChatView dark;
    dark.setPalette(test::darkPalette());
    const ChatStyle lightStyle = ChatStyle::fromPalette(light.palette(), light.font());
    const ChatStyle darkStyle = ChatStyle::fromPalette(dark.palette(), dark.font());
    QVERIFY(darkStyle.codeBackground.lightnessF() < 0.3);
    for (int k = 1; k < kCodeTokenCount; ++k) {
        for (const ChatStyle *style : {&lightStyle, &darkStyle}) {
            const QColor c = style->code[std::size_t(k)].foreground().color();
            QVERIFY2(ChatStyle::contrast(c, style->codeBackground) >= 4.5,
                     qPrintable(QStringLiteral("kind %1: %2 on %3")
                                    .arg(k)
                                    .arg(c.name(), style->codeBackground.name())));
        }
        if (k != int(CodeToken::Emphasis)) // bold text, in the text colour
            QVERIFY(lightStyle.code[std::size_t(k)].foreground() !=
                    darkStyle.code[std::size_t(k)].foreground());
    }
    // The view renders with the palette it has.
    light.appendMessage(assistant(fenced(QStringLiteral("cpp"), kCppSample)));
    dark.appendMessage(assistant(fenced(QStringLiteral("cpp"), kCppSample)));
    bool found = false;
    bool uniform = false;
    QCOMPARE(formatOf(dark.document(), QStringLiteral("return"), &found, &uniform).foreground(),
             darkStyle.code[std::size_t(CodeToken::Keyword)].foreground());
    QCOMPARE(formatOf(light.document(), QStringLiteral("return"), &found, &uniform).foreground(),
             lightStyle.code[std::size_t(CodeToken::Keyword)].foreground());
}

// Copy gives the code as it was written, colours or not, streamed or stored.
void TestChatView::copyGivesPlainCode()
{
    const QString answer = QStringLiteral("Look:\n\n") + fenced(QStringLiteral("cpp"), kCppSample) +
                           QStringLiteral("\nend");
    ChatView stored;
    stored.appendMessage(assistant(answer));
    ChatView streamed;
    streamed.beginAnswer(1, QStringLiteral("demo"), QString());
    for (qsizetype i = 0; i < answer.size(); i += 5)
        streamed.appendAnswer(answer.mid(i, 5));
    finishStream(streamed);
    for (ChatView *view : {&stored, &streamed}) {
        QString href;
        for (QTextBlock b = view->document()->begin(); b.isValid(); b = b.next()) {
            for (auto it = b.begin(); !it.atEnd(); ++it) {
                if (it.fragment().charFormat().anchorHref().startsWith(QLatin1String("hf-copy:")))
                    href = it.fragment().charFormat().anchorHref();
            }
        }
        QVERIFY(!href.isEmpty());
        QApplication::clipboard()->clear();
        QSignalSpy copied(view, &ChatView::copied);
        Q_EMIT view->anchorClicked(QUrl(href));
        QCOMPARE(copied.size(), 1);
        QCOMPARE(QApplication::clipboard()->text(), kCppSample);
    }
}

void TestChatView::highlightScreenshots_data()
{
    QTest::addColumn<bool>("dark");
    QTest::addRow("light") << false;
    QTest::addRow("dark") << true;
}

// Pictures of highlighted code to look at: highlight-light.png and highlight-dark.png in the build
// folder (or HOLDFAST_SHOTS_DIR).
void TestChatView::highlightScreenshots()
{
    QFETCH(bool, dark);
    ChatView view;
    if (dark)
        view.setPalette(test::darkPalette());
    view.resize(820, 760);
    Message prompt = assistant(QStringLiteral("Show me the fix, in C++, Python and as a diff."));
    prompt.role = QStringLiteral("user");
    prompt.index = 0;
    view.appendMessage(prompt);
    const QString answer =
        QStringLiteral("The loop read past the end. In C++:\n\n") +
        fenced(QStringLiteral("cpp"), kCppSample) + QStringLiteral("\nThe same in Python:\n\n") +
        fenced(QStringLiteral("python"),
               QStringLiteral("@lru_cache(maxsize=None)\ndef total(values: list[int]) -> int:\n"
                              "    \"\"\"Sum of the values, 0 when empty.\"\"\"\n"
                              "    return sum(v for v in values if v > 0)  # positives only\n\n"
                              "print(f\"total: {total([1, 2, 3])}\", None, True)")) +
        QStringLiteral("\nThe patch:\n\n") +
        fenced(QStringLiteral("diff"),
               QStringLiteral("--- a/src/sum.cpp\n+++ b/src/sum.cpp\n@@ -3,4 +3,4 @@\n"
                              " int sum(const std::vector<int> &v) {\n"
                              "-    for (size_t i = 0; i <= v.size(); ++i)\n"
                              "+    for (size_t i = 0; i < v.size(); ++i)\n"
                              "         total += v[i];")) +
        QStringLiteral("\nAnd the settings:\n\n") +
        fenced(QStringLiteral("json"),
               QStringLiteral("{ \"name\": \"holdfast\", \"port\": 8080, \"tls\": false }"));
    view.beginAnswer(1, QStringLiteral("demo"), QString());
    for (qsizetype i = 0; i < answer.size(); i += 16)
        view.appendAnswer(answer.mid(i, 16));
    finishStream(view);
    view.show();
    QVERIFY(QTest::qWaitForWindowExposed(&view));
    view.verticalScrollBar()->setValue(0);
    const QString dir =
        qEnvironmentVariable("HOLDFAST_SHOTS_DIR", QStringLiteral(HOLDFAST_TEST_OUTPUT_DIR));
    QDir().mkpath(dir);
    const QString picture = dir + (dark ? QStringLiteral("/highlight-dark.png")
                                        : QStringLiteral("/highlight-light.png"));
    QVERIFY(view.grab().save(picture));
    qInfo("screenshot: %s", qPrintable(picture));
}

namespace {
QByteArray pngOf(const QColor &color)
{
    QImage image(400, 300, QImage::Format_RGB32);
    image.fill(color);
    QByteArray bytes;
    QBuffer out(&bytes);
    out.open(QIODevice::WriteOnly);
    image.save(&out, "PNG");
    return bytes;
}

Attachment file(const QString &id, const QString &name, const QString &type, qint64 size)
{
    Attachment a;
    a.id = id;
    a.name = name;
    a.type = type;
    a.size = size;
    return a;
}

// The document position of the first character whose format links to `scheme`.
int linkPosition(QTextDocument *doc, const QString &scheme, bool image)
{
    for (QTextBlock b = doc->begin(); b.isValid(); b = b.next()) {
        for (auto it = b.begin(); !it.atEnd(); ++it) {
            const QTextCharFormat c = it.fragment().charFormat();
            if (c.anchorHref().startsWith(scheme) && c.isImageFormat() == image)
                return it.fragment().position();
        }
    }
    return -1;
}
} // namespace

// A prompt's picture shows as a placeholder, then its thumbnail (fetched once per session and
// id, decoded off the GUI thread); its file is a chip whose click asks to open it; a link a
// message writes with the same scheme asks nothing.
void TestChatView::attachmentsShownWithThePrompt()
{
    const QByteArray png = pngOf(QColor(0xd0, 0x30, 0x30));
    AttachmentCache cache;
    int fetched = 0;
    cache.setFetch([&](QString sid, QString aid) -> QCoro::Task<Result<QByteArray>> {
        ++fetched;
        co_await QCoro::sleepFor(std::chrono::milliseconds(10)); // as a store or a socket would
        if (sid == QLatin1String("s1") && aid == QLatin1String("img1"))
            co_return png;
        co_return Error{ErrorCode::NotFound, QStringLiteral("no such attachment")};
    });
    ChatView view;
    view.resize(700, 500);
    view.show();
    QVERIFY(QTest::qWaitForWindowExposed(&view));
    view.setAttachmentCache(&cache);
    view.setSessionId(QStringLiteral("s1"));
    Message prompt;
    prompt.index = 0;
    prompt.role = QStringLiteral("user");
    prompt.content = QStringLiteral("What is in these? [not mine](hf-file:0)");
    prompt.attachments = {file(QStringLiteral("img1"), QStringLiteral("photo.png"),
                               QStringLiteral("image/png"), png.size()),
                          file(QStringLiteral("txt1"), QStringLiteral("notes.txt"),
                               QStringLiteral("text/plain"), 1234)};
    view.appendMessage(prompt);
    QCOMPARE(view.thumbnailShown(QStringLiteral("img1")).size(), attachmentfiles::kThumbnailBox);
    QVERIFY(!view.thumbnailLoaded(QStringLiteral("img1"))); // the placeholder, for now
    QVERIFY(view.toPlainText().contains(QLatin1String("notes.txt")));
    QVERIFY(spinUntil([&] { return view.thumbnailLoaded(QStringLiteral("img1")); }));
    const QImage shown = view.thumbnailShown(QStringLiteral("img1"));
    QCOMPARE(shown.size(), attachmentfiles::kThumbnailBox);
    QCOMPARE(shown.pixelColor(shown.width() / 2, shown.height() / 2), QColor(0xd0, 0x30, 0x30));
    QCOMPARE(fetched, 1); // pictures only: a text file is fetched when it is opened

    // Shown again (the chat reopened): the thumbnail comes from the cache at once.
    view.clearMessages();
    view.setSessionId(QStringLiteral("s1"));
    view.appendMessage(prompt);
    QVERIFY(view.thumbnailLoaded(QStringLiteral("img1")));
    QCOMPARE(fetched, 1);

    QSignalSpy open(&view, &ChatView::attachmentOpenRequested);
    // A click on the thumbnail, as a person would.
    QApplication::processEvents();
    const int at = linkPosition(view.document(), QStringLiteral("hf-file:"), true);
    QVERIFY(at >= 0);
    QTextCursor cursor(view.document());
    cursor.setPosition(at);
    const QRect caret = view.cursorRect(cursor);
    const QPoint middle(caret.left() + attachmentfiles::kThumbnailBox.width() / 2,
                        caret.bottom() - attachmentfiles::kThumbnailBox.height() / 2);
    QTest::mouseClick(view.viewport(), Qt::LeftButton, {}, middle);
    QVERIFY(spinUntil([&] { return open.count() == 1; }));
    QCOMPARE(open.at(0).at(0).toString(), QStringLiteral("s1"));
    QCOMPARE(open.at(0).at(1).value<Attachment>().id, QStringLiteral("img1"));
    // The text file's chip.
    const int chip = linkPosition(view.document(), QStringLiteral("hf-file:"), false);
    QVERIFY(chip >= 0);
    QTextCursor chipCursor(view.document());
    chipCursor.setPosition(chip + 1);
    const QUrl chipLink(chipCursor.charFormat().anchorHref());
    Q_EMIT view.anchorClicked(chipLink);
    QCOMPARE(open.count(), 2);
    QCOMPARE(open.at(1).at(1).value<Attachment>().id, QStringLiteral("txt1"));
    // A message cannot forge the view's links: without the key they name nothing.
    Q_EMIT view.anchorClicked(QUrl(QStringLiteral("hf-file:0")));
    Q_EMIT view.anchorClicked(QUrl(QStringLiteral("hf-file:1?") + QStringLiteral("guess")));
    QCOMPARE(open.count(), 2);

    // A prompt that leaves the bounded document takes its thumbnails with it.
    view.setMaxShown(1);
    Message later = assistant(QStringLiteral("later"));
    later.index = 1;
    view.appendNewerMessages({later});
    QCOMPARE(view.messageCount(), 1);
    QVERIFY(view.thumbnailShown(QStringLiteral("img1")).isNull());
}

namespace {
// A turn that ended `ms` after it began, its first chunk `firstMs` in.
TurnRecord endedTurn(int id, std::optional<TokenUsage> usage, qint64 firstMs, qint64 ms,
                     int dropped = 0)
{
    TurnRecord turn;
    turn.id = id;
    turn.session = QStringLiteral("s");
    turn.state = TurnRecord::State::Done;
    turn.model = QStringLiteral("demo");
    turn.createdAt = QDateTime(QDate(2026, 1, 2), QTime(3, 4, 5), Qt::UTC);
    if (firstMs >= 0)
        turn.firstChunkAt = turn.createdAt.addMSecs(firstMs);
    turn.finishedAt = turn.createdAt.addMSecs(ms);
    turn.usage = usage;
    ContextUse context;
    context.messages = 3;
    context.dropped = dropped;
    turn.context = context;
    return turn;
}

TokenUsage tokens(qint64 in, qint64 out)
{
    TokenUsage usage;
    usage.promptTokens = in;
    usage.completionTokens = out;
    return usage;
}

Message message(qint64 index, const QString &role, int turn, const QString &text)
{
    Message m;
    m.index = index;
    m.role = role;
    m.turn = turn;
    m.content = text;
    m.parent = index - 1;
    m.createdAt = QDateTime::currentDateTimeUtc();
    return m;
}
} // namespace

void TestChatView::footerText_data()
{
    QLocale::setDefault(QLocale::c());
    QTest::addColumn<TurnRecord>("turn");
    QTest::addColumn<QString>("footer");
    QTest::addColumn<QString>("notice");
    // 48 tokens over the 2 s from the first chunk to the end: 24 a second.
    QTest::addRow("everything") << endedTurn(1, tokens(120, 48), 500, 2500, 12)
                                << u"demo · 120 in · 48 out · 24.0 tok/s · 0.50 s to first token"_s
                                << u"12 older messages were left out to fit the context budget"_s;
    QTest::addRow("one left out") << endedTurn(1, tokens(7, 3), 20, 1020, 1)
                                  << u"demo · 7 in · 3 out · 3.0 tok/s · 0.02 s to first token"_s
                                  << u"1 older message was left out to fit the context budget"_s;
    QTest::addRow("fast") << endedTurn(1, tokens(10, 900), 12000, 14000)
                          << u"demo · 10 in · 900 out · 450 tok/s · 12 s to first token"_s
                          << QString();
    QTest::addRow("no usage reported")
        << endedTurn(1, std::nullopt, 250, 900) << u"demo · 0.25 s to first token"_s << QString();
    QTest::addRow("no chunk") << endedTurn(1, tokens(5, 0), -1, 900) << u"demo · 5 in · 0 out"_s
                              << QString();
    QTest::addRow("nothing known") << endedTurn(1, std::nullopt, -1, 900) << QString() << QString();
    TurnRecord running = endedTurn(1, tokens(1, 1), 10, 20, 4);
    running.state = TurnRecord::State::Streaming;
    QTest::addRow("not ended") << running << QString()
                               << u"4 older messages were left out to fit the context budget"_s;
}

void TestChatView::footerText()
{
    QFETCH(TurnRecord, turn);
    QFETCH(QString, footer);
    QFETCH(QString, notice);
    QCOMPARE(AnswerFooter::text(turn), footer);
    QCOMPARE(AnswerFooter::leftOutNotice(turn), notice);
}

void TestChatView::tokenEstimate_data()
{
    QTest::addColumn<QString>("text");
    QTest::addRow("empty") << QString();
    QTest::addRow("ascii") << u"abcde"_s;
    QTest::addRow("accents") << u"éèàü"_s;
    QTest::addRow("cjk") << u"漢字かな"_s;
    QTest::addRow("emoji") << u"🙂🙂 ok"_s;
    QTest::addRow("long") << QString(10001, u'x');
}

// About one token per 4 UTF-8 bytes, as the service counts, without building the UTF-8.
void TestChatView::tokenEstimate()
{
    QFETCH(QString, text);
    const qint64 bytes = text.toUtf8().size();
    QCOMPARE(AnswerFooter::estimateTokens(text), (bytes + 3) / 4);
    QCOMPARE(AnswerFooter::estimateText(3, 0), u"~3 tokens"_s);
    QCOMPARE(AnswerFooter::estimateText(3, 4096), u"~3 tokens of 4096"_s);
}

// The records of stored answers arrive after the page: the notice goes under the answer's
// header, the footer into its line of controls, each once however often it is written, and an
// answer of a known turn that comes into the view later gets them at once.
void TestChatView::footerAndNoticeUnderStoredAnswers()
{
    QLocale::setDefault(QLocale::c());
    ChatView view;
    view.setBranchControls(true);
    view.appendMessage(message(0, u"user"_s, 1, u"first question"_s));
    view.appendMessage(message(1, u"assistant"_s, 1, u"first answer"_s));
    view.appendMessage(message(2, u"user"_s, 2, u"second question"_s));
    view.appendMessage(message(3, u"assistant"_s, 2, u"second answer"_s));
    QCOMPARE(view.answerTurnsWithoutDetails(), (QList<int>{1, 2}));
    const QString footer = u"demo · 120 in · 48 out · 24.0 tok/s · 0.50 s to first token"_s;
    const QString notice = u"12 older messages were left out to fit the context budget"_s;
    QVERIFY(!view.toPlainText().contains(notice));

    const TurnRecord second = endedTurn(2, tokens(120, 48), 500, 2500, 12);
    view.setTurnDetails(second);
    view.setTurnDetails(second); // again: nothing doubles
    QCOMPARE(view.answerTurnsWithoutDetails(), (QList<int>{1}));
    QString text = view.toPlainText();
    QCOMPARE(text.count(footer), 1);
    QCOMPARE(text.count(notice), 1);
    // Above the answer's text, after the second prompt; the footer after the answer's text.
    QVERIFY(text.indexOf(u"second question"_s) < text.indexOf(notice));
    QVERIFY(text.indexOf(notice) < text.indexOf(u"second answer"_s));
    QVERIFY(text.indexOf(u"second answer"_s) < text.indexOf(footer));
    QVERIFY(text.contains(u"Regenerate"_s)); // the controls stay

    // New versions rewrite the line of controls: the footer stays, once.
    Message versions = message(3, u"assistant"_s, 2, u"second answer"_s);
    versions.siblings = {3, 5};
    view.updateMessage(versions);
    text = view.toPlainText();
    QVERIFY(text.contains(u"1/2"_s));
    QCOMPARE(text.count(footer), 1);
    QCOMPARE(text.count(notice), 1);

    // The first turn left nothing out and says nothing more: no notice, its own footer.
    view.setTurnDetails(endedTurn(1, std::nullopt, 250, 900));
    text = view.toPlainText();
    QCOMPARE(text.count(u"older messages"_s), 1);
    QVERIFY(text.contains(u"demo · 0.25 s to first token"_s));

    // Out of the view and back (paging): written again from what is known, once.
    QVERIFY(view.truncateFrom(2));
    QVERIFY(!view.toPlainText().contains(notice));
    QSignalSpy shown(&view, &ChatView::answersShown);
    view.appendNewerMessages({message(2, u"user"_s, 2, u"second question"_s),
                              message(3, u"assistant"_s, 2, u"second answer"_s)});
    QVERIFY(!shown.isEmpty());
    text = view.toPlainText();
    QCOMPARE(text.count(footer), 1);
    QCOMPARE(text.count(notice), 1);
    QVERIFY(view.answerTurnsWithoutDetails().isEmpty());

    // A bare view (no controls) shows the footer on a line of its own.
    ChatView bare;
    bare.appendMessage(message(1, u"assistant"_s, 2, u"second answer"_s));
    bare.setTurnDetails(second);
    QCOMPARE(bare.toPlainText().count(footer), 1);

    // Another chat: nothing of this one's records stays.
    view.clearMessages();
    view.appendMessage(message(1, u"assistant"_s, 2, u"other chat"_s));
    QVERIFY(!view.toPlainText().contains(footer));
    QCOMPARE(view.answerTurnsWithoutDetails(), (QList<int>{2}));
}

// The footer of a streamed answer is written once, when it ends, in its last frame: the edit
// touches a few lines whatever the answer's length, and the chunks before paid nothing for it.
void TestChatView::footerOfStreamedAnswerIsLocal()
{
    QLocale::setDefault(QLocale::c());
    QString answer;
    for (int i = 0; answer.size() < 64 * 1024; ++i)
        answer +=
            QStringLiteral("Paragraph %1 goes on for a while, long enough to wrap.\n\n").arg(i);
    ChatView view;
    view.setBranchControls(true);
    view.beginAnswer(4, u"demo"_s, QString());
    for (qsizetype i = 0; i < answer.size(); i += 256)
        view.appendAnswer(answer.mid(i, 256));
    qint64 touched = 0;
    int from = -1;
    connect(view.document(), &QTextDocument::contentsChange, &view,
            [&](int position, int removed, int added) {
                touched += removed + added;
                from = from < 0 ? position : std::min(from, position);
            });
    TurnRecord done = endedTurn(4, tokens(30, 2000), 100, 20100, 3);
    done.responseIndex = 1;
    done.promptIndex = 0;
    view.finishAnswer(done);
    const QString text = view.toPlainText();
    QCOMPARE(text.count(u"demo · 30 in · 2000 out · 100 tok/s · 0.10 s to first token"_s), 1);
    QCOMPARE(text.count(u"3 older messages were left out"_s), 1);
    qInfo("finishing a %lld-char answer touched %lld chars", qint64(answer.size()), touched);
    // The flush of the last paragraph, the controls, the footer and the notice near the top.
    QVERIFY2(touched < 2 * MarkdownStream::kFrameChars + 2 * MarkdownStream::kMaxTail + 400,
             "ending an answer must not rewrite it");
    QVERIFY(view.answerTurnsWithoutDetails().isEmpty());
}

namespace {
Chunk toolCallChunk(int seq, const QString &id, const QString &name, const QJsonObject &args)
{
    Chunk chunk(seq, QString());
    ToolCall call;
    call.id = id;
    call.name = name;
    call.arguments = args;
    chunk.toolCall = call;
    return chunk;
}

Chunk toolResultChunk(int seq, const QString &id, const QString &content, bool isError = false)
{
    Chunk chunk(seq, QString());
    ToolResult result;
    result.id = id;
    result.content = content;
    result.isError = isError;
    chunk.toolResult = result;
    return chunk;
}

MessageToolCall storedCall(const QString &id, qint64 offset, const QString &result,
                           bool isError = false)
{
    MessageToolCall call;
    call.id = id;
    call.name = QStringLiteral("files/read_file");
    call.arguments = QJsonObject{{QStringLiteral("path"), QStringLiteral("/tmp/%1.txt").arg(id)}};
    call.result = result;
    call.isError = isError;
    call.offset = offset;
    return call;
}

// Where `text` starts in the view's document (-1: not there).
int positionOf(const ChatView &view, const QString &text)
{
    const QTextCursor found = view.document()->find(text, 0, QTextDocument::FindCaseSensitively);
    return found.isNull() ? -1 : found.selectionStart();
}

// The href of tool block `n`'s line (the view's own link, with its key).
QUrl toolLink(const ChatView &view, int n)
{
    const QTextBlock line = view.document()->findBlock(view.toolBlockPosition(n));
    for (auto it = line.begin(); !it.atEnd(); ++it) {
        if (it.fragment().charFormat().isAnchor())
            return QUrl(it.fragment().charFormat().anchorHref());
    }
    return {};
}
} // namespace

// A call opens a block after the text so far; its result completes it; the text goes on below.
void TestChatView::toolStepsLiveInChunkOrder()
{
    ChatView view;
    view.resize(700, 500);
    view.beginAnswer(3, QStringLiteral("demo"), QStringLiteral("Let me read the notes."));
    view.appendToolStep(toolCallChunk(1, QStringLiteral("c1"), QStringLiteral("files/read_file"),
                                      {{QStringLiteral("path"), QStringLiteral("/tmp/notes")}}));
    QCOMPARE(view.toolBlockCount(), 1);
    QVERIFY2(view.toolBlockTitle(0).contains(u"⚙ files/read_file — running"_s),
             qPrintable(view.toolBlockTitle(0)));
    view.setToolCallWaiting(QStringLiteral("c1"), true);
    QVERIFY(view.toolBlockTitle(0).contains(QLatin1String("waiting for your approval")));
    view.appendToolStep(toolResultChunk(2, QStringLiteral("c1"), QStringLiteral("milk, eggs")));
    QVERIFY2(view.toolBlockTitle(0).endsWith(u"— done"_s), qPrintable(view.toolBlockTitle(0)));
    view.appendAnswer(QStringLiteral("You need milk"));
    view.appendAnswer(QStringLiteral(" and eggs."));
    // Collapsed: neither the arguments nor the result are in the text.
    QCOMPARE(positionOf(view, QStringLiteral("/tmp/notes")), -1);
    QCOMPARE(positionOf(view, QStringLiteral("milk, eggs")), -1);
    const int before = positionOf(view, QStringLiteral("Let me read the notes."));
    const int block = view.toolBlockPosition(0);
    const int after = positionOf(view, QStringLiteral("You need milk and eggs."));
    QVERIFY(before >= 0 && block >= 0 && after >= 0);
    QVERIFY(before < block);
    QVERIFY(block < after);
    QCOMPARE(view.lastAnswerText(),
             QStringLiteral("Let me read the notes.You need milk and eggs."));
    TurnRecord done;
    done.id = 3;
    done.state = TurnRecord::State::Done;
    done.responseIndex = 1;
    view.finishAnswer(done);
    QVERIFY(!view.answering());
    view.setToolBlockExpanded(0, true);
    QVERIFY(view.toolBlockExpanded(0));
    QVERIFY(positionOf(view, QStringLiteral("\"path\": \"/tmp/notes\"")) > block);
    QVERIFY(positionOf(view, QStringLiteral("milk, eggs")) > block);
    QVERIFY(positionOf(view, QStringLiteral("milk, eggs")) <
            positionOf(view, QStringLiteral("You need milk")));
    view.setToolBlockExpanded(0, false);
    QCOMPARE(positionOf(view, QStringLiteral("milk, eggs")), -1);
    QVERIFY(view.toolBlockTitle(0).startsWith(QStringLiteral("▸ ⚙ files/read_file")));
}

// Streaming stays O(chunk) after a tool block: the text before it is never read again.
void TestChatView::textAfterToolBlockCostsItsOwn()
{
    ChatView view;
    view.resize(700, 500);
    view.beginAnswer(1, QStringLiteral("demo"), QString());
    for (int i = 0; i < 200; ++i)
        view.appendAnswer(QStringLiteral("A sentence of the long first part of the answer.\n\n"));
    view.appendToolStep(toolCallChunk(200, QStringLiteral("c1"), QStringLiteral("files/stat"), {}));
    view.appendToolStep(toolResultChunk(201, QStringLiteral("c1"), QStringLiteral("ok")));
    const qint64 work = view.renderWork();
    constexpr int kChunks = 100;
    for (int i = 0; i < kChunks; ++i)
        view.appendAnswer(i % 10 == 9 ? QStringLiteral("end.\n\n") : QStringLiteral("word "));
    const qint64 spent = view.renderWork() - work;
    // Each chunk renders at most the unfinished paragraph (about 50 characters here), never the
    // 10,000 characters before the block.
    QVERIFY2(spent < kChunks * 60, qPrintable(QString::number(spent)));
    QCOMPARE(view.toolBlockCount(), 1);
    QVERIFY(view.lastAnswerText().endsWith(QLatin1String("word end.\n\n")));
}

void TestChatView::toolBlocksOfStoredAnswer_data()
{
    QTest::addColumn<QList<qint64>>("offsets");
    QTest::addRow("before the text") << QList<qint64>{0};
    QTest::addRow("in the middle") << QList<qint64>{10};
    QTest::addRow("after the text") << QList<qint64>{20};
    QTest::addRow("two in a row") << QList<qint64>{10, 10};
    QTest::addRow("two apart") << QList<qint64>{0, 10};
    QTest::addRow("past the end") << QList<qint64>{999};
}

// A stored answer's calls go where they happened: after `offset` characters of its content.
void TestChatView::toolBlocksOfStoredAnswer()
{
    QFETCH(QList<qint64>, offsets);
    ChatView view;
    view.resize(700, 500);
    view.setBranchControls(true);
    Message m = assistant(QStringLiteral("AAAA AAAA\nBBBB BBBB\n")); // 20 characters
    for (int i = 0; i < offsets.size(); ++i)
        m.toolCalls << storedCall(QStringLiteral("c%1").arg(i), offsets[i], QStringLiteral("ok"));
    view.appendMessage(m);
    QCOMPARE(view.toolBlockCount(), int(offsets.size()));
    const int a = positionOf(view, QStringLiteral("AAAA AAAA"));
    const int b = positionOf(view, QStringLiteral("BBBB BBBB"));
    QVERIFY(a >= 0 && b > a);
    int previous = -1;
    for (int i = 0; i < offsets.size(); ++i) {
        const int at = view.toolBlockPosition(i);
        QVERIFY(at > previous); // in the model's order
        previous = at;
        if (offsets[i] == 0)
            QVERIFY(at < a);
        else if (offsets[i] == 10)
            QVERIFY(at > a && at < b);
        else
            QVERIFY(at > b);
        QVERIFY(view.toolBlockTitle(i).endsWith(u"— done"_s));
    }
    // The controls stay the answer's last line, outside the blocks.
    QVERIFY2(view.toPlainText().trimmed().endsWith(QLatin1String("Regenerate")),
             qPrintable(view.toPlainText()));
    QCOMPARE(
        view.messageTextAt(view.cursorRect(QTextCursor(view.document()->findBlock(b))).center()),
        m.content);
}

void TestChatView::toolBlockStatus_data()
{
    QTest::addColumn<bool>("hasResult");
    QTest::addColumn<QString>("result");
    QTest::addColumn<bool>("isError");
    QTest::addColumn<QString>("status");
    QTest::addRow("done") << true << u"42"_s << false << u"done"_s;
    QTest::addRow("error") << true << u"no such file"_s << true << u"error"_s;
    QTest::addRow("declined") << true << u"the user declined this tool call"_s << true
                              << u"declined"_s;
    QTest::addRow("cut off by a crash") << false << QString() << false << u"no result"_s;
}

void TestChatView::toolBlockStatus()
{
    QFETCH(bool, hasResult);
    QFETCH(QString, result);
    QFETCH(bool, isError);
    QFETCH(QString, status);
    ChatView view;
    Message m = assistant(QStringLiteral("Done."));
    MessageToolCall call = storedCall(QStringLiteral("c1"), 0, result, isError);
    if (!hasResult)
        call.result.reset();
    m.toolCalls << call;
    view.appendMessage(m);
    QCOMPARE(view.toolBlockTitle(0), QStringLiteral("▸ ⚙ files/read_file — ") + status);
    view.setToolBlockExpanded(0, true);
    if (hasResult)
        QVERIFY(positionOf(view, result) > 0);
    else
        QCOMPARE(positionOf(view, QStringLiteral("Result")), -1);
}

// The block's own link opens and closes it; the same words written by a model do nothing, and a
// long result is cut.
void TestChatView::toolBlockOpensOnItsLinkOnly()
{
    ChatView view;
    Message m = assistant(QStringLiteral("[open](hf-tool:0) and done."));
    m.toolCalls << storedCall(QStringLiteral("c1"), 0, QString(5000, u'x'));
    view.appendMessage(m);
    const QUrl link = toolLink(view, 0);
    QCOMPARE(link.scheme(), QStringLiteral("hf-tool"));
    Q_EMIT view.anchorClicked(QUrl(QStringLiteral("hf-tool:0")));
    QVERIFY(!view.toolBlockExpanded(0));
    Q_EMIT view.anchorClicked(link);
    QVERIFY(view.toolBlockExpanded(0));
    QVERIFY(view.toolBlockTitle(0).startsWith(QStringLiteral("▾")));
    QVERIFY(positionOf(view, QString(ChatView::kToolTextShown, u'x')) > 0);
    QCOMPARE(positionOf(view, QString(ChatView::kToolTextShown + 1, u'x')), -1);
    QVERIFY(positionOf(view, QStringLiteral("3000 more characters")) > 0);
    Q_EMIT view.anchorClicked(toolLink(view, 0));
    QVERIFY(!view.toolBlockExpanded(0));
}

void TestChatView::toolScreenshots_data()
{
    QTest::addColumn<bool>("dark");
    QTest::addRow("light") << false;
    QTest::addRow("dark") << true;
}

void TestChatView::toolScreenshots()
{
    QFETCH(bool, dark);
    ChatView view;
    if (dark)
        view.setPalette(test::darkPalette());
    view.setBranchControls(true);
    view.resize(820, 640);
    Message prompt = assistant(QStringLiteral(
        "What is in my notes? use files/read_file with {\"path\": \"/tmp/notes.md\"}"));
    prompt.role = QStringLiteral("user");
    prompt.index = 0;
    view.appendMessage(prompt);
    Message answer = assistant(QStringLiteral("I will read the notes first.\n\nThe notes list "
                                              "**three** things: milk, eggs and a reminder to "
                                              "call Anna."));
    answer.toolCalls << storedCall(QStringLiteral("a"), 28,
                                   QStringLiteral("# Notes\n- milk\n- eggs\n- call Anna"));
    MessageToolCall missing =
        storedCall(QStringLiteral("b"), 28, QStringLiteral("ENOENT: no such file"), true);
    missing.name = QStringLiteral("files/stat");
    answer.toolCalls << missing;
    view.appendMessage(answer);
    view.setToolBlockExpanded(0, true);
    view.beginAnswer(2, QStringLiteral("demo"), QStringLiteral("Checking the weather."));
    view.appendToolStep(toolCallChunk(
        1, QStringLiteral("w"), QStringLiteral("weather/forecast"),
        {{QStringLiteral("city"), QStringLiteral("Oslo")}, {QStringLiteral("days"), 3}}));
    view.setToolCallWaiting(QStringLiteral("w"), true);
    view.show();
    QVERIFY(QTest::qWaitForWindowExposed(&view));
    view.verticalScrollBar()->setValue(0);
    const QString dir =
        qEnvironmentVariable("HOLDFAST_SHOTS_DIR", QStringLiteral(HOLDFAST_TEST_OUTPUT_DIR));
    QDir().mkpath(dir);
    const QString picture = dir + (dark ? QStringLiteral("/toolblocks-dark.png")
                                        : QStringLiteral("/toolblocks-light.png"));
    QVERIFY(view.grab().save(picture));
    qInfo("screenshot: %s", qPrintable(picture));
}

QTEST_MAIN(TestChatView)
#include "tst_chatview.moc"
