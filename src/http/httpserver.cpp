#include "http/httpserver.h"

#include "core/sessionservice.h"
#include "http/apirequest.h"
#include "http/eventstream.h"
#include "http/httpconnection.h"
#include "http/httplog.h"
#include "http/openaiapi.h"
#include "http/router.h"
#include "http/sessionscontroller.h"
#include "http/turnscontroller.h"

#include <QCoroTimer>
#include <QCryptographicHash>
#include <QElapsedTimer>
#include <QJsonObject>
#include <QPointer>
#include <QTcpServer>
#include <QTcpSocket>

#include <chrono>

namespace holdfast {

namespace {
// Compares SHA-256 digests without an early exit, so that timing tells neither how much of a
// token was right nor how long the token is.
bool sameToken(const QByteArray &given, const QByteArray &expected)
{
    const QByteArray a = QCryptographicHash::hash(given, QCryptographicHash::Sha256);
    const QByteArray b = QCryptographicHash::hash(expected, QCryptographicHash::Sha256);
    unsigned char diff = 0;
    for (qsizetype i = 0; i < a.size(); ++i)
        diff |= static_cast<unsigned char>(a[i] ^ b[i]);
    return diff == 0;
}
} // namespace

class HttpServer::Private final : public HttpHandler
{
public:
    Private(HttpServer *q, SessionService *service, HttpOptions options)
        : q(q), service(service), options(std::move(options)),
          streams(new EventStreams(service, this->options.keepAliveMs,
                                   this->options.maxStreamsPerClient, q))
    {}

    QCoro::Task<bool> admit(HttpRequest head, HttpResponder responder) override;
    void handle(HttpRequest request, HttpResponder responder) override;
    bool authorized(const HttpRequest &request) const;
    void accept();
    QList<HttpConnection *> connections() const { return q->findChildren<HttpConnection *>(); }

