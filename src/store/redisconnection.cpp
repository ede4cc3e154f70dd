#include "store/redisconnection.h"

#include "core/logging.h"
#include "runtime/waiter.h"

#include <QCoroSignal>
#include <QHostAddress>
#include <QHostInfo>
#include <QPointer>

#include <hiredis/adapters/qt.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include <chrono>
#include <cstring>
#include <vector>

namespace holdfast {

namespace {

RedisReply copyReply(const redisReply *r)
{
    RedisReply out;
    switch (r->type) {
    case REDIS_REPLY_STRING:
        out.type = RedisReply::Type::String;
        break;
    case REDIS_REPLY_STATUS:
        out.type = RedisReply::Type::Status;
        break;
    case REDIS_REPLY_ERROR:
        out.type = RedisReply::Type::Error;
        break;
    case REDIS_REPLY_INTEGER:
        out.type = RedisReply::Type::Integer;
        out.integer = r->integer;
        return out;
    case REDIS_REPLY_ARRAY:
        out.type = RedisReply::Type::Array;
        out.elements.reserve(qsizetype(r->elements));
        for (size_t i = 0; i < r->elements; ++i)
            out.elements.append(copyReply(r->element[i]));
        return out;
    default:
        return out; // nil
    }
    out.string = QByteArray(r->str, qsizetype(r->len));
    return out;
}

} // namespace

// What a command's callback hands to the coroutine that awaits it. Shared, because either may
// go first: a timed-out coroutine leaves, and the callback still comes when the context is freed.
struct RedisConnection::Pending
{
    std::optional<Result<RedisReply>> result;
    QPointer<Waiter> waiter;
};

RedisConnection::RedisConnection(RedisEndpoint endpoint, QString name, QObject *parent)
    : QObject(parent), m_endpoint(std::move(endpoint)), m_name(std::move(name)),
      m_connectWaiters(std::make_unique<WaiterList>())
{}

RedisConnection::~RedisConnection()
{
    drop(QStringLiteral("closed"));
}

QString RedisConnection::where() const
{
    return QStringLiteral("%1:%2/%3").arg(m_endpoint.host).arg(m_endpoint.port).arg(m_endpoint.db);
}

Error RedisConnection::unavailable(const QString &why) const
{
    return makeError(ErrorCode::Unavailable,
                     QStringLiteral("Redis at %1 is unavailable: %2").arg(where(), why));
}

QCoro::Task<Result<RedisReply>> RedisConnection::command(QList<QByteArray> args)
{
    QPointer<RedisConnection> self(this);
    const Status connected = co_await ensureConnected();
    if (!connected)
        co_return connected.error();
    if (!self)
        co_return makeError(ErrorCode::Unavailable, QStringLiteral("the Redis store was closed"));
    co_return co_await send(std::move(args));
}

QCoro::Task<Status> RedisConnection::ensureConnected()
{
    QPointer<RedisConnection> self(this);
    if (m_ready)
        co_return Ok{};
    if (m_connecting) {
        Waiter waiter;
        m_connectWaiters->add(&waiter);
        co_await qCoro(&waiter, &Waiter::fired,
                       std::chrono::milliseconds(2 * m_endpoint.timeoutMs));
        if (!self)
            co_return makeError(ErrorCode::Unavailable,
                                QStringLiteral("the Redis store was closed"));
        if (m_ready)
            co_return Ok{};
        co_return unavailable(m_lastError);
    }
    if (m_backoffMs > 0 && m_sinceFailure.elapsed() < m_backoffMs)
        co_return unavailable(m_lastError + QStringLiteral(" (reconnecting)"));

    m_connecting = true;
    const Status connected = co_await connectNow();
    if (!self)
        co_return connected;
    m_connecting = false;
    if (connected) {
        if (m_backoffMs > 0)
            qCInfo(lcStore) << "reconnected to Redis at" << where() << "(" << m_name << ")";
        m_backoffMs = 0;
        m_ready = true;
    } else {
        if (m_backoffMs == 0)
            qCWarning(lcStore).noquote() << connected.error().message << "(" << m_name << ")";
        m_backoffMs = std::clamp(m_backoffMs * 2, 100, 5000);
        m_sinceFailure.start();
    }
    m_connectWaiters->fireAll();
    co_return connected;
}

QCoro::Task<Status> RedisConnection::connectNow()
{
    QPointer<RedisConnection> self(this);
    const auto timeout = std::chrono::milliseconds(m_endpoint.timeoutMs);
    QString ip = m_endpoint.host;
    if (QHostAddress(ip).isNull()) {
        // hiredis would resolve the name with a blocking getaddrinfo(): resolve it ourselves.
        Waiter waiter;
        std::optional<QHostInfo> info;
        QHostInfo::lookupHost(m_endpoint.host, &waiter, [&](const QHostInfo &i) {
            info = i;
            waiter.fire();
        });
        co_await qCoro(&waiter, &Waiter::fired, timeout);
        if (!self)
            co_return makeError(ErrorCode::Unavailable,
                                QStringLiteral("the Redis store was closed"));
        if (!info || info->error() != QHostInfo::NoError || info->addresses().isEmpty()) {
            m_lastError = QStringLiteral("cannot resolve host '%1'%2")
                              .arg(m_endpoint.host,
                                   info ? QStringLiteral(": ") + info->errorString() : QString());
            co_return unavailable(m_lastError);
        }
        ip = info->addresses().constFirst().toString();
    }

    redisAsyncContext *ac = redisAsyncConnect(ip.toUtf8().constData(), m_endpoint.port);
    if (!ac || ac->err) {
        m_lastError = ac ? QString::fromUtf8(ac->errstr) : QStringLiteral("out of memory");
        if (ac)
            redisAsyncFree(ac);
        co_return unavailable(m_lastError);
    }
    m_adapter = new RedisQtAdapter();
    m_adapter->setContext(ac);
    ac->data = this;
    redisAsyncSetConnectCallback(ac, &RedisConnection::onConnect);
    redisAsyncSetDisconnectCallback(ac, &RedisConnection::onDisconnect);
    m_ctx = ac;

    // hiredis connects when the first command is written: the greeting is that command.
    QList<QList<QByteArray>> greeting;
    if (!m_endpoint.password.isEmpty()) {
        QList<QByteArray> auth{QByteArrayLiteral("AUTH")};
        if (!m_endpoint.user.isEmpty())
            auth.append(m_endpoint.user.toUtf8());
        auth.append(m_endpoint.password.toUtf8());
        greeting.append(auth);
    }
    if (m_endpoint.db != 0)
        greeting.append({QByteArrayLiteral("SELECT"), QByteArray::number(m_endpoint.db)});
    greeting.append({QByteArrayLiteral("PING")});
    for (const QList<QByteArray> &cmd : std::as_const(greeting)) {
        const auto reply = co_await send(cmd);
        if (!self)
            co_return makeError(ErrorCode::Unavailable,
                                QStringLiteral("the Redis store was closed"));
        if (!reply)
            co_return unavailable(m_lastError.isEmpty() ? reply.error().message : m_lastError);
        if (reply->isError()) {
            // Never echo the command: it may hold the password.
            const QString what = cmd.constFirst() == "AUTH"     ? QStringLiteral("the login")
                                 : cmd.constFirst() == "SELECT" ? QStringLiteral("the database")
                                                                : QStringLiteral("PING");
            const QString why = QStringLiteral("it refused %1: %2").arg(what, reply->text());
            drop(why);
            co_return unavailable(why);
        }
    }

    if (!m_channels.isEmpty()) {
        std::vector<const char *> argv;
        std::vector<size_t> lens;
        argv.push_back("SUBSCRIBE");
        lens.push_back(9);
        for (const QByteArray &channel : std::as_const(m_channels)) {
            argv.push_back(channel.constData());
            lens.push_back(size_t(channel.size()));
        }
        Waiter subscribed;
        m_subscribed = &subscribed;
        if (redisAsyncCommandArgv(m_ctx, &RedisConnection::onSubscriptionReply, this,
                                  int(argv.size()), argv.data(), lens.data()) != REDIS_OK) {
            drop(QStringLiteral("cannot subscribe"));
            co_return unavailable(m_lastError);
        }
        const auto confirmed = co_await qCoro(&subscribed, &Waiter::fired, timeout);
        if (!self)
            co_return makeError(ErrorCode::Unavailable,
                                QStringLiteral("the Redis store was closed"));
        if (!confirmed || !m_ctx) {
            drop(QStringLiteral("no answer to SUBSCRIBE"));
            co_return unavailable(m_lastError);
        }
    }
    m_lastError.clear();
    co_return Ok{};
}

QCoro::Task<Result<RedisReply>> RedisConnection::send(QList<QByteArray> args)
{
    if (!m_ctx)
        co_return unavailable(m_lastError.isEmpty() ? QStringLiteral("not connected")
                                                    : m_lastError);
    std::vector<const char *> argv;
    std::vector<size_t> lens;
    argv.reserve(size_t(args.size()));
    lens.reserve(size_t(args.size()));
    for (const QByteArray &a : std::as_const(args)) {
        argv.push_back(a.constData());
        lens.push_back(size_t(a.size()));
    }
    auto pending = std::make_shared<Pending>();
    Waiter waiter;
    pending->waiter = &waiter;
    auto *box = new std::shared_ptr<Pending>(pending);
    if (redisAsyncCommandArgv(m_ctx, &RedisConnection::onReply, box, int(argv.size()), argv.data(),
                              lens.data()) != REDIS_OK) {
        delete box;
        co_return unavailable(QStringLiteral("the connection is closing"));
    }
    QPointer<RedisConnection> self(this);
    co_await qCoro(&waiter, &Waiter::fired, std::chrono::milliseconds(m_endpoint.timeoutMs));
    if (pending->result)
        co_return std::move(*pending->result);
    // No reply in time: Redis hangs or the network does. Start over on a fresh connection.
    const QString why = QStringLiteral("no reply within %1 ms").arg(m_endpoint.timeoutMs);
    if (self)
        drop(why);
    co_return unavailable(why);
}

void RedisConnection::onReply(redisAsyncContext *ac, void *reply, void *privdata)
{
    Q_UNUSED(ac);
    auto *box = static_cast<std::shared_ptr<Pending> *>(privdata);
    const std::shared_ptr<Pending> pending = std::move(*box);
    delete box;
    if (reply) {
        pending->result = copyReply(static_cast<redisReply *>(reply));
    } else {
        pending->result = Result<RedisReply>(
            makeError(ErrorCode::Unavailable, QStringLiteral("the connection to Redis was lost")));
    }
    // Resume the awaiting coroutine from the event loop, not from inside hiredis.
    if (pending->waiter)
        QMetaObject::invokeMethod(pending->waiter.data(), &Waiter::fire, Qt::QueuedConnection);
}

void RedisConnection::onSubscriptionReply(redisAsyncContext *ac, void *reply, void *privdata)
{
    Q_UNUSED(ac);
    const auto *r = static_cast<redisReply *>(reply);
    if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 3 || !r->element[0]->str)
        return;
    auto *self = static_cast<RedisConnection *>(privdata);
    if (std::strcmp(r->element[0]->str, "subscribe") == 0) {
        if (r->element[2]->integer == self->m_channels.size() && self->m_subscribed)
            QMetaObject::invokeMethod(self->m_subscribed.data(), &Waiter::fire,
                                      Qt::QueuedConnection);
        return;
    }
    if (std::strcmp(r->element[0]->str, "message") != 0)
        return;
    const RedisReply copy = copyReply(r);
    QMetaObject::invokeMethod(
        self,
        [self, channel = copy.elements.at(1).string, payload = copy.elements.at(2).string] {
            Q_EMIT self->message(channel, payload);
        },
        Qt::QueuedConnection);
}

