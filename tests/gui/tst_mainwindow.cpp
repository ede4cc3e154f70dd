// The window through its real widgets: typing, streaming, stopping, switching, searching,
// renaming, deleting; chat settings, answer footers and the left-out notice on the service's real
// options and usage; and the same window on a remote headless Holdfast.
#include "client/localclient.h"
#include "client/remoteclient.h"
#include "core/providerregistry.h"
#include "core/sessionservice.h"
#include "fakes/scriptedprovider.h"
#include "fakes/testutil.h"
#include "gui/chatpane.h"
#include "gui/chatsettingspanel.h"
#include "gui/chatview.h"
#include "gui/composer.h"
#include "gui/darkpalette.h"
#include "gui/fifowatch.h"
#include "gui/liveturns.h"
#include "gui/mainwindow.h"
#include "gui/sessionlistmodel.h"
#include "gui/sessionsidebar.h"
#include "gui/windowfixture.h"
#include "provider/demoprovider.h"
#include "store/memorystore.h"

#include <QAbstractButton>
#include <QApplication>
#include <QComboBox>
#include <QLabel>
#include <QLineEdit>
#include <QListView>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QProcess>
#include <QPushButton>
#include <QScopeGuard>
#include <QSettings>
#include <QSignalSpy>
#include <QStatusBar>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>
#include <QToolButton>
#include <QToolTip>

using namespace holdfast;
using holdfast::test::Fixture;
using holdfast::test::spinUntil;

namespace {

QString plain(const QString &markdown)
{
    QTextDocument doc;
    doc.setMarkdown(markdown);
    return doc.toPlainText();
}

// Types `text` over what the field holds and presses Enter, which saves it.
void commit(QLineEdit *field, const QString &text)
{
    field->setFocus(Qt::OtherFocusReason);
    field->selectAll();
    if (text.isEmpty())
        QTest::keyClick(field, Qt::Key_Delete);
    else
        QTest::keyClicks(field, text);
    QTest::keyClick(field, Qt::Key_Return);
}

TurnOptions sessionOptions(SessionService *service, const QString &sid)
{
    const auto session = test::awaitResult(service->session(sid, 0));
    return session.ok() ? session.value().meta.options : TurnOptions{};
}

} // namespace

class TestMainWindow : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void sendPromptStreamsAnswer();
    void stopInterrupts();
    void switchingMidAnswerKeepsIt();
    void searchFilters();
    void renameAndDelete();
    void failedTurnOffersRetry();
    void untrustedTextInTheWindow();
    void markupOutsideTheViewShowsAsText();
    void screenshot_data();
    void screenshot();
    void remoteWindow();
    void chatSettingsSaveOptions();
    void footerAndLeftOutNotice();

private:
    QTemporaryDir m_home;
};

void TestMainWindow::initTestCase()
{
    QVERIFY(test::isolateHome(m_home));
}

void TestMainWindow::sendPromptStreamsAnswer()
{
    Fixture f(12, 20);
    HF_CHECK_FIXTURE(f);
    QSignalSpy chunks(f.client, &SessionClient::chunkReady);
    QSignalSpy finished(f.client, &SessionClient::turnFinished);
    // While the answer streams, record what the view shows after each chunk.
    QList<int> shownLengths;
    connect(f.client, &SessionClient::chunkReady, this, [&] {
        QTimer::singleShot(0, [&] { shownLengths.append(int(f.view()->toPlainText().size())); });
    });

    f.type(QStringLiteral("Tell me about anchors"));
    QVERIFY(spinUntil([&] { return finished.count() == 1; }));
    QCOMPARE(chunks.count(), 12);
    QVERIFY(spinUntil([&] { return shownLengths.size() == 12; }));
    QVERIFY2(shownLengths.first() < shownLengths.last(), "the view did not grow chunk by chunk");

    const QString sid = f.pane()->sessionId();
    QVERIFY(!sid.isEmpty());
    QVERIFY(f.composer()->toPlainText().isEmpty());
    const QList<Message> messages = f.stored(sid);
    QCOMPARE(messages.size(), 2);
    QCOMPARE(messages.at(0).content, QStringLiteral("Tell me about anchors"));
    const QString text = f.view()->toPlainText();
    QVERIFY(text.contains(QLatin1String("Tell me about anchors")));
    // Markdown rendered: the demo's **demo** is bold text, not asterisks.
    QVERIFY(messages.at(1).content.contains(QLatin1String("**demo**")));
    QVERIFY(text.contains(QLatin1String("This is the demo model answering turn 1")));
    QVERIFY(!text.contains(QLatin1String("**demo**")));
    for (const QString &line : plain(messages.at(1).content).split(u'\n', Qt::SkipEmptyParts))
        QVERIFY2(text.contains(line.trimmed()), qPrintable(line));

    // The sidebar lists it, titled after the prompt; Up in the empty composer recalls it.
    QVERIFY(spinUntil([&] { return f.list()->rowCount() == 1; }));
    QCOMPARE(f.list()->data(f.list()->index(0), Qt::DisplayRole).toString(),
             QStringLiteral("Tell me about anchors"));
    QTest::keyClick(f.composer(), Qt::Key_Up);
    QCOMPARE(f.composer()->toPlainText(), QStringLiteral("Tell me about anchors"));
}

