#include "http/httpconnection.h"

#include "core/json.h"
#include "http/httperror.h"
#include "http/httplog.h"

#include <QJsonDocument>
#include <QTcpSocket>

#include <array>
#include <charconv>

#ifdef Q_OS_UNIX
#include <sys/socket.h>
#include <sys/uio.h>
#endif

Q_LOGGING_CATEGORY(lcHttp, "holdfast.http")

namespace holdfast {

namespace {
constexpr qint64 kSocketReadBuffer = 256 * 1024;
constexpr int kLingerMs = 2000;
} // namespace

HttpConnection::HttpConnection(QTcpSocket *socket, HttpHandler *handler, Limits limits,
                               HttpHeaders defaultHeaders, QObject *parent)
    : QObject(parent), m_socket(socket), m_handler(handler), m_limits(limits),
      m_defaultHeaders(std::move(defaultHeaders)), m_peer(socket->peerAddress()),
      m_parser({limits.maxHeadBytes, limits.maxHeaderCount, limits.maxBodyBytes})
{
    m_parser.setBodyLimitPicker(limits.bodyLimit);
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
        if (m_socket->isReadable())
            m_parser.feed(m_socket->readAll());
        switch (m_parser.next()) {
        case RequestParser::Event::NeedMore:
            return;
        case RequestParser::Event::Error:
            failAndClose(m_parser.error());
            return;
        case RequestParser::Event::Head:
            m_request = m_parser.request();
            m_request.peer = m_peer;
            ++m_exchange;
            m_answered = false;
            m_streaming = false;
            m_errorFormat = {};
            m_timer.stop();
            m_clock.start();
            m_state = State::Admitting;
            admit(m_exchange);
            return;
        case RequestParser::Event::Body:
            if (m_request.body.capacity() == 0)
                m_request.body = m_parser.takeBody(); // no room reserved: kept, not copied
            else
                m_request.body += m_parser.takeBody();
            break;
        case RequestParser::Event::Complete:
            dispatch();
            return;
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
    // A declared length over the limit is answered here, before a 100 Continue invites the body.
    if (!m_parser.continueBody()) {
        sendError(exchange, m_parser.error(), {});
        co_return;
    }
    if (m_request.expectContinue && m_request.hasBody())
        send("HTTP/1.1 100 Continue\r\n\r\n");
    // The body is held once: room for all of a declared length (checked against the limit
    // above), so that appending its pieces never copies what came before.
    if (m_request.contentLength > 0)
        m_request.body.reserve(m_request.contentLength);
    m_state = State::Body;
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

namespace {
// Set off only by a test that drives the refusal below in a debug build.
bool g_assertOnUnsafeHeaders = true;

// A CR or LF in a header field would end it and start another (response splitting); a NUL
// cuts it short in many clients.
bool isSafeHeaderText(QByteArrayView text)
{
    return !text.contains('\r') && !text.contains('\n') && !text.contains('\0');
}
} // namespace

void HttpConnection::setAssertOnUnsafeHeaders(bool on)
{
    g_assertOnUnsafeHeaders = on;
}

bool HttpConnection::safeHeaderFields(const QByteArray &contentType,
                                      const HttpHeaders &headers) const
{
    auto safe = [](const auto &h) {
        return isSafeHeaderText(h.first) && isSafeHeaderText(h.second);
    };
    return isSafeHeaderText(contentType) && std::all_of(headers.cbegin(), headers.cend(), safe) &&
           std::all_of(m_defaultHeaders.cbegin(), m_defaultHeaders.cend(), safe);
}

std::optional<QByteArray> HttpConnection::headBytes(int status, const QByteArray &contentType,
                                                    const HttpHeaders &headers,
                                                    qint64 contentLength, bool close) const
{
    if (!safeHeaderFields(contentType, headers))
        return std::nullopt;
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

// The bug is ours (a header built from something unchecked): say so loudly, write none of the
// response's own fields, and close.
void HttpConnection::refuseUnsafeHead(int status)
{
    qCCritical(lcHttp) << "refusing to write a" << status
                       << "response whose header fields hold CR, LF or NUL; answering 500";
    Q_ASSERT_X(!g_assertOnUnsafeHeaders, "HttpConnection",
               "a response header field holds CR, LF or NUL");
    const Error error =
        makeError(ErrorCode::Internal, QStringLiteral("the response could not be written"));
    const QByteArray body =
        QJsonDocument(m_errorFormat ? m_errorFormat(error) : json::errorBody(error))
            .toJson(QJsonDocument::Compact);
    const bool head = m_request.method == "HEAD";
    send(
        "HTTP/1.1 500 " + QByteArray(httpReasonPhrase(500)) +
        "\r\nContent-Type: application/json\r\nContent-Length: " + QByteArray::number(body.size()) +
        "\r\nConnection: close\r\n\r\n" + (head ? QByteArray() : body));
    finishExchange(500, true);
}

void HttpConnection::respond(quint64 exchange, int status, const QByteArray &contentType,
                             const QByteArray &body, const HttpHeaders &headers, bool withLength)
{
    if (!current(exchange) || m_streaming)
        return;
    // A body that was never read makes the connection unusable for another request.
    const bool close = !m_request.keepAlive || (m_state != State::Handling && m_request.hasBody());
    const auto head = headBytes(status, contentType, headers, withLength ? body.size() : -1, close);
    if (!head) {
        refuseUnsafeHead(status);
        return;
    }
    // HEAD: the head GET would get, Content-Length included, and no body (RFC 9110, 9.3.2).
    send(m_request.method == "HEAD" ? *head : *head + body);
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
    const auto head = headBytes(status, contentType, all, -1, m_streamClose);
    if (!head) {
        refuseUnsafeHead(status);
        return false;
    }
    if (m_request.method == "HEAD") {
        // The head alone, and close: a body that never comes needs no framing to end it.
        send(*headBytes(status, contentType, all, -1, true));
        finishExchange(status, true);
        return false;
    }
    m_corkedHead = *head;
    QMetaObject::invokeMethod(this, &HttpConnection::sendCorked, Qt::QueuedConnection);
    m_streaming = true;
    return true;
}

void HttpConnection::sendCorked()
{
    if (!m_corkedHead.isEmpty())
        send(std::initializer_list<QByteArrayView>{});
}

namespace {
// The line that opens one chunk of a chunked body: its size in hex and CRLF, on the stack.
struct ChunkSizeLine
{
    explicit ChunkSizeLine(qsizetype size)
    {
        const auto end = std::to_chars(text, text + sizeof text - 2, size, 16).ptr;
        end[0] = '\r';
        end[1] = '\n';
        length = end + 2 - text;
    }
    QByteArrayView view() const { return {text, length}; }
    char text[24];
    qsizetype length;
};
} // namespace

bool HttpConnection::writeStream(quint64 exchange, const QByteArray &data)
{
    if (!current(exchange) || !m_streaming)
        return false;
    if (data.isEmpty())
        return true; // an empty chunk would end the body
    if (m_streamChunked)
        send({ChunkSizeLine(data.size()).view(), data, "\r\n"});
    else
        send({data});
    return true;
}

void HttpConnection::endStream(quint64 exchange, const QByteArray &last)
{
    if (!current(exchange) || !m_streaming)
        return;
    // The last data and the end of the body in one send().
    if (m_streamChunked && !last.isEmpty()) {
        send({ChunkSizeLine(last.size()).view(), last, "\r\n0\r\n\r\n"});
    } else if (m_streamChunked) {
        send({"0\r\n\r\n"});
    } else if (!last.isEmpty()) {
        send({last});
    } else {
        sendCorked();
    }
    m_streaming = false;
    finishExchange(200, m_streamClose);
}

void HttpConnection::send(const QByteArray &data)
{
    // Spelled out: `send({data})` would pick this very overload again (clang says so).
    send(std::initializer_list<QByteArrayView>{QByteArrayView(data)});
}

// Hands bytes straight to the kernel when Qt has nothing queued for this socket. QTcpSocket's
// own path arms and then disarms a write notifier for every write, and the event dispatcher pays
// for that in proportion to the number of open sockets: with a thousand event streams that was
// most of the cost of a chunk. The parts (a corked head, a chunk's size line, its data, its CRLF)
// go out in one system call and no heap allocation: small ones gathered on the stack (a send() of
// one buffer costs the kernel less than a sendmsg() of a vector), a large replayed page by
// sendmsg() from where it is. What the kernel does not take at once goes through Qt, in order.
void HttpConnection::send(std::initializer_list<QByteArrayView> parts)
{
    constexpr int kMaxParts = 5;
    constexpr qsizetype kGatherBytes = 8 * 1024;
    std::array<QByteArrayView, kMaxParts> all;
    int count = 0;
    if (!m_corkedHead.isEmpty())
        all[count++] = m_corkedHead;
    for (QByteArrayView part : parts) {
        Q_ASSERT(count < kMaxParts);
        if (!part.isEmpty())
            all[count++] = part;
    }
    if (count == 0)
        return;
    qsizetype sent = 0;
#ifdef Q_OS_UNIX
    const qintptr fd = m_socket->socketDescriptor();
    if (fd >= 0 && m_socket->bytesToWrite() == 0 &&
        m_socket->state() == QAbstractSocket::ConnectedState) {
        qsizetype total = 0;
        for (int i = 0; i < count; ++i)
            total += all[i].size();
        ssize_t n;
        if (count == 1) {
            n = ::send(int(fd), all[0].data(), size_t(total), MSG_NOSIGNAL | MSG_DONTWAIT);
        } else if (total > kGatherBytes) {
            std::array<iovec, kMaxParts> iov;
            for (int i = 0; i < count; ++i) {
                iov[i].iov_base = const_cast<char *>(all[i].data());
                iov[i].iov_len = size_t(all[i].size());
            }
            msghdr message = {};
            message.msg_iov = iov.data();
            message.msg_iovlen = size_t(count);
            n = ::sendmsg(int(fd), &message, MSG_NOSIGNAL | MSG_DONTWAIT);
        } else {
            char gathered[kGatherBytes];
            char *end = gathered;
            for (int i = 0; i < count; ++i)
                end = std::copy(all[i].begin(), all[i].end(), end);
            n = ::send(int(fd), gathered, size_t(total), MSG_NOSIGNAL | MSG_DONTWAIT);
        }
        if (n == ssize_t(total)) {
            m_corkedHead.clear();
            return;
        }
        // Would block, or failed (n < 0): Qt's path queues it all, or reports the error its way.
        sent = std::max<qsizetype>(0, n);
    }
#endif
    for (int i = 0; i < count; ++i) {
        const qsizetype skip = std::min(sent, all[i].size());
        sent -= skip;
        if (skip < all[i].size())
            m_socket->write(all[i].data() + skip, all[i].size() - skip);
    }
    m_corkedHead.clear(); // after the writes above: the first part may point into it
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
    m_parser.skipEmptyBody(); // answered at admission: a bodiless request, or we closed above
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
    m_headStarted = m_parser.buffered() > 0 || m_socket->bytesAvailable() > 0;
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
        const auto head =
            headBytes(httpStatus(error.code), "application/json", {}, bytes.size(), true);
        if (!head) {
            refuseUnsafeHead(httpStatus(error.code));
            return;
        }
        send(m_request.method == "HEAD" ? *head : *head + bytes);
    }
    closeGracefully();
}

void HttpConnection::closeGracefully()
{
    if (m_state == State::Closing || m_state == State::Closed)
        return;
    sendCorked();
    m_state = State::Closing;
    m_parser.clear();
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
