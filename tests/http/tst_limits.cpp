// The bounds on what one client may make the server hold (head, header count, body, prompt, open
// event streams), that those bounds do not let memory grow, and connection exhaustion: the head
// deadline, the body timeout, the connection caps, TCP keep-alive, and the bound on what a client
// that does not read makes the server queue (issue 9). Over real sockets against a real
// HttpServer on 127.0.0.1:0 (~15 s).
#include "http/httpconnection.h"
#include "http/httpserver.h"
#include "securityfixture.h"

#include <QJsonArray>
#include <QLoggingCategory>
#include <QSet>
#include <QTest>

#include <sys/socket.h>

namespace {

// The answer to `request`, sent alone on a new connection.
HttpReply replyTo(Server &srv, const QByteArray &request)
{
    HttpTestClient c = srv.client();
    c.sendRaw(request);
    return c.readReply();
}

} // namespace

class TestLimits : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase() { QLoggingCategory::setFilterRules(QStringLiteral("holdfast.*=false")); }

    void headerCount()
    {
        Server srv; // default: 100 header fields
        HF_CHECK_FIXTURE(srv);
        QCOMPARE(replyTo(srv, headWithHeaders(100)).status, 200);
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
        QCOMPARE(replyTo(small, headWithHeaders(5)).status, 200);
        QCOMPARE(replyTo(small, headWithHeaders(6)).status, 400);
    }

    void headSize()
    {
        HttpOptions options;
        options.maxHeadBytes = 1024;
        Server srv(options);
        HF_CHECK_FIXTURE(srv);
        QCOMPARE(replyTo(srv, headWithHeaders(2, 900)).status, 200);
        const HttpReply r = replyTo(srv, headWithHeaders(2, 1100));
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
        srv.scripted->script.chunks = chunks;
        srv.scripted->script.delayMs = 1;
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
};

HOLDFAST_TEST_MAIN(TestLimits)
#include "tst_limits.moc"
