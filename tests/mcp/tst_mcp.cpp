// src/mcp against real servers: mcp.json's notation, the stdio transport, the client's protocol
// (handshake, versions, paging, list_changed, calls, errors, timeouts, cancellation, the server's
// own requests) and the hub (on-demand start, states, restart after a death, stderr tail, stop).
// The reference servers come from npm (the fixture mcp_servers_install); testserver.mjs plays the
// cases they do not show.
#include "fakes/holdfastprocess.h"
#include "fakes/mcpservers.h"
#include "fakes/testutil.h"
#include "mcp/mcpclient.h"
#include "mcp/mcpconfig.h"
#include "mcp/mcphub.h"
#include "mcp/stdiotransport.h"
#include "mcptestutil.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QRegularExpression>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>

#include <signal.h>

using namespace holdfast;
using namespace holdfast::test;
using namespace Qt::StringLiterals;

class TestMcp : public QObject
{
    Q_OBJECT

private:
    std::unique_ptr<mcp::Client> client(const mcp::ServerConfig &config)
    {
        return std::make_unique<mcp::Client>(std::make_unique<mcp::StdioTransport>(config));
    }
    // server-everything takes a second or two to start: the client tests share one, with an
    // environment variable from "mcp.json" (environmentFromConfig).
    void startEverything()
    {
        if (!m_everything) {
            mcp::ServerConfig config = m_servers.everything();
            config.env.insert(QStringLiteral("HOLDFAST_MCP_TEST_VALUE"),
                              QStringLiteral("from-mcp-json"));
            m_everything = client(config);
            HF_AWAIT(started, m_everything->initialize(kStartMs));
            QVERIFY2(started->ok(),
                     qPrintable(started->ok() ? QString() : started->error().message));
        }
        QVERIFY(m_everything->ready());
    }
    McpServers m_servers;
    std::unique_ptr<mcp::Client> m_everything;

private Q_SLOTS:
    void cleanupTestCase();
    void parseConfig_data();
    void parseConfig();
    void parseConfigFields();
    void loadConfig();
    void handshakeAndTools();
    void callEcho();
    void callErrors();
    void contentDescribed();
    void environmentFromConfig();
    void versionNegotiation_data();
    void versionNegotiation();
    void pagingAndListChanged();
    void serverRequests();
    void timeoutSendsCancelled();
    void cancelSendsCancelled();
    void hubStartsOnDemand();
    void hubServerDiesAndRestarts();
    void hubListChanged();
    void hubNotReady();
    void headlessStartsAndStopsServers();
    void headlessRefusesBadConfig();
};

void TestMcp::cleanupTestCase()
{
    if (m_everything) {
        HF_CALL(stopClient(m_everything.get()));
        QVERIFY(!m_everything->ready());
    }
}

