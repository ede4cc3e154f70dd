#pragma once

// A deliberately small HTTP/1.1 client over a raw QTcpSocket, for tests that must see exactly
// what goes over the wire: status, headers, chunked framing, Server-Sent Events, closes.
// Everything runs on the event loop (no blocking waits), so the server may live in this thread.

#include "fakes/testutil.h"

#include <QByteArray>
#include <QFile>
#include <QHash>
#include <QHostAddress>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTcpSocket>

#include <functional>
#include <memory>

namespace holdfast::test {

struct HttpReply
{
    int status = 0;                        // 0: no complete answer (timeout or closed early)
    QHash<QByteArray, QByteArray> headers; // names in lower case
    QByteArray body;                       // de-chunked
    QJsonObject json() const { return QJsonDocument::fromJson(body).object(); }
    // The error object of an API.md error body, or {} when the body does not have that shape.
    QJsonObject error() const { return json().value(QStringLiteral("error")).toObject(); }
    QString errorCode() const { return error().value(QStringLiteral("code")).toString(); }
    // True when the body is exactly {"error":{"code": string, "message": string}}.
    bool hasErrorShape() const
    {
        const QJsonObject o = json();
        const QJsonObject e = error();
        return o.size() == 1 && e.size() == 2 && e.value(QStringLiteral("code")).isString() &&
               e.value(QStringLiteral("message")).isString() &&
               !e.value(QStringLiteral("message")).toString().isEmpty();
    }
};

// Parses one response from the front of `buffer`. Returns the bytes it used, 0 if incomplete.
// `eof`: the peer closed, so a body without length ends here. `noBody`: the answer to a HEAD.
inline qsizetype parseReply(const QByteArray &buffer, bool eof, HttpReply *reply,
                            bool noBody = false)
{
    const qsizetype headEnd = buffer.indexOf("\r\n\r\n");
    if (headEnd < 0)
        return 0;
    const QList<QByteArray> lines = buffer.left(headEnd).split('\n');
    HttpReply r;
    const QList<QByteArray> statusLine = lines.first().trimmed().split(' ');
    if (statusLine.size() < 2)
        return 0;
    r.status = statusLine[1].toInt();
    for (qsizetype i = 1; i < lines.size(); ++i) {
        const qsizetype colon = lines[i].indexOf(':');
        if (colon > 0)
            r.headers.insert(lines[i].left(colon).trimmed().toLower(),
                             lines[i].mid(colon + 1).trimmed());
    }
    qsizetype pos = headEnd + 4;
    if (r.status == 100) { // interim answer: skip it
        const qsizetype used = parseReply(buffer.mid(pos), eof, reply);
        return used ? pos + used : 0;
    }
    if (noBody) {
        // nothing follows the head
    } else if (r.headers.value("transfer-encoding") == "chunked") {
        while (true) {
            const qsizetype lineEnd = buffer.indexOf("\r\n", pos);
            if (lineEnd < 0)
                return 0;
            const qint64 size = buffer.mid(pos, lineEnd - pos).toLongLong(nullptr, 16);
            if (buffer.size() < lineEnd + 2 + size + 2)
                return 0;
            r.body += buffer.mid(lineEnd + 2, size);
            pos = lineEnd + 2 + size + 2;
            if (size == 0)
                break;
        }
    } else if (r.headers.contains("content-length")) {
        const qint64 length = r.headers.value("content-length").toLongLong();
        if (buffer.size() < pos + length)
            return 0;
        r.body = buffer.mid(pos, length);
        pos += length;
    } else if (r.status != 204 && r.status != 304) {
        if (!eof)
            return 0;
        r.body = buffer.mid(pos);
        pos = buffer.size();
    }
    *reply = r;
    return pos;
}

// One request as raw bytes, `Connection: close`, a JSON body when given (POST always says its
// length, so that a bodiless POST is not mistaken for one whose body is still coming).
inline QByteArray rawRequest(const QByteArray &method, const QByteArray &target,
                             const QByteArray &body = {})
{
    QByteArray r = method + ' ' + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
    if (!body.isEmpty())
        r += "Content-Type: application/json\r\n";
    if (method == "POST")
        r += "Content-Length: " + QByteArray::number(body.size()) + "\r\n";
    return r + "\r\n" + body;
}

// One request on a fresh connection, for many at once on the event loop: `done` gets the reply,
// or status 0 when the connection failed or closed first. Deletes itself afterwards.
class AsyncExchange : public QObject
{
public:
    AsyncExchange(quint16 port, QByteArray request, std::function<void(const HttpReply &)> done,
                  QObject *parent)
        : QObject(parent), m_done(std::move(done))
    {
        connect(&m_socket, &QTcpSocket::connected, this,
                [this, request] { m_socket.write(request); });
        connect(&m_socket, &QTcpSocket::readyRead, this, [this] { read(false); });
        connect(&m_socket, &QTcpSocket::disconnected, this, [this] { read(true); });
        connect(&m_socket, &QTcpSocket::errorOccurred, this, [this] { read(true); });
        m_socket.connectToHost(QHostAddress::LocalHost, port);
    }

private:
    void read(bool eof)
    {
        if (m_finished)
            return;
        m_buffer += m_socket.readAll();
        HttpReply reply;
        if (parseReply(m_buffer, eof, &reply) == 0 && !eof)
            return;
        m_finished = true;
        m_socket.disconnect(this);
        m_done(reply);
        deleteLater();
    }

