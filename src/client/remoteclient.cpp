#include "client/remoteclient.h"

#include "client/turneventstream.h"
#include "core/json.h"

#include <QCoroNetworkReply>
#include <QCoroTimer>
#include <QJsonArray>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QPointer>
#include <QTimer>

namespace holdfast {

namespace {
constexpr int kRequestTimeoutMs = 30000;
constexpr int kHealthIntervalMs = 3000;

Error malformed()
{
    return makeError(ErrorCode::UpstreamError,
                     QObject::tr("the service sent an unexpected answer"));
}

QJsonValue nullable(const QString &text)
{
    return text.isNull() ? QJsonValue() : QJsonValue(text);
}
} // namespace

RemoteClient::RemoteClient(QUrl baseUrl, QString token, QObject *parent)
    : SessionClient(parent), m_base(std::move(baseUrl)), m_nam(new QNetworkAccessManager(this)),
      m_health(new QTimer(this))
{
    if (!token.isEmpty())
        m_auth = "Bearer " + token.toUtf8();
    m_health->setInterval(kHealthIntervalMs);
    connect(m_health, &QTimer::timeout, this, [this] { checkHealth(); });
    m_nam->setRedirectPolicy(QNetworkRequest::ManualRedirectPolicy); // see redirectMessage()
}

RemoteClient::~RemoteClient() = default;

QString RemoteClient::path(const QString &sid)
{
    return QStringLiteral("/v1/sessions/") + QString::fromLatin1(QUrl::toPercentEncoding(sid));
}

QNetworkRequest RemoteClient::request(const QString &p, const QUrlQuery &query) const
{
    QUrl url = m_base;
    url.setPath(m_base.path(QUrl::FullyEncoded).chopped(m_base.path().endsWith(u'/') ? 1 : 0) + p,
                QUrl::TolerantMode);
    url.setQuery(query);
    QNetworkRequest request(url);
    request.setAttribute(QNetworkRequest::RedirectPolicyAttribute,
                         QNetworkRequest::ManualRedirectPolicy);
    if (!m_auth.isEmpty())
        request.setRawHeader("Authorization", m_auth);
    return request;
}

void RemoteClient::setOnline(bool online, const QString &message)
{
    if (online == m_online)
        return;
    m_online = online;
    if (online)
        m_health->stop();
    else
        m_health->start();
    Q_EMIT connectionChanged(online, message);
}

QCoro::Task<> RemoteClient::checkHealth()
{
    co_await call("GET", QStringLiteral("/healthz"), {}, std::nullopt);
}

QCoro::Task<Result<QJsonDocument>> RemoteClient::call(QByteArray verb, QString p, QUrlQuery query,
                                                      std::optional<QJsonObject> body)
{
    QByteArray type;
    QByteArray bytes;
    if (body) {
        type = "application/json";
        bytes = QJsonDocument(*body).toJson(QJsonDocument::Compact);
    }
    const auto answer = co_await exchange(std::move(verb), std::move(p), std::move(query),
                                          std::move(type), std::move(bytes));
    if (!answer)
        co_return answer.error();
    QJsonParseError parseError{};
    const QJsonDocument document = QJsonDocument::fromJson(*answer, &parseError);
    if (!answer->isEmpty() && parseError.error != QJsonParseError::NoError)
        co_return malformed();
    co_return document;
}

QCoro::Task<Result<QByteArray>> RemoteClient::exchange(QByteArray verb, QString p, QUrlQuery query,
                                                       QByteArray contentType, QByteArray body)
{
    QNetworkRequest req = request(p, query);
    req.setTransferTimeout(kRequestTimeoutMs);
    if (!contentType.isEmpty())
        req.setHeader(QNetworkRequest::ContentTypeHeader, QString::fromLatin1(contentType));
    QPointer<QNetworkReply> reply = m_nam->sendCustomRequest(req, verb, body);
    co_await qCoro(reply.get())
        .waitForFinished(std::chrono::milliseconds(kRequestTimeoutMs + 1000));
    if (!reply)
        co_return makeError(ErrorCode::Unavailable, tr("the request was abandoned"));
    reply->deleteLater();
    const QVariant statusAttribute = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute);
    if (!statusAttribute.isValid()) {
        const QString why = reply->errorString();
        setOnline(false, why);
        co_return makeError(ErrorCode::Unavailable,
                            tr("cannot reach %1: %2").arg(description(), why));
    }
    setOnline(true, {});
    const int status = statusAttribute.toInt();
    if (status >= 300 && status < 400)
        co_return makeError(ErrorCode::UpstreamError, redirectMessage(reply));
    QByteArray answer = reply->readAll();
    if (status < 200 || status >= 300) {
        if (auto error = json::errorFromJson(QJsonDocument::fromJson(answer).object()))
            co_return *error;
        co_return makeError(ErrorCode::UpstreamError, tr("HTTP status %1").arg(status));
    }
    co_return answer;
}

