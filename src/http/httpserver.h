#pragma once

#include "core/error.h"

#include <QHostAddress>
#include <QObject>

#include <memory>

namespace holdfast {

class SessionService;

struct HttpOptions
{
    QString token;                     // empty: no auth
    qint64 maxBodyBytes = 1048576;     // 413 above this
    int maxStreamsPerClient = 2000;    // open event streams per client address (429 above)
    QString corsOrigin;                // empty: no CORS headers
    bool logRequests = true;           // one line per request on holdfast.http
};

// shared/API.md over QHttpServer, thin over a SessionService.
class HttpServer final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(HttpServer)
public:
    HttpServer(SessionService *service, HttpOptions options, QObject *parent = nullptr);
    ~HttpServer() override;

    // Starts listening. Refuses a non-loopback address without a token.
    Status listen(const QHostAddress &address, quint16 port);
    quint16 serverPort() const;

    // SIGTERM: from now on new work is refused with 503; open event streams end with
    // `done {"state":"interrupted"}` as their turns end.
    void beginShutdown();

private:
    class Private;
    std::unique_ptr<Private> d;
};

} // namespace holdfast
