// The HTTP API of shared/API.md, over real sockets, against a real HttpServer on port 0.
#include "core/providerregistry.h"
#include "core/sessionservice.h"
#include "core/store.h"
#include "fakes/scriptedprovider.h"
#include "fakes/testutil.h"
#include "http/httpserver.h"
#include "httptestclient.h"
#include "provider/demoprovider.h"
#include "store/memorystore.h"

#include <QJsonArray>
#include <QLoggingCategory>
#include <QRandomGenerator>
#include <QTest>

using namespace holdfast;
using test::HttpReply;
using test::HttpTestClient;
using test::spinUntil;
using test::SseReader;

#define EXPECT_ERROR(reply, expectedStatus, expectedCode)                                          \
    do {                                                                                           \
        const HttpReply &r_ = (reply);                                                             \
        QVERIFY2(                                                                                  \
            r_.status == (expectedStatus),                                                         \
            qPrintable(                                                                            \
                QStringLiteral("status %1: %2").arg(r_.status).arg(QString::fromUtf8(r_.body))));  \
        QVERIFY2(r_.hasErrorShape(), r_.body.constData());                                         \
        QCOMPARE(r_.errorCode(), QStringLiteral(expectedCode));                                    \
        QCOMPARE(r_.headers.value("content-type"), QByteArray("application/json"));                \
    } while (false)

namespace {

struct ServerSetup
{
    HttpOptions http;
    ServiceConfig service;
    int demoChunks = 6;
    int demoDelayMs = 5;
};

// A service on a memory store, served on 127.0.0.1:0; torn down in the right order.
struct Server
{
    std::unique_ptr<Store> store;
    ProviderRegistry registry;
    test::ScriptedProvider *scripted = nullptr;
    std::unique_ptr<SessionService> service;
    std::unique_ptr<HttpServer> http;
    quint16 port = 0;

    explicit Server(ServerSetup setup = {})
    {
        store = std::move(*createStore(QStringLiteral("memory:")));
        registry.add(new DemoProvider({setup.demoChunks, setup.demoDelayMs}),
                     {QStringLiteral("demo")});
        scripted = new test::ScriptedProvider();
        registry.add(scripted, {QStringLiteral("scripted")});
        service = std::make_unique<SessionService>(store.get(), &registry, setup.service);
        const auto started = test::await(service->start());
        QVERIFY(started && started->ok());
        setup.http.logRequests = false;
        http = std::make_unique<HttpServer>(service.get(), setup.http);
        const Status listening = http->listen(QHostAddress::LocalHost, 0);
        QVERIFY(listening.ok());
        port = http->serverPort();
    }
    ~Server()
    {
        test::awaitVoid(service->shutdown());
        http.reset();
        service.reset();
    }

    HttpTestClient client(QByteArray token = {}) const
    {
        return HttpTestClient(port, std::move(token));
    }

    QString createSession(const QString &id)
    {
        auto c = client(token);
        const HttpReply r = c.post("/v1/sessions", {{QStringLiteral("id"), id}});
        return r.status == 201 ? r.json().value(QStringLiteral("id")).toString() : QString();
    }
    int startTurn(const QString &sid, const QString &prompt, const QString &model = {})
    {
        auto c = client(token);
        QJsonObject body{{QStringLiteral("prompt"), prompt}};
        if (!model.isEmpty())
            body.insert(QStringLiteral("model"), model);
        const HttpReply r = c.post("/v1/sessions/" + sid.toUtf8() + "/turns", body);
        return r.status == 202 ? r.json().value(QStringLiteral("id")).toInt() : 0;
    }
    TurnRecord finish(const QString &sid, int tid)
    {
        const auto r = test::await(service->waitForTurn(sid, tid, 20000));
        return r && r->ok() ? r->value() : TurnRecord{};
    }

    QByteArray token;
};

QByteArray turnPath(const QString &sid, int tid, const QByteArray &suffix = {})
{
    return "/v1/sessions/" + sid.toUtf8() + "/turns/" + QByteArray::number(tid) + suffix;
}

} // namespace

class TestHttp : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase()
    {
        QLoggingCategory::setFilterRules(
            QStringLiteral("holdfast.*.debug=false\nholdfast.*.info=false"));
    }
    void healthz();
    void sessionLifecycle();
    void listAndSearch();
    void messagesPaging();
    void badRequests_data();
    void badRequests();
    void strictJson_data();
    void strictJson();
    void promptLimit();
    void turnConflict();
    void gistScenarioLongPoll();
    void cancelTurn();
    void deleteCancelsActiveTurn();
    void sseStreamsIncrementally();
    void sseResume_data();
    void sseResume();
    void sseAfterEndReplaysAll();
    void sseDisconnectKeepsGenerating();
    void sseKeepAlive();
    void sseChunkEscaping();
    void sseErrorEvent();
    void sseErrors();
    void sseTooManyStreams();
    void fiftyConcurrentStreams();
    void bodyLimit();
    void bodyLimitChunked();
    void checkOrder();
    void auth();
    void refusesNonLoopbackWithoutToken();
    void keepAliveAndPipelining();
    void malformedRequests();
    void fuzz();
    void shutdownEndsStreams();
};

void TestHttp::healthz()
{
    Server srv;
    auto c = srv.client();
    const HttpReply r = c.get("/healthz");
    QCOMPARE(r.status, 200);
    QCOMPARE(r.headers.value("content-type"), QByteArray("application/json"));
    QCOMPARE(r.json().value(QStringLiteral("status")).toString(), QStringLiteral("ok"));
    QCOMPARE(r.json().value(QStringLiteral("version")).toString(),
             QStringLiteral(HOLDFAST_VERSION));
}

void TestHttp::sessionLifecycle()
{
    Server srv;
    auto c = srv.client();

    // An empty body means {}.
    HttpReply r = c.call("POST", "/v1/sessions");
    QCOMPARE(r.status, 201);
    const QString generated = r.json().value(QStringLiteral("id")).toString();
    QVERIFY(SessionService::isValidSessionId(generated));
    QCOMPARE(r.headers.value("location"), "/v1/sessions/" + generated.toUtf8());

    r = c.post("/v1/sessions", {{QStringLiteral("id"), QStringLiteral("trip")},
                                {QStringLiteral("title"), QStringLiteral("Trip plans")},
                                {QStringLiteral("system"), QStringLiteral("You are terse.")}});
    QCOMPARE(r.status, 201);
    QCOMPARE(r.headers.value("location"), QByteArray("/v1/sessions/trip"));
    QJsonObject s = r.json();
    QCOMPARE(s.value(QStringLiteral("title")).toString(), QStringLiteral("Trip plans"));
    QCOMPARE(s.value(QStringLiteral("system")).toString(), QStringLiteral("You are terse."));
    QCOMPARE(s.value(QStringLiteral("model")).toString(), QStringLiteral("demo"));
    QCOMPARE(s.value(QStringLiteral("total")).toInt(), 0);
    QVERIFY(s.value(QStringLiteral("active_turn")).isNull());
    QVERIFY(s.value(QStringLiteral("history")).isArray());
    QVERIFY(s.value(QStringLiteral("created_at")).toString().endsWith(QLatin1Char('Z')));

    r = c.get("/v1/sessions/trip");
    QCOMPARE(r.status, 200);
    QCOMPARE(r.json().value(QStringLiteral("title")).toString(), QStringLiteral("Trip plans"));

    // PATCH: a field set, a field cleared with null, the rest left.
    r = c.patch("/v1/sessions/trip", {{QStringLiteral("title"), QStringLiteral("Holiday")},
                                      {QStringLiteral("system"), QJsonValue::Null}});
    QCOMPARE(r.status, 200);
    s = r.json();
    QCOMPARE(s.value(QStringLiteral("title")).toString(), QStringLiteral("Holiday"));
    QVERIFY(s.value(QStringLiteral("system")).isNull());
    QVERIFY(s.value(QStringLiteral("history")).isArray());
    QVERIFY(s.value(QStringLiteral("updated_at")).toString() >=
            s.value(QStringLiteral("created_at")).toString());

    r = c.call("DELETE", "/v1/sessions/trip");
    QCOMPARE(r.status, 204);
    QVERIFY(r.body.isEmpty());
    EXPECT_ERROR(c.get("/v1/sessions/trip"), 404, "not_found");
    EXPECT_ERROR(c.call("DELETE", "/v1/sessions/trip"), 404, "not_found");
}