void TestMcp::parseConfig_data()
{
    QTest::addColumn<QByteArray>("json");
    QTest::addColumn<int>("servers"); // -1: an error
    QTest::addColumn<QString>("error");

    QTest::addRow("readme stdio") << QByteArray(R"({"mcpServers": {"files": {"command": "npx",
        "args": ["-y", "@modelcontextprotocol/server-filesystem", "/home/me/notes"]}}})")
                                  << 1 << QString();
    QTest::addRow("env") << QByteArray(R"({"mcpServers": {"gh": {"command": "gh-mcp",
        "env": {"TOKEN": "x"}}}})")
                         << 1 << QString();
    QTest::addRow("http") << QByteArray(R"({"mcpServers": {"remote": {"url":
        "https://example.com/mcp", "headers": {"Authorization": "Bearer x"}}}})")
                          << 1 << QString();
    QTest::addRow("type stdio (Cursor)") << QByteArray(R"({"mcpServers": {"a": {"type": "stdio",
        "command": "a"}}})") << 1 << QString();
    QTest::addRow("type http (Claude)") << QByteArray(R"({"mcpServers": {"a": {"type": "http",
        "url": "http://localhost:1/mcp"}}})")
                                        << 1 << QString();
    QTest::addRow("type streamable-http") << QByteArray(R"({"mcpServers": {"a": {"type":
        "streamable-http", "url": "http://localhost:1/mcp"}}})")
                                          << 1 << QString();
    QTest::addRow("transport key") << QByteArray(R"({"mcpServers": {"a": {"transport": "stdio",
        "command": "a"}}})") << 1 << QString();
    QTest::addRow("unknown keys ignored") << QByteArray(R"({"mcpServers": {"a": {"command": "a",
        "alwaysAllow": [], "autoApprove": ["x"], "disabled": false, "timeout": 60}}})")
                                          << 1 << QString();
    QTest::addRow("disabled entry") << QByteArray(R"({"mcpServers": {"a": {"command": "a"},
        "b": {"command": "b", "disabled": true}}})")
                                    << 1 << QString();
    QTest::addRow("several") << QByteArray(R"({"mcpServers": {"b": {"command": "b"},
        "a": {"url": "https://a.example/mcp"}}})")
                             << 2 << QString();
    QTest::addRow("empty file") << QByteArray("  \n") << 0 << QString();
    QTest::addRow("no servers") << QByteArray("{}") << 0 << QString();

    QTest::addRow("not json") << QByteArray("{\"mcpServers\": ") << -1 << "not JSON";
    QTest::addRow("array") << QByteArray("[]") << -1 << "must be an object";
    QTest::addRow("mcpServers array")
        << QByteArray(R"({"mcpServers": []})") << -1 << "\"mcpServers\" must be an object";
    QTest::addRow("entry not object")
        << QByteArray(R"({"mcpServers": {"a": "npx"}})") << -1 << "server \"a\": must be an object";
    QTest::addRow("neither") << QByteArray(R"({"mcpServers": {"a": {"args": []}}})") << -1
                             << "server \"a\": needs \"command\"";
    QTest::addRow("both") << QByteArray(R"({"mcpServers": {"a": {"command": "x",
        "url": "https://x.example"}}})")
                          << -1 << "both \"command\"";
    QTest::addRow("args not strings") << QByteArray(R"({"mcpServers": {"a": {"command": "x",
        "args": [1]}}})") << -1 << "\"args\" must be an array of strings";
    QTest::addRow("env not strings") << QByteArray(R"({"mcpServers": {"a": {"command": "x",
        "env": {"N": 1}}}})") << -1 << "the value of \"N\" must be a string";
    QTest::addRow("headers not object") << QByteArray(R"({"mcpServers": {"a": {"url":
        "https://x.example", "headers": []}}})")
                                        << -1 << "\"headers\" must be an object";
    QTest::addRow("slash in name") << QByteArray(R"({"mcpServers": {"a/b": {"command": "x"}}})")
                                   << -1 << "server \"a/b\": a server name may not contain '/'";
    QTest::addRow("star name") << QByteArray(R"({"mcpServers": {"*": {"command": "x"}}})") << -1
                               << "server \"*\"";
    QTest::addRow("empty name") << QByteArray(R"({"mcpServers": {"": {"command": "x"}}})") << -1
                                << "empty name";
    QTest::addRow("empty command") << QByteArray(R"({"mcpServers": {"a": {"command": " "}}})") << -1
                                   << "\"command\" must be a non-empty string";
    QTest::addRow("ftp url") << QByteArray(R"({"mcpServers": {"a": {"url": "ftp://x/y"}}})") << -1
                             << "http:// or https://";
    QTest::addRow("type sse") << QByteArray(R"({"mcpServers": {"a": {"type": "sse",
        "url": "https://x.example/sse"}}})")
                              << -1 << "is not supported";
    QTest::addRow("type unknown") << QByteArray(R"({"mcpServers": {"a": {"type": "ws",
        "url": "https://x.example"}}})")
                                  << -1 << "\"type\" must be \"stdio\" or \"http\"";
    QTest::addRow("http type with command") << QByteArray(R"({"mcpServers": {"a": {"type":
        "http", "command": "x"}}})") << -1 << "is of type http";
}