QCoro::Task<Result<SessionPage>> RemoteClient::listSessions(QString query, int limit, int offset)
{
    QUrlQuery q;
    q.addQueryItem(QStringLiteral("limit"), QString::number(limit));
    q.addQueryItem(QStringLiteral("offset"), QString::number(offset));
    if (!query.isEmpty())
        q.addQueryItem(QStringLiteral("q"), QString::fromLatin1(QUrl::toPercentEncoding(query)));
    const auto answer = co_await call("GET", QStringLiteral("/v1/sessions"), q, std::nullopt);
    if (!answer)
        co_return answer.error();
    SessionPage page;
    const QJsonObject object = answer->object();
    for (const QJsonValue &v : object.value(QStringLiteral("sessions")).toArray()) {
        if (auto meta = json::sessionFromJson(v.toObject()))
            page.sessions.append(*meta);
    }
    page.total = object.value(QStringLiteral("total")).toInteger();
    co_return page;
}

QCoro::Task<Result<SessionSnapshot>> RemoteClient::createSession(CreateSessionParams params)
{
    QJsonObject body;
    if (!params.id.isEmpty())
        body.insert(QStringLiteral("id"), params.id);
    if (params.title)
        body.insert(QStringLiteral("title"), nullable(*params.title));
    if (params.system)
        body.insert(QStringLiteral("system"), nullable(*params.system));
    if (params.model)
        body.insert(QStringLiteral("model"), *params.model);
    const auto answer = co_await call("POST", QStringLiteral("/v1/sessions"), {}, body);
    if (!answer)
        co_return answer.error();
    auto snapshot = json::snapshotFromJson(answer->object());
    if (!snapshot)
        co_return malformed();
    Q_EMIT sessionChanged(snapshot->meta);
    co_return *snapshot;
}

QCoro::Task<Result<SessionSnapshot>> RemoteClient::session(QString sid, int window)
{
    QUrlQuery q;
    q.addQueryItem(QStringLiteral("window"), QString::number(window));
    const auto answer = co_await call("GET", path(sid), q, std::nullopt);
    if (!answer)
        co_return answer.error();
    auto snapshot = json::snapshotFromJson(answer->object());
    if (!snapshot)
        co_return malformed();
    if (snapshot->meta.activeTurn > 0)
        watchTurn(sid, snapshot->meta.activeTurn, 0);
    co_return *snapshot;
}

QCoro::Task<Result<SessionSnapshot>> RemoteClient::patchSession(QString sid,
                                                                PatchSessionParams params)
{
    QJsonObject body;
    if (params.title)
        body.insert(QStringLiteral("title"), nullable(*params.title));
    if (params.system)
        body.insert(QStringLiteral("system"), nullable(*params.system));
    if (params.model)
        body.insert(QStringLiteral("model"), *params.model);
    if (params.head)
        body.insert(QStringLiteral("head"), *params.head);
    if (params.options) // replaces the session's options ({} clears them)
        body.insert(QStringLiteral("options"), json::toJson(*params.options));
    if (params.tools)
        body.insert(QStringLiteral("tools"), QJsonArray::fromStringList(*params.tools));
    if (params.toolApproval)
        body.insert(QStringLiteral("tool_approval"), toolApprovalName(*params.toolApproval));
    const auto answer = co_await call("PATCH", path(sid), {}, body);
    if (!answer)
        co_return answer.error();
    auto snapshot = json::snapshotFromJson(answer->object());
    if (!snapshot)
        co_return malformed();
    Q_EMIT sessionChanged(snapshot->meta);
    co_return *snapshot;
}