void TestHttp::listAndSearch()
{
    Server srv;
    auto c = srv.client();
    for (const char *title : {"Alpha trip", "beta", "Gamma TRIP"}) {
        QCOMPARE(
            c.post("/v1/sessions", {{QStringLiteral("title"), QString::fromLatin1(title)}}).status,
            201);
        QTest::qWait(2); // distinct updated_at
    }
    HttpReply r = c.get("/v1/sessions");
    QCOMPARE(r.status, 200);
    QJsonArray list = r.json().value(QStringLiteral("sessions")).toArray();
    QCOMPARE(r.json().value(QStringLiteral("total")).toInt(), 3);
    QCOMPARE(list.size(), 3);
    QCOMPARE(list.at(0).toObject().value(QStringLiteral("title")).toString(),
             QStringLiteral("Gamma TRIP"));
    QVERIFY(!list.at(0).toObject().contains(QStringLiteral("history")));

    r = c.get("/v1/sessions?q=trip&limit=1&offset=1");
    QCOMPARE(r.status, 200);
    list = r.json().value(QStringLiteral("sessions")).toArray();
    QCOMPARE(r.json().value(QStringLiteral("total")).toInt(), 2);
    QCOMPARE(list.size(), 1);
    QCOMPARE(list.at(0).toObject().value(QStringLiteral("title")).toString(),
             QStringLiteral("Alpha trip"));
}

void TestHttp::messagesPaging()
{
    Server srv;
    const QString sid = srv.createSession(QStringLiteral("pages"));
    for (int i = 0; i < 3; ++i) {
        const int tid = srv.startTurn(sid, QStringLiteral("question %1").arg(i));
        QVERIFY(tid > 0);
        QCOMPARE(srv.finish(sid, tid).state, TurnRecord::State::Done);
    }
    auto c = srv.client();
    HttpReply r = c.get("/v1/sessions/pages/messages?before=5&limit=2");
    QCOMPARE(r.status, 200);
    QCOMPARE(r.json().value(QStringLiteral("total")).toInt(), 6);
    QJsonArray messages = r.json().value(QStringLiteral("messages")).toArray();
    QCOMPARE(messages.size(), 2);
    QCOMPARE(messages.at(0).toObject().value(QStringLiteral("index")).toInt(), 3);
    QCOMPARE(messages.at(1).toObject().value(QStringLiteral("index")).toInt(), 4);
    QCOMPARE(messages.at(0).toObject().value(QStringLiteral("role")).toString(),
             QStringLiteral("assistant"));

    r = c.get("/v1/sessions/pages/messages?before=1000");
    messages = r.json().value(QStringLiteral("messages")).toArray();
    QCOMPARE(messages.size(), 6);
    QCOMPARE(messages.at(0).toObject().value(QStringLiteral("content")).toString(),
             QStringLiteral("question 0"));

    r = c.get("/v1/sessions/pages?window=2");
    QCOMPARE(r.json().value(QStringLiteral("history")).toArray().size(), 2);
    r = c.get("/v1/sessions/pages?window=0");
    QCOMPARE(r.json().value(QStringLiteral("history")).toArray().size(), 0);
}

