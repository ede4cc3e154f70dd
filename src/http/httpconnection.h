#pragma once

#include "http/httpmessage.h"
#include "http/requestparser.h"

#include <QCoroTask>
#include <QElapsedTimer>
#include <QObject>
#include <QTimer>

class QTcpSocket;

namespace holdfast {

// What a connection asks of the server for each request.
class HttpHandler
{
public:
    virtual ~HttpHandler() = default;
    // Sees the head before any byte of the body is read (auth, routing, existence). Returns true
    // to go on; false after answering through `responder`.
    virtual QCoro::Task<bool> admit(HttpRequest head, HttpResponder responder) = 0;
    // The whole request, body included.
    virtual void handle(HttpRequest request, HttpResponder responder) = 0;
};

// One HTTP/1.1 connection: reads requests one at a time through a RequestParser (which holds the
// framing and the hard limits), and writes answers.
//
// Why not QHttpServer (Qt 6.4): it buffers a whole body before any handler runs (so no 413
// before reading), answers a malformed request by leaving the socket open and silent, has no
// 405, and crashes when a deferred responder writes after the client left. This class keeps
// the body unread until the head is admitted, answers every protocol error with a JSON body and
// closes, and turns a vanished client into no-op writes.
class HttpConnection final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(HttpConnection)
public:
    struct Limits
    {
        qint64 maxHeadBytes = 64 * 1024;
        int maxHeaderCount = 100;
        qint64 maxBodyBytes = 1048576;
        int idleTimeoutMs = 120000; // no request on a kept-alive connection for this long: close
        int headTimeoutMs = 10000;  // a request head not complete this long after its first byte
        int bodyTimeoutMs = 30000;  // no byte of a request body for this long: close
        qint64 maxBufferedBytes = 4 * 1024 * 1024; // output queued per connection (see backedUp)
        bool logRequests = true;
        RequestParser::BodyLimitPicker bodyLimit; // per request, from its head (see the parser)
    };

    HttpConnection(QTcpSocket *socket, HttpHandler *handler, Limits limits,
                   HttpHeaders defaultHeaders, QObject *parent);
    ~HttpConnection() override;

    QTcpSocket *socket() const { return m_socket; }
    QHostAddress peer() const { return m_peer; }
    bool streaming() const { return m_streaming; }
    // True when more than maxBufferedBytes wait to go out: a writer should hold back until
    // drained(). While backed up, the next request of a kept-alive connection is not read.
    bool backedUp();
    // Answers `error` (a 503 over a connection cap, say) without reading a request, and closes.
    void refuse(const Error &error);
    // Writes what is buffered to the kernel now (used before the process exits).
    void flush();
    // A response header field holding CR, LF or NUL is refused (500) in every build, and is an
    // assertion failure in debug builds unless a test that drives the refusal turns that off.
    static void setAssertOnUnsafeHeaders(bool on);

Q_SIGNALS:
    // The client went away (or the connection was closed): everything tied to it should stop.
    void closed();
    // The output queue fell back below half the bound after backedUp() returned true.
    void drained();

private:
    friend class HttpResponder;
    enum class State { Head, Admitting, Body, Handling, Closing, Closed };

    void onReadyRead();
    void process();
    QCoro::Task<> admit(quint64 exchange);
    void dispatch();

    // Responder side.
    bool current(quint64 exchange) const;
    void respond(quint64 exchange, int status, const QByteArray &contentType,
                 const QByteArray &body, const HttpHeaders &headers, bool withLength);
    void sendError(quint64 exchange, const Error &error, const HttpHeaders &headers);
    bool beginStream(quint64 exchange, int status, const QByteArray &contentType,
                     const HttpHeaders &headers);
    bool writeStream(quint64 exchange, const QByteArray &data);
    void endStream(quint64 exchange, const QByteArray &last);
    void sendCorked();
    // nullopt when a header field (default ones included) holds CR, LF or NUL.
    std::optional<QByteArray> headBytes(int status, const QByteArray &contentType,
                                        const HttpHeaders &headers, qint64 contentLength,
                                        bool close) const;
    bool safeHeaderFields(const QByteArray &contentType, const HttpHeaders &headers) const;
    void refuseUnsafeHead(int status);
    void finishExchange(int status, bool close);
    void send(const QByteArray &bytes);
    // The parts in order, as one write (the corked head, if any, goes first).
    void send(std::initializer_list<QByteArrayView> parts);

    // Answers a request that could not be parsed, then closes.
    void failAndClose(const Error &error);
    void closeGracefully();
    void onDisconnected();
    void onBytesWritten();
    void armHeadTimer();

    QTcpSocket *m_socket;
    HttpHandler *m_handler;
    Limits m_limits;
    HttpHeaders m_defaultHeaders;
    QHostAddress m_peer;
    State m_state = State::Head;
    RequestParser m_parser;  // holds the bytes read from the socket and not parsed yet
    QByteArray m_corkedHead; // a stream's head, waiting to go out with its first bytes
    HttpRequest m_request;
    quint64 m_exchange = 0;
    bool m_answered = false;
    bool m_streaming = false;
    bool m_streamChunked = false;
    bool m_streamClose = false;
    bool m_headStarted = false; // a byte of the next head arrived: its deadline runs
    bool m_backedUp = false;
    ErrorFormat m_errorFormat;
    QTimer m_timer; // idle, head deadline or body timeout; in Closing, the linger bound
    QElapsedTimer m_clock;
};

} // namespace holdfast
