// The chat view and text it cannot trust (the model's answers, pasted prompts): it opens no file
// or other resource that text names, shows raw HTML as text, keeps its own links to itself, and
// asks before a link leaves the application.
#include "gui/chatview.h"
#include "gui/fifowatch.h"

#include <QAbstractButton>
#include <QApplication>
#include <QClipboard>
#include <QDesktopServices>
#include <QImage>
#include <QMessageBox>
#include <QScopeGuard>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>
#include <QTextBlock>
#include <QTextDocument>

using namespace holdfast;

namespace {

Message message(const QString &role, const QString &text)
{
    Message m;
    m.index = 1;
    m.turn = 1;
    m.role = role;
    m.content = text;
    m.createdAt = QDateTime::currentDateTimeUtc();
    return m;
}

// The text below the first message's header line (the document starts with an empty line).
QString body(const QString &text)
{
    return text.section(u'\n', 2);
}

void stream(ChatView &view, int turn, const QString &text, int chunk)
{
    view.beginAnswer(turn, QStringLiteral("demo"), QString());
    for (qsizetype i = 0; i < text.size(); i += chunk)
        view.appendAnswer(text.mid(i, chunk));
    TurnRecord done;
    done.id = turn;
    done.state = TurnRecord::State::Done;
    view.finishAnswer(done);
}

int imageFragments(QTextDocument *doc)
{
    int images = 0;
    for (QTextBlock b = doc->begin(); b.isValid(); b = b.next()) {
        for (auto it = b.begin(); !it.atEnd(); ++it)
            images += it.fragment().charFormat().isImageFormat() ? 1 : 0;
    }
    return images;
}

QStringList hrefs(QTextDocument *doc)
{
    QStringList found;
    for (QTextBlock b = doc->begin(); b.isValid(); b = b.next()) {
        for (auto it = b.begin(); !it.atEnd(); ++it) {
            const QString href = it.fragment().charFormat().anchorHref();
            if (!href.isEmpty() && !found.contains(href))
                found << href;
        }
    }
    return found;
}

// The format of the first character of `text` in the view.
QTextCharFormat formatOf(ChatView &view, const QString &text)
{
    QTextCursor at = view.document()->find(text, 0, QTextDocument::FindCaseSensitively);
    if (at.isNull())
        return {};
    at.setPosition(at.selectionStart() + 1);
    return at.charFormat();
}

// Clicks `text` with the mouse (just after its first character), as a reader would.
bool clickOn(ChatView &view, const QString &text)
{
    QTextCursor at = view.document()->find(text, 0, QTextDocument::FindCaseSensitively);
    if (at.isNull())
        return false;
    at.setPosition(at.selectionStart() + 1);
    view.setTextCursor(at);
    view.ensureCursorVisible();
    const QPoint point = view.cursorRect(at).center();
    QTest::mouseClick(view.viewport(), Qt::LeftButton, Qt::NoModifier, point);
    return true;
}

QMessageBox *openLinkBox(ChatView &view)
{
    const auto boxes = view.findChildren<QMessageBox *>();
    for (QMessageBox *box : boxes) {
        if (box->isVisible())
            return box;
    }
    return nullptr;
}

} // namespace

// Stands in for the desktop: records what QDesktopServices::openUrl was asked to open.
class UrlRecorder : public QObject
{
    Q_OBJECT
public:
    QList<QUrl> opened;
public Q_SLOTS:
    void open(const QUrl &url) { opened << url; }
};

class TestChatViewSafety : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void fifoImageIsNeverOpened();
    void imagesShowAsText_data();
    void imagesShowAsText();
    void rawHtmlShowsAsText_data();
    void rawHtmlShowsAsText();
    void textCannotUseTheViewsLinks();
    void externalLinksAskFirst();
    void screenshot();
};