void TestHttp::badRequests_data()
{
    QTest::addColumn<QByteArray>("method");
    QTest::addColumn<QByteArray>("target");
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<QByteArray>("contentType"); // "-": none
    QTest::addColumn<int>("status");
    QTest::addColumn<QString>("code");

    const QByteArray json = "application/json";
    const QByteArray none = "-";
    auto row = [](const char *name, QByteArray m, QByteArray t, QByteArray b, QByteArray ct, int st,
                  const char *code) {
        QTest::addRow("%s", name) << m << t << b << ct << st << QString::fromLatin1(code);
    };
    // Media type and JSON.
    row("create text/plain", "POST", "/v1/sessions", "{}", "text/plain", 415,
        "unsupported_media_type");
    row("create no content-type", "POST", "/v1/sessions", "{}", none, 415,
        "unsupported_media_type");
    row("create charset ok", "POST", "/v1/sessions", "{\"title\":\"x\"}",
        "application/json; charset=utf-8", 201, "");
    row("create media type any case", "POST", "/v1/sessions", "{}", "Application/JSON", 201, "");
    row("create bad json", "POST", "/v1/sessions", "{", json, 400, "bad_request");
    row("create array body", "POST", "/v1/sessions", "[]", json, 400, "bad_request");
    row("create broken utf-8", "POST", "/v1/sessions", "{\"title\":\"\xff\xfe\"}", json, 400,
        "bad_request");
    row("create title number", "POST", "/v1/sessions", "{\"title\":5}", json, 400, "bad_request");
    row("create id number", "POST", "/v1/sessions", "{\"id\":5}", json, 400, "bad_request");
    row("create invalid id", "POST", "/v1/sessions", "{\"id\":\"a b\"}", json, 400, "bad_request");
    row("create id too long", "POST", "/v1/sessions", "{\"id\":\"" + QByteArray(65, 'a') + "\"}",
        json, 400, "bad_request");
    // An id must match as a whole: `$` in a pattern also matches before a final line feed.
    row("create id LF", "POST", "/v1/sessions", "{\"id\":\"a\\n\"}", json, 400, "bad_request");
    row("create id CR", "POST", "/v1/sessions", "{\"id\":\"a\\r\"}", json, 400, "bad_request");
    row("create id LF LF", "POST", "/v1/sessions", "{\"id\":\"a\\n\\n\"}", json, 400,
        "bad_request");
    row("create id leading LF", "POST", "/v1/sessions", "{\"id\":\"\\na\"}", json, 400,
        "bad_request");
    row("get id LF", "GET", "/v1/sessions/s1%0A", "", none, 400, "bad_request");
    row("get id CR", "GET", "/v1/sessions/s1%0D", "", none, 400, "bad_request");
    row("patch id LF", "PATCH", "/v1/sessions/s1%0A", "{}", json, 400, "bad_request");
    row("delete id LF", "DELETE", "/v1/sessions/s1%0A", "", none, 400, "bad_request");
    row("turn id LF session", "POST", "/v1/sessions/s1%0A/turns", "{\"prompt\":\"a\"}", json, 400,
        "bad_request");
    row("get turn LF", "GET", "/v1/sessions/s1/turns/1%0A", "", none, 400, "bad_request");
    row("chunks turn LF", "GET", "/v1/sessions/s1/turns/1%0A/chunks", "", none, 400, "bad_request");
    row("create duplicate", "POST", "/v1/sessions", "{\"id\":\"s1\"}", json, 409, "conflict");
    row("create unknown model", "POST", "/v1/sessions", "{\"model\":\"nope\"}", json, 422,
        "invalid");
    row("create unknown field", "POST", "/v1/sessions", "{\"zzz\":[1]}", json, 201, "");
    // Sessions.
    row("get bad id", "GET", "/v1/sessions/bad.id", "", none, 400, "bad_request");
    row("get unknown", "GET", "/v1/sessions/nope", "", none, 404, "not_found");
    row("get window 1001", "GET", "/v1/sessions/s1?window=1001", "", none, 400, "bad_request");
    row("get window -1", "GET", "/v1/sessions/s1?window=-1", "", none, 400, "bad_request");
    row("get window abc", "GET", "/v1/sessions/s1?window=abc", "", none, 400, "bad_request");
    row("get window 1000", "GET", "/v1/sessions/s1?window=1000", "", none, 200, "");
    row("list limit abc", "GET", "/v1/sessions?limit=abc", "", none, 400, "bad_request");
    row("list offset -1", "GET", "/v1/sessions?offset=-1", "", none, 400, "bad_request");
    row("patch unknown", "PATCH", "/v1/sessions/nope", "{}", json, 404, "not_found");
    row("patch unknown bad body", "PATCH", "/v1/sessions/nope", "{", "text/plain", 404,
        "not_found");
    row("patch text/plain", "PATCH", "/v1/sessions/s1", "{}", "text/plain", 415,
        "unsupported_media_type");
    row("patch model number", "PATCH", "/v1/sessions/s1", "{\"model\":1}", json, 400,
        "bad_request");
    row("patch unknown model", "PATCH", "/v1/sessions/s1", "{\"model\":\"nope\"}", json, 422,
        "invalid");
    row("patch bad id", "PATCH", "/v1/sessions/%2e%2e", "{}", json, 400, "bad_request");
    row("delete unknown", "DELETE", "/v1/sessions/nope", "", none, 404, "not_found");
    row("messages limit 0", "GET", "/v1/sessions/s1/messages?limit=0", "", none, 400,
        "bad_request");
    row("messages limit 201", "GET", "/v1/sessions/s1/messages?limit=201", "", none, 400,
        "bad_request");
    row("messages before -1", "GET", "/v1/sessions/s1/messages?before=-1", "", none, 400,
        "bad_request");
    row("messages before x", "GET", "/v1/sessions/s1/messages?before=x", "", none, 400,
        "bad_request");
    row("messages unknown", "GET", "/v1/sessions/nope/messages", "", none, 404, "not_found");
    // Turns.
    row("turn no prompt", "POST", "/v1/sessions/s1/turns", "{}", json, 400, "bad_request");
    row("turn empty body", "POST", "/v1/sessions/s1/turns", "", none, 400, "bad_request");
    row("turn prompt number", "POST", "/v1/sessions/s1/turns", "{\"prompt\":1}", json, 400,
        "bad_request");
    row("turn options array", "POST", "/v1/sessions/s1/turns", "{\"prompt\":\"a\",\"options\":[]}",
        json, 400, "bad_request");
    row("turn temperature string", "POST", "/v1/sessions/s1/turns",
        "{\"prompt\":\"a\",\"options\":{\"temperature\":\"hot\"}}", json, 400, "bad_request");
    row("turn max_tokens 1.5", "POST", "/v1/sessions/s1/turns",
        "{\"prompt\":\"a\",\"options\":{\"max_tokens\":1.5}}", json, 400, "bad_request");
    row("turn empty prompt", "POST", "/v1/sessions/s1/turns", "{\"prompt\":\"\"}", json, 422,
        "invalid");
    row("turn unknown model", "POST", "/v1/sessions/s1/turns",
        "{\"prompt\":\"a\",\"model\":\"nope\"}", json, 422, "invalid");
    row("turn text/plain", "POST", "/v1/sessions/s1/turns", "{\"prompt\":\"a\"}", "text/plain", 415,
        "unsupported_media_type");
    row("turn unknown session", "POST", "/v1/sessions/nope/turns", "{\"prompt\":\"a\"}", json, 404,
        "not_found");
    row("turn unknown session text/plain", "POST", "/v1/sessions/nope/turns", "x", "text/plain",
        404, "not_found");
    row("turn bad session id", "POST", "/v1/sessions/a%20b/turns", "{\"prompt\":\"a\"}", json, 400,
        "bad_request");
    row("get turn", "GET", "/v1/sessions/s1/turns/1", "", none, 200, "");
    row("get turn abc", "GET", "/v1/sessions/s1/turns/abc", "", none, 400, "bad_request");
    row("get turn 0", "GET", "/v1/sessions/s1/turns/0", "", none, 400, "bad_request");
    row("get turn -1", "GET", "/v1/sessions/s1/turns/-1", "", none, 400, "bad_request");
    row("get turn 1.0", "GET", "/v1/sessions/s1/turns/1.0", "", none, 400, "bad_request");
    row("get turn unknown", "GET", "/v1/sessions/s1/turns/99", "", none, 404, "not_found");
    row("get turn unknown session", "GET", "/v1/sessions/nope/turns/1", "", none, 404, "not_found");
    row("chunks from -1", "GET", "/v1/sessions/s1/turns/1/chunks?from=-1", "", none, 400,
        "bad_request");
    row("chunks from abc", "GET", "/v1/sessions/s1/turns/1/chunks?from=abc", "", none, 400,
        "bad_request");
    row("chunks wait abc", "GET", "/v1/sessions/s1/turns/1/chunks?wait=abc", "", none, 400,
        "bad_request");
    row("chunks wait -5 clamped", "GET", "/v1/sessions/s1/turns/1/chunks?wait=-5", "", none, 200,
        "");
    row("chunks wait huge clamped", "GET", "/v1/sessions/s1/turns/1/chunks?wait=99999999", "", none,
        200, "");
    row("chunks unknown turn", "GET", "/v1/sessions/s1/turns/7/chunks", "", none, 404, "not_found");
    row("cancel unknown turn", "POST", "/v1/sessions/s1/turns/7/cancel", "", none, 404,
        "not_found");
    row("cancel turn abc", "POST", "/v1/sessions/s1/turns/abc/cancel", "", none, 400,
        "bad_request");
    row("cancel ended turn", "POST", "/v1/sessions/s1/turns/1/cancel", "", none, 202, "");
    row("events unknown turn", "GET", "/v1/sessions/s1/turns/7/events", "", none, 404, "not_found");
    // Routing.
    row("405 PUT session", "PUT", "/v1/sessions/s1", "{}", json, 405, "method_not_allowed");
    row("405 before 415", "PUT", "/v1/sessions/s1", "x", "text/plain", 405, "method_not_allowed");
    row("405 DELETE list", "DELETE", "/v1/sessions", "", none, 405, "method_not_allowed");
    row("405 POST healthz", "POST", "/healthz", "", none, 405, "method_not_allowed");
    row("405 GET turns", "GET", "/v1/sessions/s1/turns", "", none, 405, "method_not_allowed");
    row("405 GET cancel", "GET", "/v1/sessions/s1/turns/1/cancel", "", none, 405,
        "method_not_allowed");
    row("405 odd method", "BREW", "/v1/sessions", "", none, 405, "method_not_allowed");
    row("404 unknown path", "GET", "/v2/things", "", none, 404, "not_found");
    row("404 root", "GET", "/", "", none, 404, "not_found");
    row("404 trailing slash", "GET", "/v1/sessions/s1/", "", none, 404, "not_found");
    row("404 unknown sub-resource", "GET", "/v1/sessions/s1/turns/1/other", "", none, 404,
        "not_found");
}

void TestHttp::badRequests()
{
    QFETCH(QByteArray, method);
    QFETCH(QByteArray, target);
    QFETCH(QByteArray, body);
    QFETCH(QByteArray, contentType);
    QFETCH(int, status);
    QFETCH(QString, code);

    Server srv;
    QCOMPARE(srv.createSession(QStringLiteral("s1")), QStringLiteral("s1"));
    const int tid = srv.startTurn(QStringLiteral("s1"), QStringLiteral("hello"));
    QCOMPARE(tid, 1);
    QCOMPARE(srv.finish(QStringLiteral("s1"), tid).state, TurnRecord::State::Done);

    auto c = srv.client();
    QList<QPair<QByteArray, QByteArray>> headers;
    if (contentType != "-")
        headers.append({"Content-Type", contentType});
    const HttpReply r = c.call(method, target, body, headers, false);
    if (code.isEmpty()) {
        QVERIFY2(r.status == status, r.body.constData());
        return;
    }
    QVERIFY2(r.status == status,
             qPrintable(QStringLiteral("got %1 %2").arg(r.status).arg(QString::fromUtf8(r.body))));
    QVERIFY2(r.hasErrorShape(), r.body.constData());
    QCOMPARE(r.errorCode(), code);
    if (status == 405)
        QVERIFY(!r.headers.value("allow").isEmpty());
    // Nothing a client sends corrupts the session.
    const HttpReply after = c.get("/v1/sessions/s1");
    QCOMPARE(after.status, 200);
    QCOMPARE(after.json().value(QStringLiteral("total")).toInt(), 2);
}

