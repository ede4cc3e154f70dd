// shared/API.md, Tools (MCP), over real sockets: GET /v1/tools, a session's tools and
// tool_approval, a turn's tools, approvals (ask, decline, timeout, auto), tool-call answers and
// their errors, tool steps in /chunks and as events (resumed in the middle of a round), the
// answer's tool_calls, and both wire formats through the fake model server. The tools are the
// reference MCP servers from npm (server-everything, server-filesystem) behind the real Hub.
#include "fakes/fakemodelserver.h"
#include "fakes/httpserverfixture.h"
#include "fakes/mcpservers.h"
#include "mcp/mcphub.h"
#include "provider/ollamaprovider.h"
#include "provider/openaiprovider.h"

#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QJsonArray>
#include <QLoggingCategory>
#include <QTemporaryDir>
#include <QTest>

using namespace holdfast;
using test::FakeModelServer;
using test::HttpReply;
using test::spinUntil;
using test::SseReader;
using test::turnPath;

namespace {
using Server = test::HttpServerFixture;
using ServerSetup = test::HttpServerSetup;

const QString kDeclined = QStringLiteral("the user declined this tool call");
const QString kEcho = QStringLiteral("everything/echo");

// The demo model's prompt that calls everything/echo with {"message": message}.
QString echoPrompt(const QString &message)
{
    return QStringLiteral("use everything/echo with {\"message\": \"%1\"}").arg(message);
}

// The reference MCP servers behind one Hub for the whole suite (starting node costs a second or
// two): server-everything as "everything", server-filesystem as "files" on a temporary folder
// holding notes.txt, and "broken", a server whose program does not exist (in `error`).
struct McpSetup
{
    test::McpServers servers;
    QTemporaryDir dir;
    QString folder; // dir, its links resolved (the filesystem server compares real paths)
    mcp::Hub hub;
    QString failure;

    McpSetup()
    {
        failure = servers.failure;
        if (!failure.isEmpty())
            return;
        folder = QDir(dir.path()).canonicalPath();
        QFile notes(QDir(folder).filePath(QStringLiteral("notes.txt")));
        if (!dir.isValid() || !notes.open(QIODevice::WriteOnly)) {
            failure = QStringLiteral("no temporary folder");
            return;
        }
        notes.write("keel, tide and anchor\n");
        notes.close();
        mcp::ServerConfig broken;
        broken.name = QStringLiteral("broken");
        broken.command = QDir(folder).filePath(QStringLiteral("no-such-program"));
        hub.setServers({servers.everything(), servers.filesystem(folder), broken});
        hub.startAll();
        const auto ready = [this] {
            int count = 0;
            for (const ToolServerInfo &s : hub.list().servers)
                count += s.state == ToolServerInfo::State::Ready ? 1 : 0;
            return count == 2;
        };
        if (!spinUntil(ready, 60000))
            failure = QStringLiteral("the MCP servers did not become ready");
    }
    ~McpSetup() { test::awaitVoid(hub.stop()); }
};

// The HTTP server over the suite's Hub (a test's own setup otherwise).
struct ToolServer
{
    std::unique_ptr<Server> srv;
    QString failure;

    ToolServer(McpSetup *mcp, ServerSetup setup = {})
    {
        if (!mcp || !mcp->failure.isEmpty()) {
            failure = mcp ? mcp->failure : QStringLiteral("no MCP servers");
            return;
        }
        setup.toolHost = &mcp->hub;
        srv = std::make_unique<Server>(setup);
        failure = srv->failure;
    }
    Server &operator*() { return *srv; }
    Server *operator->() { return srv.get(); }
};

#define HF_CHECK_TOOLS(ts)                                                                         \
    do {                                                                                           \
        if (!(ts).failure.isEmpty())                                                               \
            QFAIL(qPrintable((ts).failure));                                                       \
    } while (false)

// A session with these tools and this approval, through PATCH; empty when it failed.
QString toolSession(Server &srv, const QString &sid, const QStringList &tools,
                    const QString &approval)
{
    if (srv.createSession(sid) != sid)
        return {};
    auto c = srv.client();
    const HttpReply r = c.patch("/v1/sessions/" + sid.toUtf8(),
                                {{QStringLiteral("tools"), QJsonArray::fromStringList(tools)},
                                 {QStringLiteral("tool_approval"), approval}});
    return r.status == 200 ? sid : QString();
}

int startTurn(Server &srv, const QString &sid, const QJsonObject &body)
{
    auto c = srv.client();
    const HttpReply r = c.post("/v1/sessions/" + sid.toUtf8() + "/turns", body);
    return r.status == 202 ? r.json().value(QStringLiteral("id")).toInt() : 0;
}

QString stateOf(Server &srv, const QString &sid, int tid)
{
    auto c = srv.client();
    return c.get(turnPath(sid, tid)).json().value(QStringLiteral("state")).toString();
}

bool waitForState(Server &srv, const QString &sid, int tid, const QString &state)
{
    QElapsedTimer clock;
    clock.start();
    while (clock.elapsed() < 20000) {
        if (stateOf(srv, sid, tid) == state)
            return true;
        QTest::qWait(20);
    }
    return false;
}

// Every chunk of the turn through /chunks, page after page (`limit` is the server's).
QJsonArray allChunks(Server &srv, const QString &sid, int tid)
{
    auto c = srv.client();
    QJsonArray all;
    int from = 0;
    for (int page = 0; page < 100; ++page) {
        const QJsonObject r =
            c.get(turnPath(sid, tid, "/chunks?from=" + QByteArray::number(from))).json();
        for (const QJsonValue &v : r.value(QStringLiteral("chunks")).toArray())
            all.append(v);
        from = r.value(QStringLiteral("next")).toInt();
        if (r.value(QStringLiteral("done")).toBool() ||
            r.value(QStringLiteral("chunks")).toArray().isEmpty())
            break;
    }
    return all;
}

// The chunks that record tool steps, in order.
QList<QJsonObject> toolSteps(const QJsonArray &chunks)
{
    QList<QJsonObject> steps;
    for (const QJsonValue &v : chunks) {
        const QJsonObject o = v.toObject();
        if (o.contains(QStringLiteral("tool_call")) || o.contains(QStringLiteral("tool_result")))
            steps.append(o);
    }
    return steps;
}

// The id of the turn's first tool call, once it is recorded; empty when none came in time.
QString firstCallId(Server &srv, const QString &sid, int tid)
{
    QString id;
    spinUntil(
        [&] {
            for (const QJsonObject &step : toolSteps(allChunks(srv, sid, tid))) {
                if (step.contains(QStringLiteral("tool_call"))) {
                    id = step.value(QStringLiteral("tool_call"))
                             .toObject()
                             .value(QStringLiteral("id"))
                             .toString();
                    return true;
                }
            }
            QTest::qWait(20);
            return false;
        },
        20000);
    return id;
}

QByteArray callPath(const QString &sid, int tid, const QString &cid)
{
    return turnPath(sid, tid, "/tool-calls/" + QUrl::toPercentEncoding(cid));
}

HttpReply answer(Server &srv, const QString &sid, int tid, const QString &cid, bool approve)
{
    auto c = srv.client();
    return c.post(callPath(sid, tid, cid), {{QStringLiteral("approve"), approve}});
}

// The answer message of a turn that has ended.
QJsonObject answerOf(Server &srv, const QString &sid, int tid)
{
    auto c = srv.client();
    const qint64 index =
        c.get(turnPath(sid, tid)).json().value(QStringLiteral("response_index")).toInteger(-1);
    const QJsonArray messages = c.get("/v1/sessions/" + sid.toUtf8() + "/messages?limit=200")
                                    .json()
                                    .value(QStringLiteral("messages"))
                                    .toArray();
    for (const QJsonValue &m : messages) {
        if (m.toObject().value(QStringLiteral("index")).toInteger() == index)
            return m.toObject();
    }
    return {};
}

ServerSetup quickDemo()
{
    ServerSetup setup;
    setup.demoChunks = 4;
    setup.demoDelayMs = 2;
    return setup;
}
} // namespace

