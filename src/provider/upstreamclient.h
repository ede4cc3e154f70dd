#pragma once

// The HTTP/1.1 client of the model providers, on QTcpSocket / QSslSocket. Why not a library:
// - QNetworkAccessManager sends a request again, on its own, when the connection closes before
//   an answer (QHttpNetworkConnectionChannel's reconnect attempts), POST included and after the
//   request was written; Qt 6.4 has no attribute that turns this off. Seen: a fake model server
//   that read a request and then closed, reset, or stayed silent and closed, got it twice.
// - libcurl does the same on a reused connection that gave no answer byte (Curl_retry_request:
//   "Connection died, retrying a fresh connect", rewinding the POST body, up to 5 times); only
//   CURLOPT_FORBID_REUSE avoids it, and its multi interface needs its own glue to Qt's loop.
// A model request must reach the server at most once (shared/API.md, "Models upstream"). This
// client writes each request once and never again; the only "retry" is before that: a kept-alive
// connection is reused only when the kernel says it is still open and quiet, else a new one is
// opened (nothing was written to the old). It follows no redirect (the prompt and the API key
// would go to another server), and opens a connection per request in flight (no per-host queue).

#include "runtime/waiter.h"

#include <QByteArray>
#include <QElapsedTimer>
#include <QList>
#include <QObject>
#include <QPair>
#include <QPointer>
#include <QTimer>
#include <QUrl>

#include <optional>

class QAbstractSocket;

namespace holdfast {

class UpstreamReply;

// One HTTP/1.1 request to a model server.
struct UpstreamRequest
{
    QByteArray method = QByteArrayLiteral("GET");
    QUrl url;                                     // http or https
    QList<QPair<QByteArray, QByteArray>> headers; // besides Host and Content-Length
    QByteArray body;
};

// The HTTP/1.1 client of the providers (see the file's opening comment).
class UpstreamClient final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(UpstreamClient)
public:
    explicit UpstreamClient(QObject *parent = nullptr);
    ~UpstreamClient() override;

    // The reply is the caller's (deleteLater when done); it starts at once.
    UpstreamReply *send(const UpstreamRequest &request);
    int idleConnections() const { return int(m_idle.size()); }

private:
    friend class UpstreamReply;
    struct Idle
    {
        QString origin;
        QPointer<QAbstractSocket> socket;
        qint64 since;
    };
    // A kept-alive connection to `origin` that provably still works, or null.
    QAbstractSocket *takeIdle(const QString &origin);
    void keep(const QString &origin, QAbstractSocket *socket);
    void drop(QAbstractSocket *socket);
    void sweep();

    QList<Idle> m_idle;
    QElapsedTimer m_clock;
    QTimer m_sweeper;
};

// One exchange: the request goes out once, the answer's head is parsed, and its body (chunked,
// Content-Length or up to the close) is decoded into readAll().
class UpstreamReply final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(UpstreamReply)
public:
    enum class Fault {
        None,
        Unreachable,  // no connection: nothing was sent
        NoAnswer,     // closed or reset after the request went out, before an answer's head
        BrokenAnswer, // closed in the middle of the answer, or an answer that is not HTTP
        Aborted,
    };

    ~UpstreamReply() override;

    int status() const { return m_status; }
    QByteArray header(const QByteArray &lowerCaseName) const;
    QByteArray readAll() { return std::exchange(m_body, {}); }
    qint64 bytesAvailable() const { return m_body.size(); }
    bool isFinished() const { return m_finished; }
    Fault fault() const { return m_fault; }
    QString errorString() const { return m_errorString; }
    // The request has been handed to the connection (from then on it is never sent again).
    bool requestSent() const { return m_sent; }
    // The next change (bytes, head, end, fault) fires the returned wake-up.
    Wakeup nextChange();
    void abort();
    // The caller is done with this reply (its stream ended properly) and hands it over: the rest
    // of the body is read and dropped, and the connection kept alive when the answer ends soon;
    // else it is closed. The reply deletes itself either way.
    void release();

private:
    friend class UpstreamClient;
    UpstreamReply(UpstreamClient *client, const UpstreamRequest &request);
    void start();
    void attach(QAbstractSocket *socket);
    void writeRequest();
    void onReadyRead();
    void onClosed(const QString &why);
    bool parseHead();
    bool parseBody();
    void finish(Fault fault, const QString &why = {});
    void changed();

    QPointer<UpstreamClient> m_client;
    UpstreamRequest m_request;
    QString m_origin;
    QAbstractSocket *m_socket = nullptr; // a child while in use
    QByteArray m_in;                     // received, not parsed yet
    QByteArray m_body;                   // decoded, not read yet
    QList<QPair<QByteArray, QByteArray>> m_headers;
    int m_status = 0;
    enum class Framing { Chunked, Length, Close } m_framing = Framing::Close;
    qint64 m_left = 0;        // Length: bytes to come; Chunked: bytes left in this chunk
    bool m_inTrailer = false; // Chunked: after the last chunk
    bool m_chunkCrlf = false; // Chunked: a chunk's data ended, its CRLF is next
    bool m_keepAlive = true;
    bool m_sent = false;
    bool m_gotBytes = false; // any byte of an answer came back
    bool m_finished = false;
    bool m_released = false;
    Fault m_fault = Fault::None;
    QString m_errorString;
    std::optional<Wakeup> m_wake;
};

} // namespace holdfast