void TestHttp::strictJson_data()
{
    // A string value as raw bytes (quotes included), and bytes after the closing brace.
    QTest::addColumn<QByteArray>("value");
    QTest::addColumn<QByteArray>("after");
    QTest::addColumn<bool>("valid");
    QTest::addColumn<int>("at"); // where in `value` the message must place the error; -1: unchecked
    auto row = [](const char *name, const QByteArray &value, const QByteArray &after, bool valid,
                  int at = -1) { QTest::addRow("%s", name) << value << after << valid << at; };
    // Qt's parser takes the first five: API.md says invalid JSON is 400.
    row("unknown escape", R"("\x")", "", false, 2);
    row("raw 0x01", "\"a\x01\"", "", false, 2);
    row("raw tab", "\"a\tb\"", "", false);
    row("raw line feed", "\"a\nb\"", "", false);
    row("lone high surrogate", R"("\ud800")", "", false);
    row("lone low surrogate", R"("\udc00")", "", false);
    row("two high surrogates", R"("\ud800\ud800")", "", false);
    row("short \\u", R"("\u12")", "", false, 5);
    row("invalid UTF-8", "\"\xff\xfe\"", "", false, 1);
    row("overlong UTF-8", "\"\xc0\xaf\"", "", false);
    row("raw NUL in string", QByteArray("\"a\0b\"", 5), "", false);
    row("trailing word", R"("a")", " x", false);
    row("trailing object", R"("a")", "{}", false);
    row("trailing NUL", R"("a")", QByteArray("\0x", 2), false);
    row("number 1.", "1.", "", false, 2); // Qt takes these numbers too
    row("number .5", ".5", "", false, 0);
    row("number -.5", "-.5", "", false, 1);
    // Valid JSON still passes. An escaped NUL is valid JSON (RFC 8259): fields take it as text.
    row("escaped NUL", R"("a\u0000b")", "", true);
    row("escaped slash", R"("a\/b")", "", true);
    row("unicode escape", R"("caf\u00e9")", "", true);
    row("surrogate pair", R"("\ud83d\ude00")", "", true);
    row("all escapes", R"("\"\\\/\b\f\n\r\t")", "", true);
    row("raw UTF-8", "\"caf\xc3\xa9 \xf0\x9f\x98\x80\"", "", true);
    row("whitespace after", R"("a")", " \r\n\t", true);
}

void TestHttp::strictJson()
{
    QFETCH(QByteArray, value);
    QFETCH(QByteArray, after);
    QFETCH(bool, valid);
    QFETCH(int, at);

    Server srv;
    QCOMPARE(srv.createSession(QStringLiteral("s1")), QStringLiteral("s1"));
    struct Target
    {
        QByteArray method;
        QByteArray path;
        QByteArray before; // the body up to the value
        QByteArray close;  // after the value
        int success;
    };
    const QList<Target> targets{
        {"POST", "/v1/sessions", R"({"title":)", "}", 201},
        {"PATCH", "/v1/sessions/s1", R"({"title":)", "}", 200},
        {"POST", "/v1/sessions/s1/turns", R"({"prompt":)", "}", 202},
        {"POST", "/v1/chat/completions", R"({"model":"demo","messages":[{"role":"user","content":)",
         "}]}", 200},
    };
    auto c = srv.client();
    for (const Target &t : targets) {
        const QByteArray body = t.before + value + t.close + after;
        const HttpReply r = c.call(t.method, t.path, body);
        const QString what = QStringLiteral("%1 %2: %3 %4")
                                 .arg(QString::fromLatin1(t.method), QString::fromLatin1(t.path))
                                 .arg(r.status)
                                 .arg(QString::fromUtf8(r.body.left(300)));
        if (valid) {
            QVERIFY2(r.status == t.success, qPrintable(what));
            continue;
        }
        QVERIFY2(r.status == 400, qPrintable(what));
        QCOMPARE(r.errorCode(), QStringLiteral("bad_request"));
        const QString message = r.error().value(QStringLiteral("message")).toString();
        QVERIFY2(message.startsWith(QStringLiteral("the body is not valid JSON")),
                 qPrintable(what));
        if (at >= 0)
            QVERIFY2(message.endsWith(QStringLiteral(" at offset %1").arg(t.before.size() + at)),
                     qPrintable(what));
        if (t.path == "/v1/chat/completions") // OpenAI's shape there
            QCOMPARE(r.error().value(QStringLiteral("type")).toString(),
                     QStringLiteral("invalid_request_error"));
        else
            QVERIFY2(r.hasErrorShape(), qPrintable(what));
    }
    // Nothing invalid reached the session.
    const HttpReply after1 = c.get("/v1/sessions/s1");
    QCOMPARE(after1.status, 200);
    const int total = after1.json().value(QStringLiteral("total")).toInt();
    QVERIFY2(valid ? total >= 1 : total == 0, qPrintable(QString::number(total)));
    QCOMPARE(after1.json().value(QStringLiteral("title")).isNull(), !valid);
}

void TestHttp::promptLimit()
{
    ServerSetup setup;
    setup.service.maxPromptBytes = 100;
    Server srv(setup);
    const QString sid = srv.createSession(QStringLiteral("limits"));
    auto c = srv.client();
    // 50 two-byte characters: exactly the limit in UTF-8 bytes.
    const QString exact(50, QChar(0xe9));
    HttpReply r =
        c.post("/v1/sessions/limits/turns", {{QStringLiteral("prompt"), exact + QLatin1Char('x')}});
    EXPECT_ERROR(r, 422, "invalid");
    r = c.post("/v1/sessions/limits/turns", {{QStringLiteral("prompt"), exact}});
    QCOMPARE(r.status, 202);
    QCOMPARE(srv.finish(sid, 1).state, TurnRecord::State::Done);
    const auto messages =
        c.get("/v1/sessions/limits/messages").json().value(QStringLiteral("messages")).toArray();
    QCOMPARE(messages.at(0).toObject().value(QStringLiteral("content")).toString(), exact);
}

void TestHttp::turnConflict()
{
    ServerSetup setup;
    setup.demoDelayMs = 200;
    Server srv(setup);
    const QString sid = srv.createSession(QStringLiteral("busy"));
    auto c = srv.client();
    HttpReply r =
        c.post("/v1/sessions/busy/turns", {{QStringLiteral("prompt"), QStringLiteral("one")}});
    QCOMPARE(r.status, 202);
    QCOMPARE(r.headers.value("location"), QByteArray("/v1/sessions/busy/turns/1"));
    QCOMPARE(r.json().value(QStringLiteral("state")).toString(), QStringLiteral("streaming"));
    QCOMPARE(r.json().value(QStringLiteral("prompt_index")).toInt(), 0);
    QVERIFY(r.json().value(QStringLiteral("response_index")).isNull());
    EXPECT_ERROR(
        c.post("/v1/sessions/busy/turns", {{QStringLiteral("prompt"), QStringLiteral("two")}}), 409,
        "conflict");
    QCOMPARE(c.get("/v1/sessions/busy").json().value(QStringLiteral("active_turn")).toInt(), 1);
    QCOMPARE(srv.finish(sid, 1).state, TurnRecord::State::Done);
    QCOMPARE(srv.startTurn(sid, QStringLiteral("two")), 2);
}

// The gist's scenario: the 202 comes before the answer; the client polls the chunks; the answer
// is saved once it has ended, equal to the chunks.
void TestHttp::gistScenarioLongPoll()
{
    ServerSetup setup;
    setup.demoDelayMs = 100;
    setup.demoChunks = 5;
    Server srv(setup);
    const QString sid = srv.createSession(QStringLiteral("gist"));
    auto c = srv.client();
    HttpReply r =
        c.post("/v1/sessions/gist/turns", {{QStringLiteral("prompt"), QStringLiteral("tell me")}});
    QCOMPARE(r.status, 202);
    QCOMPARE(r.json().value(QStringLiteral("chunks")).toInt(), 0);
    QVERIFY(srv.service->liveTurn(sid, 1)); // still generating after the 202

    QString text;
    int next = 0;
    int polls = 0;
    bool done = false;
    QList<int> seqs;
    while (!done && polls < 100) {
        ++polls;
        r = c.get(turnPath(sid, 1, "/chunks?from=" + QByteArray::number(next) + "&wait=5000"));
        QCOMPARE(r.status, 200);
        const QJsonObject page = r.json();
        for (const QJsonValue &v : page.value(QStringLiteral("chunks")).toArray()) {
            seqs.append(v.toObject().value(QStringLiteral("seq")).toInt());
            text += v.toObject().value(QStringLiteral("text")).toString();
        }
        const int newNext = page.value(QStringLiteral("next")).toInt();
        QVERIFY(newNext >= next);
        next = newNext;
        done = page.value(QStringLiteral("done")).toBool();
        if (done)
            QCOMPARE(page.value(QStringLiteral("state")).toString(), QStringLiteral("done"));
    }
    QVERIFY(done);
    QCOMPARE(seqs, (QList<int>{0, 1, 2, 3, 4}));

    r = c.get(turnPath(sid, 1));
    QCOMPARE(r.json().value(QStringLiteral("state")).toString(), QStringLiteral("done"));
    QCOMPARE(r.json().value(QStringLiteral("chunks")).toInt(), 5);
    QCOMPARE(r.json().value(QStringLiteral("response_index")).toInt(), 1);
    QVERIFY(!r.json().value(QStringLiteral("finished_at")).isNull());

    const QJsonObject session = c.get("/v1/sessions/gist").json();
    QCOMPARE(session.value(QStringLiteral("total")).toInt(), 2);
    const QJsonArray history = session.value(QStringLiteral("history")).toArray();
    QCOMPARE(history.size(), 2);
    QCOMPARE(history.at(0).toObject().value(QStringLiteral("role")).toString(),
             QStringLiteral("user"));
    QCOMPARE(history.at(1).toObject().value(QStringLiteral("role")).toString(),
             QStringLiteral("assistant"));
    QCOMPARE(history.at(1).toObject().value(QStringLiteral("content")).toString(), text);
    QCOMPARE(history.at(1).toObject().value(QStringLiteral("state")).toString(),
             QStringLiteral("complete"));

    // After the end: done at once, nothing more.
    r = c.get(turnPath(sid, 1, "/chunks?from=5&wait=30000"));
    QCOMPARE(r.json().value(QStringLiteral("done")).toBool(), true);
    QCOMPARE(r.json().value(QStringLiteral("next")).toInt(), 5);
    QCOMPARE(r.json().value(QStringLiteral("chunks")).toArray().size(), 0);
}

