// Nobody let in (issue 9): the token check, CORS off unless configured, and the Host and Origin
// checks against DNS rebinding and other sites' pages, in their order against the token.
// Over real sockets against a real HttpServer on 127.0.0.1:0.
#include "http/httpserver.h"
#include "securityfixture.h"

#include <QLoggingCategory>
#include <QTest>

namespace {

// "" when `r`, the answer to GET `target`, has `status` and, when that is 403, the "forbidden"
// error whose message names the option that would let the request in; else what differs.
QString refusalProblem(const HttpReply &r, const QByteArray &target, int status,
                       const QString &option)
{
    const QString seen = QStringLiteral("%1 %2: %3")
                             .arg(QString::fromLatin1(target))
                             .arg(r.status)
                             .arg(QString::fromUtf8(r.body));
    if (r.status != status)
        return seen;
    if (status == 403 && !(r.hasErrorShape() && r.errorCode() == QLatin1String("forbidden") &&
                           r.error().value(QStringLiteral("message")).toString().contains(option)))
        return seen + QStringLiteral(" (expected a forbidden error naming ") + option +
               QLatin1Char(')');
    return {};
}

// Default options, with the bearer token "t" required when `token`.
HttpOptions withToken(bool token)
{
    HttpOptions options;
    if (token)
        options.token = QStringLiteral("t");
    return options;
}

} // namespace

class TestAccess : public QObject
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
        HttpOptions options = withToken(token);
        options.allowedHosts = allowed;
        Server srv(options);
        HF_CHECK_FIXTURE(srv);
        QList<QByteArray> fields;
        if (host != "-")
            fields.append("Host: " + withPort(host, srv.port));
        if (token)
            fields.append("Authorization: Bearer t");
        const QHostAddress local(QHostAddress::LocalHost);
        for (const QByteArray target : {"/v1/sessions", "/healthz"}) {
            const QString problem =
                refusalProblem(exchange(local, srv.port, "GET", target, fields), target, status,
                               QStringLiteral("--allowed-host"));
            QVERIFY2(problem.isEmpty(), qPrintable(problem));
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
        HttpOptions options = withToken(token);
        options.corsOrigin = corsOrigin;
        Server srv(options);
        HF_CHECK_FIXTURE(srv);
        QList<QPair<QByteArray, QByteArray>> headers;
        if (origin != "-")
            headers.append({"Origin", origin});
        HttpTestClient c = srv.client(token ? "t" : "");
        for (const QByteArray target : {"/v1/sessions", "/healthz"}) {
            const QString problem = refusalProblem(c.call("GET", target, {}, headers), target,
                                                   status, QStringLiteral("--cors-origin"));
            QVERIFY2(problem.isEmpty(), qPrintable(problem));
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
        HttpOptions options = withToken(token);
        options.corsOrigin = corsOrigin;
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

HOLDFAST_TEST_MAIN(TestAccess)
#include "tst_access.moc"
