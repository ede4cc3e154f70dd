// Tools in the window (issue 24): the chat's tools menu, the approval card, the tool blocks of
// live and stored answers, and the MCP servers dialog; the in-process service with the demo model
// and a ToolHost of the test's own (a notes server that answers, a broken one with its stderr).
#include "darkpalette.h"
#include "windowfixture.h"

#include "client/remoteclient.h"
#include "core/tools.h"
#include "gui/liveturns.h"
#include "gui/mcpserversdialog.h"
#include "gui/toolapprovalcard.h"
#include "gui/toolsbutton.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QMenu>
#include <QPlainTextEdit>
#include <QProcess>
#include <QPushButton>
#include <QRegularExpression>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTimer>

using namespace holdfast;
using holdfast::test::spinUntil;
using namespace Qt::StringLiterals;

namespace {

// Two servers: "notes" (ready: read, write) and "broken" (error, with its stderr); "later"
// is starting. A call of notes/read gives its fixed text.
class NotesHost final : public ToolHost
{
public:
    ToolList list() const override
    {
        ToolList list;
        ToolServerInfo notes;
        notes.name = u"notes"_s;
        notes.state = ToolServerInfo::State::Ready;
        ToolServerInfo broken;
        broken.name = u"broken"_s;
        broken.state = ToolServerInfo::State::Error;
        broken.error = u"the process exited with code 1"_s;
        broken.stderrTail = u"Error: Cannot find module 'left-pad'\n    at node:internal"_s;
        ToolServerInfo later;
        later.name = u"later"_s;
        later.state = ToolServerInfo::State::Starting;
        list.servers = {broken, later, notes};
        for (const QString &name : {u"notes/read"_s, u"notes/write"_s}) {
            ToolInfo tool;
            tool.name = name;
            tool.description = u"Reads or writes the notes"_s;
            tool.inputSchema = QJsonObject{{u"type"_s, u"object"_s}};
            list.tools << tool;
        }
        return list;
    }
    bool hasServer(const QString &server) const override
    {
        return server == u"notes"_s || server == u"broken"_s || server == u"later"_s;
    }
    QCoro::Task<QList<ToolInfo>> toolsFor(QStringList allowed) override
    {
        QList<ToolInfo> tools;
        for (const ToolInfo &tool : list().tools) {
            if (allowed.contains(u"*"_s) || allowed.contains(tool.name))
                tools << tool;
        }
        co_return tools;
    }
    QCoro::Task<ToolOutcome> call(QString name, QJsonObject arguments, int,
                                  ToolCallCancel *) override
    {
        ++calls;
        ToolOutcome outcome;
        outcome.content = name == u"notes/read"_s
                              ? u"milk, eggs (file %1)"_s.arg(arguments.value(u"file"_s).toString())
                              : u"written"_s;
        co_return outcome;
    }
    int calls = 0;
};

QAction *findAction(QMenu *menu, const QString &name)
{
    for (QAction *action : menu->actions()) {
        if (action->objectName() == name)
            return action;
        if (action->menu())
            if (QAction *found = findAction(action->menu(), name))
                return found;
    }
    return nullptr;
}

QString shotsDir()
{
    const QString dir =
        qEnvironmentVariable("HOLDFAST_SHOTS_DIR", QStringLiteral(HOLDFAST_TEST_OUTPUT_DIR));
    QDir().mkpath(dir);
    return dir;
}

const QString kPrompt = u"What do I need? use notes/read with {\"file\": \"todo.md\"}"_s;

// The window on the service with NotesHost: a chat whose tools are chosen in the menu.
struct ToolsFixture : test::Fixture
{
    NotesHost host;
    QString sid;

    ToolsFixture() : test::Fixture(6, 2) { service->setToolHost(&host); }

