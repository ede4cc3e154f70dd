// Nobody let in (issue 9): the token check, session ids before they reach a store key, the
// bounds on what one client may make the server hold (head, header count, body, prompt, open
// event streams), that those bounds do not let memory grow, and CORS off unless configured.
// Over real sockets against a real HttpServer on 127.0.0.1:0 (~3 s).
#include "core/providerregistry.h"
#include "core/sessionservice.h"
#include "core/store.h"
#include "fakes/testutil.h"
#include "http/httpserver.h"
#include "httptestclient.h"
#include "provider/demoprovider.h"

#include <QFile>
#include <QLoggingCategory>
#include <QTest>

using namespace holdfast;
using test::HttpReply;
using test::HttpTestClient;
using test::spinUntil;
using test::SseReader;

namespace {

struct Server
{
    std::unique_ptr<Store> store;
    ProviderRegistry registry;
    std::unique_ptr<SessionService> service;
    std::unique_ptr<HttpServer> http;
    quint16 port = 0;

    explicit Server(HttpOptions options = {}, ServiceConfig config = {}, int demoDelayMs = 0)
    {
        store = std::move(*createStore(QStringLiteral("memory:")));
        registry.add(new DemoProvider({20, demoDelayMs}), {QStringLiteral("demo")});
        service = std::make_unique<SessionService>(store.get(), &registry, config);
        const auto started = test::await(service->start());
        QVERIFY(started && started->ok());
        options.logRequests = false;
        http = std::make_unique<HttpServer>(service.get(), options);
        QVERIFY(http->listen(QHostAddress::LocalHost, 0).ok());
        port = http->serverPort();
    }
    ~Server()
    {
        test::awaitVoid(service->shutdown());
        http.reset();
        service.reset();
    }
    HttpTestClient client(QByteArray token = {}) const { return HttpTestClient(port, token); }
    int sessionCount() const
    {
        const auto page = test::await(service->listSessions({}, 200, 0));
        return page && page->ok() ? int(page->value().total) : -1;
    }
};

QByteArray headWithHeaders(int count, int valueBytes = 1)
{
    QByteArray request = "GET /healthz HTTP/1.1\r\nHost: x\r\n";
    for (int i = 1; i < count; ++i)
        request += "X-H" + QByteArray::number(i) + ": " + QByteArray(valueBytes, 'v') + "\r\n";
    return request + "\r\n";
}

qint64 rssKb()
{
    return test::procStatusKb(0, "VmRSS");
}

} // namespace