void RedisConnection::onConnect(const redisAsyncContext *ac, int status)
{
    auto *self = static_cast<RedisConnection *>(ac->data);
    if (status != REDIS_OK && self) // hiredis frees the context right after this callback
        self->lost(QString::fromUtf8(ac->errstr));
}

void RedisConnection::onDisconnect(const redisAsyncContext *ac, int status)
{
    auto *self = static_cast<RedisConnection *>(ac->data);
    if (!self)
        return; // we freed it ourselves
    const QString reason = status == REDIS_OK || !ac->errstr
                               ? QStringLiteral("the connection was closed")
                               : QString::fromUtf8(ac->errstr);
    self->lost(reason);
}

void RedisConnection::lost(const QString &reason)
{
    // Inside a hiredis callback: the context is about to be freed by hiredis itself.
    const bool wasReady = m_ready;
    m_ctx->data = nullptr;
    releaseAdapter();
    m_ctx = nullptr;
    m_ready = false;
    m_lastError = reason;
    if (wasReady) {
        qCWarning(lcStore) << "lost the connection to Redis at" << where() << "(" << m_name
                           << "):" << reason;
        QMetaObject::invokeMethod(
            this, [this, reason] { Q_EMIT connectionLost(reason); }, Qt::QueuedConnection);
    }
}