    QTcpSocket m_socket;
    QByteArray m_buffer;
    std::function<void(const HttpReply &)> m_done;
    bool m_finished = false;
};

// A value of /proc/PID/status in kB ("VmRSS", "VmHWM"); pid 0 is this process; -1 if unknown.
inline qint64 procStatusKb(qint64 pid, const QByteArray &key)
{
    QFile status(pid ? QStringLiteral("/proc/%1/status").arg(pid)
                     : QStringLiteral("/proc/self/status"));
    if (!status.open(QIODevice::ReadOnly))
        return -1;
    for (const QByteArray &line : status.readAll().split('\n')) {
        if (line.startsWith(QByteArray(key + ':')))
            return line.mid(key.size() + 1).trimmed().split(' ').first().toLongLong();
    }
    return -1;
}

// A connection from `local` (any address of 127/8 reaches a server on 127.0.0.1), or from
// 127.0.0.1 when `local` is null.
inline std::unique_ptr<QTcpSocket> connectFrom(quint16 port, const QHostAddress &local = {})
{
    auto socket = std::make_unique<QTcpSocket>();
    if (!local.isNull() && !socket->bind(local, 0))
        return socket;
    socket->connectToHost(QHostAddress::LocalHost, port);
    // Not "until connected": a refused connection may be answered and closed in one pass.
    spinUntil(
        [&] {
            return socket->state() != QAbstractSocket::HostLookupState &&
                   socket->state() != QAbstractSocket::ConnectingState;
        },
        5000);
    return socket;
}

// Waits for one answer on `socket`; status 0 when none came.
inline HttpReply readReplyFrom(QTcpSocket *socket, int timeoutMs)
{
    HttpReply reply;
    QByteArray buffer;
    spinUntil(
        [&] {
            buffer += socket->readAll();
            const bool eof = socket->state() == QAbstractSocket::UnconnectedState;
            return parseReply(buffer, eof, &reply) > 0 || eof;
        },
        timeoutMs);
    return reply;
}

// One connection; requests go one after the other on it (keep-alive).
class HttpTestClient
{
public:
    explicit HttpTestClient(quint16 port, QByteArray token = {})
        : m_port(port), m_token(std::move(token))
    {}

    QTcpSocket *socket() { return m_socket.get(); }
    // Bytes received and not yet taken by readReply().
    QByteArray unread()
    {
        m_buffer += m_socket->readAll();
        return m_buffer;
    }
    bool isClosed() const
    {
        return !m_socket || m_socket->state() == QAbstractSocket::UnconnectedState;
    }