class TestSecurity : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase() { QLoggingCategory::setFilterRules(QStringLiteral("holdfast.*=false")); }

    void token_data()
    {
        QTest::addColumn<QByteArray>("authorization"); // "-": no header
        QTest::addColumn<int>("status");
        QTest::addRow("right") << QByteArray("Bearer s3cret-token") << 200;
        QTest::addRow("scheme in lower case") << QByteArray("bearer s3cret-token") << 200;
        QTest::addRow("missing") << QByteArray("-") << 401;
        QTest::addRow("empty") << QByteArray("Bearer ") << 401;
        QTest::addRow("prefix") << QByteArray("Bearer s3cret-toke") << 401;
        QTest::addRow("longer") << QByteArray("Bearer s3cret-tokenX") << 401;
        QTest::addRow("same length, last byte") << QByteArray("Bearer s3cret-tokeN") << 401;
        QTest::addRow("same length, first byte") << QByteArray("Bearer S3cret-token") << 401;
        QTest::addRow("basic") << QByteArray("Basic czNjcmV0LXRva2Vu") << 401;
        QTest::addRow("no scheme") << QByteArray("s3cret-token") << 401;
        QTest::addRow("nul inside") << QByteArray("Bearer s3cret\0-token", 20) << 400;
    }
    void token()
    {
        QFETCH(QByteArray, authorization);
        QFETCH(int, status);
        HttpOptions options;
        options.token = QStringLiteral("s3cret-token");
        Server srv(options);
        HttpTestClient c = srv.client();
        QList<QPair<QByteArray, QByteArray>> headers;
        if (authorization != "-")
            headers.append({"Authorization", authorization});
        const HttpReply r = c.call("GET", "/v1/sessions", {}, headers);
        QCOMPARE(r.status, status);
        if (status == 401) {
            QCOMPARE(r.errorCode(), QStringLiteral("unauthorized"));
            QCOMPARE(r.headers.value("www-authenticate"), QByteArray("Bearer"));
        }
        // /healthz needs no token.
        QCOMPARE(srv.client().get("/healthz").status, 200);
    }

    // Session ids are checked before anything is looked up or stored under them.
    void sessionIds_data()
    {
        QTest::addColumn<QByteArray>("method");
        QTest::addColumn<QByteArray>("target");
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<QByteArray>("sessionHeader");
        const QList<QByteArray> badPathIds{"a%2Fb",
                                           "..",
                                           "%2e%2e",
                                           "a:b",
                                           "a*b",
                                           "a%00b",
                                           "a%20b",
                                           "a.b",
                                           "%C3%A9",
                                           "a%5Cb",
                                           "x%0Ay",
                                           "{sid}",
                                           QByteArray(65, 'a')};
        for (const QByteArray &id : badPathIds) {
            QTest::addRow("GET %s", id.left(12).constData())
                << QByteArray("GET") << "/v1/sessions/" + id << QByteArray() << QByteArray();
            QTest::addRow("turn %s", id.left(12).constData())
                << QByteArray("POST") << "/v1/sessions/" + id + "/turns"
                << QByteArray("{\"prompt\":\"x\"}") << QByteArray();
            QTest::addRow("events %s", id.left(12).constData())
                << QByteArray("GET") << "/v1/sessions/" + id + "/turns/1/events" << QByteArray()
                << QByteArray();
            QTest::addRow("delete %s", id.left(12).constData())
                << QByteArray("DELETE") << "/v1/sessions/" + id << QByteArray() << QByteArray();
        }
        const QList<QByteArray> badBodyIds{"a/b",
                                           "..",
                                           "a:b",
                                           "a*b",
                                           "hf:{s1}:x",
                                           "a\\u0000b",
                                           "../../etc/passwd",
                                           QByteArray(65, 'b')};
        for (const QByteArray &id : badBodyIds) {
            QTest::addRow("create %s", id.left(12).constData())
                << QByteArray("POST") << QByteArray("/v1/sessions") << "{\"id\":\"" + id + "\"}"
                << QByteArray();
            if (!id.contains('\\')) {
                QTest::addRow("completions %s", id.left(12).constData())
                    << QByteArray("POST") << QByteArray("/v1/chat/completions")
                    << QByteArray("{\"model\":\"demo\",\"messages\":[{\"role\":\"user\","
                                  "\"content\":\"x\"}]}")
                    << id;
            }
        }
    }
    void sessionIds()
    {
        QFETCH(QByteArray, method);
        QFETCH(QByteArray, target);
        QFETCH(QByteArray, body);
        QFETCH(QByteArray, sessionHeader);
        Server srv;
        QList<QPair<QByteArray, QByteArray>> headers;
        if (!sessionHeader.isEmpty())
            headers.append({"X-Holdfast-Session", sessionHeader});
        HttpTestClient c = srv.client();
        const HttpReply r = c.call(method, target, body, headers);
        QVERIFY2(r.status == 400,
                 qPrintable(QStringLiteral("%1: %2").arg(r.status).arg(QString::fromUtf8(r.body))));
        QVERIFY(r.hasErrorShape() || r.error().value(QStringLiteral("message")).isString());
        QCOMPARE(srv.sessionCount(), 0); // nothing was created under any key
    }

    void headerCount()
    {
        Server srv; // default: 100 header fields
        HttpTestClient ok = srv.client();
        ok.sendRaw(headWithHeaders(100));
        QCOMPARE(ok.readReply().status, 200);
        HttpTestClient over = srv.client();
        over.sendRaw(headWithHeaders(101));
        const HttpReply r = over.readReply();
        QCOMPARE(r.status, 400);
        QVERIFY(r.body.contains("header fields"));
        QVERIFY(over.waitForClose());

        HttpOptions options;
        options.maxHeaderCount = 5;
        Server small(options);
        HttpTestClient five = small.client();
        five.sendRaw(headWithHeaders(5));
        QCOMPARE(five.readReply().status, 200);
        HttpTestClient six = small.client();
        six.sendRaw(headWithHeaders(6));
        QCOMPARE(six.readReply().status, 400);
    }

    void headSize()
    {
        HttpOptions options;
        options.maxHeadBytes = 1024;
        Server srv(options);
        HttpTestClient ok = srv.client();
        ok.sendRaw(headWithHeaders(2, 900));
        QCOMPARE(ok.readReply().status, 200);
        HttpTestClient over = srv.client();
        over.sendRaw(headWithHeaders(2, 1100));
        const HttpReply r = over.readReply();
        QCOMPARE(r.status, 400);
        QVERIFY(r.body.contains("1024 bytes"));
    }

    void bodySize()
    {
        HttpOptions options;
        options.maxBodyBytes = 1000;
        Server srv(options);
        // Exactly the limit is parsed (here: a valid session body padded with spaces).
        QByteArray body = "{\"id\":\"limit\"}";
        body += QByteArray(1000 - body.size(), ' ');
        HttpTestClient c = srv.client();
        QCOMPARE(c.call("POST", "/v1/sessions", body).status, 201);
        body += ' ';
        HttpTestClient over = srv.client();
        const HttpReply r = over.call("POST", "/v1/sessions", body);
        QCOMPARE(r.status, 413);
        QCOMPARE(r.errorCode(), QStringLiteral("payload_too_large"));
        // Chunked, over the limit in the second chunk.
        HttpTestClient chunked = srv.client();
        chunked.sendRaw("POST /v1/sessions HTTP/1.1\r\nContent-Type: application/json\r\n"
                        "Transfer-Encoding: chunked\r\n\r\n"
                        "200\r\n" +
                        QByteArray(512, ' ') + "\r\n200\r\n" + QByteArray(512, ' ') +
                        "\r\n0\r\n\r\n");
        QCOMPARE(chunked.readReply().status, 413);
        QCOMPARE(srv.sessionCount(), 1);
    }

    void promptSize()
    {
        ServiceConfig config;
        config.maxPromptBytes = 100;
        Server srv({}, config);
        HttpTestClient c = srv.client();
        QCOMPARE(c.post("/v1/sessions", {{QStringLiteral("id"), QStringLiteral("p")}}).status, 201);
        // UTF-8 bytes count, not characters: 50 x "é" is exactly 100 bytes.
        const QString exact = QString(50, QChar(0xe9));
        HttpReply r = c.post("/v1/sessions/p/turns", {{QStringLiteral("prompt"), exact}});
        QCOMPARE(r.status, 202);
        QVERIFY(test::await(srv.service->waitForTurn(QStringLiteral("p"), 1, 10000)));
        r = c.post("/v1/sessions/p/turns", {{QStringLiteral("prompt"), exact + QChar(0xe9)}});
        QCOMPARE(r.status, 422);
        QCOMPARE(r.errorCode(), QStringLiteral("invalid"));
    }

    void streamsPerClient()
    {
        HttpOptions options;
        options.maxStreamsPerClient = 2;
        Server srv(options, {}, 200); // 20 chunks 200 ms apart: the turn stays open
        HttpTestClient c = srv.client();
        QCOMPARE(c.post("/v1/sessions", {{QStringLiteral("id"), QStringLiteral("s")}}).status, 201);
        QCOMPARE(c.post("/v1/sessions/s/turns", {{QStringLiteral("prompt"), QStringLiteral("x")}})
                     .status,
                 202);
        SseReader first(srv.port, "/v1/sessions/s/turns/1/events");
        SseReader second(srv.port, "/v1/sessions/s/turns/1/events");
        QVERIFY(first.waitForEvents(1));
        QVERIFY(second.waitForEvents(1));
        SseReader third(srv.port, "/v1/sessions/s/turns/1/events");
        QVERIFY(third.waitForEnd());
        QCOMPARE(third.status(), 429);
        QCOMPARE(third.head().errorCode(), QStringLiteral("rate_limited"));
        first.disconnect();
        QVERIFY(spinUntil([&] { return srv.http->openStreamCount() == 1; }));
        SseReader fourth(srv.port, "/v1/sessions/s/turns/1/events");
        QVERIFY(fourth.waitForEvents(1));
        QCOMPARE(fourth.status(), 200);
    }

    // Requests over the bounds are refused from their head; the server's memory does not grow
    // with what they announce or send (64 MiB announced and 2 MiB sent, 40 times over).
    void boundsHoldMemory()
    {
        HttpOptions options;
        options.maxBodyBytes = 4096;
        Server srv(options);
        const QByteArray chunk(256 * 1024, 'x');
        auto oversized = [&] {
            HttpTestClient c = srv.client();
            c.sendRaw("POST /v1/sessions HTTP/1.1\r\nContent-Type: application/json\r\n"
                      "Content-Length: 67108864\r\n\r\n");
            for (int i = 0; i < 8; ++i)
                c.sendRaw(chunk);
            const HttpReply r = c.readReply();
            QCOMPARE(r.status, 413);
            QVERIFY(c.waitForClose());
        };
        auto bigHead = [&] {
            HttpTestClient c = srv.client();
            c.sendRaw(headWithHeaders(2, 70000));
            QCOMPARE(c.readReply().status, 400);
            QVERIFY(c.waitForClose());
        };
        for (int i = 0; i < 5; ++i) { // warm-up: allocator pools, socket buffers
            oversized();
            bigHead();
        }
        const qint64 before = rssKb();
        for (int i = 0; i < 40; ++i) {
            oversized();
            bigHead();
        }
        QVERIFY(spinUntil([&] { return srv.http->connectionCount() == 0; }, 10000));
        const qint64 after = rssKb();
        qInfo("RSS %lld kB before, %lld kB after 40 oversized bodies and heads", before, after);
        QVERIFY2(after - before < 16 * 1024,
                 qPrintable(QStringLiteral("grew %1 kB").arg(after - before)));
    }

    void corsOffByDefault()
    {
        Server srv;
        HttpTestClient c = srv.client();
        HttpReply r = c.call("GET", "/v1/sessions", {}, {{"Origin", "https://evil.example"}});
        QCOMPARE(r.status, 200);
        QVERIFY(!r.headers.contains("access-control-allow-origin"));
        r = c.call("OPTIONS", "/v1/sessions", {},
                   {{"Origin", "https://evil.example"}, {"Access-Control-Request-Method", "POST"}});
        QCOMPARE(r.status, 405);
        QVERIFY(!r.headers.contains("access-control-allow-origin"));
        QVERIFY(!r.headers.contains("access-control-allow-methods"));
    }

    void corsWhenConfigured()
    {
        HttpOptions options;
        options.corsOrigin = QStringLiteral("https://app.example");
        options.token = QStringLiteral("t");
        Server srv(options);
        HttpTestClient c = srv.client("t");
        HttpReply r = c.call("GET", "/v1/sessions", {}, {{"Origin", "https://app.example"}});
        QCOMPARE(r.status, 200);
        QCOMPARE(r.headers.value("access-control-allow-origin"), QByteArray("https://app.example"));
        // A preflight carries no credentials: it is answered without the token.
        HttpTestClient anonymous = srv.client();
        r = anonymous.call("OPTIONS", "/v1/sessions/x/turns", {},
                           {{"Origin", "https://app.example"},
                            {"Access-Control-Request-Method", "POST"},
                            {"Access-Control-Request-Headers", "authorization, content-type"}});
        QCOMPARE(r.status, 204);
        QCOMPARE(r.headers.value("access-control-allow-origin"), QByteArray("https://app.example"));
        QVERIFY(r.headers.value("access-control-allow-methods").contains("POST"));
        QVERIFY(r.headers.value("access-control-allow-headers").contains("Authorization"));
        // Errors carry the header too (a browser could not read them otherwise), and the token
        // is still required for everything but the preflight.
        r = anonymous.call("GET", "/v1/sessions", {}, {{"Origin", "https://app.example"}});
        QCOMPARE(r.status, 401);
        QCOMPARE(r.headers.value("access-control-allow-origin"), QByteArray("https://app.example"));
    }
};

HOLDFAST_TEST_MAIN(TestSecurity)
#include "tst_security.moc"