class TestTools : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase()
    {
        QLoggingCategory::setFilterRules(
            QStringLiteral("holdfast.*.debug=false\nholdfast.*.info=false\n"
                           "holdfast.mcp.warning=false")); // "broken" fails again and again
        m_mcp = std::make_unique<McpSetup>();
    }
    void cleanupTestCase() { m_mcp.reset(); }
    void toolsWithoutServers();
    void toolsListsServersAndStates();
    void sessionToolsRoundTrip();
    void wrongTypes_data();
    void wrongTypes();
    void errorOrder();
    void approveRunsTheCall();
    void declineSendsTheDeclinedResult();
    void approvalTimesOut();
    void autoRunsAtOnce();
    void answerErrors();
    void turnToolsOverrideTheSession();
    void filesystemServer();
    void eventsCarryToolSteps();
    void eventsResumeInTheMiddleOfARound();
    void chunksPagesHoldToolSteps();
    void chatCompletionsSendOnlyText();
    void wireFormats_data();
    void wireFormats();

private:
    std::unique_ptr<McpSetup> m_mcp;
};

// Without an MCP configuration both lists are empty, and no session may name a tool.
void TestTools::toolsWithoutServers()
{
    Server srv(quickDemo());
    HF_CHECK_FIXTURE(srv);
    auto c = srv.client();
    const HttpReply r = c.get("/v1/tools");
    QCOMPARE(r.status, 200);
    QCOMPARE(r.json().value(QStringLiteral("tools")), QJsonValue(QJsonArray()));
    QCOMPARE(r.json().value(QStringLiteral("servers")), QJsonValue(QJsonArray()));
    QCOMPARE(srv.createSession(QStringLiteral("s")), QStringLiteral("s"));
    const HttpReply session = c.get("/v1/sessions/s");
    QCOMPARE(session.json().value(QStringLiteral("tools")), QJsonValue(QJsonArray()));
    QCOMPARE(session.json().value(QStringLiteral("tool_approval")).toString(),
             QStringLiteral("ask"));
    EXPECT_ERROR(c.patch("/v1/sessions/s", {{QStringLiteral("tools"), QJsonArray{kEcho}}}), 422,
                 "invalid");
}

void TestTools::toolsListsServersAndStates()
{
    ToolServer ts(m_mcp.get(), quickDemo());
    HF_CHECK_TOOLS(ts);
    auto c = ts->client();
    // The broken server ends in `error` with its reason (it may still be starting at first).
    QJsonObject body;
    QVERIFY(spinUntil(
        [&] {
            body = c.get("/v1/tools").json();
            for (const QJsonValue &v : body.value(QStringLiteral("servers")).toArray()) {
                if (v[QStringLiteral("name")] == QStringLiteral("broken"))
                    return v[QStringLiteral("state")] == QStringLiteral("error");
            }
            QTest::qWait(20);
            return false;
        },
        20000));
    QHash<QString, QJsonObject> servers;
    for (const QJsonValue &v : body.value(QStringLiteral("servers")).toArray())
        servers.insert(v[QStringLiteral("name")].toString(), v.toObject());
    QCOMPARE(servers.size(), 3);
    QCOMPARE(servers[QStringLiteral("everything")].value(QStringLiteral("state")).toString(),
             QStringLiteral("ready"));
    QVERIFY(!servers[QStringLiteral("everything")].contains(QStringLiteral("error")));
    QCOMPARE(servers[QStringLiteral("files")].value(QStringLiteral("state")).toString(),
             QStringLiteral("ready"));
    QVERIFY(!servers[QStringLiteral("broken")].value(QStringLiteral("error")).toString().isEmpty());
    QHash<QString, QJsonObject> tools;
    for (const QJsonValue &v : body.value(QStringLiteral("tools")).toArray())
        tools.insert(v[QStringLiteral("name")].toString(), v.toObject());
    QVERIFY(tools.contains(kEcho));
    QVERIFY(tools.contains(QStringLiteral("files/read_text_file")));
    for (const QJsonObject &tool : std::as_const(tools)) {
        QVERIFY(tool.value(QStringLiteral("name")).toString().contains(u'/'));
        QVERIFY(tool.value(QStringLiteral("description")).isString());
        QVERIFY(tool.value(QStringLiteral("input_schema")).isObject());
    }
    QCOMPARE(tools[kEcho]
                 .value(QStringLiteral("input_schema"))
                 .toObject()
                 .value(QStringLiteral("type"))
                 .toString(),
             QStringLiteral("object"));
    QVERIFY(!tools.contains(QStringLiteral("broken/anything")));
}

