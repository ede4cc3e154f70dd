// What a request may not smuggle in (issue 9): session ids checked before they reach a store key,
// message framing (one reading of Content-Length and Transfer-Encoding, else 400 and close), HEAD
// answered as GET without a body, and no response header built from unsafe bytes. Over real
// sockets against a real HttpServer on 127.0.0.1:0.
#include "http/httpconnection.h"
#include "http/httpserver.h"
#include "securityfixture.h"

#include <QLoggingCategory>
#include <QScopeGuard>
#include <QTest>

class TestInputValidation : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase() { QLoggingCategory::setFilterRules(QStringLiteral("holdfast.*=false")); }

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
};

HOLDFAST_TEST_MAIN(TestInputValidation)
#include "tst_inputvalidation.moc"
