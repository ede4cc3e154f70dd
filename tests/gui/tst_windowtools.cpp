// Tools in the window (issue 24): the chat's tools menu, the approval card, the tool blocks of
// live and stored answers, and the MCP servers dialog; the in-process service with the demo model
// and a ToolHost of the test's own (a notes server that answers, a broken one with its stderr).
#include "darkpalette.h"
#include "windowfixture.h"

#include "core/tools.h"
#include "gui/liveturns.h"
#include "gui/mcpserversdialog.h"
#include "gui/toolapprovalcard.h"
#include "gui/toolsbutton.h"

#include <QDir>
#include <QFile>
#include <QJsonObject>
#include <QLabel>
#include <QMenu>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSignalSpy>

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
    QSignalSpy loaded(&dialog, &McpServersDialog::loaded);
    dialog.show();
    QVERIFY(loaded.wait());
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
    QVERIFY(saved.wait());
    QCOMPARE(saved.first().first().toBool(), true);
    QFile in(file);
    QVERIFY(in.open(QIODevice::ReadOnly));
    QCOMPARE(in.readAll(), valid);
    QVERIFY(dialog.grab().save(shotsDir() + u"/mcpservers.png"_s));
}

QTEST_MAIN(TestWindowTools)
#include "tst_windowtools.moc"