void TestHttp::cancelTurn()
{
    ServerSetup setup;
    setup.demoDelayMs = 100;
    setup.demoChunks = 50;
    Server srv(setup);
    const QString sid = srv.createSession(QStringLiteral("stop"));
    QCOMPARE(srv.startTurn(sid, QStringLiteral("long one")), 1);
    auto c = srv.client();
    HttpReply r = c.get(turnPath(sid, 1, "/chunks?from=0&wait=5000"));
    QVERIFY(!r.json().value(QStringLiteral("chunks")).toArray().isEmpty());
    r = c.call("POST", turnPath(sid, 1, "/cancel"));
    QCOMPARE(r.status, 202);
    QCOMPARE(r.json().value(QStringLiteral("state")).toString(), QStringLiteral("cancelled"));
    const int chunks = r.json().value(QStringLiteral("chunks")).toInt();
    QVERIFY(chunks >= 1 && chunks < 50);
    const QJsonArray history =
        c.get("/v1/sessions/stop").json().value(QStringLiteral("history")).toArray();
    QCOMPARE(history.size(), 2);
    QCOMPARE(history.at(1).toObject().value(QStringLiteral("state")).toString(),
             QStringLiteral("interrupted"));
    // Cancelling an ended turn changes nothing.
    r = c.call("POST", turnPath(sid, 1, "/cancel"));
    QCOMPARE(r.status, 202);
    QCOMPARE(r.json().value(QStringLiteral("state")).toString(), QStringLiteral("cancelled"));
    QCOMPARE(r.json().value(QStringLiteral("chunks")).toInt(), chunks);
    QCOMPARE(c.get("/v1/sessions/stop").json().value(QStringLiteral("total")).toInt(), 2);
}

void TestHttp::deleteCancelsActiveTurn()
{
    ServerSetup setup;
    setup.demoDelayMs = 100;
    setup.demoChunks = 50;
    Server srv(setup);
    const QString sid = srv.createSession(QStringLiteral("gone"));
    QCOMPARE(srv.startTurn(sid, QStringLiteral("long one")), 1);
    auto c = srv.client();
    QCOMPARE(c.call("DELETE", "/v1/sessions/gone").status, 204);
    QCOMPARE(srv.service->activeTurnCount(), 0);
    EXPECT_ERROR(c.get("/v1/sessions/gone"), 404, "not_found");
    EXPECT_ERROR(c.get(turnPath(sid, 1)), 404, "not_found");
}

void TestHttp::sseStreamsIncrementally()
{
    ServerSetup setup;
    setup.demoDelayMs = 150;
    setup.demoChunks = 6;
    Server srv(setup);
    const QString sid = srv.createSession(QStringLiteral("live"));
    QCOMPARE(srv.startTurn(sid, QStringLiteral("stream it")), 1);
    SseReader reader(srv.port, turnPath(sid, 1, "/events"));
    QVERIFY(reader.waitForEvents(1));
    // The first event is here while the turn is still generating: nothing was buffered.
    QVERIFY(srv.service->liveTurn(sid, 1) != nullptr);
    QCOMPARE(reader.status(), 200);
    QCOMPARE(reader.head().headers.value("content-type"), QByteArray("text/event-stream"));
    QCOMPARE(reader.head().headers.value("cache-control"), QByteArray("no-cache"));
    QVERIFY(reader.events.size() < 6);
    QVERIFY(reader.waitForEnd());
    QVERIFY(!reader.closedByServer()); // chunked framing ended the body; the connection stays

    const auto chunks = reader.chunkEvents();
    QCOMPARE(chunks.size(), 6);
    QString text;
    for (int i = 0; i < chunks.size(); ++i) {
        QCOMPARE(chunks[i].id, QByteArray::number(i));
        QCOMPARE(chunks[i].json().value(QStringLiteral("seq")).toInt(), i);
        text += chunks[i].json().value(QStringLiteral("text")).toString();
    }
    const SseReader::Event last = reader.lastEvent();
    QCOMPARE(last.event, QByteArray("done"));
    QVERIFY(last.id.isEmpty());
    QCOMPARE(last.json().value(QStringLiteral("state")).toString(), QStringLiteral("done"));
    QCOMPARE(last.json().value(QStringLiteral("chunks")).toInt(), 6);
    QCOMPARE(last.json().value(QStringLiteral("response_index")).toInt(), 1);
    auto c = srv.client();
    const QJsonArray history =
        c.get("/v1/sessions/live").json().value(QStringLiteral("history")).toArray();
    QCOMPARE(history.at(1).toObject().value(QStringLiteral("content")).toString(), text);
}

void TestHttp::sseResume_data()
{
    QTest::addColumn<QByteArray>("query");
    QTest::addColumn<QByteArray>("lastEventId");
    QTest::addColumn<int>("first");
    QTest::addRow("Last-Event-ID 0") << QByteArray() << QByteArray("0") << 1;
    QTest::addRow("Last-Event-ID 3") << QByteArray() << QByteArray("3") << 4;
    QTest::addRow("from 2") << QByteArray("?from=2") << QByteArray() << 2;
    QTest::addRow("Last-Event-ID wins over from") << QByteArray("?from=1") << QByteArray("4") << 5;
    QTest::addRow("from past the end") << QByteArray("?from=9") << QByteArray() << -1;
}

void TestHttp::sseResume()
{
    QFETCH(QByteArray, query);
    QFETCH(QByteArray, lastEventId);
    QFETCH(int, first);
    ServerSetup setup;
    setup.demoDelayMs = 60;
    setup.demoChunks = 6;
    Server srv(setup);
    const QString sid = srv.createSession(QStringLiteral("resume"));
    QCOMPARE(srv.startTurn(sid, QStringLiteral("again")), 1);
    // A first client reads some events, then drops; the second resumes mid-turn.
    {
        SseReader early(srv.port, turnPath(sid, 1, "/events"));
        QVERIFY(early.waitForEvents(2));
        early.disconnect();
    }
    QList<QPair<QByteArray, QByteArray>> headers;
    if (!lastEventId.isEmpty())
        headers.append({"Last-Event-ID", lastEventId});
    SseReader reader(srv.port, turnPath(sid, 1, "/events" + query), headers);
    QVERIFY(reader.waitForEnd());
    QCOMPARE(reader.status(), 200);
    const auto chunks = reader.chunkEvents();
    if (first < 0) {
        QVERIFY(chunks.isEmpty());
    } else {
        QCOMPARE(chunks.size(), 6 - first);
        for (int i = 0; i < chunks.size(); ++i)
            QCOMPARE(chunks[i].id.toInt(), first + i);
    }
    QCOMPARE(reader.lastEvent().event, QByteArray("done"));
}

void TestHttp::sseAfterEndReplaysAll()
{
    Server srv;
    const QString sid = srv.createSession(QStringLiteral("late"));
    QCOMPARE(srv.startTurn(sid, QStringLiteral("late reader")), 1);
    QCOMPARE(srv.finish(sid, 1).state, TurnRecord::State::Done);
    SseReader reader(srv.port, turnPath(sid, 1, "/events"));
    QVERIFY(reader.waitForEnd());
    QCOMPARE(reader.chunkEvents().size(), 6);
    QCOMPARE(reader.events.size(), 7);
    QCOMPARE(reader.lastEvent().event, QByteArray("done"));
    QCOMPARE(reader.lastEvent().json().value(QStringLiteral("chunks")).toInt(), 6);
    QCOMPARE(srv.http->openStreamCount(), 0);
}