void TestMcp::parseConfig()
{
    QFETCH(QByteArray, json);
    QFETCH(int, servers);
    QFETCH(QString, error);
    const auto parsed = mcp::parseConfig(json);
    if (servers < 0) {
        QVERIFY(!parsed.ok());
        QCOMPARE(parsed.error().code, ErrorCode::Invalid);
        QVERIFY2(parsed.error().message.contains(error), qPrintable(parsed.error().message));
    } else {
        QVERIFY2(parsed.ok(), qPrintable(parsed.ok() ? QString() : parsed.error().message));
        QCOMPARE(parsed->size(), servers);
    }
}

void TestMcp::parseConfigFields()
{
    const auto parsed = mcp::parseConfig(R"({"mcpServers": {
        "files": {"command": "npx", "args": ["-y", "pkg", "/home/me/notes"], "env": {"A": "1"}},
        "remote": {"url": "https://example.com/mcp", "headers": {"Authorization": "Bearer t"}}}})");
    QVERIFY(parsed.ok());
    QCOMPARE(parsed->size(), 2);
    const mcp::ServerConfig files = parsed->at(0);
    QCOMPARE(files.name, QStringLiteral("files"));
    QCOMPARE(files.command, QStringLiteral("npx"));
    QCOMPARE(files.args, (QStringList{u"-y"_s, u"pkg"_s, u"/home/me/notes"_s}));
    QCOMPARE(files.env.value(QStringLiteral("A")), QStringLiteral("1"));
    QVERIFY(!files.isHttp());
    const mcp::ServerConfig remote = parsed->at(1);
    QCOMPARE(remote.name, QStringLiteral("remote"));
    QVERIFY(remote.isHttp());
    QCOMPARE(remote.url, QStringLiteral("https://example.com/mcp"));
    QCOMPARE(remote.headers.value(QStringLiteral("Authorization")), QStringLiteral("Bearer t"));
}

void TestMcp::loadConfig()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const auto missing = mcp::loadConfig(dir.filePath(QStringLiteral("none.json")));
    QVERIFY(missing.ok());
    QVERIFY(missing->isEmpty());

    const QString path = dir.filePath(QStringLiteral("mcp.json"));
    QFile file(path);
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write(R"({"mcpServers": {"bad/name": {"command": "x"}}})");
    file.close();
    const auto bad = mcp::loadConfig(path);
    QVERIFY(!bad.ok());
    QVERIFY2(bad.error().message.startsWith(path), qPrintable(bad.error().message));
    QVERIFY(bad.error().message.contains(QStringLiteral("bad/name")));
}

void TestMcp::handshakeAndTools()
{
    HF_CHECK_FIXTURE(m_servers);
    HF_CALL(startEverything());
    mcp::Client *c = m_everything.get();
    QVERIFY2(mcp::Client::supportedProtocolVersions().contains(c->protocolVersion()),
             qPrintable(c->protocolVersion()));
    const QList<mcp::Tool> tools = c->tools();
    const auto echo = std::find_if(tools.cbegin(), tools.cend(),
                                   [](const mcp::Tool &t) { return t.name == u"echo"; });
    QVERIFY2(echo != tools.cend(), qPrintable(toolNames(tools).join(u' ')));
    QVERIFY(!echo->description.isEmpty());
    QCOMPARE(echo->inputSchema.value(QLatin1String("type")).toString(), QStringLiteral("object"));
    QVERIFY(echo->inputSchema.value(QLatin1String("properties")).toObject().contains(u"message"));
}

void TestMcp::callEcho()
{
    HF_CHECK_FIXTURE(m_servers);
    HF_CALL(startEverything());
    mcp::Client *c = m_everything.get();
    HF_AWAIT(outcome, c->callTool(QStringLiteral("echo"), object(R"({"message": "hi there"})"),
                                  10000, nullptr));
    QCOMPARE(outcome->content, QStringLiteral("Echo: hi there"));
    QVERIFY(!outcome->isError);
}