void TestMainWindow::stopInterrupts()
{
    Fixture f(400, 20);
    HF_CHECK_FIXTURE(f);
    QSignalSpy chunks(f.client, &SessionClient::chunkReady);
    QSignalSpy finished(f.client, &SessionClient::turnFinished);
    f.type(QStringLiteral("A long answer, please"));
    QVERIFY(spinUntil([&] { return chunks.count() >= 3; }));
    QVERIFY(f.pane()->isGenerating());
    QTest::keyClick(f.composer(), Qt::Key_Escape);
    QVERIFY(spinUntil([&] { return finished.count() == 1; }));
    const auto turn = finished.first().first().value<TurnRecord>();
    QCOMPARE(turn.state, TurnRecord::State::Cancelled);
    QVERIFY(chunks.count() < 400);
    const QList<Message> messages = f.stored(f.pane()->sessionId());
    QCOMPARE(messages.size(), 2);
    QCOMPARE(messages.at(1).state, Message::State::Interrupted);
    QVERIFY(f.view()->toPlainText().contains(QLatin1String("interrupted")));
    QVERIFY(!f.pane()->isGenerating());
}

void TestMainWindow::switchingMidAnswerKeepsIt()
{
    Fixture f(60, 20);
    HF_CHECK_FIXTURE(f);
    QSignalSpy finished(f.client, &SessionClient::turnFinished);
    QHash<QString, QString> streamed; // sid -> every chunk's text, in order
    connect(f.client, &SessionClient::chunkReady, this,
            [&](const QString &sid, int, int, const QString &text) { streamed[sid] += text; });

    f.type(QStringLiteral("First chat"));
    QVERIFY(spinUntil([&] { return f.pane()->isGenerating() && f.view()->answering(); }));
    const QString first = f.pane()->sessionId();
    QVERIFY(spinUntil([&] { return streamed.value(first).size() > 10; }));

    // Ctrl+N while the first answer is half-way, and a second prompt there.
    QTest::keySequence(f.window.get(), QKeySequence::New);
    QVERIFY(f.pane()->sessionId().isEmpty());
    f.type(QStringLiteral("Second chat"));
    QVERIFY(
        spinUntil([&] { return !f.pane()->sessionId().isEmpty() && f.pane()->isGenerating(); }));
    const QString second = f.pane()->sessionId();
    QVERIFY(second != first);
    QVERIFY(finished.isEmpty());
    // Both generate; the first one's row shows it while the second chat is open.
    const QModelIndex firstRow = f.list()->index(f.list()->rowOf(first));
    QVERIFY(f.list()->data(firstRow, SessionListModel::ActiveRole).toBool());

    // Back to the first, mid-answer: what it said so far, then the rest as it comes.
    f.window->sidebar()->list()->setCurrentIndex(firstRow);
    QVERIFY(spinUntil([&] { return f.pane()->sessionId() == first; }));
    QVERIFY(spinUntil([&] { return finished.count() == 2; }, 30000));
    const QList<Message> saved = f.stored(first);
    QCOMPARE(saved.size(), 2);
    QCOMPARE(saved.at(1).content, streamed.value(first));
    const QString shown = f.view()->toPlainText();
    for (const QString &line : plain(saved.at(1).content).split(u'\n', Qt::SkipEmptyParts))
        QVERIFY2(shown.contains(line.trimmed()), qPrintable(line));
    QVERIFY(!shown.contains(QLatin1String("Second chat")));

    // And the second chat, finished in the background, is complete when opened.
    f.window->sidebar()->list()->setCurrentIndex(f.list()->index(f.list()->rowOf(second)));
    QVERIFY(spinUntil([&] { return f.pane()->sessionId() == second; }));
    const QList<Message> savedSecond = f.stored(second);
    QCOMPARE(savedSecond.at(1).content, streamed.value(second));
    QVERIFY(spinUntil([&] {
        return f.view()->toPlainText().contains(
            plain(savedSecond.at(1).content).section(u'\n', 0, 0).trimmed());
    }));
    QVERIFY(!f.list()->data(firstRow, SessionListModel::ActiveRole).toBool());
}