// PATCH sets tools and tool_approval; GET, the list and a reload show them; a server that is
// not configured is 422; a configured one that is not ready is allowed.
void TestTools::sessionToolsRoundTrip()
{
    ToolServer ts(m_mcp.get(), quickDemo());
    HF_CHECK_TOOLS(ts);
    Server &srv = *ts;
    QCOMPARE(srv.createSession(QStringLiteral("rt")), QStringLiteral("rt"));
    auto c = srv.client();
    const HttpReply patched =
        c.patch("/v1/sessions/rt",
                {{QStringLiteral("tools"), QJsonArray{kEcho, QStringLiteral("broken/whatever")}},
                 {QStringLiteral("tool_approval"), QStringLiteral("auto")}});
    QCOMPARE(patched.status, 200);
    const QJsonArray expected{kEcho, QStringLiteral("broken/whatever")};
    QCOMPARE(patched.json().value(QStringLiteral("tools")), QJsonValue(expected));
    QCOMPARE(patched.json().value(QStringLiteral("tool_approval")).toString(),
             QStringLiteral("auto"));
    const QJsonObject got = c.get("/v1/sessions/rt").json();
    QCOMPARE(got.value(QStringLiteral("tools")), QJsonValue(expected));
    QCOMPARE(got.value(QStringLiteral("tool_approval")).toString(), QStringLiteral("auto"));
    const QJsonObject listed =
        c.get("/v1/sessions").json().value(QStringLiteral("sessions")).toArray().first().toObject();
    QCOMPARE(listed.value(QStringLiteral("tools")), QJsonValue(expected));
    QCOMPARE(listed.value(QStringLiteral("tool_approval")).toString(), QStringLiteral("auto"));
    // Only the fields given change.
    const HttpReply titled =
        c.patch("/v1/sessions/rt", {{QStringLiteral("title"), QStringLiteral("t")}});
    QCOMPARE(titled.json().value(QStringLiteral("tools")), QJsonValue(expected));
    // "*", then null clears (as []), "ask" back.
    QCOMPARE(
        c.patch("/v1/sessions/rt", {{QStringLiteral("tools"), QJsonArray{QStringLiteral("*")}}})
            .json()
            .value(QStringLiteral("tools")),
        QJsonValue(QJsonArray{QStringLiteral("*")}));
    const HttpReply cleared =
        c.patch("/v1/sessions/rt", {{QStringLiteral("tools"), QJsonValue()},
                                    {QStringLiteral("tool_approval"), QStringLiteral("ask")}});
    QCOMPARE(cleared.json().value(QStringLiteral("tools")), QJsonValue(QJsonArray()));
    QCOMPARE(cleared.json().value(QStringLiteral("tool_approval")).toString(),
             QStringLiteral("ask"));
    // A server nobody configured: 422, and nothing changed.
    EXPECT_ERROR(c.patch("/v1/sessions/rt",
                         {{QStringLiteral("tools"), QJsonArray{QStringLiteral("nosuch/tool")}}}),
                 422, "invalid");
    EXPECT_ERROR(
        c.patch("/v1/sessions/rt", {{QStringLiteral("tool_approval"), QStringLiteral("always")}}),
        422, "invalid");
    QCOMPARE(c.get("/v1/sessions/rt").json().value(QStringLiteral("tools")),
             QJsonValue(QJsonArray()));
    // A turn naming one is 422 too (after the prompt is checked, nothing is stored).
    EXPECT_ERROR(c.post("/v1/sessions/rt/turns",
                        {{QStringLiteral("prompt"), QStringLiteral("hi")},
                         {QStringLiteral("tools"), QJsonArray{QStringLiteral("nosuch/tool")}}}),
                 422, "invalid");
    QCOMPARE(c.get("/v1/sessions/rt").json().value(QStringLiteral("total")).toInt(), 0);
}

void TestTools::wrongTypes_data()
{
    QTest::addColumn<QByteArray>("method");
    QTest::addColumn<QByteArray>("suffix");
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<int>("status");
    QTest::addRow("PATCH tools a string") << QByteArray("PATCH") << QByteArray()
                                          << QByteArray(R"({"tools":"everything/echo"})") << 400;
    QTest::addRow("PATCH tools numbers")
        << QByteArray("PATCH") << QByteArray() << QByteArray(R"({"tools":[1,2]})") << 400;
    QTest::addRow("PATCH tools an object")
        << QByteArray("PATCH") << QByteArray() << QByteArray(R"({"tools":{"a":1}})") << 400;
    QTest::addRow("PATCH tools nested")
        << QByteArray("PATCH") << QByteArray() << QByteArray(R"({"tools":[["a/b"]]})") << 400;
    QTest::addRow("PATCH tool_approval a boolean")
        << QByteArray("PATCH") << QByteArray() << QByteArray(R"({"tool_approval":true})") << 400;
    QTest::addRow("PATCH tool_approval a number")
        << QByteArray("PATCH") << QByteArray() << QByteArray(R"({"tool_approval":1})") << 400;
    QTest::addRow("PATCH tool_approval another word")
        << QByteArray("PATCH") << QByteArray() << QByteArray(R"({"tool_approval":"never"})") << 422;
    QTest::addRow("PATCH tool_approval upper case")
        << QByteArray("PATCH") << QByteArray() << QByteArray(R"({"tool_approval":"ASK"})") << 422;
    QTest::addRow("turn tools a string") << QByteArray("POST") << QByteArray("/turns")
                                         << QByteArray(R"({"prompt":"hi","tools":"*"})") << 400;
    QTest::addRow("turn tools mixed") << QByteArray("POST") << QByteArray("/turns")
                                      << QByteArray(R"({"prompt":"hi","tools":["*",null]})") << 400;
    QTest::addRow("turn tools true") << QByteArray("POST") << QByteArray("/turns")
                                     << QByteArray(R"({"prompt":"hi","tools":true})") << 400;
}

// A known field of the wrong type is 400; a tool_approval that is neither value is 422.
void TestTools::wrongTypes()
{
    QFETCH(QByteArray, method);
    QFETCH(QByteArray, suffix);
    QFETCH(QByteArray, body);
    QFETCH(int, status);
    Server srv(quickDemo());
    HF_CHECK_FIXTURE(srv);
    QCOMPARE(srv.createSession(QStringLiteral("w")), QStringLiteral("w"));
    auto c = srv.client();
    const HttpReply r = c.call(method, "/v1/sessions/w" + suffix, body);
    if (status == 400)
        EXPECT_ERROR(r, 400, "bad_request");
    else
        EXPECT_ERROR(r, 422, "invalid");
    // Nothing was stored.
    const QJsonObject session = c.get("/v1/sessions/w").json();
    QCOMPARE(session.value(QStringLiteral("total")).toInt(), 0);
    QCOMPARE(session.value(QStringLiteral("tool_approval")).toString(), QStringLiteral("ask"));
}