void TestMcp::callErrors()
{
    HF_CHECK_FIXTURE(m_servers);
    HF_CALL(startEverything());
    mcp::Client *c = m_everything.get();
    // An unknown tool and a tool's own error are results with isError, never failures.
    HF_AWAIT(unknown, c->callTool(QStringLiteral("no-such-tool"), {}, 10000, nullptr));
    QVERIFY(unknown->isError);
    QVERIFY2(unknown->content.contains(QStringLiteral("no-such-tool")),
             qPrintable(unknown->content));
    HF_AWAIT(invalid,
             c->callTool(QStringLiteral("get-sum"), object(R"({"a": "x"})"), 10000, nullptr));
    QVERIFY(invalid->isError);
    QVERIFY(!invalid->content.isEmpty());

    // A JSON-RPC error is an error outcome too (testserver answers unknown tools with one).
    const auto t = client(m_servers.nodeScript(QStringLiteral("t"), kTestServer, {}));
    HF_AWAIT_OK(t->initialize(kStartMs));
    HF_AWAIT(rpc, t->callTool(QStringLiteral("nope"), {}, 10000, nullptr));
    QVERIFY(rpc->isError);
    QCOMPARE(rpc->content, QStringLiteral("MCP error -32602: no tool nope"));
    HF_CALL(stopClient(t.get()));
}

void TestMcp::contentDescribed()
{
    HF_CHECK_FIXTURE(m_servers);
    const auto t = client(m_servers.nodeScript(QStringLiteral("t"), kTestServer, {}));
    HF_AWAIT_OK(t->initialize(kStartMs));
    HF_AWAIT(outcome, t->callTool(QStringLiteral("mixed"), {}, 10000, nullptr));
    QCOMPARE(outcome->content, QStringLiteral("first\n[image image/png, 5 bytes]\n"
                                              "[resource file:///tmp/x.txt]\n"
                                              "[resource file:///tmp/y.txt]\ninside\nlast"));
    QVERIFY(outcome->isError); // the result's own isError
    HF_CALL(stopClient(t.get()));

    HF_CALL(startEverything());
    mcp::Client *c = m_everything.get();
    HF_AWAIT(image, c->callTool(QStringLiteral("get-tiny-image"), {}, 10000, nullptr));
    QVERIFY(!image->isError);
    QVERIFY2(image->content.contains(QStringLiteral("[image image/png, ")),
             qPrintable(image->content));
}

void TestMcp::environmentFromConfig()
{
    HF_CHECK_FIXTURE(m_servers);
    HF_CALL(startEverything()); // its config sets HOLDFAST_MCP_TEST_VALUE
    mcp::Client *c = m_everything.get();
    HF_AWAIT(outcome, c->callTool(QStringLiteral("get-env"), {}, 10000, nullptr));
    QVERIFY(!outcome->isError);
    const QJsonObject env = QJsonDocument::fromJson(outcome->content.toUtf8()).object();
    QCOMPARE(env.value(u"HOLDFAST_MCP_TEST_VALUE").toString(), QStringLiteral("from-mcp-json"));
    // ... on top of Holdfast's own environment.
    QCOMPARE(env.value(u"PATH").toString(), qEnvironmentVariable("PATH"));
}

void TestMcp::versionNegotiation_data()
{
    QTest::addColumn<QString>("answer");
    QTest::addColumn<bool>("accepted");
    QTest::addRow("2024-11-05") << QStringLiteral("2024-11-05") << true;
    QTest::addRow("2025-03-26") << QStringLiteral("2025-03-26") << true;
    QTest::addRow("2025-06-18") << QStringLiteral("2025-06-18") << true;
    QTest::addRow("unknown") << QStringLiteral("1999-01-01") << false;
}

void TestMcp::versionNegotiation()
{
    QFETCH(QString, answer);
    QFETCH(bool, accepted);
    HF_CHECK_FIXTURE(m_servers);
    const auto t = client(m_servers.nodeScript(QStringLiteral("t"), kTestServer,
                                               {QStringLiteral("--version"), answer}));
    HF_AWAIT(started, t->initialize(kStartMs));
    QCOMPARE(started->ok(), accepted);
    if (accepted) {
        QCOMPARE(t->protocolVersion(), answer);
        HF_CALL(stopClient(t.get()));
    } else {
        QVERIFY2(started->error().message.contains(answer), qPrintable(started->error().message));
        QVERIFY(!t->ready());
        // The client stopped the server itself.
        QVERIFY(test::spinUntil([&t] { return processIdOf(t.get()) == 0; }, 10000));
    }
}