void TestMainWindow::searchFilters()
{
    Fixture f;
    HF_CHECK_FIXTURE(f);
    for (const QString &title : {QStringLiteral("Trip to Lisbon"), QStringLiteral("Tax return"),
                                 QStringLiteral("Lisbon restaurants")}) {
        CreateSessionParams p;
        p.title = title;
        HF_AWAIT_OK(f.service->createSession(p));
    }
    QVERIFY(spinUntil([&] { return f.list()->rowCount() == 3; }));
    QLineEdit *search = f.window->sidebar()->searchField();
    QTest::keyClicks(search, QStringLiteral("lisbon"));
    QVERIFY(spinUntil([&] { return f.list()->rowCount() == 2; }));
    for (int row = 0; row < 2; ++row)
        QVERIFY(f.list()
                    ->data(f.list()->index(row), Qt::DisplayRole)
                    .toString()
                    .contains(QLatin1String("Lisbon")));
    search->clear();
    QVERIFY(spinUntil([&] { return f.list()->rowCount() == 3; }));
}

void TestMainWindow::renameAndDelete()
{
    Fixture f;
    HF_CHECK_FIXTURE(f);
    CreateSessionParams p;
    p.title = QStringLiteral("Old name");
    HF_AWAIT(created, f.service->createSession(p));
    QVERIFY(created->ok());
    const QString sid = created->value().meta.id;
    QVERIFY(spinUntil([&] { return f.list()->rowCount() == 1; }));
    QListView *list = f.window->sidebar()->list();
    list->setFocus();
    list->setCurrentIndex(f.list()->index(0));
    QVERIFY(spinUntil([&] { return f.pane()->sessionId() == sid; }));

    // F2 opens the editor; typing and Enter renames through the service.
    QTest::keyClick(list, Qt::Key_F2);
    QWidget *editor = QApplication::focusWidget();
    QVERIFY(qobject_cast<QLineEdit *>(editor));
    static_cast<QLineEdit *>(editor)->selectAll();
    QTest::keyClicks(editor, QStringLiteral("New name"));
    QTest::keyClick(editor, Qt::Key_Return);
    QVERIFY(spinUntil([&] {
        const auto s = test::awaitResult(f.service->session(sid, 0));
        return s.ok() && s->meta.title == QLatin1String("New name");
    }));
    QCOMPARE(f.list()->data(f.list()->index(0), Qt::DisplayRole).toString(),
             QStringLiteral("New name"));

    // Del asks first; Cancel keeps it, Yes deletes it.
    for (const auto button : {QMessageBox::Cancel, QMessageBox::Yes}) {
        QTimer::singleShot(50, [button] {
            auto *box = qobject_cast<QMessageBox *>(QApplication::activeModalWidget());
            if (box)
                box->button(button)->click();
        });
        f.window->activateWindow(); // back from the previous dialog
        QVERIFY(QTest::qWaitForWindowActive(f.window.get()));
        list->setFocus();
        QTest::keyClick(list, Qt::Key_Delete);
        if (button == QMessageBox::Cancel) {
            QTest::qWait(100);
            QCOMPARE(f.list()->rowCount(), 1);
        }
    }
    QVERIFY(spinUntil([&] { return f.list()->rowCount() == 0; }));
    HF_AWAIT(gone, f.service->session(sid, 0));
    QVERIFY(gone && !gone->ok());
    QVERIFY(f.pane()->sessionId().isEmpty());
}

