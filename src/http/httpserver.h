#pragma once

#include "core/error.h"
#include "http/router.h"

#include <QCoroTask>
#include <QHostAddress>
#include <QObject>
#include <QStringList>

#include <memory>

namespace holdfast {

class SessionService;

struct HttpOptions
{
    QString token;                  // empty: no auth
    qint64 maxBodyBytes = 1048576;  // 413 above this
    qint64 maxHeadBytes = 65536;    // request line and headers; 400 above this
    int maxHeaderCount = 100;       // header fields of one request; 400 above this
    int maxStreamsPerClient = 2000; // open event streams per client address (429 above)
    QString corsOrigin;             // empty: no CORS headers, no Origin admitted; "*": any Origin
    QStringList allowedHosts;       // more Host names served without a token (--allowed-host)
    bool logRequests = true;        // one line per request on holdfast.http
    int keepAliveMs = 10000;        // ": keep-alive" on a quiet event stream (API.md: <= 15 s)
    int idleTimeoutMs = 120000;     // an idle kept-alive connection is closed after this
    int headTimeoutMs = 10000;      // a request head must be whole this long after its first byte
    int bodyTimeoutMs = 30000;      // a request body that sends no byte for this long is dropped
    int maxConnections = 16384;     // open connections in all (503 and close above)
    int maxConnectionsPerClient = 4096;        // open connections per client address (503)
    qint64 maxBufferedBytes = 4 * 1024 * 1024; // answer bytes queued per connection
    int shutdownGraceMs = 5000; // bound on waiting for event streams to end at shutdown
};

// shared/API.md over HTTP/1.1, thin over a SessionService. The routes live in the controllers
// (sessionscontroller, turnscontroller, openaiapi); connections in HttpConnection.
class HttpServer final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(HttpServer)
public:
    HttpServer(SessionService *service, HttpOptions options, QObject *parent = nullptr);
    ~HttpServer() override;

    // Starts listening. Refuses a non-loopback address, or --cors-origin '*', without a token
    // (ErrorCode::BadRequest: a usage error).
    Status listen(const QHostAddress &address, quint16 port);
    quint16 serverPort() const;

    // SIGTERM: from now on new work is refused with 503; open event streams end with
    // `done {"state":"interrupted"}` as their turns end.
    void beginShutdown();
    // After the service's shutdown: waits (bounded) until the open event streams have sent
    // their terminal event, and pushes every answer still buffered to the sockets.
    QCoro::Task<> finishShutdown();

    int openStreamCount() const;
    int connectionCount() const;
    // The routes the server answers (method and pattern), for checking the API documentation.
    QList<Router::RouteInfo> routes() const;

private:
    class Private;
    std::unique_ptr<Private> d;
};

} // namespace holdfast