void TestMcp::pagingAndListChanged()
{
    HF_CHECK_FIXTURE(m_servers);
    const auto t = client(m_servers.nodeScript(QStringLiteral("t"), kTestServer, {}));
    // testserver writes a line that is not JSON first: it is skipped, the handshake goes on.
    HF_AWAIT_OK(t->initialize(kStartMs));
    // Five tools in pages of two: all of them, in order.
    QCOMPARE(toolNames(t->tools()),
             (QStringList{u"hang"_s, u"die"_s, u"grow"_s, u"ping"_s, u"mixed"_s}));
    QSignalSpy changed(t.get(), &mcp::Client::toolsChanged);
    HF_AWAIT(grown, t->callTool(QStringLiteral("grow"), {}, 10000, nullptr));
    QCOMPARE(grown->content, QStringLiteral("grown"));
    QVERIFY(changed.count() > 0 || changed.wait(10000));
    QCOMPARE(toolNames(t->tools()).last(), QStringLiteral("extra5"));
    QCOMPARE(t->tools().size(), 6);
    HF_CALL(stopClient(t.get()));
}

void TestMcp::serverRequests()
{
    HF_CHECK_FIXTURE(m_servers);
    const auto t = client(m_servers.nodeScript(QStringLiteral("t"), kTestServer, {}));
    HF_AWAIT_OK(t->initialize(kStartMs));
    // The server pings us (answered with {}) and asks for sampling (method not found).
    HF_AWAIT(outcome, t->callTool(QStringLiteral("ping"), {}, 10000, nullptr));
    const QJsonArray answers = QJsonDocument::fromJson(outcome->content.toUtf8()).array();
    QCOMPARE(answers.size(), 2);
    QVERIFY2(answers.contains(QJsonValue(object(R"({"result": {}})"))),
             qPrintable(outcome->content));
    QVERIFY2(answers.contains(QJsonValue(object(R"({"error": -32601})"))),
             qPrintable(outcome->content));
    HF_CALL(stopClient(t.get()));
}

void TestMcp::timeoutSendsCancelled()
{
    HF_CHECK_FIXTURE(m_servers);
    const auto t = client(m_servers.nodeScript(QStringLiteral("t"), kTestServer, {}));
    HF_AWAIT_OK(t->initialize(kStartMs));
    QStringList stderrLines;
    connect(t.get(), &mcp::Client::stderrLine, this, [&](const QString &l) { stderrLines << l; });
    HF_AWAIT(outcome, t->callTool(QStringLiteral("hang"), {}, 300, nullptr));
    QVERIFY(outcome->isError);
    QVERIFY2(outcome->content.contains(QStringLiteral("300 ms")), qPrintable(outcome->content));
    QVERIFY2(
        test::spinUntil(
            [&] { return stderrLines.filter(QStringLiteral("testserver: cancelled")).size() == 1; },
            10000),
        qPrintable(stderrLines.join(u'\n')));
    QVERIFY(stderrLines.filter(QStringLiteral("cancelled")).first().contains(u"(timed out)"));
    // The client goes on working after a timed-out call.
    HF_AWAIT(grown, t->callTool(QStringLiteral("grow"), {}, 10000, nullptr));
    QCOMPARE(grown->content, QStringLiteral("grown"));
    HF_CALL(stopClient(t.get()));
}