void TestMainWindow::failedTurnOffersRetry()
{
    Fixture f;
    HF_CHECK_FIXTURE(f);
    f.scripted->script.chunks = {QStringLiteral("Partial ")};
    f.scripted->script.failure =
        makeError(ErrorCode::UpstreamError, QStringLiteral("model exploded"));
    f.pane()->modelPicker()->setCurrentText(QStringLiteral("scripted"));
    QSignalSpy finished(f.client, &SessionClient::turnFinished);
    f.type(QStringLiteral("Try this"));
    QVERIFY(spinUntil([&] { return finished.count() == 1; }));
    QVERIFY(spinUntil(
        [&] { return f.view()->toPlainText().contains(QLatin1String("model exploded")); }));
    QVERIFY(f.view()->toHtml().contains(QLatin1String("hf-retry:1")));
    // Retry answers the same prompt again (turn 2): a new version of the answer, the prompt
    // is not repeated.
    f.scripted->script.failure.reset();
    f.scripted->script.chunks = {QStringLiteral("Worked.")};
    Q_EMIT f.view()->retryRequested(1);
    QVERIFY(spinUntil([&] { return finished.count() == 2; }));
    const auto retried = finished.last().first().value<TurnRecord>();
    QCOMPARE(retried.state, TurnRecord::State::Done);
    QCOMPARE(retried.promptIndex, 0);
    const QList<Message> branch = f.stored(f.pane()->sessionId());
    QCOMPARE(branch.size(), 2); // the active branch: the prompt and the new answer
    QCOMPARE(branch.at(1).content, QStringLiteral("Worked."));
    QCOMPARE(branch.at(1).siblings, (QList<qint64>{1, 2}));
    QCOMPARE(f.view()->toPlainText().count(QLatin1String("Try this")), 1);
    QVERIFY(!f.view()->toPlainText().contains(QLatin1String("model exploded")));
}

// The prompt that froze the window (`look ![x](FIFO) here`), and an answer that writes the
// view's own Retry link and a web link: the FIFO is never opened, the fake Retry does nothing, and
// the status bar shows where the web link goes while the mouse is on it.
void TestMainWindow::untrustedTextInTheWindow()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString path = dir.filePath(QStringLiteral("fifo"));
    test::FifoWatch fifo(path);
    QVERIFY(fifo.made());
    Fixture f;
    HF_CHECK_FIXTURE(f);
    const QString target = QStringLiteral("https://example.com/docs");
    f.scripted->script.chunks = {QStringLiteral("See ![x](%1) and [retry](hf-retry:1) ").arg(path),
                                 QStringLiteral("or [the docs](%1).").arg(target)};
    f.pane()->modelPicker()->setCurrentText(QStringLiteral("scripted"));
    QSignalSpy finished(f.client, &SessionClient::turnFinished);
    f.type(QStringLiteral("look ![x](%1) here").arg(path));
    QVERIFY(spinUntil([&] { return finished.count() == 1; }));
    QVERIFY(!f.window->grab().isNull()); // laid out and painted
    QCOMPARE(fifo.stop(), 0);
    QVERIFY(f.view()->toPlainText().contains(QLatin1String("look x here")));

    QTextCursor at =
        f.view()->document()->find(QStringLiteral("retry"), 0, QTextDocument::FindCaseSensitively);
    QVERIFY(!at.isNull());
    at.setPosition(at.selectionStart() + 2);
    QSignalSpy retries(f.view(), &ChatView::retryRequested); // emitted from the click, if at all
    QTest::mouseClick(f.view()->viewport(), Qt::LeftButton, {}, f.view()->cursorRect(at).center());
    QCOMPARE(retries.count(), 0);

    at = f.view()->document()->find(QStringLiteral("the docs"));
    QVERIFY(!at.isNull());
    at.setPosition(at.selectionStart() + 2);
    QTest::mouseMove(f.view()->viewport(), f.view()->cursorRect(at).center());
    QTRY_COMPARE(f.window->statusBar()->currentMessage(), target);
}