    // A chat, open in the pane, that may use notes/read (chosen in the tools menu, saved with
    // PATCH): the test fails unless the service has it.
    void chatWithTools()
    {
        const auto created = test::awaitResult(client->createSession({}));
        QVERIFY(created.ok());
        sid = created.value().meta.id;
        pane()->openSession(sid);
        QVERIFY(spinUntil([&] { return pane()->sessionId() == sid; }));
        ToolsButton *button = pane()->toolsButton();
        HF_AWAIT_VOID(button->refresh());
        QAction *read = findAction(button->toolsMenu(), u"notes/read"_s);
        QVERIFY(read && read->isEnabled());
        read->setChecked(true);
        QVERIFY(spinUntil([&] { return pane()->meta().tools == QStringList{u"notes/read"_s}; }));
        const auto stored = test::awaitResult(service->session(sid, 1));
        QVERIFY(stored.ok());
        QCOMPARE(stored.value().meta.tools, QStringList{u"notes/read"_s});
        QCOMPARE(button->text(), u"⚙ 1 tool"_s);
    }

    // Sends the prompt that makes the demo model call notes/read, and waits for the card.
    void askForTheTool()
    {
        type(kPrompt);
        QVERIFY(spinUntil([&] { return pane()->approvalCard()->isVisible(); }));
    }

    bool finished() { return !pane()->isGenerating() && !view()->answering(); }
};

} // namespace

class TestWindowTools : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void toolsMenuShowsTheServers();
    void toolsMenuChoices_data();
    void toolsMenuChoices();
    void approvalCardAsksAndAnswers();
    void allowOnceRunsTheCall();
    void declineRunsNothing();
    void alwaysAllowSwitchesTheChat();
    void answeredElsewhereSaysSo();
    void remoteWindowAsksToo();
    void cardScreenshots_data();
    void cardScreenshots();
    void mcpCheck_data();
    void mcpCheck();
    void mcpDialogEditsTheFile();

private:
    QTemporaryDir m_home;
};

void TestWindowTools::initTestCase()
{
    QVERIFY(test::isolateHome(m_home));
}

// The menu lists what GET /v1/tools says: each server, its tools, its state; a server in error
// says why and its tools cannot be chosen.
void TestWindowTools::toolsMenuShowsTheServers()
{
    // The window's style sheet parses (else Qt drops its rules, the card's among them).
    QTest::failOnWarning(QRegularExpression(u"Could not parse stylesheet"_s));
    test::Fixture f;
    HF_CHECK_FIXTURE(f);
    NotesHost host;
    f.service->setToolHost(&host);
    HF_AWAIT(created, f.client->createSession({}));
    QVERIFY(created->ok());
    f.pane()->openSession(created->value().meta.id);
    QVERIFY(spinUntil([&] { return f.pane()->sessionId() == created->value().meta.id; }));
    ToolsButton *button = f.pane()->toolsButton();
    QCOMPARE(button->text(), u"⚙"_s); // off by default
    HF_AWAIT_VOID(button->refresh());
    QMenu *menu = button->toolsMenu();
    QAction *read = findAction(menu, u"notes/read"_s);
    QVERIFY(read);
    QVERIFY(read->isCheckable() && !read->isChecked() && read->isEnabled());
    QAction *all = findAction(menu, u"notes/*"_s);
    QVERIFY(all && all->isEnabled() && !all->isChecked());
    QAction *brokenAll = findAction(menu, u"broken/*"_s);
    QVERIFY(brokenAll && !brokenAll->isEnabled());
    QMenu *broken = menu->findChild<QMenu *>(u"server:broken"_s);
    QVERIFY(broken);
    QVERIFY(broken->title().contains(u"error"_s));
    QVERIFY(broken->actions().first()->text().contains(u"exited with code 1"_s));
    QMenu *later = menu->findChild<QMenu *>(u"server:later"_s);
    QVERIFY(later && later->title().contains(u"starting"_s));
    QAction *ask = findAction(menu, u"approval:ask"_s);
    QVERIFY(ask && ask->isChecked());
    // Built again each time it opens: the old submenus go.
    HF_AWAIT_VOID(button->refresh());
    QTest::qWait(0);
    QCoreApplication::sendPostedEvents(nullptr, QEvent::DeferredDelete);
    QCOMPARE(menu->findChildren<QMenu *>(u"server:broken"_s).size(), 1);
}

