#include "http/httpserver.h"

#include "core/sessionservice.h"
#include "http/apirequest.h"
#include "http/attachmentscontroller.h"
#include "http/eventstream.h"
#include "http/httpconnection.h"
#include "http/httplog.h"
#include "http/openaiapi.h"
#include "http/router.h"
#include "http/sessionscontroller.h"
#include "http/toolscontroller.h"
#include "http/turnscontroller.h"

#include <QCoroTimer>
#include <QCryptographicHash>
#include <QElapsedTimer>
#include <QHash>
#include <QJsonObject>
#include <QPointer>
#include <QSocketNotifier>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTimer>

#include <algorithm>
#include <chrono>
#include <optional>

#ifdef Q_OS_LINUX
#include <cerrno>
#include <sys/socket.h>
#include <unistd.h>
#endif

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

// Splits a Host header value into its lower-case name ("[::1]" keeps its brackets) and its port
// (-1 when it has none). False when the value is not NAME[:PORT].
bool splitHost(const QByteArray &value, QByteArray *name, int *port)
{
    const QByteArray v = value.trimmed().toLower();
    qsizetype nameEnd = v.size();
    if (v.startsWith('['))
        nameEnd = v.indexOf(']') + 1; // 0 when the bracket is not closed
    else if (const qsizetype colon = v.indexOf(':'); colon >= 0)
        nameEnd = colon;
    if (nameEnd <= 0)
        return false;
    *name = v.left(nameEnd);
    *port = -1;
    const QByteArray rest = v.mid(nameEnd);
    if (rest.isEmpty() || rest == ":")
        return true; // no port, or an empty one (RFC 3986 allows "host:")
    const QByteArray digits = rest.mid(1);
    const auto isDigit = [](char c) { return c >= '0' && c <= '9'; };
    if (!rest.startsWith(':') || digits.size() > 5 ||
        !std::all_of(digits.cbegin(), digits.cend(), isDigit))
        return false;
    *port = digits.toInt();
    return true;
}

// A host name as the Host header would carry it: lower case, an IPv6 literal in brackets.
QByteArray hostName(const QString &name)
{
    QString n = name.trimmed().toLower();
    if (n.contains(QLatin1Char(':')) && !n.startsWith(QLatin1Char('[')))
        n = QLatin1Char('[') + n + QLatin1Char(']');
    return n.toUtf8();
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
    std::optional<Error> forbidden(const HttpRequest &request) const;
    void accept();
    void acceptReady();
    void adopt(QTcpSocket *socket);
    void acceptFailed(const QString &reason);
    QList<HttpConnection *> connections() const { return q->findChildren<HttpConnection *>(); }

    HttpServer *q;
    SessionService *service;
    HttpOptions options;
    QTcpServer tcp;
    Router router;
    EventStreams *streams;
    QByteArrayList hostNames; // what a Host header may name without a token (set by listen())
    bool stopping = false;
    int connectionTotal = 0; // connections counted against the caps, until they are destroyed
    QHash<QHostAddress, int> perClient;
    QSocketNotifier *acceptNotifier = nullptr;
    QTimer resumeTimer;           // accepting again after the process ran out of file descriptors
    QElapsedTimer lastCapWarning; // the two warnings are logged at most every 10 s
    QElapsedTimer lastAcceptWarning;
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
    AttachmentsController::registerRoutes(d->router, service);
    ToolsController::registerRoutes(d->router, service);
    registerOpenAiRoutes(d->router, service, d->options, this);
    connect(&d->tcp, &QTcpServer::newConnection, this, [this] { d->accept(); });
    connect(&d->tcp, &QTcpServer::acceptError, this,
            [this] { d->acceptFailed(d->tcp.errorString()); });
    // After accept() failed (EMFILE): try again soon, but not in a loop that spins while the
    // descriptors are still gone.
    d->resumeTimer.setSingleShot(true);
    d->resumeTimer.setInterval(150);
    connect(&d->resumeTimer, &QTimer::timeout, this, [this] {
        if (d->acceptNotifier)
            d->acceptNotifier->setEnabled(true);
        else
            d->tcp.resumeAccepting();
    });
}