// A label, tooltip or message box shows rich text when its text looks like HTML, and loads its
// images: a title or system prompt `<img src=FIFO>` blocked the window on hover, and in the
// question before the chat is deleted. The tooltips are shown here as the mouse would show them.
void TestMainWindow::markupOutsideTheViewShowsAsText()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString path = dir.filePath(QStringLiteral("fifo"));
    test::FifoWatch fifo(path);
    QVERIFY(fifo.made());
    Fixture f;
    HF_CHECK_FIXTURE(f);
    const QString markup = QStringLiteral("<img src=\"%1\"> <b>x</b>").arg(path);
    CreateSessionParams params;
    params.title = markup;
    params.system = markup;
    HF_AWAIT(created, f.service->createSession(params));
    QVERIFY(created && created->ok());
    const QString sid = created->value().meta.id;
    QVERIFY(spinUntil([&] { return f.list()->rowOf(sid) >= 0; }));
    const QModelIndex row = f.list()->index(f.list()->rowOf(sid));
    f.window->sidebar()->list()->setCurrentIndex(row);
    QVERIFY(spinUntil([&] { return f.pane()->sessionId() == sid; }));
    QString systemTip;
    for (const QToolButton *button : f.pane()->findChildren<QToolButton *>()) {
        QTextDocument tip;
        tip.setHtml(button->toolTip());
        if (tip.toPlainText().contains(QLatin1String("System prompt")))
            systemTip = button->toolTip();
    }
    QVERIFY(!systemTip.isEmpty());
    QStringList read; // what each tooltip reads
    for (const QString &tip : {f.list()->data(row, Qt::ToolTipRole).toString(), systemTip}) {
        QToolTip::showText(f.window->mapToGlobal(QPoint(100, 100)), tip, f.window.get());
        QVERIFY(QToolTip::isVisible());
        QTextDocument shown;
        shown.setHtml(tip);
        read << shown.toPlainText();
        QToolTip::hideText();
    }
    // Del asks about the chat by its title.
    QString asked;
    Qt::TextFormat askedFormat = Qt::AutoText;
    QTimer::singleShot(50, [&] {
        if (auto *box = qobject_cast<QMessageBox *>(QApplication::activeModalWidget())) {
            asked = box->text();
            askedFormat = box->textFormat();
            box->button(QMessageBox::Cancel)->click();
        }
    });
    f.window->sidebar()->list()->setFocus();
    QTest::keyClick(f.window->sidebar()->list(), Qt::Key_Delete);
    QVERIFY(spinUntil([&] { return !asked.isEmpty(); }));
    QCOMPARE(fifo.stop(), 0);
    for (const QString &text : read)
        QVERIFY2(text.contains(markup), qPrintable(text)); // the markup shows as text
    QVERIFY(asked.contains(markup));
    QCOMPARE(askedFormat, Qt::PlainText);
    const auto *errors = f.pane()->findChild<QLabel *>(QStringLiteral("errorBanner"));
    QVERIFY(errors);
    QCOMPARE(errors->textFormat(), Qt::PlainText);
}

void TestMainWindow::screenshot_data()
{
    QTest::addColumn<bool>("dark");
    QTest::addRow("light") << false;
    QTest::addRow("dark") << true;
}