void TestHttp::sseDisconnectKeepsGenerating()
{
    ServerSetup setup;
    setup.demoDelayMs = 80;
    setup.demoChunks = 8;
    Server srv(setup);
    const QString sid = srv.createSession(QStringLiteral("leaver"));
    QCOMPARE(srv.startTurn(sid, QStringLiteral("do not stop")), 1);
    {
        SseReader reader(srv.port, turnPath(sid, 1, "/events"));
        QVERIFY(reader.waitForEvents(1));
        QCOMPARE(srv.http->openStreamCount(), 1);
        reader.disconnect();
    }
    QVERIFY(spinUntil([&] { return srv.http->openStreamCount() == 0; }, 10000));
    QVERIFY(spinUntil([&] { return srv.http->connectionCount() == 0; }, 10000));
    const TurnRecord turn = srv.finish(sid, 1);
    QCOMPARE(turn.state, TurnRecord::State::Done);
    QCOMPARE(turn.chunks, 8);
    auto c = srv.client();
    const QJsonArray history =
        c.get("/v1/sessions/leaver").json().value(QStringLiteral("history")).toArray();
    QCOMPARE(history.size(), 2);
    QCOMPARE(history.at(1).toObject().value(QStringLiteral("state")).toString(),
             QStringLiteral("complete"));
}

void TestHttp::sseKeepAlive()
{
    ServerSetup setup;
    setup.http.keepAliveMs = 50;
    Server srv(setup);
    srv.scripted->script.chunks = {QStringLiteral("slow"), QStringLiteral(" answer")};
    srv.scripted->script.delayMs = 500;
    const QString sid = srv.createSession(QStringLiteral("quiet"));
    QCOMPARE(srv.startTurn(sid, QStringLiteral("hm"), QStringLiteral("scripted")), 1);
    SseReader reader(srv.port, turnPath(sid, 1, "/events"));
    QVERIFY(spinUntil([&] { return reader.comments >= 2 || reader.ended(); }));
    QVERIFY(reader.comments >= 2);
    QVERIFY(reader.waitForEnd());
    QCOMPARE(reader.chunkEvents().size(), 2);
    QCOMPARE(reader.lastEvent().event, QByteArray("done"));
}

void TestHttp::sseChunkEscaping()
{
    // Chunk events are written without QJsonDocument: every character must survive the trip.
    Server srv;
    const QList<QString> chunks = {
        QStringLiteral("say \"hi\" \\ back"), QStringLiteral("line\nbreak\r\ttab"),
        QString::fromUtf8("ctl \x01\x1f\b\f end"),
        QString::fromUtf8("\xc3\xa9t\xc3\xa9 \xf0\x9f\x8c\x8a \xe2\x80\xa8 /")};
    srv.scripted->script.chunks = chunks;
    const QString sid = srv.createSession(QStringLiteral("escapes"));
    QCOMPARE(srv.startTurn(sid, QStringLiteral("hm"), QStringLiteral("scripted")), 1);
    SseReader reader(srv.port, turnPath(sid, 1, "/events"));
    QVERIFY(reader.waitForEnd());
    const auto events = reader.chunkEvents();
    QCOMPARE(events.size(), chunks.size());
    for (int i = 0; i < chunks.size(); ++i) {
        QVERIFY2(!events[i].data.contains('\n'), events[i].data.constData());
        QCOMPARE(events[i].json().value(QStringLiteral("seq")).toInt(), i);
        QCOMPARE(events[i].json().value(QStringLiteral("text")).toString(), chunks[i]);
    }
}

void TestHttp::sseErrorEvent()
{
    Server srv;
    srv.scripted->script.chunks = {QStringLiteral("partial")};
    srv.scripted->script.failure =
        makeError(ErrorCode::UpstreamError, QStringLiteral("model broke"));
    const QString sid = srv.createSession(QStringLiteral("broken"));
    QCOMPARE(srv.startTurn(sid, QStringLiteral("hm"), QStringLiteral("scripted")), 1);
    SseReader reader(srv.port, turnPath(sid, 1, "/events"));
    QVERIFY(reader.waitForEnd());
    QCOMPARE(reader.chunkEvents().size(), 1);
    const SseReader::Event last = reader.lastEvent();
    QCOMPARE(last.event, QByteArray("error"));
    QVERIFY(last.id.isEmpty());
    QCOMPARE(last.json().value(QStringLiteral("state")).toString(), QStringLiteral("error"));
    const QJsonObject error = last.json().value(QStringLiteral("error")).toObject();
    QCOMPARE(error.value(QStringLiteral("code")).toString(), QStringLiteral("upstream_error"));
    QCOMPARE(error.value(QStringLiteral("message")).toString(), QStringLiteral("model broke"));
}

void TestHttp::sseErrors()
{
    Server srv;
    const QString sid = srv.createSession(QStringLiteral("e"));
    QCOMPARE(srv.startTurn(sid, QStringLiteral("x")), 1);
    QCOMPARE(srv.finish(sid, 1).state, TurnRecord::State::Done);
    {
        SseReader reader(srv.port, turnPath(sid, 2, "/events"));
        QVERIFY(reader.waitForEnd());
        EXPECT_ERROR(reader.head(), 404, "not_found");
    }
    {
        SseReader reader(srv.port, turnPath(sid, 1, "/events"), {{"Last-Event-ID", "x1"}});
        QVERIFY(reader.waitForEnd());
        EXPECT_ERROR(reader.head(), 400, "bad_request");
    }
    {
        SseReader reader(srv.port, turnPath(sid, 1, "/events?from=-2"));
        QVERIFY(reader.waitForEnd());
        EXPECT_ERROR(reader.head(), 400, "bad_request");
    }
}

void TestHttp::sseTooManyStreams()
{
    ServerSetup setup;
    setup.http.maxStreamsPerClient = 1;
    setup.demoDelayMs = 100;
    setup.demoChunks = 20;
    Server srv(setup);
    const QString sid = srv.createSession(QStringLiteral("many"));
    QCOMPARE(srv.startTurn(sid, QStringLiteral("x")), 1);
    SseReader first(srv.port, turnPath(sid, 1, "/events"));
    QVERIFY(first.waitForEvents(1));
    SseReader second(srv.port, turnPath(sid, 1, "/events"));
    QVERIFY(second.waitForEnd());
    EXPECT_ERROR(second.head(), 429, "rate_limited");
    first.disconnect();
    QVERIFY(spinUntil([&] { return srv.http->openStreamCount() == 0; }));
    SseReader third(srv.port, turnPath(sid, 1, "/events"));
    QVERIFY(third.waitForEvents(1));
    QCOMPARE(third.status(), 200);
}

void TestHttp::fiftyConcurrentStreams()
{
    ServerSetup setup;
    setup.demoDelayMs = 20;
    setup.demoChunks = 8;
    Server srv(setup);
    constexpr int kSessions = 50;
    std::vector<std::unique_ptr<SseReader>> readers;
    for (int i = 0; i < kSessions; ++i) {
        const QString sid = QStringLiteral("c%1").arg(i);
        QCOMPARE(srv.createSession(sid), sid);
        QCOMPARE(srv.startTurn(sid, QStringLiteral("prompt number %1").arg(i)), 1);
        readers.push_back(std::make_unique<SseReader>(srv.port, turnPath(sid, 1, "/events")));
    }
    QVERIFY(spinUntil(
        [&] {
            return std::all_of(readers.begin(), readers.end(),
                               [](const auto &r) { return r->ended(); });
        },
        60000));
    auto c = srv.client();
    for (int i = 0; i < kSessions; ++i) {
        const SseReader &reader = *readers[i];
        QCOMPARE(reader.lastEvent().event, QByteArray("done"));
        QString text;
        for (const auto &e : reader.chunkEvents())
            text += e.json().value(QStringLiteral("text")).toString();
        QVERIFY2(text.contains(QStringLiteral("prompt number %1*").arg(i)), qPrintable(text));
        const QJsonObject session = c.get("/v1/sessions/c" + QByteArray::number(i)).json();
        QCOMPARE(session.value(QStringLiteral("total")).toInt(), 2);
        const QJsonArray history = session.value(QStringLiteral("history")).toArray();
        QCOMPARE(history.at(0).toObject().value(QStringLiteral("content")).toString(),
                 QStringLiteral("prompt number %1").arg(i));
        QCOMPARE(history.at(1).toObject().value(QStringLiteral("content")).toString(), text);
    }
}