    bool connectToServer()
    {
        m_socket = std::make_unique<QTcpSocket>();
        m_buffer.clear();
        m_socket->connectToHost(QHostAddress::LocalHost, m_port);
        return spinUntil([&] { return m_socket->state() == QAbstractSocket::ConnectedState; },
                         5000);
    }

    // Sends raw bytes, as they are.
    void sendRaw(const QByteArray &bytes)
    {
        if (!m_socket || m_socket->state() != QAbstractSocket::ConnectedState)
            connectToServer();
        m_socket->write(bytes);
        m_socket->flush();
    }

    // Waits for one answer on this connection (`noBody`: the answer to a HEAD).
    HttpReply readReply(int timeoutMs = 20000, bool noBody = false)
    {
        HttpReply reply;
        spinUntil(
            [&] {
                m_buffer += m_socket->readAll();
                const bool eof = m_socket->state() == QAbstractSocket::UnconnectedState;
                const qsizetype used = parseReply(m_buffer, eof, &reply, noBody);
                if (used > 0) {
                    m_buffer.remove(0, used);
                    return true;
                }
                return eof;
            },
            timeoutMs);
        return reply;
    }

    // Waits until the server has closed the connection.
    bool waitForClose(int timeoutMs = 10000)
    {
        return spinUntil(
            [&] {
                m_buffer += m_socket->readAll();
                return m_socket->state() == QAbstractSocket::UnconnectedState;
            },
            timeoutMs);
    }

    HttpReply call(const QByteArray &method, const QByteArray &target, const QByteArray &body = {},
                   QList<QPair<QByteArray, QByteArray>> headers = {}, bool json = true)
    {
        QByteArray request = method + ' ' + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
        if (!m_token.isEmpty())
            request += "Authorization: Bearer " + m_token + "\r\n";
        if (!body.isEmpty() && json)
            request += "Content-Type: application/json\r\n";
        if (!body.isEmpty() || method == "POST" || method == "PATCH")
            request += "Content-Length: " + QByteArray::number(body.size()) + "\r\n";
        for (const auto &h : headers)
            request += h.first + ": " + h.second + "\r\n";
        request += "\r\n" + body;
        if (isClosed())
            connectToServer();
        sendRaw(request);
        return readReply();
    }

    HttpReply get(const QByteArray &target) { return call("GET", target); }
    HttpReply post(const QByteArray &target, const QJsonObject &body)
    {
        return call("POST", target, QJsonDocument(body).toJson(QJsonDocument::Compact));
    }
    HttpReply patch(const QByteArray &target, const QJsonObject &body)
    {
        return call("PATCH", target, QJsonDocument(body).toJson(QJsonDocument::Compact));
    }

private:
    quint16 m_port;
    QByteArray m_token;
    std::unique_ptr<QTcpSocket> m_socket;
    QByteArray m_buffer;
};

// Reads a text/event-stream response incrementally.
class SseReader
{
public:
    struct Event
    {
        QByteArray id;
        QByteArray event;
        QByteArray data;
        QJsonObject json() const { return QJsonDocument::fromJson(data).object(); }
    };

    SseReader(quint16 port, const QByteArray &target,
              QList<QPair<QByteArray, QByteArray>> headers = {}, QByteArray token = {})
    {
        m_socket = std::make_unique<QTcpSocket>();
        QObject::connect(m_socket.get(), &QTcpSocket::readyRead, [this] { read(); });
        QObject::connect(m_socket.get(), &QTcpSocket::disconnected, [this] {
            m_closed = true;
            read();
        });
        m_socket->connectToHost(QHostAddress::LocalHost, port);
        QByteArray request =
            "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n";
        if (!token.isEmpty())
            request += "Authorization: Bearer " + token + "\r\n";
        for (const auto &h : headers)
            request += h.first + ": " + h.second + "\r\n";
        m_socket->write(request + "\r\n");
    }