void TestMainWindow::screenshot()
{
    QFETCH(bool, dark);
    const QPalette original = QApplication::palette();
    if (dark)
        QApplication::setPalette(test::darkPalette());
    const auto restore = qScopeGuard([&] { QApplication::setPalette(original); });
    Fixture f;
    HF_CHECK_FIXTURE(f);
    f.scripted->script.delayMs = 1;
    f.scripted->script.chunks = QStringList{
        QStringLiteral("Here is a small **C++20** example, and how its parts compare.\n\n"),
        QStringLiteral(
            "```cpp\n#include <print>\n\nint main()\n{\n    std::println(\"hold fast\");\n"),
        QStringLiteral("    return 0;\n}\n```\n\n"),
        QStringLiteral(
            "| Part | Role | Since |\n|---|---|---|\n| `std::println` | output | C++23 |\n"),
        QStringLiteral("| coroutines | async | C++20 |\n| modules | build | C++20 |\n\n"),
        QStringLiteral("1. Keep answers **saved**\n2. Stream them *chunk by chunk*\n")};
    for (const QString &title :
         {QStringLiteral("Weekend in Lisbon"), QStringLiteral("Quarterly tax checklist")}) {
        CreateSessionParams p;
        p.title = title;
        HF_AWAIT_OK(f.service->createSession(p));
    }
    f.pane()->modelPicker()->setCurrentText(QStringLiteral("scripted"));
    QSignalSpy finished(f.client, &SessionClient::turnFinished);
    f.type(QStringLiteral("Show me a tiny C++ program and a table of the features it uses."));
    QVERIFY(spinUntil([&] { return finished.count() == 1; }));
    QVERIFY(spinUntil([&] { return f.list()->rowCount() == 3; }));
    QTest::qWait(100);
    const QString path = QStringLiteral(HOLDFAST_TEST_OUTPUT_DIR "/mainwindow%1.png")
                             .arg(dark ? QStringLiteral("-dark") : QString());
    QVERIFY(f.window->grab().save(path));
    qInfo("screenshot: %s", qPrintable(path));
}

// A real `holdfast --headless` on a free port, and the window on it over HTTP and SSE.
void TestMainWindow::remoteWindow()
{
    const QString binary = qEnvironmentVariable("HOLDFAST_BINARY");
    if (binary.isEmpty() || !QFile::exists(binary))
        QSKIP("HOLDFAST_BINARY is not set (run through ctest)");
    QProcess server;
    server.setProgram(binary);
    server.setArguments(
        {QStringLiteral("--headless"), QStringLiteral("--listen"), QStringLiteral("127.0.0.1:0"),
         QStringLiteral("--store"), QStringLiteral("memory:"), QStringLiteral("--demo-chunks"),
         QStringLiteral("10"), QStringLiteral("--demo-delay-ms"), QStringLiteral("20"),
         QStringLiteral("--token"), QStringLiteral("s3cret")});
    server.setProcessChannelMode(QProcess::SeparateChannels);
    server.start();
    QVERIFY(server.waitForStarted());
    QVERIFY(spinUntil([&] { return server.canReadLine(); }, 15000));
    const QString line = QString::fromUtf8(server.readLine()).trimmed();
    QVERIFY2(line.startsWith(QLatin1String("listening on http://")), qPrintable(line));
    const QUrl url(line.section(u' ', 2));
    QVERIFY(test::forgetLastChat()); // the earlier tests' chats are not on this server

    {
        MainWindow window;
        auto *client = new RemoteClient(url, QStringLiteral("s3cret"), &window);
        window.setClient(client);
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        QSignalSpy chunks(client, &SessionClient::chunkReady);
        QSignalSpy finished(client, &SessionClient::turnFinished);
        Composer *composer = window.chatPane()->composer();
        composer->setFocus();
        QTest::keyClicks(composer, QStringLiteral("Hello from afar"));
        QTest::keyClick(composer, Qt::Key_Return);
        QVERIFY(spinUntil([&] { return finished.count() == 1; }));
        QCOMPARE(chunks.count(), 10);
        QCOMPARE(finished.first().first().value<TurnRecord>().state, TurnRecord::State::Done);
        const QString sid = window.chatPane()->sessionId();
        HF_AWAIT(page, client->messages(sid, -1, 50));
        QVERIFY(page && page->ok());
        QCOMPARE((*page)->messages.size(), 2);
        QString all;
        for (const auto &args : chunks)
            all += args.at(3).toString();
        QCOMPARE((*page)->messages.at(1).content, all);
        QVERIFY(window.chatPane()->view()->toPlainText().contains(
            QLatin1String("This is the demo model answering turn 1")));
        QVERIFY(spinUntil([&] { return window.sidebar()->model()->rowCount() == 1; }));

        // A wrong token is an error shown, not a crash.
        RemoteClient wrong(url, QStringLiteral("nope"));
        HF_AWAIT(denied, wrong.listSessions({}, 10, 0));
        QVERIFY(denied && !denied->ok());
        QCOMPARE(denied->error().code, ErrorCode::Unauthorized);
    }
    server.terminate();
    QVERIFY(server.waitForFinished(10000));
}

