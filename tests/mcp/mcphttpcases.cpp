// tst_mcp's Streamable HTTP cases (src/mcp/httptransport.h), run by tst_mcp's main after its own
// class: the transport under raw JSON-RPC, against server-everything over HTTP and against
// httptestserver.mjs for what the reference server does not show.
#include "httpcases.h"

using namespace holdfast;
using namespace holdfast::test;

class TestMcpHttp : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    // The reference server over Streamable HTTP: handshake with a session id, tools/list and
    // tools/call answered as event streams, and the session ended by close().
    void httpEverything()
    {
        HttpMcpServer server;
        server.startEverything(McpServers::npmDir());
        HF_CHECK_FIXTURE(server);
        RawPeer peer(server.url());
        QVERIFY(spinUntil([&] { return peer.opened; }));
        const QJsonObject init = peer.handshake();
        QVERIFY2(init.contains(QLatin1String("result")), QJsonDocument(init).toJson().constData());
        QVERIFY(!peer.transport->sessionId().isEmpty());
        const QJsonObject list = peer.request(QStringLiteral("tools/list"));
        QStringList names;
        for (const QJsonValue &tool :
             list.value(QLatin1String("result")).toObject().value(QLatin1String("tools")).toArray())
            names.append(tool.toObject().value(QLatin1String("name")).toString());
        QVERIFY2(names.contains(QStringLiteral("echo")), qPrintable(names.join(u',')));
        const QJsonObject call =
            peer.request(QStringLiteral("tools/call"),
                         {{QStringLiteral("name"), QStringLiteral("echo")},
                          {QStringLiteral("arguments"),
                           QJsonObject{{QStringLiteral("message"), QStringLiteral("hi")}}}});
        QCOMPARE(firstText(call), QStringLiteral("Echo: hi"));
        QVERIFY(peer.closedWhy.isNull());
        peer.transport->close();
        QVERIFY(spinUntil([&] { return !peer.closedWhy.isNull(); }));
    }

    // Authorization from mcp.json, the session id and the negotiated version go with a request.
    void httpHeadersGoWithEveryRequest()
    {
        HttpMcpServer server;
        server.startTestServer(QStringLiteral(HOLDFAST_MCP_HTTP_TEST_SERVER));
        HF_CHECK_FIXTURE(server);
        RawPeer peer(server.url(QStringLiteral("/headers")),
                     {{QStringLiteral("Authorization"), QStringLiteral("Bearer s3cret")},
                      {QStringLiteral("X-Trace"), QStringLiteral("t1")}});
        QVERIFY(peer.handshake().contains(QLatin1String("result")));
        QCOMPARE(peer.transport->sessionId(), QByteArray("session-1"));
        const QJsonObject headers =
            QJsonDocument::fromJson(firstText(peer.request(QStringLiteral("tools/call"))).toUtf8())
                .object();
        QCOMPARE(headers.value(QLatin1String("authorization")).toString(),
                 QStringLiteral("Bearer s3cret"));
        QCOMPARE(headers.value(QLatin1String("x-trace")).toString(), QStringLiteral("t1"));
        QCOMPARE(headers.value(QLatin1String("mcp-session-id")).toString(),
                 QStringLiteral("session-1"));
        QCOMPARE(headers.value(QLatin1String("mcp-protocol-version")).toString(),
                 QStringLiteral("2025-06-18"));
        QCOMPARE(headers.value(QLatin1String("accept")).toString(),
                 QStringLiteral("application/json, text/event-stream"));
        QCOMPARE(headers.value(QLatin1String("content-type")).toString(),
                 QStringLiteral("application/json"));
        // This server answers the GET for its own messages with 405: the transport stops asking.
        QVERIFY(spinUntil([&] { return !peer.transport->listening(); }));
    }

    // A 404 for a request that carried the session id: the session is gone, the transport closes
    // (so that the hub starts a new session).
    void httpExpiredSessionCloses()
    {
        HttpMcpServer server;
        server.startTestServer(QStringLiteral(HOLDFAST_MCP_HTTP_TEST_SERVER));
        HF_CHECK_FIXTURE(server);
        RawPeer peer(server.url(QStringLiteral("/expire")));
        QVERIFY(peer.handshake().contains(QLatin1String("result")));
        const QJsonObject answer = peer.request(QStringLiteral("tools/list"));
        QVERIFY(answer.isEmpty());
        QVERIFY2(peer.closedWhy.contains(QLatin1String("ended the session")),
                 qPrintable(peer.closedWhy));
    }

    // An answer's event stream closed before the answer (after a priming event): the rest comes
    // through GET with Last-Event-ID.
    void httpStreamResumesThroughGet()
    {
        HttpMcpServer server;
        server.startTestServer(QStringLiteral(HOLDFAST_MCP_HTTP_TEST_SERVER));
        HF_CHECK_FIXTURE(server);
        RawPeer peer(server.url(QStringLiteral("/resume")));
        QVERIFY(peer.handshake().contains(QLatin1String("result")));
        const QJsonObject answer = peer.request(QStringLiteral("tools/call"));
        QCOMPARE(firstText(answer), QStringLiteral("resumed"));
        QVERIFY(peer.closedWhy.isNull());
    }

    // An HTTP error answers that one request with a JSON-RPC error; the transport stays open.
    void httpErrorStatusAnswersTheRequest()
    {
        HttpMcpServer server;
        server.startTestServer(QStringLiteral(HOLDFAST_MCP_HTTP_TEST_SERVER));
        HF_CHECK_FIXTURE(server);
        RawPeer peer(server.url(QStringLiteral("/error")));
        const QJsonObject answer = peer.handshake();
        const QJsonObject error = answer.value(QLatin1String("error")).toObject();
        QCOMPARE(error.value(QLatin1String("code")).toInt(), -32603);
        const QString message = error.value(QLatin1String("message")).toString();
        QVERIFY2(message.contains(QLatin1String("HTTP 500")) &&
                     message.contains(QLatin1String("boom")),
                 qPrintable(message));
        QVERIFY(peer.closedWhy.isNull());
    }

    // A request answered without a message (202, no body) is an error answer at once, not a
    // wait for the client's timeout.
    void httpRequestAcceptedWithoutAnswer()
    {
        HttpMcpServer server;
        server.startTestServer(QStringLiteral(HOLDFAST_MCP_HTTP_TEST_SERVER));
        HF_CHECK_FIXTURE(server);
        RawPeer peer(server.url(QStringLiteral("/accepted")));
        QVERIFY(peer.handshake().contains(QLatin1String("result")));
        const QJsonObject answer = peer.request(QStringLiteral("tools/call"));
        const QString message = answer.value(QLatin1String("error"))
                                    .toObject()
                                    .value(QLatin1String("message"))
                                    .toString();
        QVERIFY2(message.contains(QLatin1String("answered HTTP 202 without the answer")),
                 qPrintable(message));
        QVERIFY(peer.closedWhy.isNull());
    }

    // A tools/call whose connection closes before any answer is not sent again (the tool may
    // have run): the transport closes instead.
    void httpCallIsNeverSentTwice()
    {
        HttpMcpServer server;
        server.startTestServer(QStringLiteral(HOLDFAST_MCP_HTTP_TEST_SERVER));
        HF_CHECK_FIXTURE(server);
        RawPeer peer(server.url(QStringLiteral("/drop")));
        QVERIFY(peer.handshake().contains(QLatin1String("result")));
        QVERIFY(peer.request(QStringLiteral("tools/call")).isEmpty());
        QVERIFY2(peer.closedWhy.contains(QLatin1String("without answering")),
                 qPrintable(peer.closedWhy));
        RawPeer counter(server.url(QStringLiteral("/count")));
        QVERIFY(counter.handshake().contains(QLatin1String("result")));
        QCOMPARE(firstText(counter.request(QStringLiteral("tools/call"))),
                 QStringLiteral(R"({"dropped":1,"hangClosed":0})"));
    }

    // notifications/cancelled for a request ends that request's answer stream (no connection is
    // left open for an answer nobody waits for); the transport stays open.
    void httpCancelledRequestLetsGoOfItsStream()
    {
        HttpMcpServer server;
        server.startTestServer(QStringLiteral(HOLDFAST_MCP_HTTP_TEST_SERVER));
        HF_CHECK_FIXTURE(server);
        RawPeer peer(server.url(QStringLiteral("/hang")));
        QVERIFY(peer.handshake().contains(QLatin1String("result")));
        peer.transport->send(QJsonObject{{QStringLiteral("jsonrpc"), QStringLiteral("2.0")},
                                         {QStringLiteral("id"), 99},
                                         {QStringLiteral("method"), QStringLiteral("tools/call")}});
        peer.transport->send(QJsonObject{
            {QStringLiteral("jsonrpc"), QStringLiteral("2.0")},
            {QStringLiteral("method"), QStringLiteral("notifications/cancelled")},
            {QStringLiteral("params"), QJsonObject{{QStringLiteral("requestId"), 99}}}});
        RawPeer counter(server.url(QStringLiteral("/count")));
        QVERIFY(counter.handshake().contains(QLatin1String("result")));
        QVERIFY(spinUntil([&] {
            return firstText(counter.request(QStringLiteral("tools/call"))) ==
                   QLatin1String(R"({"dropped":0,"hangClosed":1})");
        }));
        QVERIFY(peer.closedWhy.isNull());
    }

    // A {"url": …} entry of mcp.json as Holdfast runs it: the hub's client over the transport
    // the factory makes, against the reference server.
    void httpServerInTheHub()
    {
        HttpMcpServer server;
        server.startEverything(McpServers::npmDir());
        HF_CHECK_FIXTURE(server);
        mcp::ServerConfig config;
        config.name = QStringLiteral("web");
        config.url = server.url().toString();
        config.headers.insert(QStringLiteral("Authorization"), QStringLiteral("Bearer x"));
        mcp::Hub hub;
        hub.setServers({config});
        HF_AWAIT(tools, hub.toolsFor({QStringLiteral("web/echo")}));
        QCOMPARE(tools->size(), 1);
        QCOMPARE(hub.list().servers.value(0).state, ToolServerInfo::State::Ready);
        HF_AWAIT(outcome, hub.call(QStringLiteral("web/echo"),
                                   {{QStringLiteral("message"), QStringLiteral("over http")}},
                                   10000, nullptr));
        QVERIFY2(!outcome->isError, qPrintable(outcome->content));
        QCOMPARE(outcome->content, QStringLiteral("Echo: over http"));
        HF_AWAIT_VOID(hub.stop());
    }

    // An HTTP server that nothing answers for: the server is in error and a call is an error
    // result, at once (no timeout waited for).
    void httpUnreachableServerInTheHub()
    {
        QTcpServer probe;
        QVERIFY(probe.listen(QHostAddress::LocalHost, 0));
        mcp::ServerConfig config;
        config.name = QStringLiteral("web");
        config.url = QStringLiteral("http://127.0.0.1:%1/mcp").arg(probe.serverPort());
        probe.close();
        mcp::Hub hub;
        hub.setServers({config});
        HF_AWAIT(tools, hub.toolsFor({QStringLiteral("*")}));
        QVERIFY(tools->isEmpty());
        const ToolServerInfo info = hub.list().servers.value(0);
        QCOMPARE(info.state, ToolServerInfo::State::Error);
        QVERIFY2(info.error.contains(QLatin1String("cannot reach")), qPrintable(info.error));
        HF_AWAIT(outcome, hub.call(QStringLiteral("web/echo"), {}, 600000, nullptr));
        QVERIFY(outcome->isError);
        HF_AWAIT_VOID(hub.stop());
    }

    // Nothing listens at the url: the transport closes with the reason, it never hangs.
    void httpUnreachableServerCloses()
    {
        QTcpServer probe;
        QVERIFY(probe.listen(QHostAddress::LocalHost, 0));
        const quint16 port = probe.serverPort();
        probe.close();
        RawPeer peer(QUrl(QStringLiteral("http://127.0.0.1:%1/mcp").arg(port)));
        QVERIFY(peer.handshake().isEmpty());
        QVERIFY2(peer.closedWhy.contains(QLatin1String("cannot reach")),
                 qPrintable(peer.closedWhy));
    }

    void httpNotAnHttpUrlCloses()
    {
        RawPeer peer(QUrl(QStringLiteral("ftp://127.0.0.1/mcp")));
        QVERIFY(spinUntil([&] { return !peer.closedWhy.isNull(); }));
        QVERIFY(!peer.opened);
        QVERIFY2(peer.closedWhy.contains(QLatin1String("not an http")), qPrintable(peer.closedWhy));
    }
};

int runHttpCases(int argc, char **argv)
{
    TestMcpHttp cases;
    return runCases(&cases, argc, argv);
}

#include "mcphttpcases.moc"
