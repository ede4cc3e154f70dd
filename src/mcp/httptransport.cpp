// MCP's Streamable HTTP transport; why it talks through UpstreamClient: see httptransport.h.
#include "mcp/httptransport.h"

#include "provider/upstreamclient.h"
#include "runtime/sseparser.h"

#include <QCoroTimer>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLoggingCategory>

#include <chrono>

Q_LOGGING_CATEGORY(lcMcpHttp, "holdfast.mcp.http")

namespace holdfast::mcp {

namespace {

// One JSON answer: a tool's result may be large, but not unbounded.
constexpr qsizetype kMaxBody = 64 * 1024 * 1024;
// How long to wait before reconnecting a stream that named no "retry:" time.
constexpr qint64 kDefaultRetryMs = 1000;
// Reconnections of a GET stream in a row that bring no event before it is given up.
constexpr int kMaxFruitlessReconnects = 3;
// JSON-RPC's "server error" range: what Holdfast answers for a request the server did not.
constexpr int kTransportError = -32000;

const QByteArray kAcceptBoth = QByteArrayLiteral("application/json, text/event-stream");
const QByteArray kAcceptStream = QByteArrayLiteral("text/event-stream");

// Ids as their JSON text, so that 1 and "1" stay apart.
QString idKey(const QJsonValue &id)
{
    return QString::fromUtf8(QJsonDocument(QJsonArray{id}).toJson(QJsonDocument::Compact));
}

QString excerpt(const QByteArray &bytes)
{
    QString text = QString::fromUtf8(bytes.left(400)).simplified();
    if (text.size() > 200)
        text = text.left(200) + QStringLiteral("…");
    return text;
}

// The JSON-RPC messages of a body or an event's data: one object, or a batch (2025-03-26).
QList<QJsonObject> messagesOf(const QByteArray &json, bool *ok)
{
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(json, &error);
    QList<QJsonObject> messages;
    *ok = error.error == QJsonParseError::NoError && (doc.isObject() || doc.isArray());
    if (doc.isObject())
        messages.append(doc.object());
    for (const QJsonValue &v : doc.array()) {
        if (v.isObject())
            messages.append(v.toObject());
    }
    return messages;
}

bool isJson(const QByteArray &json)
{
    bool ok = false;
    messagesOf(json, &ok);
    return ok;
}

bool reserved(const QByteArray &lowerName)
{
    // Set by HTTP or by the transport itself: a configured header may not repeat them.
    static const QList<QByteArray> names = {
        "host",         "content-length", "transfer-encoding", "connection",          "accept",
        "content-type", "mcp-session-id", "last-event-id",     "mcp-protocol-version"};
    return names.contains(lowerName);
}

} // namespace

struct HttpTransport::Stream
{
    QJsonValue awaitedId{QJsonValue::Undefined}; // the request whose answer this stream carries
    bool takesSessionId = false;                 // the answer to initialize
    bool answered = false;
    bool sawEvent = false;
    bool isEventStream = false;
    int status = 0;
    SseParser sse;
    QByteArray body; // not an event stream: the whole body
};

HttpTransport::HttpTransport(QUrl url, const QHash<QString, QString> &headers, QObject *parent)
    : Transport(parent), m_network(new UpstreamClient(this)), m_url(std::move(url))
{
    for (auto it = headers.cbegin(); it != headers.cend(); ++it) {
        const QByteArray name = it.key().toUtf8().trimmed();
        const QByteArray value = it.value().toUtf8().trimmed();
        if (name.isEmpty() || name.contains(':') || name.contains('\n') || name.contains('\r') ||
            value.contains('\n') || value.contains('\r') || reserved(name.toLower())) {
            qCWarning(lcMcpHttp).noquote()
                << "the header" << it.key() << "of the MCP server" << where() << "is left out";
            continue;
        }
        m_headers.append({name, value});
    }
}

HttpTransport::~HttpTransport()
{
    m_closed = true;
    // A coroutine waiting on a reply wakes up, finds the transport gone and ends.
    const auto replies = std::exchange(m_replies, {});
    for (const QPointer<UpstreamReply> &reply : replies)
        delete reply.data();
}

void HttpTransport::open()
{
    const QString scheme = m_url.scheme().toLower();
    const bool usable = m_url.isValid() && !m_url.host().isEmpty() &&
                        (scheme == QLatin1String("http") || scheme == QLatin1String("https"));
    m_open = usable;
    // As the stdio transport does: the outcome follows from the event loop, never inside open().
    QMetaObject::invokeMethod(
        this,
        [this, usable] {
            if (m_closed)
                return;
            if (usable) {
                Q_EMIT opened();
            } else {
                m_closed = true;
                Q_EMIT closed(QStringLiteral("the url %1 is not an http or https address")
                                  .arg(m_url.toDisplayString(QUrl::RemoveUserInfo)));
            }
        },
        Qt::QueuedConnection);
}

void HttpTransport::send(const QJsonObject &message)
{
    if (m_closed || !m_open) {
        if (message.contains(QLatin1String("method")) && message.contains(QLatin1String("id"))) {
            const QJsonValue id = message.value(QLatin1String("id"));
            QMetaObject::invokeMethod(
                this,
                [this, id] {
                    answerWithError(id, kTransportError,
                                    QStringLiteral("the connection to the MCP server %1 is closed")
                                        .arg(where()));
                },
                Qt::QueuedConnection);
        }
        return;
    }
    post(message); // runs until its first suspension, then on its own
}

void HttpTransport::close()
{
    if (m_closed)
        return;
    m_closed = true;
    m_listening = false;
    for (const QPointer<UpstreamReply> &reply : std::as_const(m_replies)) {
        if (reply)
            reply->abort();
    }
    if (!m_sessionId.isEmpty()) {
        // Ends the session on the server; nobody waits for the answer (release() bounds it).
        UpstreamReply *reply = start(QByteArrayLiteral("DELETE"), kAcceptBoth);
        m_replies.removeAll(reply);
        reply->release();
    }
    // As a stdio server's end after close(): the owner learns that the transport is done.
    QMetaObject::invokeMethod(
        this, [this] { Q_EMIT closed(QStringLiteral("the MCP session was ended")); },
        Qt::QueuedConnection);
}

void HttpTransport::setProtocolVersion(const QString &version)
{
    m_protocolVersion = version.toUtf8();
}

QString HttpTransport::where() const
{
    // Never user info or the query: a URL may carry credentials.
    return m_url.toDisplayString(QUrl::RemoveUserInfo | QUrl::RemoveQuery);
}

UpstreamReply *HttpTransport::start(const QByteArray &method, const QByteArray &accept,
                                    const QByteArray &body, const QByteArray &lastEventId)
{
    UpstreamRequest r;
    r.method = method;
    r.url = m_url;
    r.body = body;
    // Answers stream in: no compressed body (a gzip stream holds events back).
    r.headers = {{"Accept", accept},
                 {"User-Agent", "Holdfast/" HOLDFAST_VERSION},
                 {"Accept-Encoding", "identity"}};
    if (!body.isEmpty())
        r.headers.append(
            {QByteArrayLiteral("Content-Type"), QByteArrayLiteral("application/json")});
    if (!m_sessionId.isEmpty())
        r.headers.append({"Mcp-Session-Id", m_sessionId});
    if (!m_protocolVersion.isEmpty())
        r.headers.append({"MCP-Protocol-Version", m_protocolVersion});
    if (!lastEventId.isEmpty())
        r.headers.append({"Last-Event-ID", lastEventId});
    r.headers += m_headers;
    m_replies.removeAll(QPointer<UpstreamReply>());
    UpstreamReply *reply = m_network->send(r);
    m_replies.append(reply);
    return reply;
}

void HttpTransport::finished(UpstreamReply *reply)
{
    m_replies.removeAll(reply);
    reply->deleteLater(); // a kept-alive connection already went back to m_network
}

QCoro::Task<bool> HttpTransport::read(UpstreamReply *reply, Stream *stream)
{
    QPointer<HttpTransport> self(this);
    QPointer<UpstreamReply> guard(reply);
    while (true) {
        if (stream->status == 0 && reply->status() != 0) {
            stream->status = reply->status();
            stream->isEventStream =
                reply->header("content-type").toLower().startsWith("text/event-stream");
            const QByteArray session = reply->header("mcp-session-id");
            // Taken at once: the client's next message may go out while this stream still runs.
            if (stream->takesSessionId && stream->status < 300 && !session.isEmpty())
                m_sessionId = session;
        }
        if (reply->bytesAvailable() > 0) {
            const QByteArray bytes = reply->readAll();
            if (stream->isEventStream && stream->status < 300) {
                for (const SseParser::Event &event : stream->sse.feed(bytes)) {
                    if (!deliver(event.data.toUtf8(), stream))
                        co_return false;
                }
                // Nothing more is expected on an answer's stream once the answer came.
                if (stream->answered) {
                    reply->abort();
                    break;
                }
            } else if (stream->body.size() + bytes.size() > kMaxBody) {
                reply->abort();
                stream->body.clear();
                stream->status = 0; // read as "no answer"
                break;
            } else {
                stream->body += bytes;
            }
            continue;
        }
        if (reply->isFinished())
            break;
        co_await reply->nextChange();
        if (!self || !guard)
            co_return false;
    }
    if (stream->isEventStream && !stream->answered && stream->status < 300) {
        for (const SseParser::Event &event : stream->sse.finish()) {
            if (!deliver(event.data.toUtf8(), stream))
                co_return false;
        }
    }
    co_return true;
}

bool HttpTransport::deliver(const QByteArray &json, Stream *stream)
{
    if (json.trimmed().isEmpty())
        return true; // e.g. the priming event of a resumable stream: an id, a retry, no message
    stream->sawEvent = true;
    bool ok = false;
    const QList<QJsonObject> messages = messagesOf(json, &ok);
    if (!ok) {
        qCWarning(lcMcpHttp).noquote()
            << "the MCP server" << where() << "sent an event that is not JSON:" << excerpt(json);
        return true;
    }
    QPointer<HttpTransport> self(this);
    for (const QJsonObject &message : messages) {
        if (!stream->awaitedId.isUndefined() && !message.contains(QLatin1String("method")) &&
            message.value(QLatin1String("id")) == stream->awaitedId) {
            stream->answered = true;
        }
        Q_EMIT received(message);
        if (!self || m_closed)
            return false;
    }
    return true;
}

void HttpTransport::answerWithError(const QJsonValue &id, int code, const QString &message)
{
    qCInfo(lcMcpHttp).noquote() << message;
    QJsonObject error{{QStringLiteral("code"), code}, {QStringLiteral("message"), message}};
    Q_EMIT received(QJsonObject{{QStringLiteral("jsonrpc"), QStringLiteral("2.0")},
                                {QStringLiteral("id"), id},
                                {QStringLiteral("error"), error}});
}

void HttpTransport::fail(const QString &why)
{
    if (m_closed)
        return;
    m_closed = true;
    m_listening = false;
    for (const QPointer<UpstreamReply> &reply : std::as_const(m_replies)) {
        if (reply)
            reply->abort();
    }
    qCInfo(lcMcpHttp).noquote() << why;
    Q_EMIT closed(why);
}

QCoro::Task<> HttpTransport::post(QJsonObject message)
{
    QPointer<HttpTransport> self(this);
    const QString method = message.value(QLatin1String("method")).toString();
    const bool isRequest = !method.isEmpty() && message.contains(QLatin1String("id"));
    const QJsonValue id = message.value(QLatin1String("id"));
    const bool hadSession = !m_sessionId.isEmpty();
    UpstreamReply *reply = start(QByteArrayLiteral("POST"), kAcceptBoth,
                                 QJsonDocument(message).toJson(QJsonDocument::Compact));
    Stream stream;
    if (isRequest) {
        stream.awaitedId = id;
        stream.takesSessionId = method == QLatin1String("initialize");
        m_requests.insert(idKey(id), reply);
    }
    const bool alive = co_await read(reply, &stream);
    if (!self)
        co_return;
    if (isRequest)
        m_requests.remove(idKey(id));
    if (!alive) {
        finished(reply);
        co_return;
    }
    const UpstreamReply::Fault fault = reply->fault();
    const QString why = reply->errorString();
    finished(reply);
    if (m_closed || fault == UpstreamReply::Fault::Aborted) {
        // Closed, or the answer came and the stream was cut after it, or the request was
        // cancelled (its reply aborted below).
        co_return;
    }
    if (method == QLatin1String("notifications/cancelled")) {
        // The client gave up on that request: its answer stream is of no use any more.
        const QJsonValue cancelled =
            message.value(QLatin1String("params")).toObject().value(QLatin1String("requestId"));
        if (const QPointer<UpstreamReply> other = m_requests.value(idKey(cancelled)))
            other->abort();
    }
    const bool resumable = isRequest && stream.isEventStream && stream.status < 300 &&
                           !stream.answered && !stream.sse.lastEventId().isEmpty();
    if (resumable) {
        // SEP-1699: the server may close an answer's stream early; the rest comes through GET.
        const qint64 retry = stream.sse.retryMs() >= 0 ? stream.sse.retryMs() : kDefaultRetryMs;
        listen(stream.sse.lastEventId().toUtf8(), retry, id);
        co_return;
    }
    switch (fault) {
    case UpstreamReply::Fault::None:
    case UpstreamReply::Fault::Aborted:
        break;
    case UpstreamReply::Fault::Unreachable:
        fail(QStringLiteral("cannot reach the MCP server %1: %2").arg(where(), why));
        co_return;
    case UpstreamReply::Fault::NoAnswer:
        // It may have reached the server: a tool call is never sent twice.
        fail(QStringLiteral("the MCP server %1 closed the connection without answering (%2)")
                 .arg(where(), why));
        co_return;
    case UpstreamReply::Fault::BrokenAnswer:
        fail(QStringLiteral("the MCP server %1 broke off its answer: %2").arg(where(), why));
        co_return;
    }
    const int status = stream.status;
    if (status == 404 && hadSession) {
        fail(QStringLiteral("the MCP server %1 ended the session (HTTP 404)").arg(where()));
        co_return;
    }
    if (status >= 300 || status == 0) {
        QString detail = status == 0 ? QStringLiteral("an answer over %1 bytes").arg(kMaxBody)
                                     : QStringLiteral("HTTP %1").arg(status);
        int code = kTransportError;
        bool ok = false;
        const QList<QJsonObject> body = messagesOf(stream.body, &ok);
        const QJsonObject rpcError =
            body.isEmpty() ? QJsonObject() : body.first().value(QLatin1String("error")).toObject();
        if (!rpcError.isEmpty()) {
            code = rpcError.value(QLatin1String("code")).toInt(kTransportError);
            detail += QStringLiteral(": ") + rpcError.value(QLatin1String("message")).toString();
        } else if (!stream.body.trimmed().isEmpty()) {
            detail += QStringLiteral(": ") + excerpt(stream.body);
        }
        const QString text = QStringLiteral("the MCP server %1 answered %2").arg(where(), detail);
        if (isRequest)
            answerWithError(id, code, text);
        else
            qCWarning(lcMcpHttp).noquote() << method << ":" << text;
        co_return;
    }
    if (!isRequest) {
        // 202 (a body, if any, answers nothing). Once initialized, the server may talk on its own.
        if (method == QLatin1String("notifications/initialized"))
            listen({}, 0, QJsonValue(QJsonValue::Undefined));
        co_return;
    }
    if (stream.isEventStream) {
        if (!stream.answered) {
            answerWithError(
                id, kTransportError,
                QStringLiteral("the MCP server %1 ended its event stream without answering")
                    .arg(where()));
        }
        co_return;
    }
    const bool empty = stream.body.trimmed().isEmpty();
    if (!empty && !isJson(stream.body)) {
        answerWithError(id, kTransportError,
                        QStringLiteral("the answer of the MCP server %1 is not JSON: %2")
                            .arg(where(), excerpt(stream.body)));
        co_return;
    }
    if (!empty && !deliver(stream.body, &stream))
        co_return;
    if (!stream.answered) {
        answerWithError(id, kTransportError,
                        QStringLiteral("the MCP server %1 answered HTTP %2 without the answer")
                            .arg(where())
                            .arg(status));
    }
}

QCoro::Task<> HttpTransport::listen(QByteArray lastEventId, qint64 delayMs, QJsonValue awaitedId)
{
    QPointer<HttpTransport> self(this);
    const bool resuming = !awaitedId.isUndefined();
    if (!resuming) {
        if (m_listening)
            co_return;
        m_listening = true;
    }
    int fruitless = 0;
    qint64 retryMs = delayMs > 0 ? delayMs : kDefaultRetryMs;
    while (true) {
        if (delayMs > 0) {
            co_await QCoro::sleepFor(std::chrono::milliseconds(delayMs));
            if (!self)
                co_return;
        }
        if (m_closed || (!resuming && !m_listening))
            co_return;
        const bool hadSession = !m_sessionId.isEmpty();
        UpstreamReply *reply = start(QByteArrayLiteral("GET"), kAcceptStream, {}, lastEventId);
        Stream stream;
        stream.awaitedId = awaitedId;
        if (!lastEventId.isEmpty())
            stream.sse.feed(
                QByteArray("id: " + lastEventId + "\n\n")); // a later reconnect resumes from here
        if (resuming)
            m_requests.insert(idKey(awaitedId), reply);
        const bool alive = co_await read(reply, &stream);
        if (!self)
            co_return;
        if (resuming)
            m_requests.remove(idKey(awaitedId));
        if (!alive) {
            finished(reply);
            co_return;
        }
        const UpstreamReply::Fault fault = reply->fault();
        finished(reply);
        if (m_closed || (stream.answered && resuming))
            co_return;
        if (fault == UpstreamReply::Fault::Aborted) {
            if (resuming)
                co_return; // cancelled
            m_listening = false;
            co_return;
        }
        const bool served = stream.status >= 200 && stream.status < 300 && stream.isEventStream;
        if (!served || fault == UpstreamReply::Fault::Unreachable) {
            if (!resuming) {
                // No stream on offer (405 is what the spec says; 404, 400 are common too).
                m_listening = false;
                co_return;
            }
            if (stream.status == 404 && hadSession) {
                fail(QStringLiteral("the MCP server %1 ended the session (HTTP 404)").arg(where()));
                co_return;
            }
            answerWithError(awaitedId, kTransportError,
                            QStringLiteral("the MCP server %1 closed the answer's stream and did "
                                           "not resume it (HTTP %2)")
                                .arg(where())
                                .arg(stream.status));
            co_return;
        }
        fruitless = stream.sawEvent ? 0 : fruitless + 1;
        if (fruitless >= kMaxFruitlessReconnects) {
            if (resuming) {
                answerWithError(awaitedId, kTransportError,
                                QStringLiteral("the MCP server %1 closed the answer's stream "
                                               "without answering")
                                    .arg(where()));
            } else {
                m_listening = false;
            }
            co_return;
        }
        lastEventId = stream.sse.lastEventId().toUtf8();
        if (stream.sse.retryMs() >= 0)
            retryMs = stream.sse.retryMs();
        delayMs = retryMs;
    }
}

} // namespace holdfast::mcp