void TestMcp::cancelSendsCancelled()
{
    HF_CHECK_FIXTURE(m_servers);
    const auto t = client(m_servers.nodeScript(QStringLiteral("t"), kTestServer, {}));
    HF_AWAIT_OK(t->initialize(kStartMs));
    QStringList stderrLines;
    connect(t.get(), &mcp::Client::stderrLine, this, [&](const QString &l) { stderrLines << l; });
    ToolCallCancel cancel;
    QTimer::singleShot(100, &cancel, &ToolCallCancel::cancel);
    HF_AWAIT(outcome, t->callTool(QStringLiteral("hang"), {}, 60000, &cancel));
    QVERIFY(outcome->isError);
    QCOMPARE(outcome->content, QStringLiteral("the tool call was cancelled"));
    QVERIFY2(
        test::spinUntil(
            [&] {
                return !stderrLines.filter(QStringLiteral("(cancelled by the user)")).isEmpty();
            },
            10000),
        qPrintable(stderrLines.join(u'\n')));
    // A cancel that fired before the call: no request at all.
    HF_AWAIT(again, t->callTool(QStringLiteral("grow"), {}, 10000, &cancel));
    QVERIFY(again->isError);
    QCOMPARE(t->tools().size(), 5);
    HF_CALL(stopClient(t.get()));
}

void TestMcp::hubStartsOnDemand()
{
    HF_CHECK_FIXTURE(m_servers);
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    // The server sees the folder by its real path (QTemporaryDir may sit under a symlink).
    const QString root = QFileInfo(dir.path()).canonicalFilePath();
    QFile note(root + QStringLiteral("/note.txt"));
    QVERIFY(note.open(QIODevice::WriteOnly));
    note.write("remember the milk\n");
    note.close();
    mcp::Hub hub;
    hub.setServers(
        {m_servers.filesystem(root), m_servers.nodeScript(QStringLiteral("t"), kTestServer, {})});
    QVERIFY(hub.hasServer(QStringLiteral("files")));
    QVERIFY(!hub.hasServer(QStringLiteral("x")));
    QCOMPARE(serverInfo(hub, QStringLiteral("files")).state, ToolServerInfo::State::Starting);
    QVERIFY(hub.list().tools.isEmpty());
    HF_AWAIT(none, hub.toolsFor({}));
    QVERIFY(none->isEmpty());
    QVERIFY(!hub.client(QStringLiteral("files"))); // nothing asked for: nothing started

    // Only the servers a turn may use start; it waits for their handshake.
    HF_AWAIT(tools,
             hub.toolsFor({QStringLiteral("files/list_directory"),
                           QStringLiteral("files/read_text_file"), QStringLiteral("files/nope")}));
    QCOMPARE(tools->size(), 2);
    QCOMPARE(tools->first().name, QStringLiteral("files/read_text_file"));
    QCOMPARE(serverInfo(hub, QStringLiteral("files")).state, ToolServerInfo::State::Ready);
    QVERIFY(!hub.client(QStringLiteral("t")));
    QVERIFY2(serverInfo(hub, QStringLiteral("files"))
                 .stderrTail.contains(QStringLiteral("Secure MCP Filesystem Server running")),
             qPrintable(serverInfo(hub, QStringLiteral("files")).stderrTail));

    HF_AWAIT(all, hub.toolsFor({QStringLiteral("*")}));
    const auto has = [&all](const char16_t *name) {
        return std::any_of(all->cbegin(), all->cend(),
                           [name](const ToolInfo &i) { return i.name == name; });
    };
    QVERIFY(has(u"t/hang"));
    QVERIFY(has(u"files/write_file"));
    QCOMPARE(hub.list().tools.size(), all->size());

    // server-filesystem on the temporary folder: list it, read the note.
    QJsonObject args;
    args.insert(QLatin1String("path"), root);
    HF_AWAIT(listing, hub.call(QStringLiteral("files/list_directory"), args, 10000, nullptr));
    QVERIFY2(!listing->isError, qPrintable(listing->content));
    QVERIFY2(listing->content.contains(QStringLiteral("[FILE] note.txt")),
             qPrintable(listing->content));
    args.insert(QLatin1String("path"), note.fileName());
    HF_AWAIT(read, hub.call(QStringLiteral("files/read_text_file"), args, 10000, nullptr));
    QVERIFY2(!read->isError, qPrintable(read->content));
    QCOMPARE(read->content, QStringLiteral("remember the milk\n"));
    // Outside the allowed folder: the server's error, as a result.
    args.insert(QLatin1String("path"), QStringLiteral("/etc/hostname"));
    HF_AWAIT(outside, hub.call(QStringLiteral("files/read_text_file"), args, 10000, nullptr));
    QVERIFY(outside->isError);

    HF_AWAIT(unknown, hub.call(QStringLiteral("x/echo"), {}, 10000, nullptr));
    QVERIFY(unknown->isError);
    QVERIFY(unknown->content.contains(QStringLiteral("\"x\"")));
    HF_CALL(stopHub(&hub));
    QVERIFY(!hub.client(QStringLiteral("files")));
}