// API.md's order: a tool call the path names that does not exist is 404 before 413, 415 and
// 400; a bad body of a call that exists is 400 (then 409); PATCH's 409 comes before its 422.
void TestTools::errorOrder()
{
    ServerSetup setup = quickDemo();
    setup.http.maxBodyBytes = 1024;
    ToolServer ts(m_mcp.get(), setup);
    HF_CHECK_TOOLS(ts);
    Server &srv = *ts;
    QCOMPARE(toolSession(srv, QStringLiteral("o"), {kEcho}, QStringLiteral("ask")),
             QStringLiteral("o"));
    const int tid = startTurn(srv, QStringLiteral("o"),
                              {{QStringLiteral("prompt"), echoPrompt(QStringLiteral("x"))}});
    QCOMPARE(tid, 1);
    QVERIFY(waitForState(srv, QStringLiteral("o"), tid, QStringLiteral("waiting")));
    const QString cid = firstCallId(srv, QStringLiteral("o"), tid);
    QVERIFY(!cid.isEmpty());
    // Each on a connection of its own: an error from the head may close it.
    const auto send = [&](const QByteArray &method, const QByteArray &target,
                          const QByteArray &body, bool plainText = false) {
        auto c = srv.client();
        if (plainText)
            return c.call(method, target, body, {{"Content-Type", "text/plain"}}, false);
        return c.call(method, target, body);
    };
    const QByteArray unknown = callPath(QStringLiteral("o"), tid, QStringLiteral("no-such-call"));
    EXPECT_ERROR(send("POST", unknown, R"({"approve":true})"), 404, "not_found");
    EXPECT_ERROR(send("POST", unknown, "approve", true), 404, "not_found");
    EXPECT_ERROR(send("POST", unknown, "{not json"), 404, "not_found");
    EXPECT_ERROR(send("POST", unknown, QByteArray(2048, ' ')), 404, "not_found");
    EXPECT_ERROR(send("POST", callPath(QStringLiteral("o"), 9, cid), R"({"approve":true})"), 404,
                 "not_found");
    EXPECT_ERROR(send("POST", callPath(QStringLiteral("nobody"), tid, cid), R"({"approve":true})"),
                 404, "not_found");
    // The call exists: the body's own errors, in order.
    const QByteArray path = callPath(QStringLiteral("o"), tid, cid);
    EXPECT_ERROR(send("POST", path, QByteArray(2048, ' ')), 413, "payload_too_large");
    EXPECT_ERROR(send("POST", path, "approve", true), 415, "unsupported_media_type");
    EXPECT_ERROR(send("POST", path, "{not json"), 400, "bad_request");
    EXPECT_ERROR(send("POST", path, "{}"), 400, "bad_request");
    EXPECT_ERROR(send("POST", path, ""), 400, "bad_request");
    EXPECT_ERROR(send("POST", path, R"({"approve":"yes"})"), 400, "bad_request");
    EXPECT_ERROR(send("POST", path, R"({"approve":1})"), 400, "bad_request");
    EXPECT_ERROR(send("POST", path, R"({"approve":null})"), 400, "bad_request");
    EXPECT_ERROR(send("GET", path, {}), 405, "method_not_allowed");
    QCOMPARE(stateOf(srv, QStringLiteral("o"), tid), QStringLiteral("waiting")); // untouched
    auto c = srv.client();
    // PATCH while the turn runs: a branch switch is 409 before a bad tool_approval's 422.
    EXPECT_ERROR(
        c.patch("/v1/sessions/o", {{QStringLiteral("head"), 0},
                                   {QStringLiteral("tool_approval"), QStringLiteral("x")}}),
        409, "conflict");
    EXPECT_ERROR(
        c.patch("/v1/sessions/o", {{QStringLiteral("tool_approval"), QStringLiteral("x")}}), 422,
        "invalid");
    // A turn while this one waits: 409 before the unknown tool's 422.
    EXPECT_ERROR(c.post("/v1/sessions/o/turns",
                        {{QStringLiteral("prompt"), QStringLiteral("again")},
                         {QStringLiteral("tools"), QJsonArray{QStringLiteral("nosuch/x")}}}),
                 409, "conflict");
    QCOMPARE(answer(srv, QStringLiteral("o"), tid, cid, false).status, 202);
    QCOMPARE(srv.finish(QStringLiteral("o"), tid).state, TurnRecord::State::Done);
}

// ask: the turn waits (still the session's active turn) until the call is approved; then the
// result is the next chunk, the model goes on, and the answer lists the call.
void TestTools::approveRunsTheCall()
{
    ToolServer ts(m_mcp.get(), quickDemo());
    HF_CHECK_TOOLS(ts);
    Server &srv = *ts;
    const QString sid = toolSession(srv, QStringLiteral("ap"), {kEcho}, QStringLiteral("ask"));
    QCOMPARE(sid, QStringLiteral("ap"));
    const int tid =
        startTurn(srv, sid, {{QStringLiteral("prompt"), echoPrompt(QStringLiteral("ahoy"))}});
    QCOMPARE(tid, 1);
    QVERIFY(waitForState(srv, sid, tid, QStringLiteral("waiting")));
    auto c = srv.client();
    QCOMPARE(c.get("/v1/sessions/ap").json().value(QStringLiteral("active_turn")).toInt(), tid);
    QTest::qWait(100); // it keeps waiting
    QCOMPARE(stateOf(srv, sid, tid), QStringLiteral("waiting"));
    QList<QJsonObject> steps = toolSteps(allChunks(srv, sid, tid));
    QCOMPARE(steps.size(), 1);
    const QJsonObject call = steps[0].value(QStringLiteral("tool_call")).toObject();
    QCOMPARE(steps[0].value(QStringLiteral("text")).toString(), QString());
    QCOMPARE(call.value(QStringLiteral("name")).toString(), kEcho);
    QCOMPARE(call.value(QStringLiteral("arguments")).toObject(),
             QJsonObject({{QStringLiteral("message"), QStringLiteral("ahoy")}}));
    const QString cid = call.value(QStringLiteral("id")).toString();
    QVERIFY(!cid.isEmpty());

    const HttpReply approved = answer(srv, sid, tid, cid, true);
    QCOMPARE(approved.status, 202);
    QCOMPARE(approved.json().value(QStringLiteral("id")).toInt(), tid);
    const TurnRecord ended = srv.finish(sid, tid);
    QCOMPARE(ended.state, TurnRecord::State::Done);

    const QJsonArray chunks = allChunks(srv, sid, tid);
    steps = toolSteps(chunks);
    QCOMPARE(steps.size(), 2);
    const int callSeq = steps[0].value(QStringLiteral("seq")).toInt();
    QCOMPARE(steps[1].value(QStringLiteral("seq")).toInt(), callSeq + 1); // the next chunk
    const QJsonObject result = steps[1].value(QStringLiteral("tool_result")).toObject();
    QCOMPARE(result.value(QStringLiteral("id")).toString(), cid);
    QCOMPARE(result.value(QStringLiteral("content")).toString(), QStringLiteral("Echo: ahoy"));
    QCOMPARE(result.value(QStringLiteral("is_error")), QJsonValue(false));
    QVERIFY(!result.contains(QStringLiteral("approved"))); // stored, never sent
    QCOMPARE(chunks.size(), ended.chunks);

    // The answer: the model's text only (quoting the result), and the call with its result.
    const QJsonObject message = answerOf(srv, sid, tid);
    QVERIFY(
        message.value(QStringLiteral("content")).toString().contains(QStringLiteral("Echo: ahoy")));
    const QJsonArray calls = message.value(QStringLiteral("tool_calls")).toArray();
    QCOMPARE(calls.size(), 1);
    const QJsonObject listed = calls[0].toObject();
    QCOMPARE(listed.value(QStringLiteral("id")).toString(), cid);
    QCOMPARE(listed.value(QStringLiteral("name")).toString(), kEcho);
    QCOMPARE(listed.value(QStringLiteral("arguments")), call.value(QStringLiteral("arguments")));
    QCOMPARE(listed.value(QStringLiteral("result")).toString(), QStringLiteral("Echo: ahoy"));
    QCOMPARE(listed.value(QStringLiteral("is_error")), QJsonValue(false));
    QCOMPARE(listed.value(QStringLiteral("approved")), QJsonValue(true));
    QVERIFY(listed.value(QStringLiteral("offset")).isDouble());
    // The prompt's tool_calls: always there, empty.
    const QJsonArray history =
        c.get("/v1/sessions/ap").json().value(QStringLiteral("history")).toArray();
    QCOMPARE(history.first().toObject().value(QStringLiteral("tool_calls")),
             QJsonValue(QJsonArray()));
    QCOMPARE(history.last().toObject().value(QStringLiteral("tool_calls")), QJsonValue(calls));
}