void TestWindowTools::toolsMenuChoices_data()
{
    QTest::addColumn<QStringList>("before");
    QTest::addColumn<QString>("action");
    QTest::addColumn<bool>("on");
    QTest::addColumn<QStringList>("after");
    QTest::addRow("one tool on") << QStringList{} << u"notes/read"_s << true
                                 << QStringList{u"notes/read"_s};
    QTest::addRow("one tool off") << QStringList{u"notes/read"_s, u"notes/write"_s}
                                  << u"notes/read"_s << false << QStringList{u"notes/write"_s};
    QTest::addRow("all of a server") << QStringList{u"notes/read"_s} << u"notes/*"_s << true
                                     << QStringList{u"notes/read"_s, u"notes/write"_s};
    QTest::addRow("none of a server")
        << QStringList{u"notes/read"_s, u"notes/write"_s} << u"notes/*"_s << false << QStringList{};
    QTest::addRow("one off from all")
        << QStringList{u"*"_s} << u"notes/write"_s << false << QStringList{u"notes/read"_s};
}

// A choice in the menu asks for the session's new `tools`.
void TestWindowTools::toolsMenuChoices()
{
    QFETCH(QStringList, before);
    QFETCH(QString, action);
    QFETCH(bool, on);
    QFETCH(QStringList, after);
    ToolsButton button;
    NotesHost host;
    SessionMeta meta;
    meta.id = u"s1"_s;
    meta.tools = before;
    button.setSession(meta);
    button.setToolList(host.list());
    QSignalSpy asked(&button, &ToolsButton::changeRequested);
    QAction *item = findAction(button.toolsMenu(), action);
    QVERIFY(item);
    QCOMPARE(item->isChecked(), !on);
    item->setChecked(on);
    QCOMPARE(asked.size(), 1);
    const auto params = asked.first().first().value<PatchSessionParams>();
    QVERIFY(params.tools);
    QCOMPARE(*params.tools, after);
    QVERIFY(!params.toolApproval);
    // The approval mode is a PATCH of its own.
    findAction(button.toolsMenu(), u"approval:auto"_s)->trigger();
    QCOMPARE(asked.size(), 2);
    const auto approval = asked.last().first().value<PatchSessionParams>();
    QVERIFY(!approval.tools);
    QCOMPARE(approval.toolApproval, std::optional<ToolApproval>(ToolApproval::Auto));
}

// The card shows the tool and its arguments, and each button gives its answer.
void TestWindowTools::approvalCardAsksAndAnswers()
{
    ToolApprovalCard card;
    ToolCall call;
    call.id = u"c1"_s;
    call.name = u"notes/read"_s;
    call.arguments = QJsonObject{{u"file"_s, u"todo.md"_s}, {u"lines"_s, 20}};
    card.ask(u"s1"_s, 4, call);
    QVERIFY(card.titleText().contains(u"notes/read"_s));
    QVERIFY(card.argumentsView()->toPlainText().contains(u"\"file\": \"todo.md\""_s));
    QVERIFY(card.argumentsView()->isReadOnly());
    QCOMPARE(card.callId(), u"c1"_s);
    QCOMPARE(card.turn(), 4);
    QSignalSpy answered(&card, &ToolApprovalCard::answered);
    card.show();
    QVERIFY(QTest::qWaitForWindowExposed(&card));
    // Enter on the focused button presses it (the card never takes the focus by itself).
    card.declineButton()->setFocus();
    QTest::keyClick(card.declineButton(), Qt::Key_Return);
    QCOMPARE(answered.size(), 1);
    QCOMPARE(answered.last(), (QList<QVariant>{false, false}));
    card.allowButton()->click();
    QCOMPARE(answered.last(), (QList<QVariant>{true, false}));
    card.alwaysButton()->click();
    QCOMPARE(answered.last(), (QList<QVariant>{true, true}));
    card.setBusy(true);
    QVERIFY(!card.allowButton()->isEnabled());
}