void TestMcp::hubServerDiesAndRestarts()
{
    HF_CHECK_FIXTURE(m_servers);
    mcp::Hub hub;
    hub.setServers({m_servers.nodeScript(QStringLiteral("t"), kTestServer, {})});
    hub.startAll();
    QVERIFY(test::spinUntil([&] {
        return serverInfo(hub, QStringLiteral("t")).state == ToolServerInfo::State::Ready;
    }));
    const qint64 pid = processIdOf(hub.client(QStringLiteral("t")));
    QVERIFY(pid > 0);
    // A call in flight when the server is killed ends with an error outcome.
    auto call = hub.call(QStringLiteral("t/hang"), {}, 60000, nullptr);
    QTimer::singleShot(200, [pid] { ::kill(pid_t(pid), SIGKILL); });
    HF_AWAIT(outcome, std::move(call));
    QVERIFY(outcome->isError);
    QVERIFY2(outcome->content.contains(QStringLiteral("crashed")), qPrintable(outcome->content));
    const ToolServerInfo died = serverInfo(hub, QStringLiteral("t"));
    QCOMPARE(died.state, ToolServerInfo::State::Error);
    QVERIFY2(died.error.contains(QStringLiteral("restarting in 1 s")), qPrintable(died.error));
    QVERIFY(hub.list().tools.isEmpty());
    HF_AWAIT(meanwhile, hub.call(QStringLiteral("t/grow"), {}, 1000, nullptr));
    QVERIFY(meanwhile->isError);
    QVERIFY2(meanwhile->content.contains(QStringLiteral("not ready")),
             qPrintable(meanwhile->content));
    // Back after the first back-off, as a new process.
    QVERIFY(test::spinUntil([&] {
        return serverInfo(hub, QStringLiteral("t")).state == ToolServerInfo::State::Ready;
    }));
    QVERIFY(processIdOf(hub.client(QStringLiteral("t"))) != pid);
    HF_AWAIT(grown, hub.call(QStringLiteral("t/grow"), {}, 10000, nullptr));
    QCOMPARE(grown->content, QStringLiteral("grown"));

    // It dies again soon after: the back-off doubles.
    HF_AWAIT(died2, hub.call(QStringLiteral("t/die"), {}, 10000, nullptr));
    QVERIFY(died2->isError);
    QVERIFY2(died2->content.contains(QStringLiteral("code 3")), qPrintable(died2->content));
    QVERIFY2(
        serverInfo(hub, QStringLiteral("t")).error.contains(QStringLiteral("restarting in 2 s")),
        qPrintable(serverInfo(hub, QStringLiteral("t")).error));
    HF_CALL(stopHub(&hub));
    QCOMPARE(serverInfo(hub, QStringLiteral("t")).state, ToolServerInfo::State::Error);
}

void TestMcp::hubListChanged()
{
    HF_CHECK_FIXTURE(m_servers);
    mcp::Hub hub;
    hub.setServers({m_servers.nodeScript(QStringLiteral("t"), kTestServer, {})});
    HF_AWAIT(before, hub.toolsFor({QStringLiteral("*")}));
    QCOMPARE(before->size(), 5);
    QSignalSpy changed(&hub, &ToolHost::changed);
    HF_AWAIT(grown, hub.call(QStringLiteral("t/grow"), {}, 10000, nullptr));
    QVERIFY(!grown->isError);
    QVERIFY(test::spinUntil([&] { return hub.list().tools.size() == 6; }, 10000));
    QVERIFY(changed.count() > 0);
    QCOMPARE(hub.list().tools.last().name, QStringLiteral("t/extra5"));
    QVERIFY(serverInfo(hub, QStringLiteral("t")).stderrTail.contains(u"testserver: started"));
    HF_CALL(stopHub(&hub));
}

