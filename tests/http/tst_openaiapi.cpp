// Our OpenAI-compatible endpoints (GET /v1/models, POST /v1/chat/completions) over real
// sockets, checked against OpenAI's documented shapes field by field.
#include "fakes/fakemodelserver.h"
#include "fakes/httpserverfixture.h"
#include "fakes/testutil.h"
#include "http/httpserver.h"
#include "provider/demoprovider.h"
#include "provider/openaiprovider.h"
#include "store/memorystore.h"

#include <QJsonArray>
#include <QLoggingCategory>
#include <QTest>

using namespace holdfast;
using test::FakeModelServer;
using test::HttpReply;
using test::HttpTestClient;
using test::spinUntil;

namespace {

// The fake model server, started before the HttpServerFixture that uses it (a base class is
// built first and destroyed last).
struct Upstream
{
    FakeModelServer upstream;
    bool listening = upstream.listen();
};

// The shared fixture (demo 6 x 5 ms, scripted) plus an openai provider "fake" that talks to the
// fake model server.
struct Server : Upstream, test::HttpServerFixture
{
    Server() : HttpServerFixture(setup(upstream))
    {
        if (!listening)
            failure = QStringLiteral("the fake model server did not listen");
    }

    static test::HttpServerSetup setup(FakeModelServer &upstream)
    {
        test::HttpServerSetup s;
        s.makeStore = [] { return std::make_unique<MemoryStore>(); };
        s.addProviders = [&upstream](ProviderRegistry &registry) {
            UpstreamConfig c;
            c.name = QStringLiteral("fake");
            c.baseUrl = QUrl(upstream.openAiBaseUrl());
            c.defaultModel = QStringLiteral("fake-model");
            c.models = {c.defaultModel};
            c.idleTimeoutMs = 20000;
            registry.add(new OpenAiProvider(c), c.models);
        };
        return s;
    }

    HttpReply complete(const QJsonObject &body, const QByteArray &session = {})
    {
        HttpTestClient client(port);
        QList<QPair<QByteArray, QByteArray>> headers;
        if (!session.isEmpty())
            headers.append({"X-Holdfast-Session", session});
        return client.call("POST", "/v1/chat/completions",
                           QJsonDocument(body).toJson(QJsonDocument::Compact), headers);
    }
};

QJsonObject request(const QString &prompt, const QString &model = QStringLiteral("demo"),
                    bool stream = false)
{
    QJsonObject body{{QStringLiteral("model"), model},
                     {QStringLiteral("messages"),
                      QJsonArray{QJsonObject{{QStringLiteral("role"), QStringLiteral("user")},
                                             {QStringLiteral("content"), prompt}}}}};
    if (stream)
        body.insert(QStringLiteral("stream"), true);
    return body;
}

QString demoAnswer(const QString &prompt)
{
    return DemoProvider::answerFor({ChatMessage{QStringLiteral("user"), prompt}});
}

// The "data:" payloads of an event-stream body, in order.
QList<QByteArray> dataLines(const QByteArray &body)
{
    QList<QByteArray> out;
    for (const QByteArray &block : body.split('\n')) {
        if (block.startsWith("data: "))
            out.append(block.mid(6));
    }
    return out;
}

// Checks a streamed completion: chunk objects with one id, then [DONE]; returns the text.
QString checkChunks(const QList<QByteArray> &lines, const QString &model, bool usage)
{
    QString text;
    QString id;
    bool finished = false;
    [&] {
        QVERIFY(lines.size() >= 3);
        QCOMPARE(lines.last(), QByteArray("[DONE]"));
        const qsizetype usageAt = usage ? lines.size() - 2 : -1;
        for (qsizetype i = 0; i < lines.size() - 1; ++i) {
            const QJsonObject o = QJsonDocument::fromJson(lines[i]).object();
            QCOMPARE(o[QStringLiteral("object")].toString(),
                     QStringLiteral("chat.completion.chunk"));
            QVERIFY(o[QStringLiteral("id")].toString().startsWith(QStringLiteral("chatcmpl-")));
            if (id.isEmpty())
                id = o[QStringLiteral("id")].toString();
            QCOMPARE(o[QStringLiteral("id")].toString(), id);
            QCOMPARE(o[QStringLiteral("model")].toString(), model);
            QVERIFY(o[QStringLiteral("created")].isDouble());
            QCOMPARE(o.contains(QStringLiteral("usage")), usage);
            const QJsonArray choices = o[QStringLiteral("choices")].toArray();
            if (i == usageAt) {
                QVERIFY(choices.isEmpty());
                const QJsonObject u = o[QStringLiteral("usage")].toObject();
                QVERIFY(u[QStringLiteral("prompt_tokens")].toInt() > 0);
                QVERIFY(u[QStringLiteral("completion_tokens")].toInt() > 0);
                QCOMPARE(u[QStringLiteral("total_tokens")].toInt(),
                         u[QStringLiteral("prompt_tokens")].toInt() +
                             u[QStringLiteral("completion_tokens")].toInt());
                continue;
            }
            if (usage)
                QVERIFY(o[QStringLiteral("usage")].isNull());
            QCOMPARE(choices.size(), 1);
            const QJsonObject choice = choices[0].toObject();
            QCOMPARE(choice[QStringLiteral("index")].toInt(), 0);
            const QJsonObject delta = choice[QStringLiteral("delta")].toObject();
            if (i == 0)
                QCOMPARE(delta[QStringLiteral("role")].toString(), QStringLiteral("assistant"));
            QVERIFY(!finished);
            if (choice[QStringLiteral("finish_reason")].isString()) {
                QCOMPARE(choice[QStringLiteral("finish_reason")].toString(),
                         QStringLiteral("stop"));
                QVERIFY(delta.isEmpty());
                finished = true;
            } else {
                QVERIFY(choice[QStringLiteral("finish_reason")].isNull());
            }
            text += delta[QStringLiteral("content")].toString();
        }
        QVERIFY(finished);
    }();
    return text;
}

} // namespace

