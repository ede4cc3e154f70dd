// The Redis store: each Store call as one Lua script or one pipelined round trip (redisscripts.h),
// rows encoded by rediscodec; a running turn's calls are in redisstoreturns.cpp. One short
// function per Store call.
#include "store/redisstore.h"

#include "core/logging.h"
#include "store/rediscodec.h"
#include "store/redisscripts.h"

#include <QCryptographicHash>
#include <QPointer>
#include <QSysInfo>
#include <QUrl>
#include <QUrlQuery>
#include <QUuid>

#include <unistd.h>

namespace holdfast {

namespace {

constexpr int kBatch = 500;

} // namespace

using namespace rediscodec;

RedisStore::RedisStore(Options options, QObject *parent)
    : Store(parent), m_options(std::move(options)),
      m_instance(QStringLiteral("%1:%2:%3")
                     .arg(QSysInfo::machineHostName())
                     .arg(::getpid())
                     .arg(QUuid::createUuid().toString(QUuid::Id128).left(8))),
      m_commands(new RedisConnection(m_options.endpoint, QStringLiteral("commands"), this)),
      m_events(new RedisConnection(m_options.endpoint, QStringLiteral("events"), this)),
      // Pub/sub ignores databases: the channels name theirs.
      m_turnsChannel("hf:turns:" + num(m_options.endpoint.db)),
      m_cancelChannel("hf:cancel:" + num(m_options.endpoint.db)),
      m_toolsChannel("hf:tools:" + num(m_options.endpoint.db))
{
    m_events->setSubscriptions({m_turnsChannel, m_cancelChannel, m_toolsChannel});
    connect(m_events, &RedisConnection::message, this, &RedisStore::onMessage);
    m_leaseTimer.setInterval(std::max(50, m_options.leaseMs / 3));
    connect(&m_leaseTimer, &QTimer::timeout, this, [this] { renewLeases(); });
    // Commands reconnect when used; the subscriber has no caller to do it for it.
    m_reconnectTimer.setInterval(500);
    connect(&m_reconnectTimer, &QTimer::timeout, this, [this] {
        if (!m_events->isConnected())
            m_events->ensureConnected();
    });
}

RedisStore::~RedisStore() = default;

Result<RedisStore::Options> RedisStore::parseUrl(const QString &url)
{
    const QUrl u(url, QUrl::StrictMode);
    const auto bad = [&](const QString &why) {
        return makeError(ErrorCode::BadRequest,
                         QStringLiteral("bad Redis store '%1': %2 (expected "
                                        "redis://[:PASSWORD@]HOST[:PORT][/DB])")
                             .arg(u.isValid() ? u.toDisplayString(QUrl::RemovePassword)
                                              : QStringLiteral("redis://…"),
                                  why));
    };
    if (!u.isValid() || u.scheme() != QLatin1String("redis"))
        return bad(QStringLiteral("not a redis:// URL"));
    if (u.host().isEmpty())
        return bad(QStringLiteral("no host"));
    Options o;
    o.endpoint.host = u.host();
    const int port = u.port(6379);
    if (port < 1 || port > 65535)
        return bad(QStringLiteral("bad port"));
    o.endpoint.port = quint16(port);
    o.endpoint.user = u.userName();
    o.endpoint.password = u.password();
    const QString path = u.path().mid(1);
    if (!path.isEmpty()) {
        bool ok = false;
        o.endpoint.db = path.toInt(&ok);
        if (!ok || o.endpoint.db < 0)
            return bad(QStringLiteral("the database must be a number"));
    }
    const QUrlQuery query(u);
    for (const auto &[key, value] : query.queryItems()) {
        bool ok = false;
        const int n = value.toInt(&ok);
        if (!ok || n <= 0)
            return bad(QStringLiteral("%1 must be a positive number").arg(key));
        if (key == QLatin1String("lease_ms"))
            o.leaseMs = n;
        else if (key == QLatin1String("timeout_ms"))
            o.endpoint.timeoutMs = n;
        else
            return bad(QStringLiteral("unknown option '%1'").arg(key));
    }
    return o;
}

Result<std::unique_ptr<Store>> RedisStore::fromUrl(const QString &url)
{
    auto options = parseUrl(url);
    if (!options)
        return options.error();
    return std::unique_ptr<Store>(std::make_unique<RedisStore>(*options));
}

QString RedisStore::describe() const
{
    const RedisEndpoint &e = m_options.endpoint;
    const QString user = e.user.isEmpty() ? QString() : e.user + QLatin1Char('@');
    return QStringLiteral("redis://%1%2:%3/%4").arg(user, e.host).arg(e.port).arg(e.db);
}

QCoro::Task<Result<RedisReply>> RedisStore::call(QList<QByteArray> args)
{
    if (!m_opened)
        co_return makeError(ErrorCode::Unavailable,
                            QStringLiteral("the store %1 is not open").arg(describe()));
    auto reply = co_await m_commands->command(std::move(args));
    if (reply && reply->isError())
        co_return makeError(ErrorCode::Internal, QStringLiteral("Redis: %1").arg(reply->text()));
    co_return reply;
}

QCoro::Task<Result<RedisReply>> RedisStore::eval(QByteArray script, QList<QByteArray> keys,
                                                 QList<QByteArray> args)
{
    if (!m_opened)
        co_return makeError(ErrorCode::Unavailable,
                            QStringLiteral("the store %1 is not open").arg(describe()));
    const QByteArray source = std::move(script);
    const QByteArray sha = QCryptographicHash::hash(source, QCryptographicHash::Sha1).toHex();
    QList<QByteArray> argv{QByteArrayLiteral("EVALSHA"), sha, num(keys.size())};
    argv << keys << args;
    QPointer<RedisStore> self(this);
    auto reply = co_await m_commands->command(argv);
    if (reply && reply->isError() && reply->string.startsWith("NOSCRIPT") && self) {
        argv[0] = QByteArrayLiteral("EVAL");
        argv[1] = source;
        reply = co_await m_commands->command(argv);
    }
    if (!reply || !reply->isError())
        co_return reply;
    // A script's error_reply("CODE message") arrives as is; Redis prefixes one without a space.
    const QByteArray e = reply->string.startsWith("ERR ") ? reply->string.mid(4) : reply->string;
    const QString detail = QString::fromUtf8(e.mid(e.indexOf(' ') + 1));
    if (e.startsWith("CONFLICT"))
        co_return makeError(ErrorCode::Conflict, detail);
    if (e.startsWith("NOTFOUND"))
        co_return makeError(ErrorCode::NotFound, detail);
    co_return makeError(ErrorCode::Internal, QStringLiteral("Redis: %1").arg(reply->text()));
}

QCoro::Task<Status> RedisStore::open()
{
    QPointer<RedisStore> self(this);
    const auto version = co_await m_commands->command(cmd("GET", kSchemaKey));
    if (!version)
        co_return version.error();
    if (!self)
        co_return makeError(ErrorCode::Unavailable, QStringLiteral("the store was closed"));
    if (version->isNil()) {
        const auto set =
            co_await m_commands->command(cmd("SET", kSchemaKey, num(kSchemaVersion), "NX"));
        if (!set)
            co_return set.error();
    } else {
        bool ok = false;
        const int v = version->string.toInt(&ok);
        if (!ok || v < 1)
            co_return makeError(ErrorCode::Unavailable,
                                QStringLiteral("%1 holds a key hf:schema that Holdfast did not "
                                               "write ('%2'): refusing to touch it")
                                    .arg(describe(), version->text().left(40)));
        if (v > kSchemaVersion)
            co_return makeError(
                ErrorCode::Unavailable,
                QStringLiteral("%1 was written by a newer Holdfast (schema version %2; this "
                               "build reads up to %3). Upgrade Holdfast or use another --store.")
                    .arg(describe())
                    .arg(v)
                    .arg(kSchemaVersion));
    }
    if (!self)
        co_return makeError(ErrorCode::Unavailable, QStringLiteral("the store was closed"));
    m_opened = true;
    // Subscribed before we return, so that no cancel request or chunk after open() is missed.
    const Status subscribed = co_await m_events->ensureConnected();
    if (!self)
        co_return makeError(ErrorCode::Unavailable, QStringLiteral("the store was closed"));
    if (!subscribed)
        qCWarning(lcStore).noquote() << subscribed.error().message;
    m_leaseTimer.start();
    m_reconnectTimer.start();
    qCInfo(lcStore) << "opened" << describe() << "schema version" << kSchemaVersion << "as"
                    << m_instance;
    co_return Ok{};
}

QCoro::Task<Status> RedisStore::createSession(SessionMeta meta)
{
    QList<QByteArray> args{score(meta), meta.id.toUtf8()};
    args << describedFields(meta) << "total" << num(meta.total) << "active" << num(meta.activeTurn)
         << "last" << num(meta.lastTurn) << "head" << num(meta.head) << "length" << num(meta.length)
         << "tree"
         << "1";
    const auto r =
        co_await eval(redisscripts::kCreateSession, cmd(sessKey(meta.id), kSessionsKey), args);
    if (!r) {
        if (r.error().code == ErrorCode::Conflict)
            co_return makeError(ErrorCode::Conflict,
                                QStringLiteral("session '%1' already exists").arg(meta.id));
        co_return r.error();
    }
    countRows(1);
    co_return Ok{};
}

QCoro::Task<Result<std::optional<SessionMeta>>> RedisStore::loadSession(QString id)
{
    const auto r = co_await call(cmd("HGETALL", sessKey(id)));
    if (!r)
        co_return r.error();
    if (r->elements.isEmpty())
        co_return std::optional<SessionMeta>{};
    co_return std::optional<SessionMeta>{metaFrom(fields(*r))};
}

QCoro::Task<Status> RedisStore::saveSessionMeta(SessionMeta meta)
{
    QList<QByteArray> nulls;
    if (meta.title.isNull())
        nulls << "title";
    if (meta.system.isNull())
        nulls << "system";
    nulls << unsetOptions(meta.options);
    QList<QByteArray> args{score(meta),        meta.id.toUtf8(), prefix(meta.id),
                           num(meta.head),     num(meta.length), num(meta.total),
                           num(meta.lastTurn), num(nulls.size())};
    args << nulls << describedFields(meta);
    const auto r =
        co_await eval(withTree(redisscripts::kSaveMeta), cmd(sessKey(meta.id), kSessionsKey), args);
    if (!r) {
        if (r.error().code == ErrorCode::NotFound)
            co_return makeError(ErrorCode::NotFound,
                                QStringLiteral("session '%1' does not exist").arg(meta.id));
        if (r.error().code == ErrorCode::Conflict)
            co_return makeError(ErrorCode::Conflict,
                                QStringLiteral("cannot switch the branch of session '%1': %2")
                                    .arg(meta.id, r.error().message));
        co_return r.error();
    }
    countRows(1);
    co_return Ok{};
}

QCoro::Task<Status> RedisStore::deleteSession(QString id)
{
    const auto r = co_await eval(redisscripts::kDeleteSession,
                                 cmd(sessKey(id), kSessionsKey, kUnfinishedKey, kUnlinkedKey),
                                 cmd(id.toUtf8(), prefix(id)));
    if (!r)
        co_return r.error();
    countRows(1);
    co_return Ok{};
}

QCoro::Task<Result<QList<SessionMeta>>> RedisStore::sessionsAt(QList<QByteArray> ids)
{
    QList<SessionMeta> out;
    if (ids.isEmpty())
        co_return out;
    const auto r = co_await eval(redisscripts::kSessionsAt, QList<QByteArray>(), ids);
    if (!r)
        co_return r.error();
    for (const RedisReply &hash : r->elements) {
        if (!hash.elements.isEmpty())
            out.append(metaFrom(fields(hash)));
    }
    co_return out;
}

QCoro::Task<Result<bool>> RedisStore::messagesMatch(QString sid, qint64 total, QString query)
{
    QPointer<RedisStore> self(this);
    for (qint64 from = 0; from < total; from += kBatch) {
        QList<QByteArray> args = cmd("MGET");
        for (qint64 i = from; i < std::min(total, from + kBatch); ++i)
            args << msgKey(sid, i);
        const auto r = co_await call(args);
        if (!r)
            co_return r.error();
        for (const RedisReply &m : r->elements) {
            const auto message = messageFrom(0, m.string);
            if (message && message->content.contains(query, Qt::CaseInsensitive))
                co_return true;
        }
        if (!self)
            co_return false;
    }
    co_return false;
}

QCoro::Task<Result<SessionPage>> RedisStore::listSessions(QString query, int limit, int offset)
{
    SessionPage page;
    if (query.isEmpty()) {
        const auto count = co_await call(cmd("ZCARD", kSessionsKey));
        if (!count)
            co_return count.error();
        page.total = count->integer;
        if (limit <= 0 || offset >= page.total)
            co_return page;
        const auto ids =
            co_await call(cmd("ZRANGE", kSessionsKey, num(offset), num(offset + limit - 1)));
        if (!ids)
            co_return ids.error();
        QList<QByteArray> list;
        for (const RedisReply &id : ids->elements)
            list << id.string;
        auto metas = co_await sessionsAt(list);
        if (!metas)
            co_return metas.error();
        page.sessions = *metas;
        co_return page;
    }
    // Search has no index: it reads titles, then the messages of sessions whose title does not
    // match, a batch at a time. Case-insensitive the way Qt is, which Lua's string.lower is not.
    for (qint64 start = 0;; start += kBatch) {
        const auto ids =
            co_await call(cmd("ZRANGE", kSessionsKey, num(start), num(start + kBatch - 1)));
        if (!ids)
            co_return ids.error();
        QList<QByteArray> list;
        for (const RedisReply &id : ids->elements)
            list << id.string;
        const auto metas = co_await sessionsAt(list);
        if (!metas)
            co_return metas.error();
        for (const SessionMeta &m : *metas) {
            bool match = m.title.contains(query, Qt::CaseInsensitive);
            if (!match) {
                const auto inMessages = co_await messagesMatch(m.id, m.total, query);
                if (!inMessages)
                    co_return inMessages.error();
                match = *inMessages;
            }
            if (!match)
                continue;
            if (page.total >= offset && page.sessions.size() < limit)
                page.sessions.append(m);
            ++page.total;
        }
        if (list.size() < kBatch)
            break;
    }
    co_return page;
}

QCoro::Task<Result<QList<Message>>> RedisStore::loadMessages(QString id, qint64 from, qint64 to)
{
    QList<Message> out;
    const auto total = co_await call(cmd("HGET", sessKey(id), "total"));
    if (!total)
        co_return total.error();
    from = std::max<qint64>(0, from);
    to = std::min<qint64>(to, total->isNil() ? 0 : total->toInt());
    QPointer<RedisStore> self(this);
    for (qint64 start = from; start < to; start += kBatch) {
        const qint64 end = std::min(to, start + kBatch);
        const auto r = co_await eval(withTree(redisscripts::kMessagesAt), cmd(sessKey(id)),
                                     cmd(prefix(id), num(start), num(end)));
        if (!r)
            co_return r.error();
        for (qsizetype k = 0; k < r->elements.size(); ++k) {
            const auto m = branchEntry(r->elements.at(k));
            if (!m)
                co_return makeError(ErrorCode::Internal,
                                    QStringLiteral("message %1 of session '%2' is missing in Redis")
                                        .arg(start + k)
                                        .arg(id));
            out.append(*m);
        }
        if (!self)
            co_return makeError(ErrorCode::Unavailable, QStringLiteral("the store was closed"));
    }
    co_return out;
}

QCoro::Task<Result<QList<Message>>> RedisStore::loadBranch(QString id, qint64 last, int limit)
{
    QList<Message> out;
    if (last < 0 || limit <= 0)
        co_return out;
    const auto r = co_await eval(withTree(redisscripts::kLoadBranch), cmd(sessKey(id)),
                                 cmd(prefix(id), num(last), num(limit)));
    if (!r)
        co_return r.error();
    for (qsizetype k = r->elements.size() - 1; k >= 0; --k) {
        const auto m = branchEntry(r->elements.at(k));
        if (!m)
            co_return makeError(
                ErrorCode::Internal,
                QStringLiteral("a message of session '%1' is damaged in Redis").arg(id));
        out.append(*m);
    }
    co_return out;
}

QCoro::Task<Result<qint64>> RedisStore::latestLeaf(QString id, qint64 from)
{
    const auto r = co_await eval(withTree(redisscripts::kLatestLeaf), cmd(sessKey(id)),
                                 cmd(prefix(id), num(from)));
    if (!r) {
        if (r.error().code == ErrorCode::NotFound)
            co_return makeError(
                ErrorCode::NotFound,
                QStringLiteral("message %1 of '%2' does not exist").arg(from).arg(id));
        co_return r.error();
    }
    co_return r->toInt();
}

QCoro::Task<Status> RedisStore::beginTurn(SessionMeta meta, std::optional<Message> maybePrompt,
                                          TurnRecord turn)
{
    // Without a prompt (a regenerated answer) the session's total does not move.
    const qint64 index = maybePrompt ? maybePrompt->index : meta.total;
    QList<QByteArray> args{score(meta),
                           meta.id.toUtf8(),
                           num(index),
                           num(turn.id),
                           maybePrompt ? messageJson(*maybePrompt) : QByteArray(),
                           num(m_options.leaseMs),
                           m_instance.toUtf8(),
                           num(meta.total),
                           num(meta.activeTurn),
                           num(meta.lastTurn),
                           iso(meta.updatedAt),
                           prefix(meta.id),
                           num(meta.head),
                           num(meta.length),
                           num(maybePrompt ? maybePrompt->parent : -1)};
    const QList<Attachment> attachments =
        maybePrompt ? maybePrompt->attachments : QList<Attachment>();
    args << num(attachments.size());
    for (const Attachment &a : attachments)
        args << a.id.toUtf8();
    args << turnFields(turn);
    const QString sid = meta.id;
    const auto r = co_await eval(
        withTree(redisscripts::kBeginTurn),
        cmd(sessKey(sid), msgKey(sid, index), turnKey(sid, turn.id, "turn:"),
            turnKey(sid, turn.id, "lease:"), kSessionsKey, kUnfinishedKey, kUnlinkedKey),
        args);
    if (!r) {
        if (r.error().code == ErrorCode::NotFound && r.error().message.startsWith(u"attachment "))
            co_return makeError(
                ErrorCode::NotFound,
                QStringLiteral("%1 of '%2' does not exist").arg(r.error().message, sid));
        if (r.error().code == ErrorCode::NotFound)
            co_return makeError(ErrorCode::NotFound,
                                QStringLiteral("session '%1' does not exist").arg(sid));
        if (r.error().code == ErrorCode::Conflict)
            co_return makeError(
                ErrorCode::Conflict,
                QStringLiteral("session '%1' has another turn: %2").arg(sid, r.error().message));
        co_return r.error();
    }
    if (!turn.ended())
        m_owned.insert({sid, turn.id});
    countRows(3);
    co_return Ok{};
}

QCoro::Task<Status> RedisStore::finishTurn(SessionMeta meta, std::optional<Message> answer,
                                           TurnRecord turn)
{
    const QString sid = meta.id;
    const qint64 index = answer ? answer->index : -1;
    QList<QByteArray> args{score(meta),
                           sid.toUtf8(),
                           num(index),
                           num(turn.id),
                           answer ? messageJson(*answer) : QByteArray(),
                           num(meta.total),
                           num(meta.activeTurn),
                           iso(meta.updatedAt),
                           m_turnsChannel,
                           prefix(sid),
                           num(meta.head),
                           num(meta.length),
                           num(answer ? answer->parent : -1)};
    args << turnFields(turn);
    QPointer<RedisStore> self(this);
    const auto r = co_await eval(withTree(redisscripts::kFinishTurn),
                                 cmd(sessKey(sid), msgKey(sid, std::max<qint64>(0, index)),
                                     turnKey(sid, turn.id, "turn:"),
                                     turnKey(sid, turn.id, "lease:"), kSessionsKey, kUnfinishedKey),
                                 args);
    if (!r)
        co_return r.error();
    if (self && turn.ended())
        m_owned.remove({sid, turn.id});
    if (r->integer == 0) {
        qCInfo(lcStore) << "turn" << turn.id << "of" << sid
                        << "had already ended, or its session is gone: nothing to save";
        co_return Ok{};
    }
    countRows(answer ? 3 : 2);
    co_return Ok{};
}

QCoro::Task<Result<std::optional<TurnRecord>>> RedisStore::loadTurn(QString sid, int tid)
{
    const auto r = co_await call(cmd("HGETALL", turnKey(sid, tid, "turn:")));
    if (!r)
        co_return r.error();
    co_return turnFrom(*r);
}

QCoro::Task<Status> RedisStore::putAttachment(QString sid, Attachment meta, QByteArray bytes)
{
    QList<QByteArray> args{meta.id.toUtf8(), sid.toUtf8() + '/' + meta.id.toUtf8(),
                           num(meta.createdAt.toMSecsSinceEpoch()), std::move(bytes)};
    args << attachmentFields(meta);
    const auto r = co_await eval(redisscripts::kPutAttachment,
                                 cmd(sessKey(sid), attKey(sid, meta.id), attBytesKey(sid, meta.id),
                                     attsKey(sid), kUnlinkedKey),
                                 args);
    if (!r) {
        if (r.error().code == ErrorCode::NotFound)
            co_return makeError(ErrorCode::NotFound,
                                QStringLiteral("session '%1' does not exist").arg(sid));
        if (r.error().code == ErrorCode::Conflict)
            co_return makeError(ErrorCode::Conflict,
                                QStringLiteral("attachment '%1' already exists").arg(meta.id));
        co_return r.error();
    }
    countRows(2);
    co_return Ok{};
}

QCoro::Task<Result<std::optional<Attachment>>> RedisStore::loadAttachment(QString sid, QString aid)
{
    const auto r = co_await call(cmd("HGETALL", attKey(sid, aid)));
    if (!r)
        co_return r.error();
    co_return attachmentFrom(fields(*r));
}

QCoro::Task<Result<std::optional<QByteArray>>> RedisStore::loadAttachmentBytes(QString sid,
                                                                               QString aid)
{
    const auto r = co_await call(cmd("GET", attBytesKey(sid, aid)));
    if (!r)
        co_return r.error();
    if (r->isNil())
        co_return std::optional<QByteArray>{};
    co_return std::optional<QByteArray>{r->string};
}

QCoro::Task<Result<qint64>> RedisStore::deleteUnlinkedAttachments(QDateTime olderThan)
{
    // A batch per script, so that Redis is never blocked for long.
    qint64 deleted = 0;
    QPointer<RedisStore> self(this);
    for (;;) {
        const auto r = co_await eval(redisscripts::kDeleteUnlinked, cmd(kUnlinkedKey),
                                     cmd(num(olderThan.toMSecsSinceEpoch()), num(kBatch)));
        if (!r)
            co_return r.error();
        deleted += r->integer;
        if (!self || r->integer < kBatch)
            break;
    }
    if (self)
        countRows(quint64(deleted) * 2);
    co_return deleted;
}

} // namespace holdfast