// The card appears when the call waits, with the tool and its arguments; Allow once runs it
// through the client, the card goes, and the block shows the result; it stays in the answer
// (collapsed, where the call happened) after a restart of the window.
void TestWindowTools::allowOnceRunsTheCall()
{
    ToolsFixture f;
    HF_CHECK_FIXTURE(f);
    HF_CALL(f.chatWithTools());
    HF_CALL(f.askForTheTool());
    ToolApprovalCard *card = f.pane()->approvalCard();
    QVERIFY(card->titleText().contains(u"notes/read"_s));
    QVERIFY(card->argumentsView()->toPlainText().contains(u"\"file\": \"todo.md\""_s));
    QVERIFY(f.view()->answering());
    QCOMPARE(f.view()->toolBlockCount(), 1);
    QVERIFY2(f.view()->toolBlockTitle(0).endsWith(u"waiting for your approval"_s),
             qPrintable(f.view()->toolBlockTitle(0)));
    const int row = f.list()->rowOf(f.sid);
    QVERIFY(row >= 0);
    QVERIFY(f.list()->index(row).data(SessionListModel::WaitingRole).toBool());
    // The composer's Enter does not answer: the card never had the keyboard.
    QVERIFY(!card->isAncestorOf(QApplication::focusWidget()));
    QTest::keyClick(f.composer(), Qt::Key_Return);
    QCOMPARE(f.host.calls, 0);
    card->allowButton()->click();
    QVERIFY(spinUntil([&] { return f.finished(); }));
    QCOMPARE(f.host.calls, 1);
    QVERIFY(!card->isVisible());
    QVERIFY(!f.list()->index(f.list()->rowOf(f.sid)).data(SessionListModel::WaitingRole).toBool());
    QCOMPARE(f.view()->toolBlockCount(), 1);
    QVERIFY2(f.view()->toolBlockTitle(0).endsWith(u"— done"_s),
             qPrintable(f.view()->toolBlockTitle(0)));
    QVERIFY(f.view()->lastAnswerText().contains(u"milk, eggs (file todo.md)"_s));
    const QList<Message> stored = f.stored(f.sid);
    QCOMPARE(stored.size(), 2);
    QCOMPARE(stored.last().toolCalls.size(), 1);
    QVERIFY(stored.last().toolCalls.first().approved);

    // The stored answer, shown by a new window: the block where the call happened.
    f.openWindow();
    HF_CHECK_FIXTURE(f);
    f.pane()->openSession(f.sid);
    QVERIFY(spinUntil([&] { return f.view()->messageCount() == 2; }));
    QCOMPARE(f.view()->toolBlockCount(), 1);
    QVERIFY(f.view()->toolBlockTitle(0).endsWith(u"— done"_s));
    QVERIFY(!f.view()->toolBlockExpanded(0));
    const qint64 offset = stored.last().toolCalls.first().offset;
    const QString answer = stored.last().content;
    const QString before = answer.left(offset).trimmed();
    const QString after = answer.mid(offset).trimmed();
    const auto positionOf = [&](const QString &text) {
        const QTextCursor found =
            f.view()->document()->find(text.left(20), 0, QTextDocument::FindCaseSensitively);
        return found.isNull() ? -1 : found.selectionStart();
    };
    if (!before.isEmpty())
        QVERIFY(positionOf(before) < f.view()->toolBlockPosition(0));
    QVERIFY(!after.isEmpty());
    QVERIFY(positionOf(after) > f.view()->toolBlockPosition(0));
    QVERIFY(positionOf(kPrompt) < f.view()->toolBlockPosition(0));
    f.view()->setToolBlockExpanded(0, true);
    QVERIFY(f.view()->document()->toPlainText().contains(u"milk, eggs (file todo.md)"_s));
}

void TestWindowTools::declineRunsNothing()
{
    ToolsFixture f;
    HF_CHECK_FIXTURE(f);
    HF_CALL(f.chatWithTools());
    HF_CALL(f.askForTheTool());
    f.pane()->approvalCard()->declineButton()->click();
    QVERIFY(spinUntil([&] { return f.finished(); }));
    QCOMPARE(f.host.calls, 0);
    QVERIFY(!f.pane()->approvalCard()->isVisible());
    QVERIFY2(f.view()->toolBlockTitle(0).endsWith(u"— declined"_s),
             qPrintable(f.view()->toolBlockTitle(0)));
    const QList<Message> stored = f.stored(f.sid);
    QCOMPARE(stored.last().toolCalls.size(), 1);
    QVERIFY(!stored.last().toolCalls.first().approved);
}