QCoro::Task<Status> RemoteClient::deleteSession(QString sid)
{
    const auto answer = co_await call("DELETE", path(sid), {}, std::nullopt);
    if (!answer)
        co_return answer.error();
    Q_EMIT sessionDeleted(sid);
    co_return Ok{};
}

QCoro::Task<Result<MessagePage>> RemoteClient::messages(QString sid, qint64 before, int limit)
{
    QUrlQuery q;
    if (before >= 0)
        q.addQueryItem(QStringLiteral("before"), QString::number(before));
    q.addQueryItem(QStringLiteral("limit"), QString::number(limit));
    const auto answer =
        co_await call("GET", path(sid) + QStringLiteral("/messages"), q, std::nullopt);
    if (!answer)
        co_return answer.error();
    MessagePage page;
    const QJsonObject object = answer->object();
    for (const QJsonValue &v : object.value(QStringLiteral("messages")).toArray()) {
        if (auto message = json::messageFromJson(v.toObject()))
            page.messages.append(*message);
    }
    page.total = object.value(QStringLiteral("total")).toInteger();
    page.length = object.value(QStringLiteral("length")).toInteger();
    co_return page;
}

QCoro::Task<Result<TurnRecord>> RemoteClient::startTurn(QString sid, StartTurnParams params)
{
    QJsonObject body;
    // A regeneration sends no prompt (the server answers the stored one; a prompt with it is 400).
    if (params.regenerate == -1 || !params.prompt.isEmpty())
        body.insert(QStringLiteral("prompt"), params.prompt);
    if (params.regenerate != -1)
        body.insert(QStringLiteral("regenerate"), params.regenerate);
    if (params.parent) // -1: "parent": null, a new first message
        body.insert(QStringLiteral("parent"),
                    *params.parent == -1 ? QJsonValue() : QJsonValue(*params.parent));
    if (params.model)
        body.insert(QStringLiteral("model"), *params.model);
    if (!params.options.isEmpty())
        body.insert(QStringLiteral("options"), json::toJson(params.options));
    if (!params.attachments.isEmpty())
        body.insert(QStringLiteral("attachments"), QJsonArray::fromStringList(params.attachments));
    if (params.tools)
        body.insert(QStringLiteral("tools"), QJsonArray::fromStringList(*params.tools));
    const auto answer = co_await call("POST", path(sid) + QStringLiteral("/turns"), {}, body);
    if (!answer)
        co_return answer.error();
    auto turn = json::turnFromJson(answer->object());
    if (!turn)
        co_return malformed();
    Q_EMIT turnStarted(*turn);
    watchTurn(sid, turn->id, 0);
    refreshSession(sid); // as LocalClient: the session changed (a prompt, an active turn)
    co_return *turn;
}

QCoro::Task<Result<TurnRecord>> RemoteClient::turn(QString sid, int tid)
{
    const auto answer =
        co_await call("GET", path(sid) + QStringLiteral("/turns/%1").arg(tid), {}, std::nullopt);
    if (!answer)
        co_return answer.error();
    auto turn = json::turnFromJson(answer->object());
    if (!turn)
        co_return malformed();
    co_return *turn;
}

QCoro::Task<Result<ChunkPage>> RemoteClient::chunks(QString sid, int tid, int from)
{
    QUrlQuery q;
    q.addQueryItem(QStringLiteral("from"), QString::number(from));
    const auto answer = co_await call(
        "GET", path(sid) + QStringLiteral("/turns/%1/chunks").arg(tid), q, std::nullopt);
    if (!answer)
        co_return answer.error();
    const QJsonObject object = answer->object();
    ChunkPage page;
    for (const QJsonValue &v : object.value(QStringLiteral("chunks")).toArray()) {
        if (auto chunk = json::chunkFromJson(v.toObject()))
            page.chunks.append(*chunk);
    }
    page.next = object.value(QStringLiteral("next")).toInt();
    page.done = object.value(QStringLiteral("done")).toBool();
    page.state = turnStateFromName(object.value(QStringLiteral("state")).toString())
                     .value_or(TurnRecord::State::Streaming);
    co_return page;
}