// The prompt `look ![x](FIFO) here` froze the window in open(). The watch lets each reader go, so
// the old behaviour fails this test instead of hanging it.
void TestChatViewSafety::fifoImageIsNeverOpened()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString path = dir.filePath(QStringLiteral("fifo"));
    test::FifoWatch fifo(path);
    QVERIFY(fifo.made());
    bool documentLoaded = false;
    bool viewLoaded = false;
    QString shown;
    {
        ChatView view;
        view.resize(700, 500);
        view.show();
        QVERIFY(QTest::qWaitForWindowExposed(&view));
        const QString reference = QStringLiteral("![x](%1)").arg(path);
        view.appendMessage(
            message(QStringLiteral("user"), QStringLiteral("look %1 here").arg(reference)));
        view.appendMessage(message(QStringLiteral("assistant"), reference));
        stream(view, 2,
               QStringLiteral("Here: ") + reference + QStringLiteral("\n\nand ![y](file://") +
                   path + u')',
               3);
        QVERIFY(!view.grab().isNull()); // laid out and painted
        // Neither the document nor the view loads what a message names.
        const QUrl url = QUrl::fromLocalFile(path);
        documentLoaded = !view.document()->resource(QTextDocument::ImageResource, url).isNull();
        viewLoaded = !view.loadResource(QTextDocument::ImageResource, url).isNull();
        shown = body(view.toPlainText());
    }
    QCOMPARE(fifo.stop(), 0);
    QVERIFY(fifo.noReaderNow());
    QVERIFY(!documentLoaded);
    QVERIFY(!viewLoaded);
    QVERIFY2(shown.contains(QLatin1String("look x here")), qPrintable(shown));
}

void TestChatViewSafety::imagesShowAsText_data()
{
    QTest::addColumn<QString>("markdown");
    QTest::addColumn<QString>("text"); // what the reader sees instead of the image
    QTest::addColumn<QStringList>("links");
    QTest::addRow("dev zero") << QStringLiteral("See ![alt text](/dev/zero) here.")
                              << QStringLiteral("See alt text here.") << QStringList();
    QTest::addRow("png file") << QStringLiteral("See ![a picture](%PNG%) here.")
                              << QStringLiteral("See a picture here.") << QStringList();
    QTest::addRow("png file url") << QStringLiteral("![a picture](file://%PNG%)")
                                  << QStringLiteral("a picture") << QStringList();
    QTest::addRow("qrc") << QStringLiteral("![icon](qrc:/holdfast/icons/holdfast.svg)")
                         << QStringLiteral("icon") << QStringList();
    QTest::addRow("in a table") << QStringLiteral("| col |\n|---|\n| ![in a cell](/dev/zero) |")
                                << QStringLiteral("in a cell") << QStringList();
    QTest::addRow("emphasis in alt") << QStringLiteral("![alt *text*](/dev/zero)")
                                     << QStringLiteral("alt text") << QStringList();
    QTest::addRow("remote image") << QStringLiteral("![remote](https://example.com/x.png)")
                                  << QStringLiteral("remote")
                                  << QStringList{QStringLiteral("https://example.com/x.png")};
    // Qt 6.4's importer gives an image inside a link no link format: the badge is text only.
    QTest::addRow("linked image") << QStringLiteral("[![badge](/dev/zero)](https://example.com/)")
                                  << QStringLiteral("badge") << QStringList();
}

// An image reference shows as its alt text (a link when the image is on the web), streamed or
// stored alike; nothing is loaded.
void TestChatViewSafety::imagesShowAsText()
{
    QFETCH(QString, markdown);
    QFETCH(QString, text);
    QFETCH(QStringList, links);
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString png = dir.filePath(QStringLiteral("picture.png"));
    QImage picture(64, 64, QImage::Format_RGB32);
    picture.fill(Qt::red);
    QVERIFY(picture.save(png));
    markdown.replace(QLatin1String("%PNG%"), png);

    for (const QString &role : {QStringLiteral("assistant"), QStringLiteral("user")}) {
        ChatView stored;
        stored.resize(700, 500);
        stored.show();
        QVERIFY(QTest::qWaitForWindowExposed(&stored));
        stored.appendMessage(message(role, markdown));
        QVERIFY(!stored.grab().isNull()); // laid out and painted
        QCOMPARE(imageFragments(stored.document()), 0);
        const QString shown = body(stored.toPlainText());
        QVERIFY2(shown.contains(text), qPrintable(shown));
        QCOMPARE(hrefs(stored.document()), links);
        if (role != QLatin1String("assistant"))
            continue;
        ChatView streamed;
        stream(streamed, 1, markdown, 3);
        QCOMPARE(imageFragments(streamed.document()), 0);
        QCOMPARE(body(streamed.toPlainText()), shown);
        QCOMPARE(hrefs(streamed.document()), links);
    }
}