// The settings panel saves the options through the client; the service keeps them, a new window
// shows them, the draft's estimate counts against the budget, and what the service refuses
// (422) is said in the panel, the chat's options left as they were.
void TestMainWindow::chatSettingsSaveOptions()
{
    QLocale::setDefault(QLocale::c());
    Fixture f(4, 5);
    HF_CHECK_FIXTURE(f);
    QSignalSpy finished(f.client, &SessionClient::turnFinished);
    f.type(QStringLiteral("First question"));
    QVERIFY(spinUntil([&] { return finished.count() == 1; }));
    const QString sid = f.pane()->sessionId();
    f.pane()->settingsButton()->click();
    ChatSettingsPanel *panel = f.pane()->settingsPanel();
    QVERIFY(panel->isVisible());

    commit(panel->temperatureField(), QStringLiteral("0.7"));
    commit(panel->topPField(), QStringLiteral("0.9"));
    commit(panel->maxTokensField(), QStringLiteral("256"));
    commit(panel->contextField(), QStringLiteral("1000"));
    TurnOptions wanted;
    wanted.temperature = 0.7;
    wanted.topP = 0.9;
    wanted.maxTokens = 256;
    wanted.contextTokens = 1000;
    QVERIFY(spinUntil([&] { return sessionOptions(f.service.get(), sid) == wanted; }));
    QVERIFY(spinUntil([&] { return !panel->isSaving(); }));
    QVERIFY(!panel->errorLabel()->isVisible());
    QCOMPARE(f.pane()->meta().options, wanted);

    // The budget is known now: the estimate counts against it.
    f.composer()->setFocus();
    QTest::keyClicks(f.composer(), QStringLiteral("Twelve bytes"));
    QVERIFY(spinUntil(
        [&] { return f.pane()->tokenEstimate()->text() == QLatin1String("~3 tokens of 1000"); }));

    // Out of range: the service's words under the fields, nothing changed.
    commit(panel->temperatureField(), QStringLiteral("5"));
    QVERIFY(spinUntil([&] { return panel->errorLabel()->isVisible(); }));
    QVERIFY2(panel->errorLabel()->text().contains(QLatin1String("temperature")),
             qPrintable(panel->errorLabel()->text()));
    QCOMPARE(sessionOptions(f.service.get(), sid), wanted);
    QCOMPARE(panel->temperatureField()->text(), QStringLiteral("5")); // left to fix
    const QString path = QStringLiteral(HOLDFAST_TEST_OUTPUT_DIR "/chat-settings-error.png");
    QVERIFY(f.window->grab().save(path));
    qInfo("screenshot: %s", qPrintable(path));
    // Emptied: the default again, and the error goes.
    commit(panel->temperatureField(), QString());
    wanted.temperature.reset();
    QVERIFY(spinUntil([&] { return sessionOptions(f.service.get(), sid) == wanted; }));
    QVERIFY(spinUntil([&] { return !panel->errorLabel()->isVisible(); }));

    // A new window (as after a restart) shows the chat's options.
    f.window->close(); // it remembers the open chat
    f.openWindow();
    HF_CHECK_FIXTURE(f);
    QVERIFY(spinUntil([&] { return f.pane()->sessionId() == sid; }));
    ChatSettingsPanel *again = f.pane()->settingsPanel();
    QCOMPARE(again->temperatureField()->text(), QString());
    QCOMPARE(again->topPField()->text(), QStringLiteral("0.9"));
    QCOMPARE(again->maxTokensField()->text(), QStringLiteral("256"));
    QCOMPARE(again->contextField()->text(), QStringLiteral("1000"));
    // Reset clears them all.
    f.pane()->showSettings(true);
    QTest::mouseClick(again->findChild<QPushButton *>(), Qt::LeftButton);
    QVERIFY(spinUntil([&] { return sessionOptions(f.service.get(), sid).isEmpty(); }));
}

