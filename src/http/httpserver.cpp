#include "http/httpserver.h"

// STUB: the HTTP issue replaces this.
namespace holdfast {
class HttpServer::Private
{
};
HttpServer::HttpServer(SessionService *, HttpOptions, QObject *parent) : QObject(parent) {}
HttpServer::~HttpServer() = default;
Status HttpServer::listen(const QHostAddress &, quint16)
{
    return makeError(ErrorCode::Unavailable, QStringLiteral("the HTTP server is not built yet"));
}
quint16 HttpServer::serverPort() const { return 0; }
void HttpServer::beginShutdown() {}
} // namespace holdfast