void TestChatViewSafety::rawHtmlShowsAsText_data()
{
    QTest::addColumn<QString>("markdown");
    QTest::addColumn<QString>("shown");
    const QString inline_ = QStringLiteral("<b>bold</b> <img src=\"/etc/passwd\">");
    QTest::addRow("inline") << inline_ << inline_;
    QTest::addRow("block") << QStringLiteral("<div>\n<i>x</i> <a href=\"hf-retry:1\">r</a>\n</div>")
                           << QStringLiteral("<div> <i>x</i> <a href=\"hf-retry:1\">r</a> </div>");
    const QString comment = QStringLiteral("before <!-- hidden --> after");
    QTest::addRow("comment") << comment << comment;
    const QString script = QStringLiteral("<script>alert(1)</script>");
    QTest::addRow("script") << script << script;
}

void TestChatViewSafety::rawHtmlShowsAsText()
{
    QFETCH(QString, markdown);
    QFETCH(QString, shown);
    for (const QString &role : {QStringLiteral("user"), QStringLiteral("assistant")}) {
        ChatView view;
        view.appendMessage(message(role, markdown));
        QCOMPARE(body(view.toPlainText()).trimmed(), shown);
        QCOMPARE(imageFragments(view.document()), 0);
        QCOMPARE(hrefs(view.document()), QStringList());
        QVERIFY(formatOf(view, QStringLiteral("bold")).fontWeight() < QFont::Bold);
    }
    ChatView streamed;
    stream(streamed, 1, markdown, 2);
    QCOMPARE(body(streamed.toPlainText()).trimmed(), shown);
}

// The view's Retry and Copy links act; the same links written in a message do nothing.
void TestChatViewSafety::textCannotUseTheViewsLinks()
{
    QApplication::clipboard()->setText(QStringLiteral("before"));
    ChatView view;
    view.resize(700, 600);
    view.show();
    QVERIFY(QTest::qWaitForWindowExposed(&view));
    view.appendMessage(message(QStringLiteral("user"), QStringLiteral("[user retry](hf-retry:1)")));
    view.appendMessage(
        message(QStringLiteral("assistant"),
                QStringLiteral("```\nsecret code\n```\n\n[fake retry](hf-retry:1) "
                               "and [fake copy](hf-copy:0) and [RETRY](HF-RETRY:1)")));
    QSignalSpy retries(&view, &ChatView::retryRequested);
    QSignalSpy copies(&view, &ChatView::copied);
    for (const QString &text : {QStringLiteral("user retry"), QStringLiteral("fake retry"),
                                QStringLiteral("fake copy"), QStringLiteral("RETRY")})
        QVERIFY(clickOn(view, text));
    // However the link reaches the handler.
    for (const QString &href : {QStringLiteral("hf-retry:1"), QStringLiteral("hf-copy:0"),
                                QStringLiteral("HF-RETRY:1"), QStringLiteral("hf-retry:1?x")})
        Q_EMIT view.anchorClicked(QUrl(href));
    QCOMPARE(retries.size(), 0);
    QCOMPARE(copies.size(), 0);
    QCOMPARE(QApplication::clipboard()->text(), QStringLiteral("before"));
    // They show as text, not as links.
    QVERIFY(formatOf(view, QStringLiteral("fake retry")).anchorHref().isEmpty());
    QCOMPARE(hrefs(view.document()).size(), 1); // the code block's Copy

    // The view's own links.
    view.beginAnswer(2, QStringLiteral("demo"), QStringLiteral("partial"));
    TurnRecord failed;
    failed.id = 2;
    failed.state = TurnRecord::State::Error;
    failed.errorMessage = QStringLiteral("boom");
    view.finishAnswer(failed);
    QVERIFY(clickOn(view, QStringLiteral("Retry")));
    QCOMPARE(retries.size(), 1);
    QCOMPARE(retries.at(0).at(0).toInt(), 2);
    QVERIFY(clickOn(view, QStringLiteral("Copy")));
    QCOMPARE(copies.size(), 1);
    QCOMPARE(QApplication::clipboard()->text(), QStringLiteral("secret code"));
}

