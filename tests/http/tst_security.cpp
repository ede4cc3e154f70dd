// Nobody let in (issue 9): the token check, session ids before they reach a store key, the
// bounds on what one client may make the server hold (head, header count, body, prompt, open
// event streams), that those bounds do not let memory grow, CORS off unless configured, and the
// Host and Origin checks against DNS rebinding and other sites' pages.
// Connection exhaustion: the head deadline, the body timeout, the connection caps, TCP
// keep-alive, and the bound on what a client that does not read makes the server queue.
// Over real sockets against a real HttpServer on 127.0.0.1:0 (~20 s).
#include "fakes/httpserverfixture.h"
#include "fakes/testutil.h"
#include "http/httpconnection.h"
#include "http/httpserver.h"

#include <QFile>
#include <QJsonArray>
#include <QLoggingCategory>
#include <QScopeGuard>
#include <QSet>
#include <QTcpSocket>
#include <QTest>

#include <sys/socket.h>

using namespace holdfast;
using test::HttpReply;
using test::HttpTestClient;
using test::spinUntil;
using test::SseReader;

namespace {

// The shared fixture with this suite's defaults: 20 demo chunks, no delay unless asked, and a
// choice of address (tests that bind beyond loopback).
struct Server : test::HttpServerFixture
{
    explicit Server(HttpOptions options = {}, ServiceConfig config = {}, int demoDelayMs = 0,
                    const QHostAddress &address = QHostAddress(QHostAddress::LocalHost))
        : HttpServerFixture(setup(std::move(options), std::move(config), demoDelayMs, address))
    {}

private:
    static test::HttpServerSetup setup(HttpOptions options, ServiceConfig config, int demoDelayMs,
                                       const QHostAddress &address)
    {
        test::HttpServerSetup s;
        s.http = std::move(options);
        s.service = std::move(config);
        s.demoChunks = 20;
        s.demoDelayMs = demoDelayMs;
        s.address = address;
        return s;
    }
};

QByteArray headWithHeaders(int count, int valueBytes = 1)
{
    QByteArray request = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n";
    for (int i = 1; i < count; ++i)
        request += "X-H" + QByteArray::number(i) + ": " + QByteArray(valueBytes, 'v') + "\r\n";
    return request + "\r\n";
}

// One request with exactly these header fields (no Host unless given), on a fresh connection
// to ADDRESS:PORT.
HttpReply exchange(const QHostAddress &address, quint16 port, const QByteArray &method,
                   const QByteArray &target, const QList<QByteArray> &fields,
                   const QByteArray &body = {})
{
    QTcpSocket socket;
    socket.connectToHost(address, port);
    if (!spinUntil([&] { return socket.state() == QAbstractSocket::ConnectedState; }, 5000))
        return {};
    // Without a Host field the request is HTTP/1.0's (HTTP/1.1 requires Host: 400).
    const bool hasHost = std::any_of(fields.cbegin(), fields.cend(), [](const QByteArray &f) {
        return f.toLower().startsWith("host:");
    });
    QByteArray request =
        method + ' ' + target + (hasHost ? " HTTP/1.1" : " HTTP/1.0") + "\r\nConnection: close\r\n";
    for (const QByteArray &field : fields)
        request += field + "\r\n";
    if (!body.isEmpty())
        request +=
            "Content-Type: application/json\r\nContent-Length: " + QByteArray::number(body.size()) +
            "\r\n";
    socket.write(request + "\r\n" + body);
    QByteArray buffer;
    HttpReply reply;
    spinUntil(
        [&] {
            buffer += socket.readAll();
            const bool eof = socket.state() == QAbstractSocket::UnconnectedState;
            return test::parseReply(buffer, eof, &reply) > 0 || eof;
        },
        20000);
    return reply;
}

// "PORT" becomes the server's port, "OTHER" another one.
QByteArray withPort(QByteArray value, quint16 port)
{
    return value.replace("PORT", QByteArray::number(port))
        .replace("OTHER", QByteArray::number(port == 65535 ? 1 : port + 1));
}

qint64 rssKb()
{
    return test::procStatusKb(0, "VmRSS");
}

// A connection from `local` (any address of 127/8 reaches a server on 127.0.0.1), or from
// 127.0.0.1 when `local` is null.
std::unique_ptr<QTcpSocket> connectFrom(quint16 port, const QHostAddress &local = {})
{
    auto socket = std::make_unique<QTcpSocket>();
    if (!local.isNull() && !socket->bind(local, 0))
        return socket;
    socket->connectToHost(QHostAddress::LocalHost, port);
    // Not "until connected": a refused connection may be answered and closed in one pass.
    spinUntil(
        [&] {
            return socket->state() != QAbstractSocket::HostLookupState &&
                   socket->state() != QAbstractSocket::ConnectingState;
        },
        5000);
    return socket;
}

// Waits for one answer on `socket`; status 0 when none came.
HttpReply readReplyFrom(QTcpSocket *socket, int timeoutMs)
{
    HttpReply reply;
    QByteArray buffer;
    spinUntil(
        [&] {
            buffer += socket->readAll();
            const bool eof = socket->state() == QAbstractSocket::UnconnectedState;
            return test::parseReply(buffer, eof, &reply) > 0 || eof;
        },
        timeoutMs);
    return reply;
}

bool waitForClose(QTcpSocket *socket, int timeoutMs = 5000)
{
    return spinUntil(
        [&] {
            socket->readAll();
            return socket->state() == QAbstractSocket::UnconnectedState;
        },
        timeoutMs);
}

const QByteArray kHealth = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";

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
        HF_CHECK_FIXTURE(srv);
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
        const QList<QByteArray> badBodyIds{
            "a/b",  "..",   "a:b",     "a*b",  "hf:{s1}:x",        "a\\u0000b", "../../etc/passwd",
            "a\\n", "a\\r", "a\\r\\n", "\\na", QByteArray(65, 'b')};
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
        HF_CHECK_FIXTURE(srv);
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