void TestTools::declineSendsTheDeclinedResult()
{
    ToolServer ts(m_mcp.get(), quickDemo());
    HF_CHECK_TOOLS(ts);
    Server &srv = *ts;
    const QString sid = toolSession(srv, QStringLiteral("no"), {kEcho}, QStringLiteral("ask"));
    const int tid =
        startTurn(srv, sid, {{QStringLiteral("prompt"), echoPrompt(QStringLiteral("secret"))}});
    QCOMPARE(tid, 1);
    QVERIFY(waitForState(srv, sid, tid, QStringLiteral("waiting")));
    const QString cid = firstCallId(srv, sid, tid);
    QCOMPARE(answer(srv, sid, tid, cid, false).status, 202);
    QCOMPARE(srv.finish(sid, tid).state, TurnRecord::State::Done);
    const QList<QJsonObject> steps = toolSteps(allChunks(srv, sid, tid));
    QCOMPARE(steps.size(), 2);
    const QJsonObject result = steps[1].value(QStringLiteral("tool_result")).toObject();
    QCOMPARE(result.value(QStringLiteral("content")).toString(), kDeclined);
    QCOMPARE(result.value(QStringLiteral("is_error")), QJsonValue(true));
    const QJsonObject listed =
        answerOf(srv, sid, tid).value(QStringLiteral("tool_calls")).toArray().first().toObject();
    QCOMPARE(listed.value(QStringLiteral("result")).toString(), kDeclined);
    QCOMPARE(listed.value(QStringLiteral("is_error")), QJsonValue(true));
    QCOMPARE(listed.value(QStringLiteral("approved")), QJsonValue(false));
}

// Nobody answers within --tool-approval-timeout-ms: declined the same way, and answering
// afterwards is 409.
void TestTools::approvalTimesOut()
{
    ServerSetup setup = quickDemo();
    setup.service.toolApprovalTimeoutMs = 300;
    ToolServer ts(m_mcp.get(), setup);
    HF_CHECK_TOOLS(ts);
    Server &srv = *ts;
    const QString sid = toolSession(srv, QStringLiteral("late"), {kEcho}, QStringLiteral("ask"));
    const int tid =
        startTurn(srv, sid, {{QStringLiteral("prompt"), echoPrompt(QStringLiteral("hello"))}});
    QCOMPARE(tid, 1);
    const QString cid = firstCallId(srv, sid, tid);
    QVERIFY(!cid.isEmpty());
    QCOMPARE(srv.finish(sid, tid).state, TurnRecord::State::Done);
    const QList<QJsonObject> steps = toolSteps(allChunks(srv, sid, tid));
    QCOMPARE(steps.size(), 2);
    const QJsonObject result = steps[1].value(QStringLiteral("tool_result")).toObject();
    QCOMPARE(result.value(QStringLiteral("content")).toString(), kDeclined);
    QCOMPARE(result.value(QStringLiteral("is_error")), QJsonValue(true));
    EXPECT_ERROR(answer(srv, sid, tid, cid, true), 409, "conflict");
}

// auto: the call runs at once, the turn never waits, the call counts as approved.
void TestTools::autoRunsAtOnce()
{
    ToolServer ts(m_mcp.get(), quickDemo());
    HF_CHECK_TOOLS(ts);
    Server &srv = *ts;
    const QString sid = toolSession(srv, QStringLiteral("au"), {kEcho}, QStringLiteral("auto"));
    const int tid =
        startTurn(srv, sid, {{QStringLiteral("prompt"), echoPrompt(QStringLiteral("now"))}});
    QCOMPARE(tid, 1);
    QStringList seen;
    QVERIFY(spinUntil(
        [&] {
            const QString state = stateOf(srv, sid, tid);
            if (seen.isEmpty() || seen.last() != state)
                seen.append(state);
            return state == QLatin1String("done");
        },
        20000));
    QVERIFY2(!seen.contains(QStringLiteral("waiting")), qPrintable(seen.join(u',')));
    const QList<QJsonObject> steps = toolSteps(allChunks(srv, sid, tid));
    QCOMPARE(steps.size(), 2);
    QCOMPARE(steps[1]
                 .value(QStringLiteral("tool_result"))
                 .toObject()
                 .value(QStringLiteral("content"))
                 .toString(),
             QStringLiteral("Echo: now"));
    const QJsonObject listed =
        answerOf(srv, sid, tid).value(QStringLiteral("tool_calls")).toArray().first().toObject();
    QCOMPARE(listed.value(QStringLiteral("approved")), QJsonValue(true));
    QCOMPARE(listed.value(QStringLiteral("is_error")), QJsonValue(false));
    // A call that ran under auto never waited: answering it is 409.
    EXPECT_ERROR(answer(srv, sid, tid, listed.value(QStringLiteral("id")).toString(), true), 409,
                 "conflict");
}

// 404 for a call the turn does not have; 409 for a second answer, and on a turn that does not
// wait.
void TestTools::answerErrors()
{
    ToolServer ts(m_mcp.get(), quickDemo());
    HF_CHECK_TOOLS(ts);
    Server &srv = *ts;
    const QString sid = toolSession(srv, QStringLiteral("ae"), {kEcho}, QStringLiteral("ask"));
    // A turn without tool calls: any call id is unknown.
    const int plain =
        startTurn(srv, sid, {{QStringLiteral("prompt"), QStringLiteral("just talk")}});
    QCOMPARE(plain, 1);
    EXPECT_ERROR(answer(srv, sid, plain, QStringLiteral("call_1"), true), 404, "not_found");
    QCOMPARE(srv.finish(sid, plain).state, TurnRecord::State::Done);
    EXPECT_ERROR(answer(srv, sid, plain, QStringLiteral("call_1"), true), 404, "not_found");

    const int tid =
        startTurn(srv, sid, {{QStringLiteral("prompt"), echoPrompt(QStringLiteral("twice"))}});
    QCOMPARE(tid, 2);
    QVERIFY(waitForState(srv, sid, tid, QStringLiteral("waiting")));
    const QString cid = firstCallId(srv, sid, tid);
    EXPECT_ERROR(answer(srv, sid, tid, cid + QStringLiteral("x"), true), 404, "not_found");
    QCOMPARE(answer(srv, sid, tid, cid, true).status, 202);
    EXPECT_ERROR(answer(srv, sid, tid, cid, false), 409, "conflict"); // answered already
    QCOMPARE(srv.finish(sid, tid).state, TurnRecord::State::Done);
    EXPECT_ERROR(answer(srv, sid, tid, cid, true), 409, "conflict"); // the turn has ended
    // The second answer changed nothing: the call ran.
    const QJsonObject listed =
        answerOf(srv, sid, tid).value(QStringLiteral("tool_calls")).toArray().first().toObject();
    QCOMPARE(listed.value(QStringLiteral("approved")), QJsonValue(true));
    QCOMPARE(listed.value(QStringLiteral("result")).toString(), QStringLiteral("Echo: twice"));
}