// A web link shows its target (tooltip, and the question before it opens) and opens only when
// the reader says so; other schemes never open.
void TestChatViewSafety::externalLinksAskFirst()
{
    UrlRecorder desktop;
    const QStringList schemes = {QStringLiteral("http"),   QStringLiteral("https"),
                                 QStringLiteral("file"),   QStringLiteral("javascript"),
                                 QStringLiteral("mailto"), QStringLiteral("ftp")};
    for (const QString &scheme : schemes)
        QDesktopServices::setUrlHandler(scheme, &desktop, "open");
    const auto unset = qScopeGuard([&] {
        for (const QString &scheme : schemes)
            QDesktopServices::unsetUrlHandler(scheme);
    });
    const QString target = QStringLiteral("https://example.com/path?q=1");
    ChatView view;
    view.resize(700, 500);
    view.show();
    QVERIFY(QTest::qWaitForWindowExposed(&view));
    view.appendMessage(
        message(QStringLiteral("assistant"),
                QStringLiteral(
                    "[the site](%1) [a file](file:///etc/passwd) [a script](javascript:alert(1)) "
                    "[ftp site](ftp://example.com/x) [a page](page.html)")
                    .arg(target)));
    QVERIFY(clickOn(view, QStringLiteral("the site")));
    QMessageBox *box = openLinkBox(view);
    QVERIFY(box);
    QVERIFY2(box->text().contains(target), qPrintable(box->text()));
    QVERIFY(desktop.opened.isEmpty());
    box->button(QMessageBox::Cancel)->click();
    QTRY_VERIFY(!openLinkBox(view));
    QVERIFY(desktop.opened.isEmpty());

    QVERIFY(clickOn(view, QStringLiteral("the site")));
    box = openLinkBox(view);
    QVERIFY(box);
    box->button(QMessageBox::Open)->click();
    QCOMPARE(desktop.opened, QList<QUrl>{QUrl(target)});

    desktop.opened.clear();
    QTRY_VERIFY(!openLinkBox(view));
    for (const QString &text : {QStringLiteral("a file"), QStringLiteral("a script"),
                                QStringLiteral("ftp site"), QStringLiteral("a page")})
        QVERIFY(clickOn(view, text));
    for (const QString &href :
         {QStringLiteral("file:///etc/passwd"), QStringLiteral("javascript:alert(1)"),
          QStringLiteral("ftp://example.com/x"), QStringLiteral("page.html")})
        Q_EMIT view.anchorClicked(QUrl(href));
    QVERIFY(!openLinkBox(view));
    QVERIFY(desktop.opened.isEmpty());

    // Only the web link is a link; the mouse over it shows its target (tooltip, status bar).
    QCOMPARE(hrefs(view.document()), QStringList{target});
    QCOMPARE(formatOf(view, QStringLiteral("the site")).toolTip(), target);
    QVERIFY(formatOf(view, QStringLiteral("a file")).toolTip().contains(QLatin1String("file:")));
    QSignalSpy hovered(&view, &ChatView::linkHovered);
    QTextCursor at = view.document()->find(QStringLiteral("the site"));
    at.setPosition(at.selectionStart() + 2);
    QTest::mouseMove(view.viewport(), view.cursorRect(at).center());
    QTRY_VERIFY(!hovered.isEmpty());
    QCOMPARE(hovered.last().at(0).toString(), target);
}

// A picture of a message with an image reference, raw HTML and a link, and of the question a link
// asks, to look at (build folder).
void TestChatViewSafety::screenshot()
{
    UrlRecorder desktop;
    QDesktopServices::setUrlHandler(QStringLiteral("https"), &desktop, "open");
    const auto unset =
        qScopeGuard([] { QDesktopServices::unsetUrlHandler(QStringLiteral("https")); });
    ChatView view;
    view.resize(760, 420);
    view.show();
    QVERIFY(QTest::qWaitForWindowExposed(&view));
    view.appendMessage(message(QStringLiteral("user"),
                               QStringLiteral("look ![x](/tmp/fifo) here, and <b>bold?</b>")));
    view.appendMessage(
        message(QStringLiteral("assistant"),
                QStringLiteral("Here is a diagram: ![the architecture diagram](/dev/zero)\n\n"
                               "Raw HTML stays text: <b>bold</b> <img src=\"/etc/passwd\">\n\n"
                               "Read [the Qt docs](https://doc.qt.io/qt-6/qtextbrowser.html) or "
                               "[this](file:///etc/passwd). ![](/dev/zero)")));
    const QString picture =
        QCoreApplication::applicationDirPath() + QStringLiteral("/chatview-untrusted.png");
    QVERIFY(view.grab().save(picture));
    qInfo("screenshot: %s", qPrintable(picture));
    QVERIFY(clickOn(view, QStringLiteral("the Qt docs")));
    QMessageBox *box = openLinkBox(view);
    QVERIFY(box);
    const QString question =
        QCoreApplication::applicationDirPath() + QStringLiteral("/chatview-open-link.png");
    QVERIFY(box->grab().save(question));
    qInfo("screenshot: %s", qPrintable(question));
    box->button(QMessageBox::Cancel)->click();
    QVERIFY(desktop.opened.isEmpty());
}

QTEST_MAIN(TestChatViewSafety)
#include "tst_chatviewsafety.moc"
