// Why this client exists instead of QNetworkAccessManager or libcurl: see upstreamclient.h.
#include "provider/upstreamclient.h"

#include <QSslSocket>
#include <QTcpSocket>

#include <cerrno>
#include <sys/socket.h>

namespace holdfast {

namespace {

// Kept-alive connections are dropped after this long unused: below the 5 s keep-alive of common
// model servers (uvicorn, cpp-httplib), so that a request rarely meets a connection the server
// is closing at that very moment (once written into it, the request could not be sent again).
constexpr int kIdleMs = 4000;
// How long a released reply waits for the end of its answer (the last chunk, after the stream's
// own end marker) before it closes the connection instead of keeping it.
constexpr int kReleaseMs = 1000;
constexpr qsizetype kMaxHeadBytes = 64 * 1024;
constexpr qsizetype kMaxChunkLine = 1024;

bool isTls(const QUrl &url)
{
    return url.scheme().compare(QLatin1String("https"), Qt::CaseInsensitive) == 0;
}

// The server's FIN or RST may be in the kernel before the event loop saw it: ask the kernel
// whether the connection is still open and quiet, without reading anything.
bool stillOpen(QAbstractSocket *socket)
{
    if (socket->state() != QAbstractSocket::ConnectedState || socket->bytesAvailable() > 0)
        return false;
    char byte = 0;
    const ssize_t n = ::recv(int(socket->socketDescriptor()), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

} // namespace

UpstreamClient::UpstreamClient(QObject *parent) : QObject(parent)
{
    m_clock.start();
    m_sweeper.setInterval(kIdleMs);
    connect(&m_sweeper, &QTimer::timeout, this, &UpstreamClient::sweep);
}

UpstreamClient::~UpstreamClient() =
    default; // idle sockets are children, replies are their callers'

UpstreamReply *UpstreamClient::send(const UpstreamRequest &request)
{
    auto *reply = new UpstreamReply(this, request);
    reply->start();
    return reply;
}

QAbstractSocket *UpstreamClient::takeIdle(const QString &origin)
{
    for (qsizetype i = m_idle.size() - 1; i >= 0; --i) { // the newest first
        if (m_idle.at(i).origin != origin)
            continue;
        const Idle idle = m_idle.takeAt(i);
        QAbstractSocket *socket = idle.socket;
        if (!socket)
            continue;
        disconnect(socket, nullptr, this, nullptr);
        if (m_clock.elapsed() - idle.since < kIdleMs && stillOpen(socket))
            return socket;
        socket->abort();
        socket->deleteLater();
    }
    return nullptr;
}

void UpstreamClient::keep(const QString &origin, QAbstractSocket *socket)
{
    socket->setParent(this);
    // A kept connection that closes, errs or says anything unasked is of no further use.
    connect(socket, &QAbstractSocket::readyRead, this, [this, socket] { drop(socket); });
    connect(socket, &QAbstractSocket::disconnected, this, [this, socket] { drop(socket); });
    connect(socket, &QAbstractSocket::errorOccurred, this, [this, socket] { drop(socket); });
    m_idle.append({origin, socket, m_clock.elapsed()});
    if (!m_sweeper.isActive())
        m_sweeper.start();
}

void UpstreamClient::drop(QAbstractSocket *socket)
{
    m_idle.removeIf([socket](const Idle &idle) { return idle.socket == socket; });
    disconnect(socket, nullptr, this, nullptr);
    socket->abort();
    socket->deleteLater();
}

void UpstreamClient::sweep()
{
    const qint64 now = m_clock.elapsed();
    const QList<Idle> idle = m_idle;
    for (const Idle &i : idle) {
        if (!i.socket)
            m_idle.removeIf([&i](const Idle &x) { return x.socket == i.socket; });
        else if (now - i.since >= kIdleMs)
            drop(i.socket);
    }
    if (m_idle.isEmpty())
        m_sweeper.stop();
}

UpstreamReply::UpstreamReply(UpstreamClient *client, const UpstreamRequest &request)
    : QObject(nullptr), m_client(client), m_request(request)
{}

UpstreamReply::~UpstreamReply()
{
    if (m_socket)
        m_socket->abort(); // the model server sees the close at once and stops generating
    changed();
}

QByteArray UpstreamReply::header(const QByteArray &lowerCaseName) const
{
    for (const auto &[name, value] : m_headers) {
        if (name == lowerCaseName)
            return value;
    }
    return {};
}

Wakeup UpstreamReply::nextChange()
{
    m_wake = Wakeup();
    return *m_wake;
}

void UpstreamReply::changed()
{
    if (!m_wake)
        return;
    const Wakeup wake = *m_wake;
    m_wake.reset();
    wake.fire();
}

void UpstreamReply::abort()
{
    finish(Fault::Aborted, QStringLiteral("the request was aborted"));
}

void UpstreamReply::release()
{
    m_released = true;
    m_body.clear();
    if (m_finished) {
        deleteLater();
        return;
    }
    QTimer::singleShot(kReleaseMs, this, [this] {
        abort();
        deleteLater();
    });
}

void UpstreamReply::start()
{
    const QUrl &url = m_request.url;
    const bool tls = isTls(url);
    const QString host = url.host(QUrl::FullyEncoded);
    const int port = url.port(tls ? 443 : 80);
    m_origin = QStringLiteral("%1://%2:%3").arg(tls ? u"https" : u"http", host).arg(port);
    if (m_client) {
        if (QAbstractSocket *socket = m_client->takeIdle(m_origin)) {
            attach(socket);
            writeRequest();
            return;
        }
    }
    if (tls) {
        if (!QSslSocket::supportsSsl()) {
            finish(Fault::Unreachable, QStringLiteral("TLS is not available on this system"));
            return;
        }
        auto *socket = new QSslSocket(this);
        attach(socket);
        connect(socket, &QSslSocket::encrypted, this, &UpstreamReply::writeRequest);
        socket->connectToHostEncrypted(host, quint16(port));
    } else {
        auto *socket = new QTcpSocket(this);
        attach(socket);
        connect(socket, &QTcpSocket::connected, this, &UpstreamReply::writeRequest);
        socket->connectToHost(host, quint16(port));
    }
}

void UpstreamReply::attach(QAbstractSocket *socket)
{
    m_socket = socket;
    socket->setParent(this);
    connect(socket, &QAbstractSocket::readyRead, this, &UpstreamReply::onReadyRead);
    connect(socket, &QAbstractSocket::errorOccurred, this,
            [this, socket] { onClosed(socket->errorString()); });
    connect(socket, &QAbstractSocket::disconnected, this,
            [this] { onClosed(QStringLiteral("the connection was closed")); });
}

void UpstreamReply::writeRequest()
{
    if (m_finished || !m_socket || m_sent)
        return;
    const QUrl &url = m_request.url;
    QByteArray target = url.path(QUrl::FullyEncoded).toLatin1();
    if (target.isEmpty())
        target = "/";
    if (url.hasQuery())
        target += '?' + url.query(QUrl::FullyEncoded).toLatin1();
    QByteArray host = url.host(QUrl::FullyEncoded).toLatin1();
    if (host.contains(':'))
        host = '[' + host + ']';
    if (url.port() != -1 && url.port() != (isTls(url) ? 443 : 80))
        host += ':' + QByteArray::number(url.port());
    QByteArray head = m_request.method + ' ' + target + " HTTP/1.1\r\nHost: " + host + "\r\n";
    for (const auto &[name, value] : std::as_const(m_request.headers))
        head += name + ": " + value + "\r\n";
    if (!m_request.body.isEmpty() || m_request.method == "POST")
        head += "Content-Length: " + QByteArray::number(m_request.body.size()) + "\r\n";
    head += "\r\n";
    // From here on the request may have reached the server: it is never sent again.
    m_sent = true;
    m_socket->write(head + m_request.body);
    changed();
}

void UpstreamReply::onReadyRead()
{
    if (m_finished || !m_socket)
        return;
    const QByteArray bytes = m_socket->readAll();
    if (bytes.isEmpty())
        return;
    m_gotBytes = true;
    m_in += bytes;
    if (m_status == 0 && !parseHead())
        return;
    parseBody();
    if (m_released)
        m_body.clear();
    changed();
}

void UpstreamReply::onClosed(const QString &why)
{
    if (m_finished)
        return;
    if (m_socket && m_socket->bytesAvailable() > 0)
        onReadyRead();
    if (m_finished)
        return;
    if (m_status != 0 && m_framing == Framing::Close) {
        m_keepAlive = false;
        finish(Fault::None); // a close-delimited body ends with the connection
    } else if (!m_sent) {
        finish(Fault::Unreachable, why);
    } else if (!m_gotBytes) {
        finish(Fault::NoAnswer, why);
    } else {
        finish(Fault::BrokenAnswer, why);
    }
}

bool UpstreamReply::parseHead()
{
    while (true) {
        const qsizetype end = m_in.indexOf("\r\n\r\n");
        if (end < 0) {
            if (m_in.size() > kMaxHeadBytes)
                finish(Fault::BrokenAnswer, QStringLiteral("its head is over 64 KiB"));
            return false;
        }
        const QList<QByteArray> lines = m_in.left(end).split('\n');
        m_in.remove(0, end + 4);
        const QByteArray statusLine = lines.first().trimmed();
        bool ok = false;
        const int status = statusLine.mid(9, 3).toInt(&ok);
        if (!statusLine.startsWith("HTTP/1.") || statusLine.size() < 12 || !ok || status < 100 ||
            status > 599) {
            finish(Fault::BrokenAnswer, QStringLiteral("the answer is not HTTP/1.1"));
            return false;
        }
        if (status < 200)
            continue; // an interim answer (100 Continue, 103 Early Hints)
        m_status = status;
        for (qsizetype i = 1; i < lines.size(); ++i) {
            const qsizetype colon = lines.at(i).indexOf(':');
            if (colon > 0) {
                m_headers.append({lines.at(i).left(colon).trimmed().toLower(),
                                  lines.at(i).mid(colon + 1).trimmed()});
            }
        }
        const QByteArray connection = header("connection").toLower();
        m_keepAlive = statusLine.startsWith("HTTP/1.1") ? !connection.contains("close")
                                                        : connection.contains("keep-alive");
        const QByteArray length = header("content-length");
        if (status == 204 || status == 304) {
            m_framing = Framing::Length; // never a body
            m_left = 0;
        } else if (header("transfer-encoding").toLower().contains("chunked")) {
            m_framing = Framing::Chunked;
        } else if (!length.isEmpty()) {
            m_framing = Framing::Length;
            m_left = length.toLongLong(&ok);
            if (!ok || m_left < 0) {
                finish(Fault::BrokenAnswer, QStringLiteral("its Content-Length is not a number"));
                return false;
            }
        } else {
            m_framing = Framing::Close;
            m_keepAlive = false;
        }
        return true;
    }
}

bool UpstreamReply::parseBody()
{
    switch (m_framing) {
    case Framing::Close:
        m_body += std::exchange(m_in, {});
        return true;
    case Framing::Length: {
        const qsizetype take = qsizetype(qMin<qint64>(m_left, m_in.size()));
        m_body += m_in.left(take);
        m_in.remove(0, take);
        m_left -= take;
        if (m_left == 0)
            finish(Fault::None);
        return true;
    }
    case Framing::Chunked:
        break;
    }
    while (!m_finished) {
        if (m_left > 0) {
            const qsizetype take = qsizetype(qMin<qint64>(m_left, m_in.size()));
            m_body += m_in.left(take);
            m_in.remove(0, take);
            m_left -= take;
            if (m_left > 0)
                return true;
            m_chunkCrlf = true;
        }
        if (m_chunkCrlf) {
            if (m_in.size() < 2)
                return true;
            if (!m_in.startsWith("\r\n")) {
                finish(Fault::BrokenAnswer, QStringLiteral("a chunk of the answer is malformed"));
                return false;
            }
            m_in.remove(0, 2);
            m_chunkCrlf = false;
        }
        const qsizetype eol = m_in.indexOf("\r\n");
        if (eol < 0) {
            if (m_in.size() > kMaxChunkLine) {
                finish(Fault::BrokenAnswer, QStringLiteral("a chunk of the answer is malformed"));
                return false;
            }
            return true;
        }
        const QByteArray line = m_in.left(eol);
        m_in.remove(0, eol + 2);
        if (m_inTrailer) {
            if (line.isEmpty())
                finish(Fault::None);
            continue;
        }
        bool ok = false;
        const qint64 size = line.split(';').first().trimmed().toLongLong(&ok, 16);
        if (!ok || size < 0) {
            finish(Fault::BrokenAnswer, QStringLiteral("a chunk size of the answer is malformed"));
            return false;
        }
        if (size == 0)
            m_inTrailer = true;
        else
            m_left = size;
    }
    return true;
}

void UpstreamReply::finish(Fault fault, const QString &why)
{
    if (m_finished)
        return;
    m_finished = true;
    m_fault = fault;
    m_errorString = why;
    if (QAbstractSocket *socket = std::exchange(m_socket, nullptr)) {
        disconnect(socket, nullptr, this, nullptr);
        if (fault == Fault::None && m_keepAlive && m_in.isEmpty() && m_client &&
            socket->state() == QAbstractSocket::ConnectedState) {
            m_client->keep(m_origin, socket);
        } else {
            socket->abort();
            socket->deleteLater();
        }
    }
    if (m_released)
        deleteLater();
    changed();
}

} // namespace holdfast