// A turn's tools override the session's, for that turn only.
void TestTools::turnToolsOverrideTheSession()
{
    ToolServer ts(m_mcp.get(), quickDemo());
    HF_CHECK_TOOLS(ts);
    Server &srv = *ts;
    const QString sid = toolSession(srv, QStringLiteral("ov"), {}, QStringLiteral("auto"));
    QCOMPARE(sid, QStringLiteral("ov"));
    // The session offers none: the demo model cannot call the tool.
    int tid = startTurn(srv, sid, {{QStringLiteral("prompt"), echoPrompt(QStringLiteral("a"))}});
    QCOMPARE(srv.finish(sid, tid).state, TurnRecord::State::Done);
    QVERIFY(toolSteps(allChunks(srv, sid, tid)).isEmpty());
    // This turn may.
    tid = startTurn(srv, sid,
                    {{QStringLiteral("prompt"), echoPrompt(QStringLiteral("b"))},
                     {QStringLiteral("tools"), QJsonArray{kEcho}}});
    QCOMPARE(srv.finish(sid, tid).state, TurnRecord::State::Done);
    QCOMPARE(toolSteps(allChunks(srv, sid, tid)).size(), 2);
    // The session did not change; "*" allows every tool; [] on a turn offers none.
    auto c = srv.client();
    QCOMPARE(c.get("/v1/sessions/ov").json().value(QStringLiteral("tools")),
             QJsonValue(QJsonArray()));
    QCOMPARE(
        c.patch("/v1/sessions/ov", {{QStringLiteral("tools"), QJsonArray{QStringLiteral("*")}}})
            .status,
        200);
    tid = startTurn(srv, sid,
                    {{QStringLiteral("prompt"), echoPrompt(QStringLiteral("c"))},
                     {QStringLiteral("tools"), QJsonArray()}});
    QCOMPARE(srv.finish(sid, tid).state, TurnRecord::State::Done);
    QVERIFY(toolSteps(allChunks(srv, sid, tid)).isEmpty());
    tid = startTurn(srv, sid, {{QStringLiteral("prompt"), echoPrompt(QStringLiteral("d"))}});
    QCOMPARE(srv.finish(sid, tid).state, TurnRecord::State::Done);
    QCOMPARE(toolSteps(allChunks(srv, sid, tid)).size(), 2);
}

// server-filesystem on a temporary folder: the model reads a file through it.
void TestTools::filesystemServer()
{
    ToolServer ts(m_mcp.get(), quickDemo());
    HF_CHECK_TOOLS(ts);
    Server &srv = *ts;
    const QString sid =
        toolSession(srv, QStringLiteral("fs"), {QStringLiteral("files/read_text_file")},
                    QStringLiteral("auto"));
    const QString file = QDir(m_mcp->folder).filePath(QStringLiteral("notes.txt"));
    const QString prompt =
        QStringLiteral("use files/read_text_file with {\"path\": \"%1\"}").arg(file);
    const int tid = startTurn(srv, sid, {{QStringLiteral("prompt"), prompt}});
    QCOMPARE(srv.finish(sid, tid).state, TurnRecord::State::Done);
    const QList<QJsonObject> steps = toolSteps(allChunks(srv, sid, tid));
    QCOMPARE(steps.size(), 2);
    const QJsonObject result = steps[1].value(QStringLiteral("tool_result")).toObject();
    QCOMPARE(result.value(QStringLiteral("is_error")), QJsonValue(false));
    QVERIFY2(result.value(QStringLiteral("content"))
                 .toString()
                 .contains(QStringLiteral("keel, tide and anchor")),
             qPrintable(result.value(QStringLiteral("content")).toString()));
    // A file outside the allowed folder: an error result, not a failed turn.
    const int outside = startTurn(
        srv, sid,
        {{QStringLiteral("prompt"),
          QStringLiteral("use files/read_text_file with {\"path\": \"/etc/hostname\"}")}});
    QCOMPARE(srv.finish(sid, outside).state, TurnRecord::State::Done);
    const QList<QJsonObject> refused = toolSteps(allChunks(srv, sid, outside));
    QCOMPARE(refused.size(), 2);
    QCOMPARE(refused[1]
                 .value(QStringLiteral("tool_result"))
                 .toObject()
                 .value(QStringLiteral("is_error")),
             QJsonValue(true));
}

// The event stream: tool steps as `tool_call` and `tool_result` events with their seq as id,
// in seq order with the text chunks; after the end, the same replayed from the store.
void TestTools::eventsCarryToolSteps()
{
    ServerSetup setup;
    setup.demoChunks = 4;
    setup.demoDelayMs = 20;
    ToolServer ts(m_mcp.get(), setup);
    HF_CHECK_TOOLS(ts);
    Server &srv = *ts;
    const QString sid = toolSession(srv, QStringLiteral("ev"), {kEcho}, QStringLiteral("ask"));
    const int tid =
        startTurn(srv, sid, {{QStringLiteral("prompt"), echoPrompt(QStringLiteral("evt"))}});
    QCOMPARE(tid, 1);
    SseReader live(srv.port, turnPath(sid, tid, "/events"));
    QVERIFY(spinUntil([&] {
        for (const auto &e : live.events) {
            if (e.event == "tool_call")
                return true;
        }
        return live.ended();
    }));
    QVERIFY(!live.ended());
    QVERIFY(waitForState(srv, sid, tid, QStringLiteral("waiting")));
    const SseReader::Event callEvent = live.lastEvent();
    QCOMPARE(callEvent.event, QByteArray("tool_call"));
    const QJsonObject callChunk = callEvent.json();
    QCOMPARE(callEvent.id, QByteArray::number(callChunk.value(QStringLiteral("seq")).toInt()));
    QCOMPARE(callChunk.value(QStringLiteral("text")).toString(), QString());
    const QString cid = callChunk.value(QStringLiteral("tool_call"))
                            .toObject()
                            .value(QStringLiteral("id"))
                            .toString();
    QCOMPARE(answer(srv, sid, tid, cid, true).status, 202);
    QVERIFY(live.waitForEnd());
    QCOMPARE(live.lastEvent().event, QByteArray("done"));

    const QJsonArray chunks = allChunks(srv, sid, tid);
    const auto check = [&](const SseReader &reader) {
        QList<SseReader::Event> events = reader.events;
        QVERIFY(!events.isEmpty());
        events.removeLast(); // done
        QCOMPARE(events.size(), chunks.size());
        for (int i = 0; i < events.size(); ++i) {
            const QJsonObject chunk = chunks[i].toObject();
            const QByteArray type = chunk.contains(QStringLiteral("tool_call"))     ? "tool_call"
                                    : chunk.contains(QStringLiteral("tool_result")) ? "tool_result"
                                                                                    : "chunk";
            QCOMPARE(events[i].event, type);
            QCOMPARE(events[i].id, QByteArray::number(i));
            QCOMPARE(events[i].json(), chunk); // the same Chunk as /chunks
        }
    };
    check(live);
    if (QTest::currentTestFailed())
        return;
    QCOMPARE(toolSteps(chunks).size(), 2);
    SseReader replay(srv.port, turnPath(sid, tid, "/events"));
    QVERIFY(replay.waitForEnd());
    check(replay);
}