void TestMcp::hubNotReady()
{
    mcp::Hub hub;
    mcp::ServerConfig missing;
    missing.name = QStringLiteral("gone");
    missing.command = QStringLiteral("/nonexistent/mcp-server");
    hub.setServers({missing});
    HF_AWAIT(tools, hub.toolsFor({QStringLiteral("*")}));
    QVERIFY(tools->isEmpty());
    const ToolServerInfo info = serverInfo(hub, QStringLiteral("gone"));
    QCOMPARE(info.state, ToolServerInfo::State::Error);
    QVERIFY2(info.error.contains(QStringLiteral("cannot start /nonexistent/mcp-server")),
             qPrintable(info.error));
    HF_AWAIT(outcome, hub.call(QStringLiteral("gone/x"), {}, 1000, nullptr));
    QVERIFY(outcome->isError);
    QVERIFY2(outcome->content.contains(QStringLiteral("not ready")), qPrintable(outcome->content));
    HF_AWAIT_VOID(hub.stop());
}

// The real binary: --headless reads the default mcp.json, starts its servers at once, and
// stops them when it exits on SIGTERM.
void TestMcp::headlessStartsAndStopsServers()
{
    HF_CHECK_FIXTURE(m_servers);
    QTemporaryDir home;
    QVERIFY(home.isValid());
    HF_CALL(
        writeMcpJson(home.path(), {m_servers.nodeScript(QStringLiteral("t"), kTestServer, {})}));
    test::HoldfastProcess holdfast(home.path(),
                                   {QStringLiteral("--listen"), QStringLiteral("127.0.0.1:0"),
                                    QStringLiteral("--store"), QStringLiteral("memory:")});
    QVERIFY(holdfast.waitForPort() > 0);
    QString log;
    const auto logHas = [&](const QString &text) {
        log += QString::fromLocal8Bit(holdfast.process().readAllStandardError());
        return log.contains(text);
    };
    QVERIFY2(test::spinUntil([&] { return logHas(QStringLiteral("MCP server t is ready")); }),
             qPrintable(log));
    const auto match =
        QRegularExpression(QStringLiteral("testserver: started pid (\\d+)")).match(log);
    QVERIFY2(match.hasMatch(), qPrintable(log));
    const qint64 pid = match.captured(1).toLongLong();
    QVERIFY(alive(pid));
    holdfast.signal(SIGTERM);
    QVERIFY(holdfast.waitForExit());
    QCOMPARE(holdfast.process().exitStatus(), QProcess::NormalExit);
    QCOMPARE(holdfast.process().exitCode(), 0);
    QVERIFY2(test::spinUntil([pid] { return !alive(pid); }, 5000),
             "the MCP server outlived holdfast");
}

void TestMcp::headlessRefusesBadConfig()
{
    QTemporaryDir home;
    QVERIFY(home.isValid());
    HF_CALL(writeMcpJson(home.path(), {}, R"({"mcpServers": {"a/b": {"command": "x"}}})"));
    test::HoldfastProcess holdfast(home.path(),
                                   {QStringLiteral("--listen"), QStringLiteral("127.0.0.1:0"),
                                    QStringLiteral("--store"), QStringLiteral("memory:")});
    QVERIFY(holdfast.waitForExit());
    QCOMPARE(holdfast.process().exitCode(), 2);
    const QString err = QString::fromLocal8Bit(holdfast.process().readAllStandardError());
    QVERIFY2(err.contains(QStringLiteral("mcp.json: server \"a/b\"")), qPrintable(err));
}

HOLDFAST_TEST_MAIN(TestMcp)
#include "tst_mcp.moc"