    ~SseReader()
    {
        // The socket outlives the other members: it must not call back into them as it dies.
        QObject::disconnect(m_socket.get(), nullptr, nullptr, nullptr);
    }
    SseReader(const SseReader &) = delete;
    SseReader &operator=(const SseReader &) = delete;

    int status() const { return m_reply.status; }
    const HttpReply &head() const { return m_reply; }
    QList<Event> events;                               // in arrival order, comments excluded
    int comments = 0;                                  // ": keep-alive" lines seen
    bool ended() const { return m_ended || m_closed; } // last chunk of the body seen, or closed
    bool closedByServer() const { return m_closed; }
    // The last event, or an empty one when none came (so that a failing check does not crash).
    Event lastEvent() const { return events.isEmpty() ? Event{} : events.last(); }
    QList<Event> chunkEvents() const
    {
        QList<Event> out;
        for (const Event &e : events) {
            if (e.event == "chunk")
                out.append(e);
        }
        return out;
    }
    bool waitForEnd(int timeoutMs = 30000)
    {
        return spinUntil([&] { return ended(); }, timeoutMs);
    }
    bool waitForEvents(int count, int timeoutMs = 30000)
    {
        return spinUntil([&] { return events.size() >= count || ended(); }, timeoutMs) &&
               events.size() >= count;
    }
    void disconnect() { m_socket->abort(); }

private:
    void read()
    {
        if (!m_socket->isReadable())
            return;
        const QByteArray bytes = m_socket->readAll();
        if (!m_isStream) {
            m_all += bytes;
            const qsizetype headEnd = m_all.indexOf("\r\n\r\n");
            if (headEnd < 0)
                return;
            if (!m_all.left(headEnd).toLower().contains("content-type: text/event-stream")) {
                HttpReply r; // an ordinary answer (an error): parse it whole
                if (parseReply(m_all, m_closed, &r) > 0) {
                    m_reply = r;
                    m_ended = true;
                }
                return;
            }
            HttpReply head;
            parseReply(m_all.left(headEnd + 4) + "0\r\n\r\n", true, &head);
            m_reply = head;
            m_reply.body.clear();
            m_isStream = true;
            m_chunked = m_reply.headers.value("transfer-encoding") == "chunked";
            m_raw = m_all.mid(headEnd + 4);
        } else {
            m_raw += bytes;
        }
        if (!m_chunked) {
            m_text += m_raw;
            m_raw.clear();
        } else {
            while (true) {
                const qsizetype lineEnd = m_raw.indexOf("\r\n");
                if (lineEnd < 0)
                    break;
                const qint64 size = m_raw.left(lineEnd).toLongLong(nullptr, 16);
                if (m_raw.size() < lineEnd + 2 + size + 2)
                    break;
                m_text += m_raw.mid(lineEnd + 2, size);
                m_raw.remove(0, lineEnd + 2 + size + 2);
                if (size == 0) {
                    m_ended = true;
                    break;
                }
            }
        }
        qsizetype end;
        while ((end = m_text.indexOf("\n\n")) >= 0) {
            const QByteArray block = m_text.left(end);
            m_text.remove(0, end + 2);
            Event e;
            bool any = false;
            for (const QByteArray &line : block.split('\n')) {
                if (line.startsWith(':')) {
                    ++comments;
                } else if (line.startsWith("id: ")) {
                    e.id = line.mid(4);
                    any = true;
                } else if (line.startsWith("event: ")) {
                    e.event = line.mid(7);
                    any = true;
                } else if (line.startsWith("data: ")) {
                    e.data += line.mid(6);
                    any = true;
                }
            }
            if (any)
                events.append(e);
        }
    }

    std::unique_ptr<QTcpSocket> m_socket;
    HttpReply m_reply;
    QByteArray m_all;
    QByteArray m_raw;
    QByteArray m_text;
    bool m_isStream = false;
    bool m_chunked = false;
    bool m_ended = false;
    bool m_closed = false;
};

} // namespace holdfast::test