HttpServer::~HttpServer()
{
    delete d->acceptNotifier; // before its descriptor closes
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
    if (d->options.corsOrigin == QLatin1String("*") && d->options.token.isEmpty()) {
        return makeError(ErrorCode::BadRequest,
                         QStringLiteral("refusing --cors-origin '*' without a token: any web page "
                                        "could read and write every session. Set --token (or "
                                        "HOLDFAST_TOKEN), or name the one origin allowed"));
    }
    // Qt's default backlog is 50: of a thousand clients connecting at once, most would have
    // their SYN dropped and retried a second later. The kernel caps it at net.core.somaxconn.
    d->tcp.setListenBacklogSize(4096);
    if (!d->tcp.listen(address, port)) {
        return makeError(ErrorCode::Unavailable, QStringLiteral("cannot listen on %1:%2: %3")
                                                     .arg(address.toString())
                                                     .arg(port)
                                                     .arg(d->tcp.errorString()));
    }
    // DNS rebinding: without a token, only requests that name this server by a name no other
    // site can point here are served.
    d->hostNames = {"localhost", "127.0.0.1", "[::1]", hostName(address.toString())};
    for (const QString &name : std::as_const(d->options.allowedHosts))
        d->hostNames.append(hostName(name));
#ifdef Q_OS_LINUX
    // Qt 6.4 takes EMFILE from accept() for a temporary error (the engine keeps the code of the
    // last EAGAIN): it retries on every pass of the loop, spinning, and never emits acceptError.
    // So the server accepts on the listening socket itself.
    d->tcp.pauseAccepting();
    d->acceptNotifier = new QSocketNotifier(d->tcp.socketDescriptor(), QSocketNotifier::Read, this);
    connect(d->acceptNotifier, &QSocketNotifier::activated, this, [this] { d->acceptReady(); });
#endif
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

QList<Router::RouteInfo> HttpServer::routes() const
{
    return d->router.routes();
}

void HttpServer::Private::accept()
{
    while (QTcpSocket *socket = tcp.nextPendingConnection())
        adopt(socket);
}

void HttpServer::Private::acceptReady()
{
#ifdef Q_OS_LINUX
    for (int i = 0; i < 64; ++i) { // then the loop's other work gets a turn
        const int fd =
            ::accept4(int(tcp.socketDescriptor()), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK) {
                const QString reason = qt_error_string(errno);
                acceptNotifier->setEnabled(false);
                acceptFailed(reason);
            }
            return;
        }
        auto *socket = new QTcpSocket(q); // HttpConnection takes it over
        if (!socket->setSocketDescriptor(fd)) {
            ::close(fd);
            delete socket;
            continue;
        }
        adopt(socket);
    }
#endif
}

void HttpServer::Private::adopt(QTcpSocket *socket)
{
    HttpConnection::Limits limits;
    limits.maxBodyBytes = options.maxBodyBytes;
    limits.maxHeadBytes = options.maxHeadBytes;
    limits.maxHeaderCount = options.maxHeaderCount;
    limits.idleTimeoutMs = options.idleTimeoutMs;
    limits.headTimeoutMs = options.headTimeoutMs;
    limits.bodyTimeoutMs = options.bodyTimeoutMs;
    limits.maxBufferedBytes = options.maxBufferedBytes;
    limits.logRequests = options.logRequests;
    // An upload's body is a file: its own limit, checked from the head like any other.
    limits.bodyLimit = [service = QPointer<SessionService>(service)](const HttpRequest &head) {
        return service && AttachmentsController::isUpload(head)
                   ? service->config().maxAttachmentBytes
                   : qint64(-1);
    };
    HttpHeaders defaults;
    if (!options.corsOrigin.isEmpty()) {
        defaults.emplaceBack("Access-Control-Allow-Origin", options.corsOrigin.toUtf8());
        defaults.emplaceBack("Vary", "Origin");
    }
    // Dead peers (a laptop that went away) are found by TCP and their sockets freed.
    socket->setSocketOption(QAbstractSocket::KeepAliveOption, 1);
    const QHostAddress peer = socket->peerAddress();
    auto *connection = new HttpConnection(socket, this, limits, defaults, q);
    const bool full = connectionTotal >= options.maxConnections;
    if (full || perClient.value(peer) >= options.maxConnectionsPerClient) {
        // Answered at once without reading: a flood of slow sockets costs its own address
        // (or, past the global cap, new clients) a 503, never the service.
        if (!lastCapWarning.isValid() || lastCapWarning.elapsed() > 10000) {
            lastCapWarning.start();
            qCWarning(lcHttp).noquote()
                << (full ? QStringLiteral("%1 connections open (--max-connections)")
                               .arg(connectionTotal)
                         : QStringLiteral("%1 connections open from %2 "
                                          "(--max-connections-per-client)")
                               .arg(perClient.value(peer))
                               .arg(peer.toString()))
                << ": refusing new ones with 503";
        }
        connection->refuse(makeError(
            ErrorCode::Unavailable,
            full ? QStringLiteral("the server has too many open connections; try again later")
                 : QStringLiteral("this client has %1 open connections; close some first")
                       .arg(options.maxConnectionsPerClient)));
        return;
    }
    ++connectionTotal;
    ++perClient[peer];
    QObject::connect(connection, &QObject::destroyed, q, [this, peer] {
        --connectionTotal;
        if (--perClient[peer] <= 0)
            perClient.remove(peer);
    });
}