// A client that reconnects in the middle of a tool round (after the call, while the turn waits)
// gets the result and the rest; from the store after the end too.
void TestTools::eventsResumeInTheMiddleOfARound()
{
    ToolServer ts(m_mcp.get(), quickDemo());
    HF_CHECK_TOOLS(ts);
    Server &srv = *ts;
    const QString sid = toolSession(srv, QStringLiteral("rs"), {kEcho}, QStringLiteral("ask"));
    const int tid =
        startTurn(srv, sid, {{QStringLiteral("prompt"), echoPrompt(QStringLiteral("again"))}});
    QVERIFY(waitForState(srv, sid, tid, QStringLiteral("waiting")));
    const QList<QJsonObject> before = toolSteps(allChunks(srv, sid, tid));
    QCOMPARE(before.size(), 1);
    const int callSeq = before[0].value(QStringLiteral("seq")).toInt();
    const QString cid = before[0]
                            .value(QStringLiteral("tool_call"))
                            .toObject()
                            .value(QStringLiteral("id"))
                            .toString();
    {
        // Up to the call, then the client goes away.
        SseReader first(srv.port, turnPath(sid, tid, "/events"));
        QVERIFY(first.waitForEvents(callSeq + 1));
        QCOMPARE(first.events.at(callSeq).event, QByteArray("tool_call"));
        first.disconnect();
    }
    SseReader resumed(srv.port, turnPath(sid, tid, "/events"),
                      {{"Last-Event-ID", QByteArray::number(callSeq)}});
    QTest::qWait(50);
    QVERIFY(resumed.events.isEmpty()); // nothing new while it waits
    QCOMPARE(answer(srv, sid, tid, cid, true).status, 202);
    QVERIFY(resumed.waitForEnd());
    QVERIFY(resumed.events.size() >= 2);
    QCOMPARE(resumed.events.first().event, QByteArray("tool_result"));
    QCOMPARE(resumed.events.first().id, QByteArray::number(callSeq + 1));
    QCOMPARE(resumed.lastEvent().event, QByteArray("done"));
    // After the end, from the store: ?from at the call, and Last-Event-ID winning over ?from.
    SseReader fromCall(srv.port, turnPath(sid, tid, "/events?from=" + QByteArray::number(callSeq)));
    QVERIFY(fromCall.waitForEnd());
    QCOMPARE(fromCall.events.first().event, QByteArray("tool_call"));
    QCOMPARE(fromCall.events.at(1).event, QByteArray("tool_result"));
    SseReader wins(srv.port, turnPath(sid, tid, "/events?from=0"),
                   {{"Last-Event-ID", QByteArray::number(callSeq)}});
    QVERIFY(wins.waitForEnd());
    QCOMPARE(wins.events.first().event, QByteArray("tool_result"));
}

// /chunks: tool steps are chunks like any other: in seq order, from any `from`, across pages.
void TestTools::chunksPagesHoldToolSteps()
{
    ToolServer ts(m_mcp.get(), quickDemo());
    HF_CHECK_TOOLS(ts);
    Server &srv = *ts;
    const QString sid = toolSession(srv, QStringLiteral("pg"), {kEcho}, QStringLiteral("auto"));
    const int tid =
        startTurn(srv, sid, {{QStringLiteral("prompt"), echoPrompt(QStringLiteral("page"))}});
    QCOMPARE(srv.finish(sid, tid).state, TurnRecord::State::Done);
    const QJsonArray all = allChunks(srv, sid, tid);
    for (int i = 0; i < all.size(); ++i)
        QCOMPARE(all[i].toObject().value(QStringLiteral("seq")).toInt(), i);
    const QList<QJsonObject> steps = toolSteps(all);
    QCOMPARE(steps.size(), 2);
    const int callSeq = steps[0].value(QStringLiteral("seq")).toInt();
    auto c = srv.client();
    const QJsonObject page =
        c.get(turnPath(sid, tid, "/chunks?from=" + QByteArray::number(callSeq))).json();
    const QJsonArray chunks = page.value(QStringLiteral("chunks")).toArray();
    QCOMPARE(chunks.first().toObject(), steps[0]);
    QCOMPARE(chunks.at(1).toObject(), steps[1]);
    QCOMPARE(page.value(QStringLiteral("done")), QJsonValue(true));
    const QJsonObject result =
        c.get(turnPath(sid, tid, "/chunks?from=" + QByteArray::number(callSeq + 1))).json();
    QCOMPARE(result.value(QStringLiteral("chunks")).toArray().first().toObject(), steps[1]);
}

// /v1/chat/completions on a session with tools: the turn runs them, the OpenAI answer holds
// only the model's text.
void TestTools::chatCompletionsSendOnlyText()
{
    ToolServer ts(m_mcp.get(), quickDemo());
    HF_CHECK_TOOLS(ts);
    Server &srv = *ts;
    const QString sid = toolSession(srv, QStringLiteral("oa"), {kEcho}, QStringLiteral("auto"));
    const QJsonObject body{
        {QStringLiteral("model"), QStringLiteral("demo")},
        {QStringLiteral("stream"), true},
        {QStringLiteral("messages"),
         QJsonArray{QJsonObject{{QStringLiteral("role"), QStringLiteral("user")},
                                {QStringLiteral("content"), echoPrompt(QStringLiteral("oai"))}}}}};
    auto c = srv.client();
    const HttpReply r =
        c.call("POST", "/v1/chat/completions", QJsonDocument(body).toJson(QJsonDocument::Compact),
               {{"X-Holdfast-Session", sid.toUtf8()}});
    QCOMPARE(r.status, 200);
    QString text;
    int contentDeltas = 0;
    for (const QByteArray &line : r.body.split('\n')) {
        if (!line.startsWith("data: {"))
            continue;
        const QJsonObject delta = QJsonDocument::fromJson(line.mid(6))
                                      .object()
                                      .value(QStringLiteral("choices"))
                                      .toArray()
                                      .first()
                                      .toObject()
                                      .value(QStringLiteral("delta"))
                                      .toObject();
        if (delta.contains(QStringLiteral("content")) && !delta.contains(QStringLiteral("role"))) {
            ++contentDeltas;
            QVERIFY(!delta.value(QStringLiteral("content")).toString().isEmpty()); // no tool step
            text += delta.value(QStringLiteral("content")).toString();
        }
        QVERIFY(!delta.contains(QStringLiteral("tool_calls")));
    }
    QVERIFY(contentDeltas > 0);
    QVERIFY(r.body.contains("data: [DONE]"));
    QVERIFY2(text.contains(QStringLiteral("Echo: oai")), qPrintable(text));
    const int tid = r.headers.value("x-holdfast-turn").toInt();
    QCOMPARE(toolSteps(allChunks(srv, sid, tid)).size(), 2);
    QCOMPARE(answerOf(srv, sid, tid).value(QStringLiteral("content")).toString(), text);
}