class TestOpenAiApi : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase()
    {
        QLoggingCategory::setFilterRules(
            QStringLiteral("holdfast.*.debug=false\nholdfast.*.info=false"));
    }

    void modelsListsEveryProvider()
    {
        Server s;
        HF_CHECK_FIXTURE(s);
        s.upstream.models = {QStringLiteral("fake-model"), QStringLiteral("other-model")};
        HttpTestClient client(s.port);
        const HttpReply r = client.get("/v1/models");
        QCOMPARE(r.status, 200);
        QCOMPARE(r.headers.value("content-type"), QByteArray("application/json"));
        const QJsonObject o = r.json();
        QCOMPARE(o[QStringLiteral("object")].toString(), QStringLiteral("list"));
        QStringList ids;
        for (const QJsonValue &v : o[QStringLiteral("data")].toArray()) {
            const QJsonObject m = v.toObject();
            QCOMPARE(m[QStringLiteral("object")].toString(), QStringLiteral("model"));
            QVERIFY(m[QStringLiteral("created")].isDouble());
            QVERIFY(!m[QStringLiteral("owned_by")].toString().isEmpty());
            ids << m[QStringLiteral("id")].toString();
        }
        QCOMPARE(ids, (QStringList{QStringLiteral("demo"), QStringLiteral("scripted"),
                                   QStringLiteral("fake/fake-model"),
                                   QStringLiteral("fake/other-model")}));
        QCOMPARE(o[QStringLiteral("data")].toArray()[0][QStringLiteral("owned_by")].toString(),
                 QStringLiteral("demo"));
    }

    void nonStreamed()
    {
        Server s;
        HF_CHECK_FIXTURE(s);
        const HttpReply r = s.complete(request(QStringLiteral("Hello there")));
        QCOMPARE(r.status, 200);
        QCOMPARE(r.headers.value("content-type"), QByteArray("application/json"));
        const QJsonObject o = r.json();
        QVERIFY(o[QStringLiteral("id")].toString().startsWith(QStringLiteral("chatcmpl-")));
        QCOMPARE(o[QStringLiteral("object")].toString(), QStringLiteral("chat.completion"));
        QVERIFY(o[QStringLiteral("created")].toInteger() > 1700000000);
        QCOMPARE(o[QStringLiteral("model")].toString(), QStringLiteral("demo"));
        const QJsonArray choices = o[QStringLiteral("choices")].toArray();
        QCOMPARE(choices.size(), 1);
        const QJsonObject choice = choices[0].toObject();
        QCOMPARE(choice[QStringLiteral("index")].toInt(), 0);
        QCOMPARE(choice[QStringLiteral("finish_reason")].toString(), QStringLiteral("stop"));
        const QJsonObject message = choice[QStringLiteral("message")].toObject();
        QCOMPARE(message[QStringLiteral("role")].toString(), QStringLiteral("assistant"));
        QCOMPARE(message[QStringLiteral("content")].toString(),
                 demoAnswer(QStringLiteral("Hello there")));
        const QJsonObject usage = o[QStringLiteral("usage")].toObject();
        QVERIFY(usage[QStringLiteral("prompt_tokens")].toInt() > 0);
        QVERIFY(usage[QStringLiteral("completion_tokens")].toInt() > 0);
        QCOMPARE(usage[QStringLiteral("total_tokens")].toInt(),
                 usage[QStringLiteral("prompt_tokens")].toInt() +
                     usage[QStringLiteral("completion_tokens")].toInt());
        // Stateless: no session was made.
        HF_AWAIT(listed, s.service->listSessions({}, 50, 0));
        QVERIFY(listed->ok());
        QCOMPARE(listed->value().total, 0);
    }

    void streamed_data()
    {
        QTest::addColumn<bool>("includeUsage");
        QTest::addRow("plain") << false;
        QTest::addRow("include_usage") << true;
    }

    void streamed()
    {
        QFETCH(bool, includeUsage);
        Server s;
        HF_CHECK_FIXTURE(s);
        QJsonObject body = request(QStringLiteral("Stream it"), QStringLiteral("demo"), true);
        if (includeUsage)
            body.insert(QStringLiteral("stream_options"),
                        QJsonObject{{QStringLiteral("include_usage"), true}});
        const HttpReply r = s.complete(body);
        QCOMPARE(r.status, 200);
        QCOMPARE(r.headers.value("content-type"), QByteArray("text/event-stream"));
        const QString text = checkChunks(dataLines(r.body), QStringLiteral("demo"), includeUsage);
        QCOMPARE(text, demoAnswer(QStringLiteral("Stream it")));
    }

    // The system message and the history of the request reach the model in order.
    void statelessSendsTheConversation()
    {
        Server s;
        HF_CHECK_FIXTURE(s);
        s.upstream.script.chunks = {QStringLiteral("ok")};
        QJsonArray messages;
        for (const auto &[role, content] :
             QList<QPair<QString, QString>>{{QStringLiteral("system"), QStringLiteral("Be brief.")},
                                            {QStringLiteral("user"), QStringLiteral("one")},
                                            {QStringLiteral("assistant"), QStringLiteral("two")},
                                            {QStringLiteral("user"), QStringLiteral("three")}})
            messages.append(
                QJsonObject{{QStringLiteral("role"), role}, {QStringLiteral("content"), content}});
        const HttpReply r =
            s.complete({{QStringLiteral("model"), QStringLiteral("fake/fake-model")},
                        {QStringLiteral("messages"), messages},
                        {QStringLiteral("temperature"), 0.5},
                        {QStringLiteral("max_tokens"), 7}});
        QCOMPARE(r.status, 200);
        QCOMPARE(r.json()[QStringLiteral("model")].toString(), QStringLiteral("fake/fake-model"));
        QCOMPARE(r.json()[QStringLiteral("choices")][0][QStringLiteral("message")]
                         [QStringLiteral("content")]
                             .toString(),
                 QStringLiteral("ok"));
        const auto sent = s.upstream.chatRequests();
        QCOMPARE(sent.size(), 1);
        const QJsonObject upstream = sent[0].json();
        QCOMPARE(upstream[QStringLiteral("messages")].toArray(), messages);
        QCOMPARE(upstream[QStringLiteral("model")].toString(), QStringLiteral("fake-model"));
        QCOMPARE(upstream[QStringLiteral("temperature")].toDouble(), 0.5);
        QCOMPARE(upstream[QStringLiteral("max_tokens")].toInt(), 7);
    }

    void sessionTurn_data()
    {
        QTest::addColumn<bool>("stream");
        QTest::addRow("not streamed") << false;
        QTest::addRow("streamed") << true;
    }

    // With X-Holdfast-Session the call is a turn of the session, saved like any other; its text
    // is the text a stateless call with the same prompt gives (demo, first turn).
    void sessionTurn()
    {
        QFETCH(bool, stream);
        Server s;
        HF_CHECK_FIXTURE(s);
        HttpTestClient client(s.port);
        QCOMPARE(client.post("/v1/sessions", {{QStringLiteral("id"), QStringLiteral("s1")}}).status,
                 201);
        QJsonObject body = request(QStringLiteral("Remember me"), QStringLiteral("demo"), stream);
        // Earlier messages of the request are not the session's history: only the last user
        // message counts.
        QJsonArray messages = body[QStringLiteral("messages")].toArray();
        messages.prepend(QJsonObject{{QStringLiteral("role"), QStringLiteral("user")},
                                     {QStringLiteral("content"), QStringLiteral("ignored")}});
        body[QStringLiteral("messages")] = messages;
        const HttpReply r = s.complete(body, "s1");
        QCOMPARE(r.status, 200);
        QCOMPARE(r.headers.value("x-holdfast-session"), QByteArray("s1"));
        QCOMPARE(r.headers.value("x-holdfast-turn"), QByteArray("1"));
        const QString text = stream ? checkChunks(dataLines(r.body), QStringLiteral("demo"), false)
                                    : r.json()[QStringLiteral("choices")][0]
                                              [QStringLiteral("message")][QStringLiteral("content")]
                                                  .toString();
        QCOMPARE(text, demoAnswer(QStringLiteral("Remember me")));

        const HttpReply session = client.get("/v1/sessions/s1");
        QCOMPARE(session.status, 200);
        QCOMPARE(session.json()[QStringLiteral("total")].toInt(), 2);
        const QJsonArray history = session.json()[QStringLiteral("history")].toArray();
        QCOMPARE(history[0][QStringLiteral("content")].toString(), QStringLiteral("Remember me"));
        QCOMPARE(history[1][QStringLiteral("content")].toString(), text);
        QCOMPARE(history[1][QStringLiteral("state")].toString(), QStringLiteral("complete"));
        const HttpReply turn = client.get("/v1/sessions/s1/turns/1");
        QCOMPARE(turn.json()[QStringLiteral("state")].toString(), QStringLiteral("done"));
    }

    void sessionErrors()
    {
        Server s;
        HF_CHECK_FIXTURE(s);
        HttpReply r = s.complete(request(QStringLiteral("hi")), "nope");
        QCOMPARE(r.status, 404);
        QCOMPARE(r.errorCode(), QStringLiteral("not_found"));
        QCOMPARE(r.error()[QStringLiteral("type")].toString(), QStringLiteral("not_found_error"));

        r = s.complete(request(QStringLiteral("hi")), "bad id!");
        QCOMPARE(r.status, 400);

        // Busy: a turn is running on the session.
        HttpTestClient client(s.port);
        QCOMPARE(
            client.post("/v1/sessions", {{QStringLiteral("id"), QStringLiteral("busy")}}).status,
            201);
        s.scripted->script.chunks = {QStringLiteral("slow")};
        s.scripted->script.delayMs = 3000;
        QCOMPARE(client
                     .post("/v1/sessions/busy/turns",
                           {{QStringLiteral("prompt"), QStringLiteral("first")},
                            {QStringLiteral("model"), QStringLiteral("scripted")}})
                     .status,
                 202);
        r = s.complete(request(QStringLiteral("second")), "busy");
        QCOMPARE(r.status, 409);
        QCOMPARE(r.errorCode(), QStringLiteral("conflict"));
        QCOMPARE(r.error()[QStringLiteral("type")].toString(), QStringLiteral("conflict_error"));
        QVERIFY(!r.error()[QStringLiteral("message")].toString().isEmpty());
    }

    void badRequests_data()
    {
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<QByteArray>("contentType");
        QTest::addColumn<int>("status");
        QTest::addColumn<QString>("code");
        const QByteArray json = "application/json";
        QTest::addRow("not json") << QByteArray("{nope") << json << 400 << "bad_request";
        QTest::addRow("wrong media type")
            << QByteArray("{}") << QByteArray("text/plain") << 415 << "unsupported_media_type";
        QTest::addRow("no messages")
            << QByteArray(R"x({"model":"demo"})x") << json << 400 << "bad_request";
        QTest::addRow("empty messages")
            << QByteArray(R"x({"messages":[]})x") << json << 400 << "bad_request";
        QTest::addRow("bad role") << QByteArray(R"x({"messages":[{"role":"tool","content":"x"}]})x")
                                  << json << 400 << "bad_request";
        QTest::addRow("stream not bool")
            << QByteArray(R"x({"stream":"yes","messages":[{"role":"user","content":"x"}]})x")
            << json << 400 << "bad_request";
        QTest::addRow("model not string")
            << QByteArray(R"x({"model":5,"messages":[{"role":"user","content":"x"}]})x") << json
            << 400 << "bad_request";
        QTest::addRow("unknown model")
            << QByteArray(R"x({"model":"gpt-9","messages":[{"role":"user","content":"x"}]})x")
            << json << 422 << "invalid";
        QTest::addRow("temperature out of range")
            << QByteArray(R"x({"temperature":2.5,"messages":[{"role":"user","content":"x"}]})x")
            << json << 422 << "invalid";
        QTest::addRow("top_p out of range")
            << QByteArray(R"x({"top_p":-1,"messages":[{"role":"user","content":"x"}]})x") << json
            << 422 << "invalid";
        QTest::addRow("max_tokens 0")
            << QByteArray(R"x({"max_tokens":0,"messages":[{"role":"user","content":"x"}]})x")
            << json << 422 << "invalid";
        QTest::addRow("top_p not a number")
            << QByteArray(R"x({"top_p":"high","messages":[{"role":"user","content":"x"}]})x")
            << json << 400 << "bad_request";
        QTest::addRow("image part")
            << QByteArray(
                   R"x({"messages":[{"role":"user","content":[{"type":"image_url","image_url":{}}]}]})x")
            << json << 400 << "bad_request";
    }

    void badRequests()
    {
        QFETCH(QByteArray, body);
        QFETCH(QByteArray, contentType);
        QFETCH(int, status);
        QFETCH(QString, code);
        Server s;
        HF_CHECK_FIXTURE(s);
        HttpTestClient client(s.port);
        const HttpReply r = client.call("POST", "/v1/chat/completions", body,
                                        {{"Content-Type", contentType}}, false);
        QCOMPARE(r.status, status);
        QCOMPARE(r.errorCode(), code);
        QCOMPARE(r.error()[QStringLiteral("type")].toString(),
                 QStringLiteral("invalid_request_error"));
        QVERIFY(!r.error()[QStringLiteral("message")].toString().isEmpty());
    }

    void reportsModelServerUsage_data()
    {
        QTest::addColumn<bool>("stream");
        QTest::addColumn<bool>("session");
        QTest::addRow("stateless") << false << false;
        QTest::addRow("stateless, streamed") << true << false;
        QTest::addRow("session") << false << true;
        QTest::addRow("session, streamed") << true << true;
    }

    // `usage` is the model server's own when it reported one (not bytes / 4), streamed (the
    // include_usage chunk) or not, stateless or as a session's turn.
    void reportsModelServerUsage()
    {
        QFETCH(bool, stream);
        QFETCH(bool, session);
        Server s;
        HF_CHECK_FIXTURE(s);
        s.upstream.script.chunks = {QStringLiteral("Fine, "), QStringLiteral("thanks.")};
        s.upstream.script.promptTokens = 77;
        s.upstream.script.completionTokens = 9;
        HttpTestClient client(s.port);
        if (session)
            QCOMPARE(
                client.post("/v1/sessions", {{QStringLiteral("id"), QStringLiteral("u1")}}).status,
                201);
        QJsonObject body =
            request(QStringLiteral("How are you?"), QStringLiteral("fake/fake-model"), stream);
        if (stream)
            body.insert(QStringLiteral("stream_options"),
                        QJsonObject{{QStringLiteral("include_usage"), true}});
        const HttpReply r = s.complete(body, session ? QByteArray("u1") : QByteArray());
        QCOMPARE(r.status, 200);
        QJsonObject usage;
        if (stream) {
            const QList<QByteArray> lines = dataLines(r.body);
            QCOMPARE(checkChunks(lines, QStringLiteral("fake/fake-model"), true),
                     QStringLiteral("Fine, thanks."));
            usage = QJsonDocument::fromJson(lines.at(lines.size() - 2))
                        .object()[QStringLiteral("usage")]
                        .toObject();
        } else {
            usage = r.json()[QStringLiteral("usage")].toObject();
        }
        QCOMPARE(usage, (QJsonObject{{QStringLiteral("prompt_tokens"), 77},
                                     {QStringLiteral("completion_tokens"), 9},
                                     {QStringLiteral("total_tokens"), 86}}));
    }

    // A model failure before any text: the error's own status; after text began streaming: a
    // last data line with the error, no [DONE].
    void upstreamFailures()
    {
        Server s;
        HF_CHECK_FIXTURE(s);
        s.upstream.script.status = 500;
        s.upstream.script.errorBody = R"x({"error":{"message":"boom","type":"server_error"}})x";
        HttpReply r = s.complete(request(QStringLiteral("x"), QStringLiteral("fake/fake-model")));
        QCOMPARE(r.status, 502);
        QCOMPARE(r.errorCode(), QStringLiteral("upstream_error"));
        QCOMPARE(r.error()[QStringLiteral("type")].toString(), QStringLiteral("server_error"));
        QVERIFY(r.error()[QStringLiteral("message")].toString().contains(QStringLiteral("boom")));

        s.upstream.script = {};
        s.upstream.script.chunks = {QStringLiteral("par"), QStringLiteral("tial")};
        s.upstream.script.rawLines = {"data: {broken"};
        s.upstream.script.delayMs = 5;
        r = s.complete(request(QStringLiteral("x"), QStringLiteral("fake/fake-model"), true));
        QCOMPARE(r.status, 200);
        const QList<QByteArray> lines = dataLines(r.body);
        QVERIFY(lines.size() >= 2);
        QVERIFY(!lines.contains("[DONE]"));
        const QJsonObject last = QJsonDocument::fromJson(lines.last()).object();
        QCOMPARE(last[QStringLiteral("error")][QStringLiteral("code")].toString(),
                 QStringLiteral("upstream_error"));
        QString text;
        for (qsizetype i = 0; i + 1 < lines.size(); ++i)
            text += QJsonDocument::fromJson(lines[i])
                        .object()[QStringLiteral("choices")][0][QStringLiteral("delta")]
                                 [QStringLiteral("content")]
                        .toString();
        QCOMPARE(text, QStringLiteral("partial"));
    }

    // A stateless streaming client that leaves stops the upstream request.
    void statelessDisconnectStopsUpstream()
    {
        Server s;
        HF_CHECK_FIXTURE(s);
        s.upstream.script.chunks = {QStringLiteral("first")};
        s.upstream.script.endMarker = false;
        s.upstream.script.ending = FakeModelServer::Ending::Hang;
        QTcpSocket socket;
        socket.connectToHost(QHostAddress::LocalHost, s.port);
        const QByteArray body =
            QJsonDocument(request(QStringLiteral("x"), QStringLiteral("fake/fake-model"), true))
                .toJson(QJsonDocument::Compact);
        socket.write("POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
                     "application/json\r\nContent-Length: " +
                     QByteArray::number(body.size()) + "\r\n\r\n" + body);
        QByteArray received;
        QVERIFY(spinUntil([&] {
            received += socket.readAll();
            return received.contains("\"content\":\"first\"");
        }));
        QVERIFY(!s.upstream.requests.last().clientClosed);
        socket.abort();
        QVERIFY(spinUntil([&] { return s.upstream.requests.last().clientClosed; }, 5000));
    }
};

QTEST_GUILESS_MAIN(TestOpenAiApi)
#include "tst_openaiapi.moc"