    // An id with a line feed once reached the Location header raw (`$` matched before a final
    // \n), splitting the answer: the next answer on the kept-alive connection was misread.
    void newlineIdKeepsTheConnectionFramed()
    {
        Server srv;
        HF_CHECK_FIXTURE(srv);
        HttpTestClient c = srv.client();
        const HttpReply bad = c.call("POST", "/v1/sessions", "{\"id\":\"a\\n\"}");
        QCOMPARE(bad.status, 400);
        for (const QByteArray &value : bad.headers)
            QVERIFY(!value.contains('\n') && !value.contains('\r'));
        QVERIFY(!c.isClosed()); // the same connection carries the next request
        const HttpReply good = c.call("POST", "/v1/sessions", "{\"id\":\"a\"}");
        QCOMPARE(good.status, 201);
        QCOMPARE(good.headers.value("location"), QByteArray("/v1/sessions/a"));
        QCOMPARE(c.get("/v1/sessions/a").status, 200);
        QCOMPARE(srv.sessionCount(), 1);
    }

    void headerCount()
    {
        Server srv; // default: 100 header fields
        HF_CHECK_FIXTURE(srv);
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
        HF_CHECK_FIXTURE(small);
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
        HF_CHECK_FIXTURE(srv);
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
        HF_CHECK_FIXTURE(srv);
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
        chunked.sendRaw(
            "POST /v1/sessions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            "Transfer-Encoding: chunked\r\n\r\n"
            "200\r\n" +
            QByteArray(512, ' ') + "\r\n200\r\n" + QByteArray(512, ' ') + "\r\n0\r\n\r\n");
        QCOMPARE(chunked.readReply().status, 413);
        QCOMPARE(srv.sessionCount(), 1);
    }

    void promptSize()
    {
        ServiceConfig config;
        config.maxPromptBytes = 100;
        Server srv({}, config);
        HF_CHECK_FIXTURE(srv);
        HttpTestClient c = srv.client();
        QCOMPARE(c.post("/v1/sessions", {{QStringLiteral("id"), QStringLiteral("p")}}).status, 201);
        // UTF-8 bytes count, not characters: 50 x "é" is exactly 100 bytes.
        const QString exact = QString(50, QChar(0xe9));
        HttpReply r = c.post("/v1/sessions/p/turns", {{QStringLiteral("prompt"), exact}});
        QCOMPARE(r.status, 202);
        HF_AWAIT(ended, srv.service->waitForTurn(QStringLiteral("p"), 1, 10000));
        r = c.post("/v1/sessions/p/turns",
                   {{QStringLiteral("prompt"), QString(exact + QChar(0xe9))}});
        QCOMPARE(r.status, 422);
        QCOMPARE(r.errorCode(), QStringLiteral("invalid"));
    }