void HttpServer::Private::acceptFailed(const QString &reason)
{
    if (!lastAcceptWarning.isValid() || lastAcceptWarning.elapsed() > 10000) {
        lastAcceptWarning.start();
        qCWarning(lcHttp).noquote()
            << "cannot accept connections:" << reason << "(open files limit?); retrying";
    }
    resumeTimer.start();
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

// API.md, "Browsers": the Host check defeats DNS rebinding (a token defeats it too), the Origin
// check keeps other sites' pages out even of a server with a token.
std::optional<Error> HttpServer::Private::forbidden(const HttpRequest &request) const
{
    if (options.token.isEmpty() && request.hasHeader("host")) {
        const QByteArray value = request.header("host");
        QByteArray name;
        int port = -1;
        if (!splitHost(value, &name, &port) || !hostNames.contains(name) ||
            (port >= 0 && port != tcp.serverPort())) {
            return makeError(ErrorCode::Forbidden,
                             QStringLiteral("Host '%1' is not allowed: without a token this server "
                                            "answers only to localhost, 127.0.0.1, [::1] or its "
                                            "own address, on port %2; use --allowed-host NAME "
                                            "or set a --token")
                                 .arg(QString::fromLatin1(value.left(200)))
                                 .arg(tcp.serverPort()));
        }
    }
    if (request.hasHeader("origin") && options.corsOrigin != QLatin1String("*")) {
        const QByteArray origin = request.header("origin");
        if (options.corsOrigin.isEmpty() ||
            QString::fromLatin1(origin).compare(options.corsOrigin, Qt::CaseInsensitive) != 0) {
            return makeError(
                ErrorCode::Forbidden,
                QStringLiteral("Origin '%1' is not allowed: web pages may call this API only "
                               "from the origin given with --cors-origin%2")
                    .arg(QString::fromLatin1(origin.left(200)),
                         options.corsOrigin.isEmpty()
                             ? QStringLiteral(" (none is)")
                             : QStringLiteral(" ('%1')").arg(options.corsOrigin)));
        }
    }
    return std::nullopt;
}

QCoro::Task<bool> HttpServer::Private::admit(HttpRequest head, HttpResponder responder)
{
    // The checks run in API.md's order: 403, 401, 404/405, (503), then 404 of a session or
    // turn; 413 follows in the connection, 415/400/422 in the controllers.
    const Router::Match match = router.match(head.method, head.segments);
    if (match.errorFormat)
        responder.setErrorFormat(match.errorFormat);
    if (const std::optional<Error> refused = forbidden(head)) {
        responder.sendError(*refused);
        co_return false;
    }
    if (!options.corsOrigin.isEmpty() && head.method == "OPTIONS" &&
        head.hasHeader("access-control-request-method")) {
        responder.sendEmpty(204,
                            {{"Access-Control-Allow-Methods", "GET, POST, PATCH, DELETE"},
                             {"Access-Control-Allow-Headers",
                              "Authorization, Content-Type, Last-Event-ID, X-Holdfast-Session"},
                             {"Access-Control-Max-Age", "600"}});
        co_return false;
    }
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
    const QString cid = match.arg(QStringLiteral("cid"));
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
    // So is a tool call the turn does not have (POST .../tool-calls/{cid}).
    if (tid && !error && !cid.isNull() && !co_await ToolsController::hasCall(svc, sid, *tid, cid)) {
        responder.sendError(makeError(
            ErrorCode::NotFound, QStringLiteral("turn %1 of session '%2' has no tool call '%3'")
                                     .arg(*tid)
                                     .arg(sid, cid.left(200))));
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
