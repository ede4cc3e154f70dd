#pragma once

#include "mcp/mcptransport.h"

#include <QByteArray>
#include <QCoroTask>
#include <QHash>
#include <QJsonValue>
#include <QList>
#include <QPair>
#include <QPointer>
#include <QUrl>

namespace holdfast {
class UpstreamClient;
class UpstreamReply;
} // namespace holdfast

namespace holdfast::mcp {

// MCP's Streamable HTTP transport (spec 2025-06-18, "Transports"): every message is a POST to the
// endpoint; a request's answer comes back as a JSON body or as an event stream that may carry the
// server's own requests and notifications before it; notifications and responses get 202. The
// Mcp-Session-Id of the initialize answer goes with every later request, and so do
// MCP-Protocol-Version (after setProtocolVersion) and the configured headers. After
// notifications/initialized a GET stream carries what the server sends on its own (e.g.
// notifications/tools/list_changed) where the server offers one; an answer stream the server
// closes before the answer is resumed through GET with Last-Event-ID after its "retry:" time.
//
// Why the HTTP goes through provider/upstreamclient.h and not QNetworkAccessManager: QNAM sends a
// POST again when its connection closes before an answer, and a tools/call must reach the server
// at most once (shared/API.md, Tools). UpstreamClient writes each request once.
//
// Failures: a server that cannot be reached, breaks off an answer, or ends the session (404 with
// a session id) is closed(why); an HTTP error or a malformed answer to one request becomes a
// JSON-RPC error response to that request, so that only that call fails. close() ends the session
// with a DELETE (best effort; nobody waits for it) and then emits closed() from the event loop.
class HttpTransport final : public Transport
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(HttpTransport)
public:
    HttpTransport(QUrl url, const QHash<QString, QString> &headers, QObject *parent = nullptr);
    ~HttpTransport() override;

    void open() override;
    void send(const QJsonObject &message) override;
    void close() override;
    void setProtocolVersion(const QString &version) override;

    // The server's Mcp-Session-Id ("" while it gave none).
    QByteArray sessionId() const { return m_sessionId; }
    // Whether the GET stream for the server's own messages is open now.
    bool listening() const { return m_listening; }

private:
    struct Stream; // what one answer stream has seen

    QCoro::Task<> post(QJsonObject message);
    // The GET stream: the server's own messages, or the rest of an answer stream (lastEventId).
    QCoro::Task<> listen(QByteArray lastEventId, qint64 delayMs, QJsonValue awaitedId);
    // Reads `reply` to its end; the messages of an event stream are emitted as they come.
    QCoro::Task<bool> read(UpstreamReply *reply, Stream *stream);
    UpstreamReply *start(const QByteArray &method, const QByteArray &accept,
                         const QByteArray &body = {}, const QByteArray &lastEventId = {});
    void finished(UpstreamReply *reply);
    bool deliver(const QByteArray &json, Stream *stream);
    void answerWithError(const QJsonValue &id, int code, const QString &message);
    void fail(const QString &why);
    QString where() const;

    UpstreamClient *m_network;
    QUrl m_url;
    QList<QPair<QByteArray, QByteArray>> m_headers; // the configured ones
    QByteArray m_sessionId;
    QByteArray m_protocolVersion;
    QList<QPointer<UpstreamReply>> m_replies;           // in flight: aborted by close()
    QHash<QString, QPointer<UpstreamReply>> m_requests; // a request's POST by its id, to cancel
    bool m_open = false;
    bool m_closed = false;
    bool m_listening = false;
};

} // namespace holdfast::mcp