void RedisConnection::drop(const QString &reason)
{
    if (!m_ctx)
        return;
    redisAsyncContext *ac = m_ctx;
    const bool wasReady = m_ready;
    ac->data = nullptr;
    releaseAdapter();
    m_ctx = nullptr;
    m_ready = false;
    m_lastError = reason;
    redisAsyncFree(ac); // runs the callbacks of commands still waiting, with no reply
    if (wasReady) {
        QMetaObject::invokeMethod(
            this, [this, reason] { Q_EMIT connectionLost(reason); }, Qt::QueuedConnection);
    }
}

void RedisConnection::releaseAdapter()
{
    if (!m_adapter)
        return;
    // Stop the socket notifiers and unhook the adapter, so hiredis calls nothing of it again.
    if (m_ctx->ev.cleanup && m_ctx->ev.data)
        m_ctx->ev.cleanup(m_ctx->ev.data);
    std::memset(&m_ctx->ev, 0, sizeof(m_ctx->ev));
    // The adapter's destructor writes into the context it was given; hiredis may free ours before
    // the adapter goes (and we may be inside the adapter's own slot), so park it on a context of
    // its own that lives exactly as long as it does.
    auto parked = std::make_shared<redisAsyncContext>();
    std::memset(parked.get(), 0, sizeof(redisAsyncContext));
    m_adapter->setContext(parked.get());
    connect(m_adapter, &QObject::destroyed, [parked] {});
    m_adapter->deleteLater();
    m_adapter = nullptr;
}

} // namespace holdfast