void TestHttp::bodyLimit()
{
    ServerSetup setup;
    setup.http.maxBodyBytes = 1000;
    Server srv(setup);
    QCOMPARE(srv.createSession(QStringLiteral("s1")), QStringLiteral("s1"));

    // Only the head is sent: the 413 comes without the server waiting for the body.
    HttpTestClient c = srv.client();
    c.sendRaw("POST /v1/sessions/s1/turns HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
              "application/json\r\n"
              "Content-Length: 1001\r\n\r\n");
    HttpReply r = c.readReply();
    EXPECT_ERROR(r, 413, "payload_too_large");
    QCOMPARE(r.headers.value("connection"), QByteArray("close"));
    QVERIFY(c.waitForClose());

    // With Expect: 100-continue the refusal comes instead of the 100.
    HttpTestClient e = srv.client();
    e.sendRaw("POST /v1/sessions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
              "Expect: 100-continue\r\nContent-Length: 50000000\r\n\r\n");
    EXPECT_ERROR(e.readReply(), 413, "payload_too_large");

    // Exactly the limit is accepted.
    QByteArray body = "{\"title\":\"";
    body += QByteArray(1000 - body.size() - 2, 'x') + "\"}";
    QCOMPARE(body.size(), 1000);
    HttpTestClient ok = srv.client();
    r = ok.call("POST", "/v1/sessions", body);
    QCOMPARE(r.status, 201);
    body.insert(2, ' ');
    EXPECT_ERROR(ok.call("POST", "/v1/sessions", body), 413, "payload_too_large");
}