// An answer that ends shows its model, tokens, speed and time to first token; in a long chat
// with a small context budget, a notice above the answer says how many older messages were left
// out; both come back when the chat is opened later.
void TestMainWindow::footerAndLeftOutNotice()
{
    QLocale::setDefault(QLocale::c());
    Fixture f(4, 5);
    HF_CHECK_FIXTURE(f);
    CreateSessionParams p;
    p.title = QStringLiteral("Long chat");
    HF_AWAIT(created, f.service->createSession(p));
    QVERIFY(created->ok());
    const QString sid = created->value().meta.id;
    QSignalSpy finished(f.client, &SessionClient::turnFinished);
    constexpr int kTurns = 8;
    for (int i = 0; i < kTurns; ++i) {
        StartTurnParams turn;
        turn.prompt = QStringLiteral("Question %1 with a few words to make it longer").arg(i);
        HF_AWAIT_OK(f.service->startTurn(sid, turn));
        QVERIFY(spinUntil([&] { return finished.count() == i + 1; }));
    }
    f.pane()->openSession(sid);
    QVERIFY(spinUntil([&] { return f.view()->messageCount() == 2 * kTurns; }));
    f.pane()->showSettings(true);
    commit(f.pane()->settingsPanel()->contextField(), QStringLiteral("300"));
    QVERIFY(spinUntil(
        [&] { return sessionOptions(f.service.get(), sid).contextTokens == std::optional(300); }));

    f.type(QStringLiteral("And the last question?"));
    QVERIFY(spinUntil([&] { return finished.count() == kTurns + 1; }));
    const TurnRecord last = finished.last().first().value<TurnRecord>();
    QVERIFY(last.usage);
    QVERIFY(last.context && last.context->dropped > 0);
    const QString notice =
        QStringLiteral("%1 older messages were left out to fit the context budget")
            .arg(last.context->dropped);
    const QString usage = QStringLiteral("demo · %1 in · %2 out")
                              .arg(last.usage->promptTokens)
                              .arg(last.usage->completionTokens);
    QVERIFY(spinUntil([&] { return f.view()->toPlainText().contains(usage); }));
    QString text = f.view()->toPlainText();
    QCOMPARE(text.count(notice), 1);
    QVERIFY(text.indexOf(QLatin1String("And the last question?")) < text.indexOf(notice));
    QVERIFY(text.contains(QLatin1String("s to first token")));
    QVERIFY(text.contains(QLatin1String("tok/s")));
    // The answers from before (loaded from history) get theirs from the turn records.
    QVERIFY(spinUntil(
        [&] { return f.view()->toPlainText().count(QStringLiteral(" in · ")) == kTurns + 1; }));

    const QString path = QStringLiteral(HOLDFAST_TEST_OUTPUT_DIR "/chat-settings.png");
    f.window->resize(1200, 760);
    commit(f.pane()->settingsPanel()->temperatureField(), QStringLiteral("0.7"));
    QVERIFY(spinUntil(
        [&] { return sessionOptions(f.service.get(), sid).temperature == std::optional(0.7); }));
    f.composer()->setFocus();
    QTest::keyClicks(f.composer(), QStringLiteral("One more thing: "));
    QTest::qWait(300);
    QVERIFY(f.window->grab().save(path));
    qInfo("screenshot: %s", qPrintable(path));

    // Opened again in a new window: from the turn records.
    f.window->close();
    f.openWindow();
    HF_CHECK_FIXTURE(f);
    QVERIFY(spinUntil([&] { return f.pane()->sessionId() == sid; }));
    QVERIFY(spinUntil([&] { return f.view()->toPlainText().contains(notice); }));
    QVERIFY(spinUntil([&] { return f.view()->toPlainText().contains(usage); }));
}

QTEST_MAIN(TestMainWindow)
#include "tst_mainwindow.moc"