QCoro::Task<Result<TurnRecord>> RemoteClient::cancelTurn(QString sid, int tid)
{
    const auto answer = co_await call(
        "POST", path(sid) + QStringLiteral("/turns/%1/cancel").arg(tid), {}, std::nullopt);
    if (!answer)
        co_return answer.error();
    auto turn = json::turnFromJson(answer->object());
    if (!turn)
        co_return malformed();
    co_return *turn;
}

QCoro::Task<Result<QList<ModelInfo>>> RemoteClient::models()
{
    const auto answer = co_await call("GET", QStringLiteral("/v1/models"), {}, std::nullopt);
    if (!answer)
        co_return answer.error();
    QList<ModelInfo> list;
    for (const QJsonValue &v : answer->object().value(QStringLiteral("data")).toArray()) {
        const QJsonObject o = v.toObject();
        list.append({o.value(QStringLiteral("id")).toString(),
                     o.value(QStringLiteral("owned_by")).toString()});
    }
    co_return list;
}

QCoro::Task<Result<Attachment>> RemoteClient::uploadAttachment(QString sid, UploadParams params)
{
    QUrlQuery q;
    if (!params.name.isNull())
        q.addQueryItem(QStringLiteral("name"),
                       QString::fromLatin1(QUrl::toPercentEncoding(params.name)));
    // No type: octet-stream (the server stores UTF-8 text as text/plain); QNAM would send a
    // form type instead.
    const QByteArray type =
        params.type.isEmpty() ? QByteArray("application/octet-stream") : params.type.toLatin1();
    const auto answer = co_await exchange("POST", path(sid) + QStringLiteral("/attachments"), q,
                                          type, std::move(params.bytes));
    if (!answer)
        co_return answer.error();
    const QJsonDocument document = QJsonDocument::fromJson(*answer);
    auto attachment = json::attachmentFromJson(document.object());
    if (!attachment)
        co_return malformed();
    co_return *attachment;
}

QCoro::Task<Result<QByteArray>> RemoteClient::attachmentBytes(QString sid, QString aid)
{
    co_return co_await exchange("GET",
                                path(sid) + QStringLiteral("/attachments/") +
                                    QString::fromLatin1(QUrl::toPercentEncoding(aid)),
                                {}, {}, {});
}

QCoro::Task<Result<ToolList>> RemoteClient::tools()
{
    const auto answer = co_await call("GET", QStringLiteral("/v1/tools"), {}, std::nullopt);
    if (!answer)
        co_return answer.error();
    ToolList list;
    const QJsonObject object = answer->object();
    for (const QJsonValue &v : object.value(QStringLiteral("tools")).toArray()) {
        const QJsonObject o = v.toObject();
        ToolInfo tool;
        tool.name = o.value(QStringLiteral("name")).toString();
        tool.description = o.value(QStringLiteral("description")).toString();
        tool.inputSchema = o.value(QStringLiteral("input_schema")).toObject();
        list.tools.append(tool);
    }
    for (const QJsonValue &v : object.value(QStringLiteral("servers")).toArray()) {
        const QJsonObject o = v.toObject();
        ToolServerInfo server;
        server.name = o.value(QStringLiteral("name")).toString();
        server.state = toolServerStateFromName(o.value(QStringLiteral("state")).toString())
                           .value_or(ToolServerInfo::State::Error);
        server.error = o.value(QStringLiteral("error")).toString();
        list.servers.append(server);
    }
    co_return list;
}

QCoro::Task<Result<TurnRecord>> RemoteClient::answerToolCall(QString sid, int tid, QString cid,
                                                             bool approve)
{
    QPointer<RemoteClient> self(this);
    const QString target = path(sid) + QStringLiteral("/turns/%1/tool-calls/").arg(tid) +
                           QString::fromLatin1(QUrl::toPercentEncoding(cid));
    QJsonObject body;
    body.insert(QStringLiteral("approve"), approve);
    const auto answer = co_await call("POST", target, {}, body);
    if (!answer)
        co_return answer.error();
    auto turn = json::turnFromJson(answer->object());
    if (!turn)
        co_return malformed();
    if (self)
        noteTurnState(*turn); // answered: streaming again, without waiting for the tool's result
    co_return *turn;
}