    void streamsPerClient()
    {
        HttpOptions options;
        options.maxStreamsPerClient = 2;
        Server srv(options, {}, 200); // 20 chunks 200 ms apart: the turn stays open
        HF_CHECK_FIXTURE(srv);
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
        HF_CHECK_FIXTURE(srv);
        const QByteArray chunk(256 * 1024, 'x');
        auto oversized = [&] {
            HttpTestClient c = srv.client();
            c.sendRaw("POST /v1/sessions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
                      "application/json\r\n"
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

    // A head must be whole within its deadline from its first byte, however it trickles (each
    // byte used to restart the 120 s idle timeout, so a byte every 119 s held the socket for
    // ever). Past it the connection closes without an answer, as nginx does: the request was
    // never complete, so there is nothing to answer, and API.md has no 408.
    void headDeadline()
    {
        HttpOptions options;
        options.headTimeoutMs = 600;
        Server srv(options);
        HF_CHECK_FIXTURE(srv);
        const QByteArray head = headWithHeaders(4, 8); // 86 bytes: 8.6 s at a byte per 100 ms
        auto socket = connectFrom(srv.port);
        qsizetype sent = 0;
        while (sent < head.size() && socket->state() == QAbstractSocket::ConnectedState) {
            socket->write(head.mid(sent++, 1));
            socket->flush();
            spinUntil([&] { return socket->state() != QAbstractSocket::ConnectedState; }, 100);
        }
        QVERIFY2(sent < head.size(), "the whole trickled head was read");
        QCOMPARE(readReplyFrom(socket.get(), 5000).status, 0); // closed, with no answer
        QVERIFY(waitForClose(socket.get()));
        // A head sent at once, and then a second one on the same connection, are served.
        HttpTestClient c = srv.client();
        QCOMPARE(c.get("/healthz").status, 200);
        QTest::qWait(800); // longer than the deadline: an idle connection is not a slow head
        QCOMPARE(c.get("/healthz").status, 200);
    }

    // A body that stops (Content-Length: 10, one byte, then silence) is dropped after the body
    // timeout; one that trickles within it is read whole.
    void bodyTimeout()
    {
        HttpOptions options;
        options.bodyTimeoutMs = 400;
        Server srv(options);
        HF_CHECK_FIXTURE(srv);
        const QByteArray head = "POST /v1/sessions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                "Content-Type: application/json\r\nContent-Length: 10\r\n\r\n";
        HttpTestClient slow = srv.client();
        slow.sendRaw(head);
        for (const char byte : QByteArray("{\"id\":\"a\"}")) {
            QTest::qWait(100);
            slow.socket()->write(&byte, 1);
            slow.socket()->flush();
        }
        QCOMPARE(slow.readReply().status, 201);

        HttpTestClient stalled = srv.client();
        stalled.sendRaw(head + "{");
        QVERIFY(stalled.waitForClose(5000));
        QCOMPARE(srv.sessionCount(), 1);
    }

    // Connections over a cap are answered 503 at once and closed; the per-address cap leaves
    // other addresses served, promptly.
    void connectionCaps_data()
    {
        QTest::addColumn<int>("global");
        QTest::addColumn<int>("perClient");
        QTest::addColumn<bool>("otherServed");
        QTest::addRow("per client") << 100 << 4 << true;
        QTest::addRow("global") << 4 << 100 << false;
    }
    void connectionCaps()
    {
        QFETCH(int, global);
        QFETCH(int, perClient);
        QFETCH(bool, otherServed);
        HttpOptions options;
        options.maxConnections = global;
        options.maxConnectionsPerClient = perClient;
        Server srv(options);
        HF_CHECK_FIXTURE(srv);
        std::vector<std::unique_ptr<QTcpSocket>> idle; // connected, silent
        for (int i = 0; i < 4; ++i) {
            idle.push_back(connectFrom(srv.port));
            QCOMPARE(idle.back()->state(), QAbstractSocket::ConnectedState);
        }
        QVERIFY(spinUntil([&] { return srv.http->connectionCount() == 4; }));

        auto over = connectFrom(srv.port); // answered before it sends anything
        HttpReply r = readReplyFrom(over.get(), 5000);
        QCOMPARE(r.status, 503);
        QCOMPARE(r.errorCode(), QStringLiteral("unavailable"));
        QCOMPARE(r.headers.value("connection"), QByteArray("close"));
        QVERIFY(waitForClose(over.get()));

        QElapsedTimer clock;
        clock.start();
        auto other = connectFrom(srv.port, QHostAddress(QStringLiteral("127.0.0.2")));
        other->write(kHealth);
        r = readReplyFrom(other.get(), 5000);
        QCOMPARE(r.status, otherServed ? 200 : 503);
        if (otherServed)
            QVERIFY2(clock.elapsed() < 1000, qPrintable(QString::number(clock.elapsed())));
        other->abort();

        // A slot freed: 127.0.0.1 is served again.
        idle.front()->abort();
        idle.erase(idle.begin());
        QVERIFY(spinUntil([&] { return srv.http->connectionCount() == 3; }));
        auto again = connectFrom(srv.port);
        again->write(kHealth);
        QCOMPARE(readReplyFrom(again.get(), 5000).status, 200);
    }

    void keepAliveOnAcceptedSockets()
    {
        Server srv;
        HF_CHECK_FIXTURE(srv);
        HttpTestClient c = srv.client();
        QCOMPARE(c.get("/healthz").status, 200);
        const QList<HttpConnection *> connections = srv.http->findChildren<HttpConnection *>();
        QCOMPARE(connections.size(), 1);
        int on = 0;
        socklen_t length = sizeof on;
        QCOMPARE(getsockopt(int(connections.first()->socket()->socketDescriptor()), SOL_SOCKET,
                            SO_KEEPALIVE, &on, &length),
                 0);
        QVERIFY(on != 0);
    }

    // Clients that never read (event streams live and replayed, and /chunks readers that
    // pipeline requests) make the server queue a bounded amount each, not the whole answer;
    // once they read, they get every chunk in order.
    void slowReadersHoldBoundedOutput()
    {
        HttpOptions options;
        options.maxBufferedBytes = 256 * 1024;
        Server srv(options);
        HF_CHECK_FIXTURE(srv);
        constexpr int kChunks = 2000; // of 4 KiB: 8 MiB per stream, 4 MiB per /chunks answer
        QStringList chunks;
        for (int i = 0; i < kChunks; ++i)
            chunks.append(QString(4096, QChar(u'a' + i % 26)));
        srv.scripted->script = {chunks, 1, {}};
        HttpTestClient c = srv.client();
        QCOMPARE(c.post("/v1/sessions", {{QStringLiteral("id"), QStringLiteral("s")},
                                         {QStringLiteral("model"), QStringLiteral("scripted")}})
                     .status,
                 201);
        const QByteArray events =
            "GET /v1/sessions/s/turns/1/events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
        auto openNonReading = [&](const QByteArray &request) {
            auto socket = connectFrom(srv.port);
            socket->setReadBufferSize(4096); // Qt stops reading the socket past this
            socket->write(request);
            return socket;
        };
        QCOMPARE(c.post("/v1/sessions/s/turns", {{QStringLiteral("prompt"), QStringLiteral("x")}})
                     .status,
                 202);
        std::vector<std::unique_ptr<QTcpSocket>> streams;
        for (int i = 0; i < 4; ++i) // live: open while the turn is generated
            streams.push_back(openNonReading(events));
        QVERIFY(spinUntil([&] { return srv.http->openStreamCount() == 4; }));
        QVERIFY(srv.service->liveTurn(QStringLiteral("s"), 1));
        HF_AWAIT(ended, srv.service->waitForTurn(QStringLiteral("s"), 1, 60000));

        const qint64 before = rssKb();
        for (int i = 0; i < 4; ++i) // replayed from the store
            streams.push_back(openNonReading(events));
        constexpr int kPipelined = 12;
        const QByteArray page =
            "GET /v1/sessions/s/turns/1/chunks?from=0 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
        std::vector<std::unique_ptr<QTcpSocket>> readers;
        for (int i = 0; i < 2; ++i) {
            readers.push_back(openNonReading(
                page.repeated(kPipelined - 1) +
                "GET /v1/sessions/s/turns/1/chunks?from=0 HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                "Connection: close\r\n\r\n"));
        }
        QTest::qWait(2000);        // the server writes what the sockets take, and holds the rest
        QSet<quint16> streamPorts; // the server's connections, told apart by the client's port
        for (const auto &socket : streams)
            streamPorts.insert(socket->localPort());
        qint64 total = 0;
        for (HttpConnection *connection : srv.http->findChildren<HttpConnection *>()) {
            const qint64 queued = connection->socket()->bytesToWrite();
            total += queued;
            // A stream stops near the bound; a plain answer is written whole, one at a time.
            const bool stream = streamPorts.contains(connection->socket()->peerPort());
            const qint64 bound = options.maxBufferedBytes + (stream ? 256 * 1024 : 6 * 1024 * 1024);
            QVERIFY2(queued <= bound, qPrintable(QStringLiteral("%1 bytes queued").arg(queued)));
        }
        const qint64 after = rssKb();
        qInfo("%lld bytes queued; RSS %lld kB before, %lld kB after", total, before, after);
        QVERIFY2(after - before < 64 * 1024,
                 qPrintable(QStringLiteral("grew %1 kB").arg(after - before)));

        for (const auto &socket : streams) {
            socket->setReadBufferSize(0);
            QByteArray buffer;
            QVERIFY(spinUntil(
                [&] {
                    buffer += socket->readAll();
                    return buffer.endsWith("\r\n0\r\n\r\n");
                },
                30000));
            HttpReply reply;
            QVERIFY(test::parseReply(buffer, false, &reply) > 0);
            QCOMPARE(reply.status, 200);
            QList<int> seqs;
            QByteArray last;
            for (const QByteArray &event : reply.body.split('\n')) {
                if (event.startsWith("id: "))
                    seqs.append(event.mid(4).toInt());
                if (event.startsWith("event: "))
                    last = event;
            }
            QCOMPARE(seqs.size(), kChunks);
            for (int i = 0; i < kChunks; ++i)
                QCOMPARE(seqs[i], i);
            QCOMPARE(last, QByteArray("event: done"));
        }
        for (const auto &socket : readers) {
            socket->setReadBufferSize(0);
            QByteArray buffer;
            QVERIFY(spinUntil(
                [&] {
                    buffer += socket->readAll();
                    return socket->state() == QAbstractSocket::UnconnectedState;
                },
                30000));
            for (int i = 0; i < kPipelined; ++i) {
                HttpReply reply;
                const qsizetype used = test::parseReply(buffer, true, &reply);
                QVERIFY(used > 0);
                buffer.remove(0, used);
                QVERIFY2(reply.status == 200, reply.body.constData());
                QCOMPARE(reply.json().value(QStringLiteral("chunks")).toArray().size(), 1000);
            }
        }
    }

    // Request framing (issue: lenient framing): one reading of the bytes, or 400 and close.
    void framing_data()
    {
        QTest::addColumn<QByteArray>("request");
        QTest::addColumn<int>("status");
        const QByteArray post = "POST /v1/sessions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                "Content-Type: application/json\r\n";
        const QByteArray chunkedPost = post + "Transfer-Encoding: chunked\r\n\r\n";
        const QByteArray body = "2\r\n{}\r\n0\r\n\r\n";
        QTest::addRow("chunked") << chunkedPost + body << 201;
        QTest::addRow("te case-insensitive")
            << post + "Transfer-Encoding: CHUNKED\r\n\r\n" + body << 201;
        QTest::addRow("te listed twice")
            << post + "Transfer-Encoding: chunked, chunked\r\n\r\n" + body << 400;
        QTest::addRow("te in two fields")
            << post + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n" + body
            << 400;
        QTest::addRow("te gzip field, then chunked field")
            << post + "Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n" + body << 400;
        QTest::addRow("te gzip, chunked")
            << post + "Transfer-Encoding: gzip, chunked\r\n\r\n" + body << 400;
        QTest::addRow("te empty") << post + "Transfer-Encoding: \r\nContent-Length: 2\r\n\r\n{}"
                                  << 400;
        QTest::addRow("te empty, no length") << post + "Transfer-Encoding:\r\n\r\n" << 400;
        QTest::addRow("te on HTTP/1.0")
            << "POST /v1/sessions HTTP/1.0\r\nContent-Type: application/json\r\n"
               "Transfer-Encoding: chunked\r\n\r\n" +
                   body
            << 400;
        QTest::addRow("te and content-length")
            << post + "Transfer-Encoding: chunked\r\nContent-Length: 12\r\n\r\n" + body << 400;
        QTest::addRow("chunk size ends in bare LF") << chunkedPost + "2\n{}\r\n0\r\n\r\n" << 400;
        QTest::addRow("chunk data ends in bare LF") << chunkedPost + "2\r\n{}\n0\r\n\r\n" << 400;
        QTest::addRow("last chunk ends in bare LF") << chunkedPost + "2\r\n{}\r\n0\n\r\n" << 400;
        QTest::addRow("chunk data too long") << chunkedPost + "1\r\n{}\r\n0\r\n\r\n" << 400;
        QTest::addRow("chunk size with a space before") << chunkedPost + " 2\r\n{}\r\n0\r\n\r\n"
                                                        << 400;
        QTest::addRow("chunk size 0x") << chunkedPost + "0x2\r\n{}\r\n0\r\n\r\n" << 400;
        QTest::addRow("chunk extension") << chunkedPost + "2;name=\"v\" ; x\r\n{}\r\n0;y\r\n\r\n"
                                         << 201;
        QTest::addRow("chunk extension with a space before")
            << chunkedPost + "2 ;name=v\r\n{}\r\n0\r\n\r\n"
            << 201;
        QTest::addRow("chunk extension without ;") << chunkedPost + "2 x\r\n{}\r\n0\r\n\r\n" << 400;
        QTest::addRow("chunk extension over 1 KiB")
            << chunkedPost + "2;" + QByteArray(1100, 'e') + "\r\n{}\r\n0\r\n\r\n"
            << 400;
        QTest::addRow("trailer fields") << chunkedPost + "2\r\n{}\r\n0\r\nX-T: 1\r\nY: 2\r\n\r\n"
                                        << 201;
        QTest::addRow("trailer field ends in bare LF")
            << chunkedPost + "2\r\n{}\r\n0\r\nX-T: 1\n\r\n"
            << 400;
        QTest::addRow("malformed trailer field") << chunkedPost + "2\r\n{}\r\n0\r\nno colon\r\n\r\n"
                                                 << 400;
        // The trailer section is bounded like a head (64 KiB by default), in total: each of
        // these fields is under the bound, together they are over it. 400 like an oversized
        // head, not 413: the bound is on framing metadata, not on content.
        QTest::addRow("trailer section over the head limit")
            << chunkedPost + "2\r\n{}\r\n0\r\nX-A: " + QByteArray(40000, 'a') +
                   "\r\nX-B: " + QByteArray(40000, 'b') + "\r\n\r\n"
            << 400;
        QTest::addRow("no Host on HTTP/1.1") << QByteArray("GET /healthz HTTP/1.1\r\n\r\n") << 400;
        QTest::addRow("two Host fields")
            << QByteArray("GET /healthz HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n") << 400;
        QTest::addRow("no Host on HTTP/1.0") << QByteArray("GET /healthz HTTP/1.0\r\n\r\n") << 200;
    }
    void framing()
    {
        QFETCH(QByteArray, request);
        QFETCH(int, status);
        Server srv;
        HF_CHECK_FIXTURE(srv);
        HttpTestClient c = srv.client();
        c.sendRaw(request);
        const HttpReply r = c.readReply();
        QVERIFY2(r.status == status,
                 qPrintable(QStringLiteral("%1: %2").arg(r.status).arg(QString::fromUtf8(r.body))));
        if (status == 400) {
            QCOMPARE(r.errorCode(), QStringLiteral("bad_request"));
            QVERIFY(c.waitForClose());
            QCOMPARE(srv.sessionCount(), 0);
        }
    }

    // HEAD is GET without the body: same status and fields, Content-Length included, and the
    // connection goes on to the next request.
    void headAsGet_data()
    {
        QTest::addColumn<QByteArray>("target");
        QTest::addColumn<int>("status");
        QTest::addRow("health") << QByteArray("/healthz") << 200;
        QTest::addRow("session") << QByteArray("/v1/sessions/h") << 200;
        QTest::addRow("list") << QByteArray("/v1/sessions?limit=5") << 200;
        QTest::addRow("unknown session") << QByteArray("/v1/sessions/nope") << 404;
        QTest::addRow("bad query") << QByteArray("/v1/sessions?limit=x") << 400;
        QTest::addRow("no such path") << QByteArray("/v1/nothing") << 404;
    }
    void headAsGet()
    {
        QFETCH(QByteArray, target);
        QFETCH(int, status);
        Server srv;
        HF_CHECK_FIXTURE(srv);
        HttpTestClient c = srv.client();
        QCOMPARE(c.post("/v1/sessions", {{QStringLiteral("id"), QStringLiteral("h")}}).status, 201);
        c.sendRaw("HEAD " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\nGET " + target +
                  " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
        const HttpReply head = c.readReply(20000, true);
        QCOMPARE(head.status, status);
        // What follows the HEAD answer's head is the GET answer's status line, not a body.
        QVERIFY(spinUntil([&] { return c.unread().size() >= 12; }));
        QVERIFY2(c.unread().startsWith(QByteArray("HTTP/1.1 " + QByteArray::number(status) + ' ')),
                 c.unread().left(40).constData());
        const HttpReply get = c.readReply();
        QCOMPARE(get.status, status);
        QVERIFY(!get.body.isEmpty());
        QCOMPARE(head.headers.value("content-length"), QByteArray::number(get.body.size()));
        QCOMPARE(head.headers.value("content-type"), get.headers.value("content-type"));
        QCOMPARE(head.headers.keys().size(), get.headers.keys().size());
        QVERIFY(!c.isClosed());
        QCOMPARE(c.get("/healthz").status, 200); // still in step
    }

    // HEAD on an event stream: the stream's head, no events, and the connection closes (a body
    // that never comes needs no framing to end it); no stream stays open.
    void headOnEventStream()
    {
        Server srv;
        HF_CHECK_FIXTURE(srv);
        HttpTestClient c = srv.client();
        QCOMPARE(c.post("/v1/sessions", {{QStringLiteral("id"), QStringLiteral("e")}}).status, 201);
        QCOMPARE(c.post("/v1/sessions/e/turns", {{QStringLiteral("prompt"), QStringLiteral("x")}})
                     .status,
                 202);
        HttpTestClient h = srv.client();
        h.sendRaw("HEAD /v1/sessions/e/turns/1/events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
        const HttpReply r = h.readReply(20000, true);
        QCOMPARE(r.status, 200);
        QCOMPARE(r.headers.value("content-type"), QByteArray("text/event-stream"));
        QCOMPARE(r.headers.value("connection"), QByteArray("close"));
        QVERIFY(h.waitForClose());
        QVERIFY(h.unread().isEmpty());
        QVERIFY(spinUntil([&] { return srv.http->openStreamCount() == 0; }));
    }

    // HEAD where the path has no GET: 405 with Allow, and no body; Allow lists HEAD with GET.
    void headNotAllowed()
    {
        Server srv;
        HF_CHECK_FIXTURE(srv);
        HttpTestClient c = srv.client();
        c.sendRaw("HEAD /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
        const HttpReply r = c.readReply(20000, true);
        QCOMPARE(r.status, 405);
        QCOMPARE(r.headers.value("allow"), QByteArray("POST"));
        QVERIFY(r.headers.value("content-length").toInt() > 0);
        const HttpReply d = c.call("DELETE", "/healthz");
        QCOMPARE(d.status, 405);
        QCOMPARE(d.headers.value("allow"), QByteArray("GET, HEAD"));
        QVERIFY(c.unread().isEmpty());
    }

    // The response writer never writes a header field with CR, LF or NUL (a second line of
    // defence against response splitting): here a CORS origin configured with a CRLF in it.
    // Debug builds assert; the assertion is turned off to drive what release builds do.
    void unsafeResponseHeader_data()
    {
        QTest::addColumn<QByteArray>("origin");
        QTest::addRow("crlf") << QByteArray("https://app.example\r\nX-Injected: yes");
        QTest::addRow("lf") << QByteArray("https://app.example\nX-Injected: yes");
        QTest::addRow("cr") << QByteArray("https://app.example\rX-Injected: yes");
        QTest::addRow("nul") << QByteArray("https://app.example\0X-Injected: yes", 35);
    }
    void unsafeResponseHeader()
    {
        QFETCH(QByteArray, origin);
        HttpConnection::setAssertOnUnsafeHeaders(false);
        auto restore = qScopeGuard([] { HttpConnection::setAssertOnUnsafeHeaders(true); });
        HttpOptions options;
        options.token = QStringLiteral("t");
        options.corsOrigin = QString::fromLatin1(origin);
        Server srv(options);
        HF_CHECK_FIXTURE(srv);
        HttpTestClient c = srv.client("t");
        const HttpReply r = c.get("/v1/sessions");
        QCOMPARE(r.status, 500);
        QCOMPARE(r.errorCode(), QStringLiteral("internal"));
        QVERIFY(!r.headers.contains("x-injected"));
        QVERIFY(!r.headers.contains("access-control-allow-origin"));
        QVERIFY(c.waitForClose());
        QVERIFY(!c.unread().contains("X-Injected"));
    }

    // Without --cors-origin no page may call the API: any Origin is 403, preflight included.
    void corsOffByDefault()
    {
        Server srv;
        HF_CHECK_FIXTURE(srv);
        HttpTestClient c = srv.client();
        HttpReply r = c.call("GET", "/v1/sessions", {}, {{"Origin", "https://evil.example"}});
        QCOMPARE(r.status, 403);
        QVERIFY(!r.headers.contains("access-control-allow-origin"));
        r = c.call("OPTIONS", "/v1/sessions", {},
                   {{"Origin", "https://evil.example"}, {"Access-Control-Request-Method", "POST"}});
        QCOMPARE(r.status, 403);
        QVERIFY(!r.headers.contains("access-control-allow-origin"));
        QVERIFY(!r.headers.contains("access-control-allow-methods"));
        QCOMPARE(c.get("/v1/sessions").status, 200); // no Origin: not a page
    }

    void corsWhenConfigured()
    {
        HttpOptions options;
        options.corsOrigin = QStringLiteral("https://app.example");
        options.token = QStringLiteral("t");
        Server srv(options);
        HF_CHECK_FIXTURE(srv);
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

    // DNS rebinding (API.md, "Browsers"): without a token, a Host that names neither the
    // listening address nor localhost, 127.0.0.1 or [::1], nor an --allowed-host, is 403, on
    // every route.
    void host_data()
    {
        QTest::addColumn<QByteArray>("host"); // "-": no Host field; PORT, OTHER: see withPort()
        QTest::addColumn<QStringList>("allowed");
        QTest::addColumn<bool>("token");
        QTest::addColumn<int>("status");
        const QStringList none;
        const QStringList names{QStringLiteral("holdfast.internal"), QStringLiteral("fe80::1"),
                                QStringLiteral("[fd00::7]"), QStringLiteral("10.0.0.7")};
        QTest::addRow("evil.example") << QByteArray("evil.example") << none << false << 403;
        QTest::addRow("evil.example:PORT")
            << QByteArray("evil.example:PORT") << none << false << 403;
        QTest::addRow("localhost:OTHER") << QByteArray("localhost:OTHER") << none << false << 403;
        QTest::addRow("127.0.0.1:OTHER") << QByteArray("127.0.0.1:OTHER") << none << false << 403;
        QTest::addRow("[::1]:OTHER") << QByteArray("[::1]:OTHER") << none << false << 403;
        QTest::addRow("localhost:PORT") << QByteArray("localhost:PORT") << none << false << 200;
        QTest::addRow("LOCALHOST:PORT") << QByteArray("LOCALHOST:PORT") << none << false << 200;
        QTest::addRow("localhost") << QByteArray("localhost") << none << false << 200;
        QTest::addRow("localhost:") << QByteArray("localhost:") << none << false << 200;
        QTest::addRow("127.0.0.1:PORT") << QByteArray("127.0.0.1:PORT") << none << false << 200;
        QTest::addRow("127.0.0.1") << QByteArray("127.0.0.1") << none << false << 200;
        QTest::addRow("[::1]:PORT") << QByteArray("[::1]:PORT") << none << false << 200;
        QTest::addRow("[::1]") << QByteArray("[::1]") << none << false << 200;
        QTest::addRow("no Host (HTTP/1.0 style)") << QByteArray("-") << none << false << 200;
        QTest::addRow("empty") << QByteArray("") << none << false << 403;
        QTest::addRow("::1 unbracketed") << QByteArray("::1") << none << false << 403;
        QTest::addRow("[::2]:PORT") << QByteArray("[::2]:PORT") << none << false << 403;
        QTest::addRow("[::1 unclosed") << QByteArray("[::1") << none << false << 403;
        QTest::addRow("localhost.") << QByteArray("localhost.:PORT") << none << false << 403;
        QTest::addRow("127.0.0.1.evil.example")
            << QByteArray("127.0.0.1.evil.example") << none << false << 403;
        QTest::addRow("localhost.evil.example")
            << QByteArray("localhost.evil.example:PORT") << none << false << 403;
        QTest::addRow("port with letters") << QByteArray("localhost:PORTx") << none << false << 403;
        QTest::addRow("userinfo") << QByteArray("localhost:PORT@evil.example") << none << false
                                  << 403;
        QTest::addRow("allowed name")
            << QByteArray("holdfast.internal:PORT") << names << false << 200;
        QTest::addRow("allowed name, other case")
            << QByteArray("HoldFast.INTERNAL") << names << false << 200;
        QTest::addRow("allowed name, wrong port")
            << QByteArray("holdfast.internal:OTHER") << names << false << 403;
        QTest::addRow("allowed IPv6, given bare")
            << QByteArray("[FE80::1]:PORT") << names << false << 200;
        QTest::addRow("allowed IPv6, given bracketed")
            << QByteArray("[fd00::7]") << names << false << 200;
        QTest::addRow("allowed IPv4") << QByteArray("10.0.0.7:PORT") << names << false << 200;
        QTest::addRow("not among the allowed")
            << QByteArray("other.internal:PORT") << names << false << 403;
        QTest::addRow("token: evil.example:PORT")
            << QByteArray("evil.example:PORT") << none << true << 200;
        QTest::addRow("token: evil.example:OTHER")
            << QByteArray("evil.example:OTHER") << none << true << 200;
    }
    void host()
    {
        QFETCH(QByteArray, host);
        QFETCH(QStringList, allowed);
        QFETCH(bool, token);
        QFETCH(int, status);
        HttpOptions options;
        options.allowedHosts = allowed;
        if (token)
            options.token = QStringLiteral("t");
        Server srv(options);
        HF_CHECK_FIXTURE(srv);
        QList<QByteArray> fields;
        if (host != "-")
            fields.append("Host: " + withPort(host, srv.port));
        if (token)
            fields.append("Authorization: Bearer t");
        const QHostAddress local(QHostAddress::LocalHost);
        for (const QByteArray target : {"/v1/sessions", "/healthz"}) {
            const HttpReply r = exchange(local, srv.port, "GET", target, fields);
            QVERIFY2(r.status == status, qPrintable(QStringLiteral("%1 %2: %3")
                                                        .arg(QString::fromLatin1(target))
                                                        .arg(r.status)
                                                        .arg(QString::fromUtf8(r.body))));
            if (status == 403) {
                QVERIFY(r.hasErrorShape());
                QCOMPARE(r.errorCode(), QStringLiteral("forbidden"));
                const QString message = r.error().value(QStringLiteral("message")).toString();
                QVERIFY2(message.contains(QStringLiteral("--allowed-host")), qPrintable(message));
            }
        }
        // Nothing is done for a refused request.
        const HttpReply create =
            exchange(local, srv.port, "POST", "/v1/sessions", fields, R"({"id":"made"})");
        QCOMPARE(create.status, status == 200 ? 201 : 403);
        QCOMPARE(srv.sessionCount(), status == 200 ? 1 : 0);
    }

    // "The listening address" is the one the server was given: 127.0.0.2 here.
    void hostIsTheListeningAddress()
    {
        const QHostAddress address(QStringLiteral("127.0.0.2"));
        Server srv({}, {}, 0, address);
        HF_CHECK_FIXTURE(srv);
        QVERIFY(srv.port != 0);
        auto status = [&](const QByteArray &host) {
            return exchange(address, srv.port, "GET", "/v1/sessions",
                            {"Host: " + withPort(host, srv.port)})
                .status;
        };
        QCOMPARE(status("127.0.0.2:PORT"), 200);
        QCOMPARE(status("127.0.0.2"), 200);
        QCOMPARE(status("localhost:PORT"), 200);
        QCOMPARE(status("127.0.0.3:PORT"), 403);
        QCOMPARE(status("127.0.0.2:OTHER"), 403);
    }

    // A page of another site may not call the API, token or not; --cors-origin names the one
    // that may, '*' lets every one through.
    void origin_data()
    {
        QTest::addColumn<QByteArray>("origin"); // "-": no Origin field
        QTest::addColumn<QString>("corsOrigin");
        QTest::addColumn<bool>("token");
        QTest::addColumn<int>("status");
        const QString app = QStringLiteral("https://app.example");
        const QString any = QStringLiteral("*");
        for (const bool token : {false, true}) {
            const char *t = token ? "token" : "no token";
            QTest::addRow("%s: none", t) << QByteArray("-") << QString() << token << 200;
            QTest::addRow("%s: none, CORS on", t) << QByteArray("-") << app << token << 200;
            QTest::addRow("%s: evil, CORS off", t)
                << QByteArray("https://evil.example") << QString() << token << 403;
            QTest::addRow("%s: null, CORS off", t)
                << QByteArray("null") << QString() << token << 403;
            QTest::addRow("%s: the local server's own", t)
                << QByteArray("http://127.0.0.1:8080") << QString() << token << 403;
            QTest::addRow("%s: matching", t)
                << QByteArray("https://app.example") << app << token << 200;
            QTest::addRow("%s: matching, other case", t)
                << QByteArray("HTTPS://App.Example") << app << token << 200;
            QTest::addRow("%s: other port", t)
                << QByteArray("https://app.example:8443") << app << token << 403;
            QTest::addRow("%s: other scheme", t)
                << QByteArray("http://app.example") << app << token << 403;
            QTest::addRow("%s: evil, CORS on", t)
                << QByteArray("https://evil.example") << app << token << 403;
            QTest::addRow("%s: empty", t) << QByteArray("") << app << token << 403;
        }
        QTest::addRow("token: '*', evil")
            << QByteArray("https://evil.example") << any << true << 200;
        QTest::addRow("token: '*', null") << QByteArray("null") << any << true << 200;
    }
    void origin()
    {
        QFETCH(QByteArray, origin);
        QFETCH(QString, corsOrigin);
        QFETCH(bool, token);
        QFETCH(int, status);
        HttpOptions options;
        options.corsOrigin = corsOrigin;
        if (token)
            options.token = QStringLiteral("t");
        Server srv(options);
        HF_CHECK_FIXTURE(srv);
        QList<QPair<QByteArray, QByteArray>> headers;
        if (origin != "-")
            headers.append({"Origin", origin});
        HttpTestClient c = srv.client(token ? "t" : "");
        for (const QByteArray target : {"/v1/sessions", "/healthz"}) {
            const HttpReply r = c.call("GET", target, {}, headers);
            QVERIFY2(r.status == status, qPrintable(QStringLiteral("%1 %2: %3")
                                                        .arg(QString::fromLatin1(target))
                                                        .arg(r.status)
                                                        .arg(QString::fromUtf8(r.body))));
            if (status == 403) {
                QVERIFY(r.hasErrorShape());
                QCOMPARE(r.errorCode(), QStringLiteral("forbidden"));
                QVERIFY(r.error()
                            .value(QStringLiteral("message"))
                            .toString()
                            .contains(QStringLiteral("--cors-origin")));
            }
        }
        // The preflight is checked too.
        if (!corsOrigin.isEmpty() && origin != "-") {
            const HttpReply r = c.call("OPTIONS", "/v1/sessions", {},
                                       headers + QList<QPair<QByteArray, QByteArray>>{
                                                     {"Access-Control-Request-Method", "POST"}});
            QCOMPARE(r.status, status == 200 ? 204 : 403);
        }
        const HttpReply create = c.call("POST", "/v1/sessions", R"({"id":"made"})", headers);
        QCOMPARE(create.status, status == 200 ? 201 : 403);
        QCOMPARE(srv.sessionCount(), status == 200 ? 1 : 0);
    }

    // 403 comes before 401, 404, 405 and 413, and the preflight's 204.
    void forbiddenComesFirst_data()
    {
        QTest::addColumn<bool>("token");
        QTest::addColumn<QString>("corsOrigin");
        QTest::addColumn<QByteArray>("method");
        QTest::addColumn<QByteArray>("target");
        QTest::addColumn<QList<QByteArray>>("fields");
        const QByteArray evilHost = "Host: evil.example:PORT";
        const QByteArray evilOrigin = "Origin: https://evil.example";
        const QByteArray goodOrigin = "Origin: https://app.example";
        const QString app = QStringLiteral("https://app.example");
        QTest::addRow("Origin before 401")
            << true << QString() << QByteArray("GET") << QByteArray("/v1/sessions")
            << QList<QByteArray>{evilOrigin};
        QTest::addRow("Origin before 401, CORS on")
            << true << app << QByteArray("GET") << QByteArray("/v1/sessions")
            << QList<QByteArray>{evilOrigin};
        QTest::addRow("Host before 404") << false << QString() << QByteArray("GET")
                                         << QByteArray("/nowhere") << QList<QByteArray>{evilHost};
        QTest::addRow("Host before 404 of a session")
            << false << QString() << QByteArray("GET") << QByteArray("/v1/sessions/missing")
            << QList<QByteArray>{evilHost};
        QTest::addRow("Host before 405") << false << QString() << QByteArray("DELETE")
                                         << QByteArray("/healthz") << QList<QByteArray>{evilHost};
        QTest::addRow("Origin before 405")
            << true << QString() << QByteArray("PUT") << QByteArray("/v1/sessions")
            << QList<QByteArray>{evilOrigin};
        QTest::addRow("Host before 413")
            << false << QString() << QByteArray("POST") << QByteArray("/v1/sessions")
            << QList<QByteArray>{evilHost, "Content-Type: application/json",
                                 "Content-Length: 99999999"};
        QTest::addRow("Host before the preflight")
            << false << app << QByteArray("OPTIONS") << QByteArray("/v1/sessions")
            << QList<QByteArray>{evilHost, goodOrigin, "Access-Control-Request-Method: POST"};
        QTest::addRow("Origin before the preflight")
            << true << app << QByteArray("OPTIONS") << QByteArray("/v1/sessions")
            << QList<QByteArray>{evilOrigin, "Access-Control-Request-Method: POST"};
        QTest::addRow("Origin before the preflight, CORS off")
            << false << QString() << QByteArray("OPTIONS") << QByteArray("/v1/sessions")
            << QList<QByteArray>{"Host: localhost", evilOrigin,
                                 "Access-Control-Request-Method: POST"};
    }
    void forbiddenComesFirst()
    {
        QFETCH(bool, token);
        QFETCH(QString, corsOrigin);
        QFETCH(QByteArray, method);
        QFETCH(QByteArray, target);
        QFETCH(QList<QByteArray>, fields);
        HttpOptions options;
        options.corsOrigin = corsOrigin;
        if (token)
            options.token = QStringLiteral("t");
        Server srv(options);
        HF_CHECK_FIXTURE(srv);
        for (QByteArray &field : fields)
            field = withPort(field, srv.port);
        const HttpReply r =
            exchange(QHostAddress(QHostAddress::LocalHost), srv.port, method, target, fields);
        QVERIFY2(r.status == 403,
                 qPrintable(QStringLiteral("%1: %2").arg(r.status).arg(QString::fromUtf8(r.body))));
        QCOMPARE(r.errorCode(), QStringLiteral("forbidden"));
    }

    // On /v1/chat/completions the 403 carries OpenAI's error type too.
    void forbiddenOnCompletions()
    {
        Server srv;
        HF_CHECK_FIXTURE(srv);
        const HttpReply r =
            exchange(QHostAddress(QHostAddress::LocalHost), srv.port, "POST",
                     "/v1/chat/completions", {"Host: evil.example:" + QByteArray::number(srv.port)},
                     R"({"model":"demo","messages":[{"role":"user","content":"hi"}]})");
        QCOMPARE(r.status, 403);
        QCOMPARE(r.errorCode(), QStringLiteral("forbidden"));
        QCOMPARE(r.error().value(QStringLiteral("type")).toString(),
                 QStringLiteral("permission_error"));
    }

    // '*' without a token would let every page read every session: listen() refuses it.
    void anyOriginNeedsToken()
    {
        Server base; // a service to build the servers on
        HF_CHECK_FIXTURE(base);
        HttpOptions options;
        options.logRequests = false;
        options.corsOrigin = QStringLiteral("*");
        HttpServer open(base.service.get(), options);
        const Status refused = open.listen(QHostAddress::LocalHost, 0);
        QVERIFY(!refused.ok());
        QCOMPARE(refused.error().code, ErrorCode::BadRequest);
        QVERIFY2(refused.error().message.contains(QStringLiteral("--cors-origin '*'")),
                 qPrintable(refused.error().message));
        QCOMPARE(open.serverPort(), quint16(0));
        options.token = QStringLiteral("t");
        HttpServer locked(base.service.get(), options);
        QVERIFY(locked.listen(QHostAddress::LocalHost, 0).ok());
    }
};

HOLDFAST_TEST_MAIN(TestSecurity)
#include "tst_security.moc"