    HttpServer *q;
    SessionService *service;
    HttpOptions options;
    QTcpServer tcp;
    Router router;
    EventStreams *streams;
    bool stopping = false;
};

HttpServer::HttpServer(SessionService *service, HttpOptions options, QObject *parent)
    : QObject(parent), d(std::make_unique<Private>(this, service, std::move(options)))
{
    d->router.add("GET", QStringLiteral("/healthz"), [](HttpRequest, QStringList, HttpResponder r) {
        r.sendJson(200, QJsonObject{{QStringLiteral("status"), QStringLiteral("ok")},
                                    {QStringLiteral("version"), QStringLiteral(HOLDFAST_VERSION)}});
    });
    SessionsController::registerRoutes(d->router, service);
    TurnsController::registerRoutes(d->router, service, d->streams);
    registerOpenAiRoutes(d->router, service, d->options, this);
    connect(&d->tcp, &QTcpServer::newConnection, this, [this] { d->accept(); });
}

HttpServer::~HttpServer()
{
    d->tcp.close();
    // Connections and streams go before the router and handler they call into.
    const QList<HttpConnection *> connections = d->connections();
    for (HttpConnection *c : connections)
        c->flush();
    qDeleteAll(connections);
    delete d->streams;
}

Status HttpServer::listen(const QHostAddress &address, quint16 port)
{
    if (!address.isLoopback() && d->options.token.isEmpty()) {
        return makeError(ErrorCode::BadRequest,
                         QStringLiteral("refusing to listen on %1 without a token: anyone who can "
                                        "reach it could read and write every session. Set --token "
                                        "(or HOLDFAST_TOKEN), or listen on 127.0.0.1")
                             .arg(address.toString()));
    }
    if (!d->tcp.listen(address, port)) {
        return makeError(ErrorCode::Unavailable, QStringLiteral("cannot listen on %1:%2: %3")
                                                     .arg(address.toString())
                                                     .arg(port)
                                                     .arg(d->tcp.errorString()));
    }
    qCInfo(lcHttp).noquote() << "serving the API on" << address.toString() << "port"
                             << d->tcp.serverPort()
                             << (d->options.token.isEmpty() ? "" : "(token required)");
    return Ok{};
}

quint16 HttpServer::serverPort() const
{
    return d->tcp.serverPort();
}

void HttpServer::beginShutdown()
{
    d->stopping = true;
}

QCoro::Task<> HttpServer::finishShutdown()
{
    QPointer<HttpServer> self(this);
    d->stopping = true;
    co_await d->streams->waitForAll(d->options.shutdownGraceMs);
    // Answers written just now are still in user space: hand them to the kernel before exit.
    QElapsedTimer clock;
    clock.start();
    while (self && clock.elapsed() < 1000) {
        bool pending = false;
        for (HttpConnection *c : d->connections()) {
            c->flush();
            pending = pending || c->socket()->bytesToWrite() > 0;
        }
        if (!pending)
            break;
        co_await QCoro::sleepFor(std::chrono::milliseconds(10));
    }
}

int HttpServer::openStreamCount() const
{
    return d->streams->count();
}

int HttpServer::connectionCount() const
{
    return int(d->connections().size());
}

void HttpServer::Private::accept()
{
    HttpConnection::Limits limits;
    limits.maxBodyBytes = options.maxBodyBytes;
    limits.maxHeadBytes = options.maxHeadBytes;
    limits.maxHeaderCount = options.maxHeaderCount;
    limits.idleTimeoutMs = options.idleTimeoutMs;
    limits.logRequests = options.logRequests;
    HttpHeaders defaults;
    if (!options.corsOrigin.isEmpty()) {
        defaults.emplaceBack("Access-Control-Allow-Origin", options.corsOrigin.toUtf8());
        defaults.emplaceBack("Vary", "Origin");
    }
    while (QTcpSocket *socket = tcp.nextPendingConnection())
        new HttpConnection(socket, this, limits, defaults, q);
}

bool HttpServer::Private::authorized(const HttpRequest &request) const
{
    if (options.token.isEmpty())
        return true;
    const QByteArray value = request.header("authorization");
    if (value.size() < 7 || value.left(7).toLower() != "bearer ")
        return false;
    return sameToken(value.mid(7).trimmed(), options.token.toUtf8());
}

QCoro::Task<bool> HttpServer::Private::admit(HttpRequest head, HttpResponder responder)
{
    // The checks run in API.md's order: 401, 404/405, (503), then 404 of a session or turn;
    // 413 follows in the connection, 415/400/422 in the controllers.
    if (!options.corsOrigin.isEmpty() && head.method == "OPTIONS" &&
        head.hasHeader("access-control-request-method")) {
        responder.sendEmpty(204,
                            {{"Access-Control-Allow-Methods", "GET, POST, PATCH, DELETE"},
                             {"Access-Control-Allow-Headers",
                              "Authorization, Content-Type, Last-Event-ID, X-Holdfast-Session"},
                             {"Access-Control-Max-Age", "600"}});
        co_return false;
    }
    const Router::Match match = router.match(head.method, head.segments);
    if (match.errorFormat)
        responder.setErrorFormat(match.errorFormat);
    const bool readOnly = head.method == "GET" || head.method == "HEAD";
    const bool open = readOnly && head.path == "/healthz";
    if (!open && !authorized(head)) {
        responder.sendError(makeError(ErrorCode::Unauthorized,
                                      QStringLiteral("this server needs 'Authorization: Bearer "
                                                     "<token>'; the token was missing or wrong")),
                            {{"WWW-Authenticate", "Bearer"}});
        co_return false;
    }
    if (!match.pathFound()) {
        responder.sendError(makeError(
            ErrorCode::NotFound,
            QStringLiteral("no such resource: %1").arg(QString::fromUtf8(head.path.left(200)))));
        co_return false;
    }
    if (!match.route) {
        responder.sendError(makeError(ErrorCode::MethodNotAllowed,
                                      QStringLiteral("%1 is not allowed here; allowed: %2")
                                          .arg(QString::fromLatin1(head.method.left(20)),
                                               QString::fromLatin1(match.allowed.join(", ")))),
                            {{"Allow", match.allowed.join(", ")}});
        co_return false;
    }
    if (stopping && !readOnly) {
        responder.sendError(
            makeError(ErrorCode::Unavailable, QStringLiteral("the server is shutting down")));
        co_return false;
    }
    // A session or turn the path names that does not exist is 404 before the body is looked at.
    const QString sid = match.arg(QStringLiteral("sid"));
    if (sid.isNull() || !SessionService::isValidSessionId(sid))
        co_return true;
    const auto tid = api::turnId(match.arg(QStringLiteral("tid")));
    SessionService *svc = service; // `this` may be gone after an await: use locals only
    std::optional<Error> error;
    if (tid) {
        const auto turn = co_await svc->turn(sid, *tid);
        if (!turn)
            error = turn.error();
    } else {
        const auto session = co_await svc->session(sid, 0);
        if (!session)
            error = session.error();
    }
    if (error && error->code == ErrorCode::NotFound) {
        responder.sendError(*error);
        co_return false;
    }
    co_return true;
}

void HttpServer::Private::handle(HttpRequest request, HttpResponder responder)
{
    const Router::Match match = router.match(request.method, request.segments);
    if (!match.route) { // admitted, so it matched; the table does not change at run time
        responder.sendError(makeError(ErrorCode::Internal, QStringLiteral("route vanished")));
        return;
    }
    match.route->handler(std::move(request), match.args, responder);
}

} // namespace holdfast