// "Always allow in this chat" saves tool_approval auto, then allows: the next call runs without
// a card.
void TestWindowTools::alwaysAllowSwitchesTheChat()
{
    ToolsFixture f;
    HF_CHECK_FIXTURE(f);
    HF_CALL(f.chatWithTools());
    HF_CALL(f.askForTheTool());
    f.pane()->approvalCard()->alwaysButton()->click();
    QVERIFY(spinUntil([&] { return f.finished(); }));
    QCOMPARE(f.host.calls, 1);
    const auto meta = test::awaitResult(f.service->session(f.sid, 1));
    QVERIFY(meta.ok());
    QCOMPARE(meta.value().meta.toolApproval, ToolApproval::Auto);
    QCOMPARE(f.pane()->meta().toolApproval, ToolApproval::Auto);
    bool asked = false;
    QTimer watch;
    QObject::connect(&watch, &QTimer::timeout,
                     [&] { asked = asked || f.pane()->approvalCard()->isVisible(); });
    watch.start(1);
    f.type(kPrompt);
    QVERIFY(spinUntil([&] { return f.host.calls == 2 && f.finished(); }));
    QVERIFY(!asked);
    QCOMPARE(f.view()->toolBlockCount(), 2);
    QVERIFY(f.view()->toolBlockTitle(1).endsWith(u"— done"_s));
}

// A call answered elsewhere (another window, the API) cannot be answered again: a short note.
void TestWindowTools::answeredElsewhereSaysSo()
{
    ToolsFixture f;
    HF_CHECK_FIXTURE(f);
    HF_CALL(f.chatWithTools());
    HF_CALL(f.askForTheTool());
    ToolApprovalCard *card = f.pane()->approvalCard();
    QSignalSpy status(f.pane(), &ChatPane::statusMessage);
    [[maybe_unused]] auto elsewhere =
        f.service->answerToolCall(f.sid, card->turn(), card->callId(), false);
    card->allowButton()->click();
    QVERIFY(spinUntil([&] { return f.finished(); }));
    QVERIFY2(card->note().contains(u"no longer waits"_s), qPrintable(card->note()));
    bool said = false;
    for (const auto &args : status)
        said = said || args.first().toString().contains(u"no longer waits"_s);
    QVERIFY(said);
    QCOMPARE(f.host.calls, 0); // the first answer (decline) counted
}

