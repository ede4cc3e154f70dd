#include "http/httpconnection.h"

#include "core/json.h"
#include "http/httplog.h"

#include <QJsonDocument>
#include <QTcpSocket>

#ifdef Q_OS_UNIX
#include <sys/socket.h>
#endif

Q_LOGGING_CATEGORY(lcHttp, "holdfast.http")

namespace holdfast {

namespace {
constexpr qint64 kSocketReadBuffer = 256 * 1024;
constexpr int kLingerMs = 2000;

bool isTokenChar(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           QByteArrayView("!#$%&'*+-.^_`|~").contains(c);
}

bool isToken(QByteArrayView text)
{
    if (text.isEmpty())
        return false;
    for (char c : text) {
        if (!isTokenChar(c))
            return false;
    }
    return true;
}

bool hasControlChars(QByteArrayView text)
{
    for (char c : text) {
        const auto u = static_cast<unsigned char>(c);
        if ((u < 0x20 && c != '\t') || u == 0x7f)
            return true;
    }
    return false;
}

// Where the head ends: the index of its blank line and the length of the marker.
std::pair<qsizetype, qsizetype> findHeadEnd(const QByteArray &buffer)
{
    const qsizetype crlf = buffer.indexOf("\r\n\r\n");
    const qsizetype lf = buffer.indexOf("\n\n");
    if (crlf >= 0 && (lf < 0 || crlf < lf))
        return {crlf, 4};
    if (lf >= 0)
        return {lf, 2};
    return {-1, 0};
}
} // namespace

HttpConnection::HttpConnection(QTcpSocket *socket, HttpHandler *handler, Limits limits,
                               HttpHeaders defaultHeaders, QObject *parent)
    : QObject(parent), m_socket(socket), m_handler(handler), m_limits(limits),
      m_defaultHeaders(std::move(defaultHeaders)), m_peer(socket->peerAddress())
{
    m_socket->setParent(this);
    // No Nagle: an event written after a quiet spell (the head, then the first chunk) must not
    // wait for the client's delayed ACK (40 ms). Writes within one event-loop pass still share
    // a segment, because QTcpSocket flushes its buffer once per pass.
    m_socket->setSocketOption(QAbstractSocket::LowDelayOption, 1);
    // Bounded, so that a client sending faster than we parse is held back by TCP itself.
    m_socket->setReadBufferSize(kSocketReadBuffer);
    connect(m_socket, &QTcpSocket::readyRead, this, &HttpConnection::onReadyRead);
    connect(m_socket, &QTcpSocket::disconnected, this, &HttpConnection::onDisconnected);
    connect(m_socket, &QTcpSocket::bytesWritten, this, &HttpConnection::onBytesWritten);
    connect(m_socket, &QTcpSocket::errorOccurred, this, [this](QAbstractSocket::SocketError e) {
        if (e != QAbstractSocket::RemoteHostClosedError)
            qCDebug(lcHttp) << "socket error from" << m_peer << m_socket->errorString();
        if (m_socket->state() == QAbstractSocket::UnconnectedState)
            onDisconnected();
    });
    m_timer.setSingleShot(true);
    connect(&m_timer, &QTimer::timeout, this, [this] {
        // An idle kept-alive connection, a head past its deadline or a stalled body: closed
        // without an answer, as nginx does (API.md has no 408; nothing was malformed).
        if (m_state == State::Head || m_state == State::Body) {
            if (m_headStarted || m_state == State::Body)
                qCDebug(lcHttp) << "request from" << m_peer << "too slow: closing";
            closeGracefully();
        } else if (m_state == State::Closing) {
            m_socket->abort();
            onDisconnected();
        }
    });
    armHeadTimer();
    if (m_socket->bytesAvailable() > 0)
        QMetaObject::invokeMethod(this, &HttpConnection::process, Qt::QueuedConnection);
}

HttpConnection::~HttpConnection() = default;

void HttpConnection::flush()
{
    sendCorked();
    if (m_socket->state() == QAbstractSocket::ConnectedState)
        m_socket->flush();
}

void HttpConnection::onReadyRead()
{
    if (m_state == State::Closing) {
        if (m_socket->isReadable())
            m_socket->readAll(); // lingering: drop what the client still sends
        return;
    }
    // A head must be whole within its deadline however it trickles; a body must not stall.
    if (m_state == State::Head && !m_headStarted)
        armHeadTimer();
    else if (m_state == State::Body)
        m_timer.start(m_limits.bodyTimeoutMs);
    // While a request is admitted or handled, later bytes stay in the socket's bounded buffer.
    if (m_state == State::Head || m_state == State::Body)
        process();
}

void HttpConnection::process()
{
    if (m_state == State::Head && backedUp()) {
        // The client does not read its answers: read no more requests until it does (resumed
        // by onBytesWritten). Meanwhile only the idle timeout applies.
        m_headStarted = false;
        m_timer.start(m_limits.idleTimeoutMs);
        return;
    }
    while (m_state == State::Head || m_state == State::Body) {
        m_buffer += m_socket->readAll();
        if (m_state == State::Head) {
            // Empty lines before a request line are allowed (RFC 9112, 2.2).
            qsizetype skip = 0;
            while (skip < m_buffer.size() && (m_buffer[skip] == '\r' || m_buffer[skip] == '\n'))
                ++skip;
            m_buffer.remove(0, skip);
            if (m_buffer.isEmpty())
                return;
            const auto [end, markerLength] = findHeadEnd(m_buffer);
            if (end < 0 && m_buffer.size() <= m_limits.maxHeadBytes)
                return;
            if (end < 0 || end > m_limits.maxHeadBytes) {
                failAndClose(makeError(ErrorCode::BadRequest,
                                       QStringLiteral("the request head is larger than %1 bytes")
                                           .arg(m_limits.maxHeadBytes)));
                return;
            }
            const QByteArray head = m_buffer.left(end);
            m_buffer.remove(0, end + markerLength);
            m_request = HttpRequest{};
            m_request.peer = m_peer;
            QString error;
            if (!parseHead(head, &error)) {
                failAndClose(makeError(ErrorCode::BadRequest, error));
                return;
            }
            ++m_exchange;
            m_answered = false;
            m_streaming = false;
            m_errorFormat = {};
            m_timer.stop();
            m_clock.start();
            m_state = State::Admitting;
            admit(m_exchange);
            return;
        }

        if (m_request.chunked) {
            const int result = readChunkedBody();
            if (result == 0)
                return;
            if (result == -1) {
                failAndClose(makeError(ErrorCode::BadRequest,
                                       QStringLiteral("malformed chunked request body")));
                return;
            }
            if (result == -2) {
                failAndClose(makeError(ErrorCode::PayloadTooLarge,
                                       QStringLiteral("the request body is larger than %1 bytes")
                                           .arg(m_limits.maxBodyBytes)));
                return;
            }
        } else {
            const qint64 missing = m_request.contentLength - m_request.body.size();
            const qsizetype take = qsizetype(std::min<qint64>(missing, m_buffer.size()));
            if (take > 0) {
                m_request.body += m_buffer.left(take);
                m_buffer.remove(0, take);
            }
            if (m_request.body.size() < std::max<qint64>(0, m_request.contentLength))
                return;
        }
        dispatch();
        return;
    }
}

bool HttpConnection::parseHead(const QByteArray &head, QString *error)
{
    QList<QByteArray> lines = head.split('\n');
    for (QByteArray &line : lines) {
        if (line.endsWith('\r'))
            line.chop(1);
    }
    const QList<QByteArray> parts = lines.first().split(' ');
    if (parts.size() != 3 || !isToken(parts[0]) || !parts[1].startsWith('/') ||
        hasControlChars(parts[1])) {
        *error = QStringLiteral("malformed request line");
        return false;
    }
    if (parts[2] == "HTTP/1.1") {
        m_request.minorVersion = 1;
    } else if (parts[2] == "HTTP/1.0") {
        m_request.minorVersion = 0;
    } else {
        *error = QStringLiteral("unsupported protocol version (HTTP/1.0 and HTTP/1.1 are served)");
        return false;
    }
    m_request.method = parts[0];
    m_request.target = parts[1];
    const qsizetype question = m_request.target.indexOf('?');
    m_request.path = question < 0 ? m_request.target : m_request.target.left(question);
    if (question >= 0)
        m_request.query = QUrlQuery(QString::fromUtf8(m_request.target.mid(question + 1)));
    if (m_request.path != "/") {
        const QList<QByteArray> segments = m_request.path.mid(1).split('/');
        for (const QByteArray &s : segments)
            m_request.segments.append(QString::fromUtf8(QByteArray::fromPercentEncoding(s)));
    }

    if (lines.size() - 1 > m_limits.maxHeaderCount) {
        *error = QStringLiteral("the request has more than %1 header fields")
                     .arg(m_limits.maxHeaderCount);
        return false;
    }
    bool keepAlive = m_request.minorVersion >= 1;
    QByteArray transferEncoding;
    for (qsizetype i = 1; i < lines.size(); ++i) {
        const QByteArray &line = lines[i];
        const qsizetype colon = line.indexOf(':');
        if (colon <= 0 || !isToken(QByteArrayView(line).first(colon))) {
            *error = QStringLiteral("malformed header line");
            return false;
        }
        const QByteArray name = line.left(colon).toLower();
        const QByteArray value = line.mid(colon + 1).trimmed();
        if (hasControlChars(value)) {
            *error =
                QStringLiteral("control characters in header '%1'").arg(QString::fromLatin1(name));
            return false;
        }
        if (name == "content-length") {
            bool ok = value.size() <= 18 && !value.isEmpty();
            for (char c : value)
                ok = ok && c >= '0' && c <= '9';
            const qint64 length = ok ? value.toLongLong() : -1;
            if (!ok || (m_request.contentLength >= 0 && m_request.contentLength != length)) {
                *error = QStringLiteral("invalid Content-Length");
                return false;
            }
            m_request.contentLength = length;
        } else if (name == "transfer-encoding") {
            transferEncoding = value.toLower();
        } else if (name == "connection") {
            const QList<QByteArray> options = value.toLower().split(',');
            for (const QByteArray &o : options) {
                if (o.trimmed() == "close")
                    keepAlive = false;
                else if (o.trimmed() == "keep-alive")
                    keepAlive = true;
            }
        } else if (name == "expect") {
            m_request.expectContinue = value.toLower() == "100-continue";
        }
        m_request.headers.append({name, value});
    }
    if (!transferEncoding.isEmpty()) {
        if (transferEncoding != "chunked") {
            *error = QStringLiteral("unsupported Transfer-Encoding '%1'")
                         .arg(QString::fromLatin1(transferEncoding));
            return false;
        }
        if (m_request.contentLength >= 0) {
            *error = QStringLiteral("both Content-Length and Transfer-Encoding were sent");
            return false;
        }
        m_request.chunked = true;
    }
    m_request.keepAlive = keepAlive;
    return true;
}

int HttpConnection::readChunkedBody()
{
    while (true) {
        switch (m_chunkState) {
        case ChunkState::Size: {
            const qsizetype newline = m_buffer.indexOf('\n');
            if (newline < 0)
                return m_buffer.size() > 1024 ? -1 : 0;
            QByteArray line = m_buffer.left(newline);
            m_buffer.remove(0, newline + 1);
            if (line.endsWith('\r'))
                line.chop(1);
            if (const qsizetype semicolon = line.indexOf(';'); semicolon >= 0)
                line.truncate(semicolon);
            line = line.trimmed();
            if (line.isEmpty() || line.size() > 15)
                return -1;
            for (char c : std::as_const(line)) {
                if (!std::isxdigit(static_cast<unsigned char>(c)))
                    return -1;
            }
            const qint64 size = line.toLongLong(nullptr, 16);
            if (size == 0) {
                m_chunkState = ChunkState::Trailer;
                break;
            }
            if (m_request.body.size() + size > m_limits.maxBodyBytes)
                return -2;
            m_chunkLeft = size;
            m_chunkState = ChunkState::Data;
            break;
        }
        case ChunkState::Data: {
            const qsizetype take = qsizetype(std::min<qint64>(m_chunkLeft, m_buffer.size()));
            m_request.body += m_buffer.left(take);
            m_buffer.remove(0, take);
            m_chunkLeft -= take;
            if (m_chunkLeft > 0)
                return 0;
            m_chunkState = ChunkState::DataEnd;
            break;
        }
        case ChunkState::DataEnd:
            if (m_buffer.startsWith("\r\n"))
                m_buffer.remove(0, 2);
            else if (m_buffer.startsWith('\n'))
                m_buffer.remove(0, 1);
            else if (m_buffer.size() < 2)
                return 0;
            else
                return -1;
            m_chunkState = ChunkState::Size;
            break;
        case ChunkState::Trailer: {
            const qsizetype newline = m_buffer.indexOf('\n');
            if (newline < 0)
                return m_buffer.size() > m_limits.maxHeadBytes ? -1 : 0;
            const bool empty = newline == 0 || (newline == 1 && m_buffer[0] == '\r');
            m_buffer.remove(0, newline + 1);
            if (empty)
                return 1; // trailer fields, if any, are ignored
            break;
        }
        }
    }
}

QCoro::Task<> HttpConnection::admit(quint64 exchange)
{
    QPointer<HttpConnection> self(this);
    // Named, not a temporary: g++ 12 mishandles the lifetime of temporaries in co_await operands.
    HttpResponder responder(this, exchange);
    const bool admitted = co_await m_handler->admit(m_request, responder);
    if (!self || m_exchange != exchange || m_state != State::Admitting)
        co_return;
    if (!admitted) {
        if (!m_answered)
            sendError(exchange, makeError(ErrorCode::Internal, QStringLiteral("request refused")),
                      {});
        co_return;
    }
    if (m_request.contentLength > m_limits.maxBodyBytes) {
        sendError(exchange,
                  makeError(ErrorCode::PayloadTooLarge,
                            QStringLiteral("the request body is %1 bytes; the limit is %2 bytes")
                                .arg(m_request.contentLength)
                                .arg(m_limits.maxBodyBytes)),
                  {});
        co_return;
    }
    if (m_request.expectContinue && m_request.hasBody())
        send("HTTP/1.1 100 Continue\r\n\r\n");
    m_state = State::Body;
    m_chunkState = ChunkState::Size;
    m_chunkLeft = 0;
    m_timer.start(m_limits.bodyTimeoutMs);
    process();
}

void HttpConnection::dispatch()
{
    m_state = State::Handling;
    m_timer.stop();
    HttpRequest request = m_request;
    m_request.body.clear();
    m_handler->handle(std::move(request), HttpResponder(this, m_exchange));
}

bool HttpConnection::current(quint64 exchange) const
{
    return exchange == m_exchange && !m_answered &&
           (m_state == State::Admitting || m_state == State::Body || m_state == State::Handling);
}

QByteArray HttpConnection::headBytes(int status, const QByteArray &contentType,
                                     const HttpHeaders &headers, qint64 contentLength,
                                     bool close) const
{
    QByteArray out =
        "HTTP/1.1 " + QByteArray::number(status) + ' ' + httpReasonPhrase(status) + "\r\n";
    if (!contentType.isEmpty())
        out += "Content-Type: " + contentType + "\r\n";
    if (contentLength >= 0)
        out += "Content-Length: " + QByteArray::number(contentLength) + "\r\n";
    if (close)
        out += "Connection: close\r\n";
    else if (m_request.minorVersion == 0)
        out += "Connection: keep-alive\r\n";
    for (const auto &h : m_defaultHeaders)
        out += h.first + ": " + h.second + "\r\n";
    for (const auto &h : headers)
        out += h.first + ": " + h.second + "\r\n";
    out += "\r\n";
    return out;
}

void HttpConnection::respond(quint64 exchange, int status, const QByteArray &contentType,
                             const QByteArray &body, const HttpHeaders &headers, bool withLength)
{
    if (!current(exchange) || m_streaming)
        return;
    // A body that was never read makes the connection unusable for another request.
    const bool close = !m_request.keepAlive || (m_state != State::Handling && m_request.hasBody());
    send(headBytes(status, contentType, headers, withLength ? body.size() : -1, close) + body);
    finishExchange(status, close);
}

void HttpConnection::sendError(quint64 exchange, const Error &error, const HttpHeaders &headers)
{
    const QJsonObject body = m_errorFormat ? m_errorFormat(error) : json::errorBody(error);
    respond(exchange, httpStatus(error.code), "application/json",
            QJsonDocument(body).toJson(QJsonDocument::Compact), headers, true);
}

bool HttpConnection::beginStream(quint64 exchange, int status, const QByteArray &contentType,
                                 const HttpHeaders &headers)
{
    if (!current(exchange) || m_streaming || m_state != State::Handling)
        return false;
    m_streamChunked = m_request.minorVersion >= 1;
    m_streamClose = !m_streamChunked || !m_request.keepAlive;
    HttpHeaders all = headers;
    if (m_streamChunked)
        all.emplaceBack("Transfer-Encoding", "chunked");
    // The head waits for the stream's first bytes, if they come in this pass of the loop (an
    // event stream's replay, usually): one send() for both. Otherwise it goes out on its own.
    m_corkedHead = headBytes(status, contentType, all, -1, m_streamClose);
    QMetaObject::invokeMethod(this, &HttpConnection::sendCorked, Qt::QueuedConnection);
    m_streaming = true;
    return true;
}

void HttpConnection::sendCorked()
{
    if (!m_corkedHead.isEmpty())
        send({});
}

namespace {
// One chunk of a chunked body: its size in hex, the data, CRLFs.
QByteArray chunkFrame(const QByteArray &data)
{
    return QByteArray::number(data.size(), 16) + "\r\n" + data + "\r\n";
}
} // namespace

bool HttpConnection::writeStream(quint64 exchange, const QByteArray &data)
{
    if (!current(exchange) || !m_streaming)
        return false;
    if (data.isEmpty())
        return true; // an empty chunk would end the body
    send(m_streamChunked ? chunkFrame(data) : data);
    return true;
}

void HttpConnection::endStream(quint64 exchange, const QByteArray &last)
{
    if (!current(exchange) || !m_streaming)
        return;
    // The last data and the end of the body in one send().
    if (m_streamChunked) {
        send((last.isEmpty() ? QByteArray() : chunkFrame(last)) + "0\r\n\r\n");
    } else if (!last.isEmpty()) {
        send(last);
    } else {
        sendCorked();
    }
    m_streaming = false;
    finishExchange(200, m_streamClose);
}

// Hands bytes straight to the kernel when Qt has nothing queued for this socket. QTcpSocket's
// own path arms and then disarms a write notifier for every write, and the event dispatcher pays
// for that in proportion to the number of open sockets: with a thousand event streams that was
// most of the cost of a chunk. What the kernel does not take at once goes through Qt, in order.
void HttpConnection::send(const QByteArray &data)
{
    const QByteArray bytes = m_corkedHead.isEmpty() ? data : std::exchange(m_corkedHead, {}) + data;
    if (bytes.isEmpty())
        return;
#ifdef Q_OS_UNIX
    const qintptr fd = m_socket->socketDescriptor();
    if (fd >= 0 && m_socket->bytesToWrite() == 0 &&
        m_socket->state() == QAbstractSocket::ConnectedState) {
        const ssize_t n =
            ::send(int(fd), bytes.constData(), size_t(bytes.size()), MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n == ssize_t(bytes.size()))
            return;
        if (n > 0) {
            m_socket->write(bytes.constData() + n, bytes.size() - n);
            return;
        }
        // Would block, or failed: Qt's path queues it, or reports the error its own way.
    }
#endif
    m_socket->write(bytes);
}

void HttpConnection::finishExchange(int status, bool close)
{
    m_answered = true;
    if (m_limits.logRequests) {
        qCInfo(lcHttp).noquote() << m_peer.toString() << m_request.method << m_request.path
                                 << status << m_clock.elapsed() << "ms";
    }
    if (close) {
        closeGracefully();
        return;
    }
    m_state = State::Head;
    m_request = HttpRequest{};
    armHeadTimer();
    QMetaObject::invokeMethod(this, &HttpConnection::process, Qt::QueuedConnection);
}

bool HttpConnection::backedUp()
{
    if (m_socket->bytesToWrite() + m_corkedHead.size() <= m_limits.maxBufferedBytes)
        return false;
    m_backedUp = true;
    return true;
}

void HttpConnection::onBytesWritten()
{
    // Half the bound, so that a writer held back resumes with room for more than one write.
    if (!m_backedUp ||
        m_socket->bytesToWrite() + m_corkedHead.size() > m_limits.maxBufferedBytes / 2)
        return;
    m_backedUp = false;
    Q_EMIT drained();
    if (m_state == State::Head) {
        armHeadTimer();
        QMetaObject::invokeMethod(this, &HttpConnection::process, Qt::QueuedConnection);
    }
}

void HttpConnection::armHeadTimer()
{
    // The idle timeout until the next head's first byte, then the head's deadline.
    m_headStarted = !m_buffer.isEmpty() || m_socket->bytesAvailable() > 0;
    m_timer.start(m_headStarted ? m_limits.headTimeoutMs : m_limits.idleTimeoutMs);
}

void HttpConnection::refuse(const Error &error)
{
    failAndClose(error);
}

void HttpConnection::failAndClose(const Error &error)
{
    if (m_state == State::Closing || m_state == State::Closed)
        return;
    qCDebug(lcHttp) << "closing the connection from" << m_peer << ":" << error.message;
    if (!m_streaming && !(m_answered && m_state != State::Head)) {
        const QJsonObject body = m_errorFormat ? m_errorFormat(error) : json::errorBody(error);
        const QByteArray bytes = QJsonDocument(body).toJson(QJsonDocument::Compact);
        send(headBytes(httpStatus(error.code), "application/json", {}, bytes.size(), true) + bytes);
    }
    closeGracefully();
}

void HttpConnection::closeGracefully()
{
    if (m_state == State::Closing || m_state == State::Closed)
        return;
    sendCorked();
    m_state = State::Closing;
    m_buffer.clear();
    Q_EMIT closed();
    // Lingering close: send what is queued, end our side, and keep reading (and dropping) until
    // the client closes, so that unread request bytes do not turn our answer into a reset.
    if (m_socket->isReadable())
        m_socket->readAll();
    m_timer.start(kLingerMs);
    auto halfClose = [this] {
        if (m_socket->bytesToWrite() > 0 || m_state != State::Closing)
            return;
#ifdef Q_OS_UNIX
        if (m_socket->socketDescriptor() >= 0) {
            ::shutdown(int(m_socket->socketDescriptor()), SHUT_WR);
            return;
        }
#endif
        m_socket->disconnectFromHost();
    };
    connect(m_socket, &QTcpSocket::bytesWritten, this, halfClose);
    m_socket->flush();
    halfClose();
}

void HttpConnection::onDisconnected()
{
    if (m_state == State::Closed)
        return;
    const bool wasClosing = m_state == State::Closing;
    m_state = State::Closed;
    m_timer.stop();
    if (!wasClosing)
        Q_EMIT closed();
    deleteLater();
}

} // namespace holdfast