void TestTools::wireFormats_data()
{
    QTest::addColumn<QString>("format");
    QTest::addRow("openai") << QStringLiteral("openai");
    QTest::addRow("ollama") << QStringLiteral("ollama");
}

// Both wire formats end to end through the fake model server: no `tools` in a request of a
// session without tools; with tools, the function definitions go out, the model's streamed call
// runs (server-everything's echo) and goes back as a tool message, and the answer is the text.
void TestTools::wireFormats()
{
    QFETCH(QString, format);
    FakeModelServer upstream;
    QVERIFY(upstream.listen());
    ServerSetup setup = quickDemo();
    setup.addProviders = [&](ProviderRegistry &registry) {
        UpstreamConfig c;
        c.name = QStringLiteral("up");
        c.defaultModel = QStringLiteral("fake-model");
        c.models = {c.defaultModel};
        c.idleTimeoutMs = 20000;
        if (format == QLatin1String("openai")) {
            c.baseUrl = QUrl(upstream.openAiBaseUrl());
            registry.add(new OpenAiProvider(c), c.models);
        } else {
            c.baseUrl = QUrl(upstream.ollamaBaseUrl());
            registry.add(new OllamaProvider(c), c.models);
        }
    };
    ToolServer ts(m_mcp.get(), setup);
    HF_CHECK_TOOLS(ts);
    Server &srv = *ts;
    const QJsonObject prompt{{QStringLiteral("prompt"), QStringLiteral("say hi")},
                             {QStringLiteral("model"), QStringLiteral("fake-model")}};

    // No tools: the request carries no `tools` at all.
    const QString plain = toolSession(srv, QStringLiteral("plain"), {}, QStringLiteral("auto"));
    upstream.script.chunks = {QStringLiteral("Hi"), QStringLiteral(" there")};
    int tid = startTurn(srv, plain, prompt);
    QCOMPARE(srv.finish(plain, tid).state, TurnRecord::State::Done);
    QCOMPARE(upstream.chatRequests().size(), 1);
    QVERIFY(!upstream.chatRequests().last().json().contains(QStringLiteral("tools")));

    // With tools: the model asks for echo (streamed in pieces), then answers with text.
    const QString sid = toolSession(srv, QStringLiteral("wire"), {kEcho}, QStringLiteral("auto"));
    FakeModelServer::Script call;
    call.chunks = {QStringLiteral("Let me check. ")};
    FakeModelServer::ScriptedCall scripted;
    scripted.id = QStringLiteral("call_wire_1");
    scripted.name = QString(); // filled below: the function name Holdfast offered
    scripted.arguments = QStringLiteral("{\"message\": \"over the wire\"}");
    FakeModelServer::Script after;
    after.chunks = {QStringLiteral("It said "), QStringLiteral("so.")};
    upstream.chooser = [&](const FakeModelServer::Received &received) {
        const QJsonArray tools = received.json().value(QStringLiteral("tools")).toArray();
        const QJsonArray messages = received.json().value(QStringLiteral("messages")).toArray();
        if (messages.last().toObject().value(QStringLiteral("role")) == QStringLiteral("tool"))
            return after;
        FakeModelServer::Script s = call;
        FakeModelServer::ScriptedCall c = scripted;
        c.name = tools.first()[QStringLiteral("function")][QStringLiteral("name")].toString();
        s.toolCalls = {c};
        return s;
    };
    tid = startTurn(srv, sid, prompt);
    QCOMPARE(srv.finish(sid, tid).state, TurnRecord::State::Done);
    const QList<FakeModelServer::Received> requests = upstream.chatRequests();
    QCOMPARE(requests.size(), 3);
    const QJsonObject first = requests[1].json();
    const QJsonArray tools = first.value(QStringLiteral("tools")).toArray();
    QCOMPARE(tools.size(), 1);
    const QJsonObject function = tools[0][QStringLiteral("function")].toObject();
    QCOMPARE(tools[0][QStringLiteral("type")].toString(), QStringLiteral("function"));
    QVERIFY(QRegularExpression(QStringLiteral("^[a-zA-Z0-9_-]{1,64}$"))
                .match(function.value(QStringLiteral("name")).toString())
                .hasMatch());
    QCOMPARE(function.value(QStringLiteral("parameters"))
                 .toObject()
                 .value(QStringLiteral("type"))
                 .toString(),
             QStringLiteral("object"));
    // The second request: the assistant's call and the tool's result.
    const QJsonArray messages = requests[2].json().value(QStringLiteral("messages")).toArray();
    const QJsonObject toolMessage = messages.last().toObject();
    QCOMPARE(toolMessage.value(QStringLiteral("role")).toString(), QStringLiteral("tool"));
    QCOMPARE(toolMessage.value(QStringLiteral("content")).toString(),
             QStringLiteral("Echo: over the wire"));
    const QJsonObject assistant = messages.at(messages.size() - 2).toObject();
    QCOMPARE(assistant.value(QStringLiteral("role")).toString(), QStringLiteral("assistant"));
    QCOMPARE(assistant.value(QStringLiteral("tool_calls")).toArray().size(), 1);
    // The API shows SERVER/TOOL; the answer is the text only.
    const QList<QJsonObject> steps = toolSteps(allChunks(srv, sid, tid));
    QCOMPARE(steps.size(), 2);
    const QJsonObject callStep = steps[0].value(QStringLiteral("tool_call")).toObject();
    QCOMPARE(callStep.value(QStringLiteral("name")).toString(), kEcho);
    QCOMPARE(callStep.value(QStringLiteral("arguments")).toObject(),
             QJsonObject({{QStringLiteral("message"), QStringLiteral("over the wire")}}));
    QCOMPARE(steps[1]
                 .value(QStringLiteral("tool_result"))
                 .toObject()
                 .value(QStringLiteral("content"))
                 .toString(),
             QStringLiteral("Echo: over the wire"));
    const QJsonObject message = answerOf(srv, sid, tid);
    QCOMPARE(message.value(QStringLiteral("content")).toString(),
             QStringLiteral("Let me check. It said so."));
    const QJsonObject listed =
        message.value(QStringLiteral("tool_calls")).toArray().first().toObject();
    QCOMPARE(listed.value(QStringLiteral("name")).toString(), kEcho);
    QCOMPARE(listed.value(QStringLiteral("offset")).toInt(),
             int(QStringLiteral("Let me check. ").size()));
}

QTEST_GUILESS_MAIN(TestTools)
#include "tst_tools.moc"