// With --connect: the real binary with a real MCP server (tests/mcp/testserver.mjs over stdio),
// the window on it over HTTP and SSE: the menu lists the server's tools, the card asks, Allow
// once answers with POST …/tool-calls/{id}.
void TestWindowTools::remoteWindowAsksToo()
{
    const QString binary = qEnvironmentVariable("HOLDFAST_BINARY");
    if (binary.isEmpty() || !QFile::exists(binary))
        QSKIP("HOLDFAST_BINARY is not set (run through ctest)");
    const QString node = QStandardPaths::findExecutable(u"node"_s);
    QVERIFY2(!node.isEmpty(), "node is not installed (scripts/deps.sh)");
    const QString config = m_home.filePath(u"remote-mcp.json"_s);
    {
        QFile out(config);
        QVERIFY(out.open(QIODevice::WriteOnly));
        const QJsonObject server{{u"command"_s, node},
                                 {u"args"_s, QJsonArray{QStringLiteral(HOLDFAST_MCP_TEST_SERVER)}}};
        out.write(QJsonDocument(QJsonObject{{u"mcpServers"_s, QJsonObject{{u"odd"_s, server}}}})
                      .toJson());
    }
    QProcess server;
    server.setProgram(binary);
    server.setArguments({u"--headless"_s, u"--listen"_s, u"127.0.0.1:0"_s, u"--store"_s,
                         u"memory:"_s, u"--demo-chunks"_s, u"6"_s, u"--demo-delay-ms"_s, u"5"_s,
                         u"--token"_s, u"s3cret"_s, u"--mcp-config"_s, config});
    server.setProcessChannelMode(QProcess::SeparateChannels);
    server.start();
    QVERIFY(server.waitForStarted());
    const auto stop = qScopeGuard([&] {
        server.terminate();
        server.waitForFinished(10000);
    });
    QVERIFY(spinUntil([&] { return server.canReadLine(); }, 15000));
    const QString line = QString::fromUtf8(server.readLine()).trimmed();
    QVERIFY2(line.startsWith(u"listening on http://"_s), qPrintable(line));
    const QUrl url(line.section(u' ', 2));

    QVERIFY(test::forgetLastChat()); // the earlier tests' chats are not on this server
    MainWindow window;
    auto *client = new RemoteClient(url, u"s3cret"_s, &window);
    window.setClient(client);
    window.resize(1000, 700);
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    HF_AWAIT(created, client->createSession({}));
    QVERIFY(created && created->ok());
    const QString sid = (*created)->meta.id;
    ChatPane *pane = window.chatPane();
    pane->openSession(sid);
    QVERIFY(spinUntil([&] { return pane->sessionId() == sid; }));
    ToolsButton *button = pane->toolsButton();
    QAction *grow = nullptr;
    QVERIFY(spinUntil([&] { // the server starts with the service: its tools once it is ready
        button->refresh();
        grow = findAction(button->toolsMenu(), u"odd/grow"_s);
        return grow && grow->isEnabled();
    }));
    grow->setChecked(true);
    QVERIFY(spinUntil([&] { return pane->meta().tools == QStringList{u"odd/grow"_s}; }));
    pane->composer()->setFocus();
    QTest::keyClicks(pane->composer(), u"Grow it: use odd/grow with {}"_s);
    QTest::keyClick(pane->composer(), Qt::Key_Return);
    QVERIFY(spinUntil([&] { return pane->approvalCard()->isVisible(); }));
    QVERIFY(pane->approvalCard()->titleText().contains(u"odd/grow"_s));
    pane->approvalCard()->allowButton()->click();
    QVERIFY(spinUntil([&] { return !pane->isGenerating() && !pane->view()->answering(); }));
    QVERIFY(!pane->approvalCard()->isVisible());
    QCOMPARE(pane->view()->toolBlockCount(), 1);
    QVERIFY2(pane->view()->toolBlockTitle(0).endsWith(u"— done"_s),
             qPrintable(pane->view()->toolBlockTitle(0)));
    QVERIFY(pane->view()->lastAnswerText().contains(u"grown"_s));
}

void TestWindowTools::cardScreenshots_data()
{
    QTest::addColumn<bool>("dark");
    QTest::addRow("light") << false;
    QTest::addRow("dark") << true;
}

void TestWindowTools::cardScreenshots()
{
    QFETCH(bool, dark);
    const QPalette original = QApplication::palette();
    if (dark)
        QApplication::setPalette(test::darkPalette());
    const auto restore = qScopeGuard([&] { QApplication::setPalette(original); });
    ToolsFixture f;
    HF_CHECK_FIXTURE(f);
    HF_CALL(f.chatWithTools());
    HF_CALL(f.askForTheTool());
    QTest::qWait(50);
    const QString card = shotsDir() + (dark ? u"/toolcard-dark.png"_s : u"/toolcard-light.png"_s);
    QVERIFY(f.window->grab().save(card));
    qInfo("screenshot: %s", qPrintable(card));
    f.pane()->approvalCard()->allowButton()->click();
    QVERIFY(spinUntil([&] { return f.finished(); }));
    f.view()->setToolBlockExpanded(0, true);
    QTest::qWait(50);
    const QString done = shotsDir() + (dark ? u"/tooldone-dark.png"_s : u"/tooldone-light.png"_s);
    QVERIFY(f.window->grab().save(done));
    qInfo("screenshot: %s", qPrintable(done));
}