void RemoteClient::noteTurnState(const TurnRecord &turn)
{
    if (turn.ended())
        return; // turnFinished tells that
    const auto it = m_watches.find(turn.session + u'/' + QString::number(turn.id));
    if (it == m_watches.end() || it->state == turn.state)
        return;
    it->state = turn.state;
    Q_EMIT turnStateChanged(turn);
}

QCoro::Task<> RemoteClient::followToolStep(QString sid, int tid, Chunk chunk)
{
    QPointer<RemoteClient> self(this);
    const QString key = sid + u'/' + QString::number(tid);
    const int step = m_watches.value(key).steps;
    // After a call, the turn may become `waiting` a moment after the event went out (the state
    // is stored after the chunk): look a few times, until a later step makes it moot.
    const int tries = chunk.toolCall ? 5 : 1;
    for (int i = 0; i < tries; ++i) {
        if (i > 0)
            co_await QCoro::sleepFor(std::chrono::milliseconds(100));
        if (!self || !m_watches.contains(key) || m_watches.value(key).steps != step)
            co_return;
        const auto record = co_await turn(sid, tid);
        if (!self || !m_watches.contains(key) || m_watches.value(key).steps != step)
            co_return;
        if (!record)
            co_return;
        noteTurnState(*record);
        if (record->state != TurnRecord::State::Streaming)
            co_return;
    }
}

void RemoteClient::watchTurn(const QString &sid, int tid, int fromSeq)
{
    const QString key = sid + u'/' + QString::number(tid);
    if (m_streams.contains(key))
        return;
    auto *stream =
        new TurnEventStream(m_nam, request(path(sid) + QStringLiteral("/turns/%1/events").arg(tid)),
                            sid, tid, fromSeq, this);
    m_streams.insert(key, stream);
    m_watches.insert(key, TurnWatch{});
    connect(stream, &TurnEventStream::chunkReady, this, &SessionClient::chunkReady);
    connect(stream, &TurnEventStream::toolStepReady, this,
            [this, key](const QString &s, int t, const Chunk &chunk) {
                ++m_watches[key].steps;
                Q_EMIT toolStepReady(s, t, chunk);
                followToolStep(s, t, chunk);
            });
    connect(stream, &TurnEventStream::connectionLost, this,
            [this](const QString &why) { setOnline(false, why); });
    connect(stream, &TurnEventStream::connectionRestored, this, [this] { setOnline(true, {}); });
    connect(stream, &TurnEventStream::ended, this,
            [this, key, stream](const QString &s, int t, const QJsonObject &data) {
                m_streams.remove(key);
                m_watches.remove(key);
                stream->deleteLater();
                finishTurn(s, t, data);
            });
    stream->open();
}

// Not through session(): that watches the active turn, and this answer may be older than the
// end of a turn whose stream has already closed (a second stream would repeat its chunks).
QCoro::Task<> RemoteClient::refreshSession(QString sid)
{
    QPointer<RemoteClient> self(this);
    QUrlQuery q;
    q.addQueryItem(QStringLiteral("window"), QStringLiteral("0"));
    const auto answer = co_await call("GET", path(sid), q, std::nullopt);
    if (!self || !answer)
        co_return;
    if (auto meta = json::sessionFromJson(answer->object()))
        Q_EMIT sessionChanged(*meta);
}

// The event stream only says how the turn ended: the record and the session come from the API.
QCoro::Task<> RemoteClient::finishTurn(QString sid, int tid, QJsonObject data)
{
    QPointer<RemoteClient> self(this);
    if (data.value(QStringLiteral("state")).toString() == QLatin1String("gone")) {
        Q_EMIT sessionDeleted(sid);
        co_return;
    }
    auto record = co_await turn(sid, tid);
    if (!self)
        co_return;
    if (!record) {
        TurnRecord fallback;
        fallback.id = tid;
        fallback.session = sid;
        fallback.state = turnStateFromName(data.value(QStringLiteral("state")).toString())
                             .value_or(TurnRecord::State::Error);
        const QJsonObject error = data.value(QStringLiteral("error")).toObject();
        fallback.errorCode = error.value(QStringLiteral("code")).toString();
        fallback.errorMessage = error.value(QStringLiteral("message")).toString();
        Q_EMIT turnFinished(fallback);
    } else {
        Q_EMIT turnFinished(*record);
    }
    if (self)
        co_await refreshSession(sid);
}

} // namespace holdfast