void TestHttp::bodyLimitChunked()
{
    ServerSetup setup;
    setup.http.maxBodyBytes = 1000;
    Server srv(setup);
    // Within the limit: decoded and handled; the connection stays usable.
    HttpTestClient c = srv.client();
    c.sendRaw("POST /v1/sessions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
              "Transfer-Encoding: chunked\r\n\r\n"
              "5\r\n{\"id\"\r\n9;ext=1\r\n:\"chunky\"\r\n1\r\n}\r\n0\r\n\r\n");
    HttpReply r = c.readReply();
    QCOMPARE(r.status, 201);
    QCOMPARE(r.json().value(QStringLiteral("id")).toString(), QStringLiteral("chunky"));
    QCOMPARE(c.get("/v1/sessions/chunky").status, 200);

    // Over the limit: 413 once the decoded size passes it, then the connection closes.
    HttpTestClient big = srv.client();
    big.sendRaw(
        "POST /v1/sessions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        "Transfer-Encoding: chunked\r\n\r\n");
    for (int i = 0; i < 3; ++i)
        big.sendRaw("190\r\n" + QByteArray(400, ' ') + "\r\n");
    r = big.readReply();
    EXPECT_ERROR(r, 413, "payload_too_large");
    QVERIFY(big.waitForClose());

    // Malformed framing is a 400.
    HttpTestClient bad = srv.client();
    bad.sendRaw(
        "POST /v1/sessions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        "Transfer-Encoding: chunked\r\n\r\nzz\r\n");
    EXPECT_ERROR(bad.readReply(), 400, "bad_request");
}

// API.md: 401, then 404/405, then 413, 415, 400, 422.
void TestHttp::checkOrder()
{
    ServerSetup setup;
    setup.http.maxBodyBytes = 100;
    setup.http.token = QStringLiteral("sekret");
    Server srv(setup);
    srv.token = "sekret";
    QCOMPARE(srv.createSession(QStringLiteral("s1")), QStringLiteral("s1"));
    const QByteArray huge(500, 'x');
    HttpTestClient anon = srv.client();
    EXPECT_ERROR(
        anon.call("POST", "/v1/sessions/nope/turns", huge, {{"Content-Type", "text/plain"}}, false),
        401, "unauthorized");
    HttpTestClient c = srv.client("sekret");
    EXPECT_ERROR(
        c.call("POST", "/v1/sessions/nope/turns", huge, {{"Content-Type", "text/plain"}}, false),
        404, "not_found");
    EXPECT_ERROR(c.call("PUT", "/v1/sessions/s1", huge, {{"Content-Type", "text/plain"}}, false),
                 405, "method_not_allowed");
    EXPECT_ERROR(
        c.call("POST", "/v1/sessions/s1/turns", huge, {{"Content-Type", "text/plain"}}, false), 413,
        "payload_too_large");
    EXPECT_ERROR(
        c.call("POST", "/v1/sessions/s1/turns", "{", {{"Content-Type", "text/plain"}}, false), 415,
        "unsupported_media_type");
    EXPECT_ERROR(c.call("POST", "/v1/sessions/s1/turns", "{"), 400, "bad_request");
    EXPECT_ERROR(c.call("POST", "/v1/sessions/s1/turns", "{\"prompt\":\"\"}"), 422, "invalid");
}

void TestHttp::auth()
{
    ServerSetup setup;
    setup.http.token = QStringLiteral("sekret");
    Server srv(setup);
    HttpTestClient anon = srv.client();
    QCOMPARE(anon.get("/healthz").status, 200);
    HttpReply r = anon.get("/v1/sessions");
    EXPECT_ERROR(r, 401, "unauthorized");
    QCOMPARE(r.headers.value("www-authenticate"), QByteArray("Bearer"));
    EXPECT_ERROR(anon.call("POST", "/v1/sessions", "{}"), 401, "unauthorized");
    EXPECT_ERROR(anon.get("/v1/unknown"), 401, "unauthorized");
    EXPECT_ERROR(anon.call("POST", "/healthz"), 401, "unauthorized");
    EXPECT_ERROR(anon.call("GET", "/v1/sessions", {}, {{"Authorization", "Bearer wrong"}}), 401,
                 "unauthorized");
    EXPECT_ERROR(anon.call("GET", "/v1/sessions", {}, {{"Authorization", "Basic c2VrcmV0"}}), 401,
                 "unauthorized");
    {
        SseReader reader(srv.port, "/v1/sessions/x/turns/1/events");
        QVERIFY(reader.waitForEnd());
        EXPECT_ERROR(reader.head(), 401, "unauthorized");
    }
    HttpTestClient c = srv.client("sekret");
    QCOMPARE(c.get("/v1/sessions").status, 200);
    QCOMPARE(c.call("GET", "/v1/sessions", {}, {{"Authorization", "bearer sekret"}}).status, 200);
    srv.token = "sekret";
    const QString sid = srv.createSession(QStringLiteral("authed"));
    QCOMPARE(srv.startTurn(sid, QStringLiteral("hi")), 1);
    SseReader reader(srv.port, turnPath(sid, 1, "/events"), {}, "sekret");
    QVERIFY(reader.waitForEnd());
    QCOMPARE(reader.status(), 200);
    QCOMPARE(reader.lastEvent().event, QByteArray("done"));
}

void TestHttp::refusesNonLoopbackWithoutToken()
{
    Server srv;
    HttpServer open(srv.service.get(), HttpOptions{});
    const Status refused = open.listen(QHostAddress::AnyIPv4, 0);
    QVERIFY(!refused.ok());
    QCOMPARE(refused.error().code, ErrorCode::BadRequest);
    QVERIFY2(refused.error().message.contains(QStringLiteral("token")),
             qPrintable(refused.error().message));
    QCOMPARE(open.serverPort(), quint16(0));

    HttpOptions withToken;
    withToken.token = QStringLiteral("t");
    withToken.logRequests = false;
    HttpServer guarded(srv.service.get(), withToken);
    QVERIFY(guarded.listen(QHostAddress::AnyIPv4, 0).ok());
    QVERIFY(guarded.serverPort() != 0);
    HttpOptions loopback;
    loopback.logRequests = false;
    HttpServer local(srv.service.get(), loopback);
    // ::1 is loopback too: whatever else may fail (no IPv6 here), it is not refused for the token.
    const Status ipv6 = local.listen(QHostAddress::LocalHostIPv6, 0);
    QVERIFY(ipv6.ok() || !ipv6.error().message.contains(QStringLiteral("token")));
}

void TestHttp::keepAliveAndPipelining()
{
    Server srv;
    HttpTestClient c = srv.client();
    QCOMPARE(c.call("POST", "/v1/sessions", "{\"id\":\"k\"}").status, 201);
    QTcpSocket *first = c.socket();
    QCOMPARE(c.get("/v1/sessions/k").status, 200);
    QCOMPARE(c.socket(), first); // same connection
    QVERIFY(!c.isClosed());
    // Two requests in one write: two answers, in order.
    c.sendRaw("GET /v1/sessions/k HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\nGET /v1/sessions/nope "
              "HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    QCOMPARE(c.readReply().status, 200);
    EXPECT_ERROR(c.readReply(), 404, "not_found");
    // Connection: close is honoured.
    c.sendRaw("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    const HttpReply r = c.readReply();
    QCOMPARE(r.status, 200);
    QCOMPARE(r.headers.value("connection"), QByteArray("close"));
    QVERIFY(c.waitForClose());
    // HTTP/1.0 closes unless asked otherwise.
    HttpTestClient old = srv.client();
    old.sendRaw("GET /healthz HTTP/1.0\r\n\r\n");
    QCOMPARE(old.readReply().status, 200);
    QVERIFY(old.waitForClose());
}

void TestHttp::malformedRequests()
{
    Server srv;
    const QList<QByteArray> requests{
        "GARBAGE\r\n\r\n",
        "GET /healthz HTTP/2.0\r\n\r\n",
        "GET healthz HTTP/1.1\r\n\r\n",
        "GET /healthz HTTP/1.1\r\nNo colon here\r\n\r\n",
        "GET /healthz HTTP/1.1\r\n: empty name\r\n\r\n",
        "POST /v1/sessions HTTP/1.1\r\nContent-Length: abc\r\n\r\n",
        "POST /v1/sessions HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nxx",
        "POST /v1/sessions HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n",
        "POST /v1/sessions HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n",
        "GET /healthz HTTP/1.1\r\nX: a\x01b\r\n\r\n",
        "GET /he\x7flthz HTTP/1.1\r\n\r\n",
        "GET /healthz HTTP/1.1\r\nX-Big: " + QByteArray(70000, 'a') + "\r\n\r\n",
    };
    for (const QByteArray &request : requests) {
        HttpTestClient c = srv.client();
        c.sendRaw(request);
        const HttpReply r = c.readReply();
        QVERIFY2(r.status == 400, request.left(60).constData());
        QVERIFY(r.hasErrorShape());
        QVERIFY(c.waitForClose());
    }
    // A head that never ends is cut off at the limit too.
    HttpTestClient endless = srv.client();
    for (int i = 0; i < 20; ++i)
        endless.sendRaw("X-Filler: " + QByteArray(4000, 'b') + "\r\n");
    endless.sendRaw("GET / HTTP/1.1\r\n");
    const HttpReply r = endless.readReply();
    QVERIFY(r.status == 400 || endless.isClosed());
    QCOMPARE(srv.client().get("/healthz").status, 200);
}

void TestHttp::fuzz()
{
    Server srv;
    QCOMPARE(srv.createSession(QStringLiteral("s1")), QStringLiteral("s1"));
    QRandomGenerator rng(20261124);
    const QList<QByteArray> methods{"GET",  "POST",    "PATCH",      "DELETE", "PUT",
                                    "HEAD", "OPTIONS", "G\xc3\xa9T", "",       "get"};
    const QList<QByteArray> pieces{"v1",
                                   "sessions",
                                   "s1",
                                   "turns",
                                   "1",
                                   "0",
                                   "-1",
                                   "events",
                                   "chunks",
                                   "cancel",
                                   "messages",
                                   "%ff",
                                   "%00",
                                   "..",
                                   "",
                                   "healthz",
                                   "\xff\xfe",
                                   "a%2Fb",
                                   "99999999999999999999",
                                   "?window=",
                                   "?from=x&wait=-1"};
    const QList<QByteArray> bodies{"",
                                   "{}",
                                   "{",
                                   "null",
                                   "[]",
                                   "{\"prompt\":\"hi\"}",
                                   "{\"prompt\":5}",
                                   "{\"title\":\"\xc3\x28\"}",
                                   "\x00\x01\x02",
                                   "{\"id\":\"s1\"}",
                                   QByteArray(3000, '{')};
    const QList<QByteArray> types{
        "application/json", "text/plain", "", "application/json; charset=x",
        "APPLICATION/JSON", "\xff"};
    int answered = 0;
    for (int i = 0; i < 300; ++i) {
        QByteArray path;
        const int segments = rng.bounded(1, 7);
        for (int s = 0; s < segments; ++s)
            path += '/' + pieces[rng.bounded(pieces.size())];
        const QByteArray method = methods[rng.bounded(methods.size())];
        const QByteArray body = bodies[rng.bounded(bodies.size())];
        QByteArray request =
            method + ' ' + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
        const QByteArray type = types[rng.bounded(types.size())];
        if (!type.isEmpty())
            request += "Content-Type: " + type + "\r\n";
        if (rng.bounded(10) == 0)
            request += "X-Huge: " + QByteArray(rng.bounded(100, 80000), 'h') + "\r\n";
        if (rng.bounded(15) == 0)
            request += "Last-Event-ID: " + QByteArray::number(rng.bounded(-5, 10)) + "\r\n";
        if (rng.bounded(8) == 0) {
            QByteArray junk(rng.bounded(1, 64), '\0');
            for (char &ch : junk)
                ch = char(rng.bounded(256));
            request += junk + "\r\n";
        }
        request += "Content-Length: " + QByteArray::number(body.size()) + "\r\n\r\n" + body;
        if (path.contains("events"))
            request.replace("Connection: close", "Connection: close"); // events end on their own
        HttpTestClient c = srv.client();
        c.sendRaw(request);
        const HttpReply r = c.readReply(10000);
        if (r.status != 0) {
            ++answered;
            QVERIFY2(r.status >= 200 && r.status < 600,
                     request.left(80).toPercentEncoding().constData());
            if (r.status >= 400)
                QVERIFY2(r.hasErrorShape(), request.left(80).toPercentEncoding().constData());
        } else {
            QVERIFY2(c.isClosed(), request.left(80).toPercentEncoding().constData());
        }
    }
    QVERIFY(answered > 100);
    // Still serving, and the session is intact.
    HttpTestClient c = srv.client();
    QCOMPARE(c.get("/healthz").status, 200);
    const HttpReply s = c.get("/v1/sessions/s1");
    QVERIFY(s.status == 200 || s.status == 404); // a fuzzed DELETE may have removed it
    QCOMPARE(
        srv.startTurn(srv.createSession(QStringLiteral("after")), QStringLiteral("still fine")), 1);
}

void TestHttp::shutdownEndsStreams()
{
    ServerSetup setup;
    setup.demoDelayMs = 100;
    setup.demoChunks = 100;
    Server srv(setup);
    const QString sid = srv.createSession(QStringLiteral("bye"));
    QCOMPARE(srv.startTurn(sid, QStringLiteral("long")), 1);
    SseReader reader(srv.port, turnPath(sid, 1, "/events"));
    QVERIFY(reader.waitForEvents(1));

    srv.http->beginShutdown();
    HttpTestClient c = srv.client();
    EXPECT_ERROR(c.post("/v1/sessions", {}), 503, "unavailable");
    EXPECT_ERROR(
        c.post("/v1/sessions/bye/turns", {{QStringLiteral("prompt"), QStringLiteral("x")}}), 503,
        "unavailable");
    QCOMPARE(c.get("/healthz").status, 200);
    QCOMPARE(c.get("/v1/sessions/bye").status, 200);

    QVERIFY(test::awaitVoid([](Server *s) -> QCoro::Task<> {
        co_await s->service->shutdown();
        co_await s->http->finishShutdown();
    }(&srv)));
    QCOMPARE(srv.http->openStreamCount(), 0);
    QVERIFY(reader.waitForEnd());
    const SseReader::Event last = reader.lastEvent();
    QCOMPARE(last.event, QByteArray("done"));
    QCOMPARE(last.json().value(QStringLiteral("state")).toString(), QStringLiteral("interrupted"));
    const int chunks = last.json().value(QStringLiteral("chunks")).toInt();
    QCOMPARE(reader.chunkEvents().size(), chunks);
    const QJsonArray history =
        c.get("/v1/sessions/bye").json().value(QStringLiteral("history")).toArray();
    QCOMPARE(history.size(), 2);
    QCOMPARE(history.at(1).toObject().value(QStringLiteral("state")).toString(),
             QStringLiteral("interrupted"));
}

HOLDFAST_TEST_MAIN(TestHttp)
#include "tst_http.moc"
