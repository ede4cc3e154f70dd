// shared/API.md, Tools (MCP), over real sockets: GET /v1/tools, a session's tools and
// tool_approval, a turn's tools, approvals (ask, decline, timeout, auto), tool-call answers and
// their errors, tool steps in /chunks and as events (resumed in the middle of a round), the
// answer's tool_calls, and both wire formats through the fake model server. The tools are the
// reference MCP servers from npm (server-everything, server-filesystem) behind the real Hub.
// Over 400 lines: one test per rule; the fixture and the requests are in toolsfixture.h.
#include "fakes/fakemodelserver.h"
#include "fakes/holdfastprocess.h"
#include "fakes/storekinds.h"
#include "provider/ollamaprovider.h"
#include "provider/openaiprovider.h"
#include "toolsfixture.h"

#include <QLoggingCategory>
#include <QRegularExpression>

using namespace holdfast;
using namespace holdfast::test::tools;
using test::FakeModelServer;
using test::HttpReply;
using test::spinUntil;
using test::SseReader;
using test::turnPath;

namespace {
// The fake model server as model "fake-model", in OpenAI's or Ollama's wire format.
ServerSetup upstreamSetup(FakeModelServer &upstream, const QString &format)
{
    ServerSetup setup = quickDemo();
    setup.addProviders = [&upstream, format](ProviderRegistry &registry) {
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
        QVERIFY(m_stores.start());
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
    void severalCallsAtOnce();
    void headlessBinaryWithMcpConfig();
    void storedToolStepsReadBack_data();
    void storedToolStepsReadBack();

private:
    std::unique_ptr<McpSetup> m_mcp;
    test::StoreKinds m_stores;
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
    const ServerSetup setup = upstreamSetup(upstream, format);
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

// The model asks for two calls at once (OpenAI's deltas of the two interleaved): each call is a
// chunk in the model's order; the turn waits until both are answered (in any order); then each
// result in the same order.
void TestTools::severalCallsAtOnce()
{
    FakeModelServer upstream;
    QVERIFY(upstream.listen());
    ToolServer ts(m_mcp.get(), upstreamSetup(upstream, QStringLiteral("openai")));
    HF_CHECK_TOOLS(ts);
    Server &srv = *ts;
    const QString sid = toolSession(srv, QStringLiteral("two"), {kEcho}, QStringLiteral("ask"));
    upstream.chooser = [](const FakeModelServer::Received &received) {
        const QJsonObject body = received.json();
        FakeModelServer::Script s;
        if (body.value(QStringLiteral("messages")).toArray().last()[QStringLiteral("role")] ==
            QStringLiteral("tool")) {
            s.chunks = {QStringLiteral("Both done.")};
            return s;
        }
        const QString function = body.value(QStringLiteral("tools"))
                                     .toArray()
                                     .first()[QStringLiteral("function")][QStringLiteral("name")]
                                     .toString();
        FakeModelServer::ScriptedCall one;
        one.id = QStringLiteral("call_one");
        one.name = function;
        one.arguments = QStringLiteral("{\"message\": \"one\"}");
        FakeModelServer::ScriptedCall two = one;
        two.id = QStringLiteral("call_two");
        two.arguments = QStringLiteral("{\"message\": \"two\"}");
        s.toolCalls = {one, two};
        s.interleaveCalls = true;
        return s;
    };
    const int tid = startTurn(srv, sid,
                              {{QStringLiteral("prompt"), QStringLiteral("both, please")},
                               {QStringLiteral("model"), QStringLiteral("fake-model")}});
    QCOMPARE(tid, 1);
    QVERIFY(waitForState(srv, sid, tid, QStringLiteral("waiting")));
    QList<QJsonObject> steps = toolSteps(allChunks(srv, sid, tid));
    QCOMPARE(steps.size(), 2);
    QCOMPARE(steps[0][QStringLiteral("tool_call")][QStringLiteral("id")].toString(),
             QStringLiteral("call_one"));
    QCOMPARE(steps[1][QStringLiteral("tool_call")][QStringLiteral("id")].toString(),
             QStringLiteral("call_two"));
    QCOMPARE(steps[1][QStringLiteral("seq")].toInt(), steps[0][QStringLiteral("seq")].toInt() + 1);
    // The second first: the turn still waits for the other one.
    QCOMPARE(answer(srv, sid, tid, QStringLiteral("call_two"), false).status, 202);
    QTest::qWait(100);
    QCOMPARE(stateOf(srv, sid, tid), QStringLiteral("waiting"));
    EXPECT_ERROR(answer(srv, sid, tid, QStringLiteral("call_two"), true), 409, "conflict");
    QCOMPARE(answer(srv, sid, tid, QStringLiteral("call_one"), true).status, 202);
    QCOMPARE(srv.finish(sid, tid).state, TurnRecord::State::Done);
    steps = toolSteps(allChunks(srv, sid, tid));
    QCOMPARE(steps.size(), 4);
    const QJsonObject first = steps[2].value(QStringLiteral("tool_result")).toObject();
    const QJsonObject second = steps[3].value(QStringLiteral("tool_result")).toObject();
    QCOMPARE(first.value(QStringLiteral("id")).toString(), QStringLiteral("call_one"));
    QCOMPARE(first.value(QStringLiteral("content")).toString(), QStringLiteral("Echo: one"));
    QCOMPARE(second.value(QStringLiteral("id")).toString(), QStringLiteral("call_two"));
    QCOMPARE(second.value(QStringLiteral("content")).toString(), kDeclined);
    QCOMPARE(second.value(QStringLiteral("is_error")), QJsonValue(true));
    const QJsonArray calls = answerOf(srv, sid, tid).value(QStringLiteral("tool_calls")).toArray();
    QCOMPARE(calls.size(), 2);
    QCOMPARE(calls[0][QStringLiteral("approved")], QJsonValue(true));
    QCOMPARE(calls[1][QStringLiteral("approved")], QJsonValue(false));
}

// The real program: servers from --mcp-config, and a call nobody answers declined after
// --tool-approval-timeout-ms.
void TestTools::headlessBinaryWithMcpConfig()
{
    QVERIFY2(!qEnvironmentVariableIsEmpty("HOLDFAST_BINARY"),
             "run through ctest (HOLDFAST_BINARY)");
    QVERIFY(m_mcp);
    HF_CHECK_FIXTURE(m_mcp->servers);
    QTemporaryDir home;
    const mcp::ServerConfig everything = m_mcp->servers.everything();
    const QJsonObject config{
        {QStringLiteral("mcpServers"),
         QJsonObject{{QStringLiteral("everything"),
                      QJsonObject{{QStringLiteral("command"), everything.command},
                                  {QStringLiteral("args"),
                                   QJsonArray::fromStringList(everything.args)}}}}}};
    QFile file(home.filePath(QStringLiteral("mcp.json")));
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write(QJsonDocument(config).toJson());
    file.close();
    test::HoldfastProcess hf(home.path(),
                             {QStringLiteral("--listen"), QStringLiteral("127.0.0.1:0"),
                              QStringLiteral("--store"), QStringLiteral("memory:"),
                              QStringLiteral("--mcp-config"), file.fileName(),
                              QStringLiteral("--tool-approval-timeout-ms"), QStringLiteral("300"),
                              QStringLiteral("--demo-delay-ms"), QStringLiteral("2"),
                              QStringLiteral("--demo-chunks"), QStringLiteral("4")});
    const quint16 port = hf.waitForPort();
    QVERIFY(port != 0);
    test::HttpTestClient c(port);
    QVERIFY(spinUntil(
        [&] {
            const QJsonArray servers =
                c.get("/v1/tools").json().value(QStringLiteral("servers")).toArray();
            if (servers.size() == 1 &&
                servers[0][QStringLiteral("state")] == QStringLiteral("ready"))
                return true;
            QTest::qWait(50);
            return false;
        },
        30000));
    QCOMPARE(c.post("/v1/sessions", {{QStringLiteral("id"), QStringLiteral("bin")}}).status, 201);
    QCOMPARE(c.patch("/v1/sessions/bin", {{QStringLiteral("tools"), QJsonArray{kEcho}}}).status,
             200);
    QCOMPARE(c.post("/v1/sessions/bin/turns",
                    {{QStringLiteral("prompt"), echoPrompt(QStringLiteral("anyone?"))}})
                 .status,
             202);
    SseReader events(port, "/v1/sessions/bin/turns/1/events");
    QVERIFY(events.waitForEnd());
    QCOMPARE(events.lastEvent().event, QByteArray("done"));
    QByteArrayList types;
    QJsonObject result;
    for (const SseReader::Event &e : events.events) {
        if (e.event != "chunk" && e.event != "done")
            types.append(e.event);
        if (e.event == "tool_result")
            result = e.json().value(QStringLiteral("tool_result")).toObject();
    }
    QCOMPARE(types, (QByteArrayList{"tool_call", "tool_result"}));
    QCOMPARE(result.value(QStringLiteral("content")).toString(), kDeclined);
    QCOMPARE(result.value(QStringLiteral("is_error")), QJsonValue(true));
    hf.signal(SIGTERM);
    QVERIFY(hf.waitForExit());
    QCOMPARE(hf.process().exitCode(), 0);
}

void TestTools::storedToolStepsReadBack_data()
{
    m_stores.addRows();
}

// Through each store: a session's tools, the waiting state, the tool steps and the answer's
// tool_calls as the API shows them; then, from a new server on the same data (SQLite, Redis),
// the same read back from the store, events resumed in the middle of the round included.
void TestTools::storedToolStepsReadBack()
{
    QFETCH(QString, kind);
    const QString sid = QStringLiteral("kept");
    QJsonArray chunks;
    QJsonObject message;
    int callSeq = -1;
    {
        ServerSetup setup = quickDemo();
        setup.makeStore = [&] { return m_stores.make(kind); };
        ToolServer ts(m_mcp.get(), setup);
        HF_CHECK_TOOLS(ts);
        Server &srv = *ts;
        QCOMPARE(toolSession(srv, sid, {kEcho}, QStringLiteral("ask")), sid);
        const int tid =
            startTurn(srv, sid, {{QStringLiteral("prompt"), echoPrompt(QStringLiteral("kept"))}});
        QCOMPARE(tid, 1);
        QVERIFY(waitForState(srv, sid, tid, QStringLiteral("waiting")));
        if (kind != QLatin1String("memory")) {
            // The waiting state is stored: the store's record says so too.
            const auto stored = test::awaitResult(srv.store->loadTurn(sid, tid));
            QVERIFY(stored.ok() && stored.value());
            QCOMPARE((*stored.value()).state, TurnRecord::State::Waiting);
        }
        const QString cid = firstCallId(srv, sid, tid);
        QCOMPARE(answer(srv, sid, tid, cid, true).status, 202);
        QCOMPARE(srv.finish(sid, tid).state, TurnRecord::State::Done);
        chunks = allChunks(srv, sid, tid);
        message = answerOf(srv, sid, tid);
        QCOMPARE(toolSteps(chunks).size(), 2);
        callSeq = toolSteps(chunks).first().value(QStringLiteral("seq")).toInt();
        QCOMPARE(message.value(QStringLiteral("tool_calls")).toArray().size(), 1);
    }
    if (kind == QLatin1String("memory"))
        return; // nothing outlives a memory store
    ServerSetup setup = quickDemo();
    setup.makeStore = [&] { return m_stores.make(kind, false); };
    ToolServer ts(m_mcp.get(), setup);
    HF_CHECK_TOOLS(ts);
    Server &srv = *ts;
    auto c = srv.client();
    const QJsonObject session = c.get("/v1/sessions/" + sid.toUtf8()).json();
    QCOMPARE(session.value(QStringLiteral("tools")), QJsonValue(QJsonArray{kEcho}));
    QCOMPARE(session.value(QStringLiteral("tool_approval")).toString(), QStringLiteral("ask"));
    QCOMPARE(allChunks(srv, sid, 1), chunks);
    QCOMPARE(answerOf(srv, sid, 1), message);
    SseReader resumed(srv.port, turnPath(sid, 1, "/events"),
                      {{"Last-Event-ID", QByteArray::number(callSeq - 1)}});
    QVERIFY(resumed.waitForEnd());
    QCOMPARE(resumed.events.at(0).event, QByteArray("tool_call"));
    QCOMPARE(resumed.events.at(0).json(), chunks.at(callSeq).toObject());
    QCOMPARE(resumed.events.at(1).event, QByteArray("tool_result"));
    QCOMPARE(resumed.events.at(1).json(), chunks.at(callSeq + 1).toObject());
    QCOMPARE(resumed.lastEvent().event, QByteArray("done"));
}

QTEST_GUILESS_MAIN(TestTools)
#include "tst_tools.moc"
