#include "store/redisstore.h"

#include "core/logging.h"
#include "store/redisscripts.h"

#include <QCryptographicHash>
#include <QHash>
#include <QJsonDocument>
#include <QJsonObject>
#include <QPointer>
#include <QSysInfo>
#include <QUrl>
#include <QUrlQuery>
#include <QUuid>

#include <unistd.h>

namespace holdfast {

namespace {

constexpr int kCancelTtlMs = 10 * 60 * 1000;
constexpr int kBatch = 500;

QByteArray prefix(const QString &sid)
{
    return "hf:{" + sid.toUtf8() + "}:";
}
QByteArray sessKey(const QString &sid)
{
    return prefix(sid) + "sess";
}
QByteArray msgKey(const QString &sid, qint64 index)
{
    return prefix(sid) + "msg:" + QByteArray::number(index);
}
QByteArray turnKey(const QString &sid, int tid, const char *kind)
{
    return prefix(sid) + kind + QByteArray::number(tid);
}
QByteArray member(const QString &sid, int tid)
{
    return sid.toUtf8() + '/' + QByteArray::number(tid);
}
const QByteArray kSessionsKey = QByteArrayLiteral("hf:sessions");
const QByteArray kUnfinishedKey = QByteArrayLiteral("hf:unfinished");
const QByteArray kSchemaKey = QByteArrayLiteral("hf:schema");

QByteArray num(qint64 n)
{
    return QByteArray::number(n);
}
// A command line. (Braced lists of string literals inside coroutines trip g++ 12.)
template <typename... Args> QList<QByteArray> cmd(const Args &...args)
{
    return QList<QByteArray>{QByteArray(args)...};
}
QByteArray iso(const QDateTime &t)
{
    return toIso(t).toUtf8();
}
// A script that uses the tree's Lua functions.
QByteArray withTree(const char *script)
{
    return QByteArray(redisscripts::kTreeLua) + script;
}
// Sorted-set score: ascending order is newest first, equal times by id.
QByteArray score(const SessionMeta &meta)
{
    return num(-meta.updatedAt.toMSecsSinceEpoch());
}

QHash<QByteArray, QByteArray> fields(const RedisReply &hash)
{
    QHash<QByteArray, QByteArray> out;
    for (qsizetype i = 0; i + 1 < hash.elements.size(); i += 2)
        out.insert(hash.elements.at(i).string, hash.elements.at(i + 1).string);
    return out;
}

QString str(const QHash<QByteArray, QByteArray> &f, const char *name)
{
    const auto it = f.constFind(name);
    return it == f.constEnd() ? QString() : QString::fromUtf8(*it);
}

SessionMeta metaFrom(const QHash<QByteArray, QByteArray> &f)
{
    SessionMeta m;
    m.id = str(f, "id");
    m.title = str(f, "title");
    m.system = str(f, "system");
    if (f.contains("title") && m.title.isNull())
        m.title = QLatin1String("");
    if (f.contains("system") && m.system.isNull())
        m.system = QLatin1String("");
    m.model = str(f, "model");
    m.createdAt = fromIso(str(f, "created"));
    m.updatedAt = fromIso(str(f, "updated"));
    m.total = f.value("total").toLongLong();
    m.activeTurn = f.value("active").toInt();
    m.lastTurn = f.value("last").toInt();
    // Written before the tree: one branch, head on the last message.
    m.head = f.value("head", num(m.total - 1)).toLongLong();
    m.length = f.value("length", num(m.total)).toLongLong();
    return m;
}

// The fields a PATCH owns; the counters are written only by the turn scripts, so that a PATCH
// through one instance never rolls back a turn another instance has just stored.
QList<QByteArray> describedFields(const SessionMeta &m)
{
    QList<QByteArray> pairs{"id",      m.id.toUtf8(),    "model",   m.model.toUtf8(),
                            "created", iso(m.createdAt), "updated", iso(m.updatedAt)};
    if (!m.title.isNull())
        pairs << "title" << m.title.toUtf8();
    if (!m.system.isNull())
        pairs << "system" << m.system.toUtf8();
    return pairs;
}

QByteArray messageJson(const Message &m)
{
    return QJsonDocument(QJsonObject{{QStringLiteral("role"), m.role},
                                     {QStringLiteral("content"), m.content},
                                     {QStringLiteral("turn"), m.turn},
                                     {QStringLiteral("state"), messageStateName(m.state)},
                                     {QStringLiteral("created_at"), toIso(m.createdAt)},
                                     {QStringLiteral("parent"), m.parent},
                                     {QStringLiteral("depth"), m.depth}})
        .toJson(QJsonDocument::Compact);
}

std::optional<Message> messageFrom(qint64 index, const QByteArray &json)
{
    const QJsonObject o = QJsonDocument::fromJson(json).object();
    if (o.isEmpty())
        return std::nullopt;
    Message m;
    m.index = index;
    m.role = o.value(QStringLiteral("role")).toString();
    m.content = o.value(QStringLiteral("content")).toString();
    m.turn = o.value(QStringLiteral("turn")).toInt();
    m.state = messageStateFromName(o.value(QStringLiteral("state")).toString())
                  .value_or(Message::State::Complete);
    m.createdAt = fromIso(o.value(QStringLiteral("created_at")).toString());
    // Written before the tree: one branch, each message after the one before it.
    m.parent = o.value(QStringLiteral("parent")).toInteger(index - 1);
    m.depth = o.value(QStringLiteral("depth")).toInteger(index);
    return m;
}

// {index, JSON, siblings} of kLoadBranch and kMessagesAt.
std::optional<Message> branchEntry(const RedisReply &entry)
{
    if (entry.elements.size() != 3)
        return std::nullopt;
    auto m = messageFrom(entry.elements.at(0).toInt(), entry.elements.at(1).string);
    if (!m)
        return std::nullopt;
    for (const RedisReply &sibling : entry.elements.at(2).elements)
        m->siblings.append(sibling.toInt());
    return m;
}

QList<QByteArray> turnFields(const TurnRecord &t)
{
    return {"id",       num(t.id),
            "session",  t.session.toUtf8(),
            "state",    turnStateName(t.state).toUtf8(),
            "prompt",   num(t.promptIndex),
            "response", num(t.responseIndex),
            "chunks",   num(t.chunks),
            "model",    t.model.toUtf8(),
            "created",  iso(t.createdAt),
            "finished", iso(t.finishedAt),
            "ecode",    t.errorCode.toUtf8(),
            "emsg",     t.errorMessage.toUtf8()};
}

std::optional<TurnRecord> turnFrom(const RedisReply &hash)
{
    const auto f = fields(hash);
    if (f.isEmpty())
        return std::nullopt;
    TurnRecord t;
    t.id = f.value("id").toInt();
    t.session = str(f, "session");
    t.state = turnStateFromName(str(f, "state")).value_or(TurnRecord::State::Error);
    t.promptIndex = f.value("prompt", "-1").toLongLong();
    t.responseIndex = f.value("response", "-1").toLongLong();
    t.chunks = f.value("chunks").toInt();
    t.model = str(f, "model");
    t.createdAt = fromIso(str(f, "created"));
    t.finishedAt = fromIso(str(f, "finished"));
    t.errorCode = str(f, "ecode");
    t.errorMessage = str(f, "emsg");
    return t;
}

bool parseMember(const QByteArray &text, QString *sid, int *tid)
{
    const qsizetype slash = text.lastIndexOf('/');
    bool ok = false;
    *tid = text.mid(slash + 1).toInt(&ok);
    *sid = QString::fromUtf8(text.left(slash));
    return slash > 0 && ok;
}

} // namespace

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
      m_cancelChannel("hf:cancel:" + num(m_options.endpoint.db))
{
    m_events->setSubscriptions({m_turnsChannel, m_cancelChannel});
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
    const auto r =
        co_await eval(redisscripts::kDeleteSession, cmd(sessKey(id), kSessionsKey, kUnfinishedKey),
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
    args << turnFields(turn);
    const QString sid = meta.id;
    const auto r =
        co_await eval(withTree(redisscripts::kBeginTurn),
                      cmd(sessKey(sid), msgKey(sid, index), turnKey(sid, turn.id, "turn:"),
                          turnKey(sid, turn.id, "lease:"), kSessionsKey, kUnfinishedKey),
                      args);
    if (!r) {
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

QCoro::Task<Status> RedisStore::appendChunks(QString sid, int tid, QList<Chunk> chunks)
{
    if (chunks.isEmpty())
        co_return Ok{};
    QList<QByteArray> args{num(chunks.constFirst().seq), num(m_options.leaseMs),
                           m_instance.toUtf8(), member(sid, tid), m_turnsChannel};
    for (const Chunk &c : std::as_const(chunks))
        args << c.text.toUtf8();
    QPointer<RedisStore> self(this);
    const auto r = co_await eval(redisscripts::kAppendChunks,
                                 cmd(turnKey(sid, tid, "turn:"), turnKey(sid, tid, "chunks:"),
                                     turnKey(sid, tid, "lease:"), turnKey(sid, tid, "cancel:")),
                                 args);
    if (!r) {
        if (r.error().code == ErrorCode::NotFound)
            co_return makeError(ErrorCode::NotFound,
                                QStringLiteral("turn %1 of '%2' does not exist").arg(tid).arg(sid));
        co_return r.error();
    }
    countRows(chunks.size() + 1);
    if (r->integer == 1 && self) // a cancel whose message this instance may have missed
        Q_EMIT cancelRequested(sid, tid);
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

QCoro::Task<Result<QList<Chunk>>> RedisStore::loadChunks(QString sid, int tid, int from, int limit)
{
    QList<Chunk> out;
    if (limit <= 0)
        co_return out;
    const auto r = co_await call(cmd("XRANGE", turnKey(sid, tid, "chunks:"),
                                     num(std::max(0, from)) + "-0", "+", "COUNT", num(limit)));
    if (!r)
        co_return r.error();
    for (const RedisReply &entry : r->elements) {
        if (entry.elements.size() != 2 || entry.elements.at(1).elements.size() < 2)
            continue;
        const int seq = entry.elements.at(0).string.split('-').constFirst().toInt();
        out.append(Chunk{seq, entry.elements.at(1).elements.at(1).text()});
    }
    co_return out;
}

QCoro::Task<Result<QList<TurnRecord>>> RedisStore::unfinishedTurns()
{
    const auto r =
        co_await eval(redisscripts::kOrphanedTurns, cmd(kUnfinishedKey), QList<QByteArray>());
    if (!r)
        co_return r.error();
    QList<TurnRecord> out;
    for (const RedisReply &hash : r->elements) {
        if (auto t = turnFrom(hash); t && !m_owned.contains({t->session, t->id}))
            out.append(*t);
    }
    co_return out;
}

QCoro::Task<Status> RedisStore::requestCancel(QString sid, int tid)
{
    const auto r = co_await eval(redisscripts::kRequestCancel,
                                 cmd(turnKey(sid, tid, "turn:"), turnKey(sid, tid, "cancel:")),
                                 cmd(member(sid, tid), num(kCancelTtlMs), m_cancelChannel));
    if (!r) {
        if (r.error().code == ErrorCode::NotFound)
            co_return makeError(ErrorCode::NotFound, QStringLiteral("turn %1 of session '%2' does "
                                                                    "not exist")
                                                         .arg(tid)
                                                         .arg(sid));
        co_return r.error();
    }
    co_return Ok{};
}

QCoro::Task<> RedisStore::renewLeases()
{
    if (m_renewing)
        co_return;
    m_renewing = true;
    QPointer<RedisStore> self(this);
    const auto owned = m_owned;
    for (const auto &[sid, tid] : owned) {
        const auto r = co_await eval(redisscripts::kRenewLease,
                                     cmd(turnKey(sid, tid, "turn:"), turnKey(sid, tid, "lease:"),
                                         turnKey(sid, tid, "cancel:")),
                                     cmd(m_instance.toUtf8(), num(m_options.leaseMs)));
        if (!self)
            co_return;
        if (!r) // Redis is away: the next tick tries again
            continue;
        if (r->integer < 0)
            m_owned.remove({sid, tid}); // ended (a sweeper took it, or the session was deleted)
        else if (r->integer == 1)
            Q_EMIT cancelRequested(sid, tid);
    }
    m_renewing = false;
}

void RedisStore::onMessage(const QByteArray &channel, const QByteArray &payload)
{
    QString sid;
    int tid = 0;
    if (!parseMember(payload, &sid, &tid))
        return;
    if (channel == m_cancelChannel)
        Q_EMIT cancelRequested(sid, tid);
    else if (channel == m_turnsChannel)
        Q_EMIT turnUpdated(sid, tid);
}

} // namespace holdfast