void TestWindowTools::mcpCheck_data()
{
    QTest::addColumn<QByteArray>("json");
    QTest::addColumn<QString>("error"); // a part of the message, "" for valid
    QTest::addColumn<int>("servers");
    QTest::addRow("empty file") << QByteArray() << QString() << 0;
    QTest::addRow("stdio") << R"({"mcpServers": {"fs": {"command": "npx", "args": ["-y", "x"],
        "env": {"A": "1"}}}})"_ba
                           << QString() << 1;
    QTest::addRow("http") << R"({"mcpServers": {"web": {"url": "http://localhost:1/mcp",
        "headers": {"Authorization": "Bearer x"}}, "fs": {"command": "x"}}})"_ba
                          << QString() << 2;
    QTest::addRow("syntax") << "{\n\"mcpServers\": {\n\"fs\": {\"command\": \"npx\",}\n}}"_ba
                            << u"Line 3"_s << 0;
    QTest::addRow("no mcpServers") << R"({"servers": {}})"_ba << u"mcpServers"_s << 0;
    QTest::addRow("neither command nor url")
        << R"({"mcpServers": {"fs": {"args": []}}})"_ba << u"\"fs\" needs either"_s << 0;
    QTest::addRow("args not strings")
        << R"({"mcpServers": {"fs": {"command": "x", "args": [1]}}})"_ba << u"args"_s << 0;
    QTest::addRow("env not strings")
        << R"({"mcpServers": {"fs": {"command": "x", "env": {"A": 1}}}})"_ba << u"env"_s << 0;
}

void TestWindowTools::mcpCheck()
{
    QFETCH(QByteArray, json);
    QFETCH(QString, error);
    QFETCH(int, servers);
    int counted = -1;
    const QString said = McpServersDialog::check(json, &counted);
    if (error.isEmpty()) {
        QVERIFY2(said.isEmpty(), qPrintable(said));
        QCOMPARE(counted, servers);
    } else {
        QVERIFY2(said.contains(error), qPrintable(said));
    }
}

// The dialog shows mcp.json and the servers' state (the broken one's stderr too); an invalid
// text cannot be saved, a valid one is written.
void TestWindowTools::mcpDialogEditsTheFile()
{
    test::Fixture f;
    HF_CHECK_FIXTURE(f);
    NotesHost host;
    f.service->setToolHost(&host);
    const QString file = m_home.filePath(u"config/holdfast/mcp.json"_s);
    QDir().mkpath(QFileInfo(file).absolutePath());
    {
        QFile out(file);
        QVERIFY(out.open(QIODevice::WriteOnly));
        out.write(R"({"mcpServers": {"notes": {"command": "notes-server"}}})");
    }
    McpServersDialog dialog(file, f.client, f.window.get());
    dialog.show();
    QVERIFY(spinUntil([&] { return dialog.isLoaded(); })); // it may have been before show()
    QVERIFY(dialog.editor()->toPlainText().contains(u"notes-server"_s));
    QVERIFY(dialog.saveButton()->isEnabled());
    const QString status = dialog.serverStatus()->toPlainText();
    QVERIFY2(status.contains(u"broken — error: the process exited with code 1"_s),
             qPrintable(status));
    QVERIFY(status.contains(u"Cannot find module 'left-pad'"_s));
    QVERIFY(status.contains(u"notes — ready, 2 tools"_s));
    QVERIFY(status.contains(u"later — starting"_s));
    dialog.editor()->setPlainText(u"{\"mcpServers\": {\"notes\": }"_s);
    QVERIFY(!dialog.saveButton()->isEnabled());
    QVERIFY(dialog.checkLabel()->text().contains(u"Line 1"_s));
    const QByteArray valid =
        R"({"mcpServers": {"fs": {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-filesystem", "/tmp"]}}})";
    dialog.editor()->setPlainText(QString::fromUtf8(valid));
    QVERIFY(dialog.saveButton()->isEnabled());
    QSignalSpy saved(&dialog, &McpServersDialog::saved);
    dialog.saveButton()->click();
    QVERIFY(spinUntil([&] { return saved.size() == 1; })); // it may be written at once
    QCOMPARE(saved.first().first().toBool(), true);
    QFile in(file);
    QVERIFY(in.open(QIODevice::ReadOnly));
    QCOMPARE(in.readAll(), valid);
    QVERIFY(dialog.grab().save(shotsDir() + u"/mcpservers.png"_s));
}

QTEST_MAIN(TestWindowTools)
#include "tst_windowtools.moc"
