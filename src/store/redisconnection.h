#pragma once

#include "core/error.h"
#include "runtime/waiter.h"

#include <QByteArray>
#include <QCoroTask>
#include <QElapsedTimer>
#include <QList>
#include <QObject>
#include <QPointer>
#include <QString>

#include <memory>

struct redisAsyncContext;
class RedisQtAdapter;

namespace holdfast {

// One reply of Redis, copied out of hiredis' reply tree (which hiredis frees after the callback).
struct RedisReply
{
    enum class Type { Nil, Status, Error, Integer, String, Array };

    Type type = Type::Nil;
    qint64 integer = 0;
    QByteArray string; // String, Status and Error
    QList<RedisReply> elements;

    bool isNil() const { return type == Type::Nil; }
    bool isError() const { return type == Type::Error; }
    QString text() const { return QString::fromUtf8(string); }
    qint64 toInt() const { return type == Type::Integer ? integer : string.toLongLong(); }
};

struct RedisEndpoint
{
    QString host = QStringLiteral("127.0.0.1");
    quint16 port = 6379;
    QString user;     // Redis 6 ACL user; empty: the default user
    QString password; // empty: no AUTH
    int db = 0;
    int timeoutMs = 5000; // connecting, and each command
};

// One connection to Redis on hiredis' async API, driven by the Qt event loop through hiredis'
// RedisQtAdapter: nothing here blocks the calling thread. It connects on first use, reconnects
// with backoff after Redis is lost, and fails calls meanwhile with `unavailable`.
// A connection given channels (setSubscriptions) is a subscriber and sends nothing else.
class RedisConnection final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(RedisConnection)
public:
    RedisConnection(RedisEndpoint endpoint, QString name, QObject *parent = nullptr);
    ~RedisConnection() override;

    // Sends one command and waits for its reply. An error reply of Redis is a reply, not an
    // Error; a lost or unreachable Redis, or no reply within the timeout, is `unavailable`.
    QCoro::Task<Result<RedisReply>> command(QList<QByteArray> args);
    // Connects now unless connected (or within the backoff after a failed attempt).
    QCoro::Task<Status> ensureConnected();
    bool isConnected() const { return m_ready; }

    // Makes this a subscriber of `channels`, subscribed again after every reconnect.
    void setSubscriptions(QList<QByteArray> channels) { m_channels = std::move(channels); }

    QString where() const;

Q_SIGNALS:
    void message(const QByteArray &channel, const QByteArray &payload);
    void connectionLost(const QString &reason);

private:
    struct Pending;
    static void onConnect(const redisAsyncContext *ac, int status);
    static void onDisconnect(const redisAsyncContext *ac, int status);
    static void onReply(redisAsyncContext *ac, void *reply, void *privdata);
    static void onSubscriptionReply(redisAsyncContext *ac, void *reply, void *privdata);

    QCoro::Task<Status> connectNow();
    QCoro::Task<Result<RedisReply>> send(QList<QByteArray> args);
    void releaseAdapter();
    void lost(const QString &reason); // the context is gone (or going): forget it
    void drop(const QString &reason); // frees the context ourselves
    Error unavailable(const QString &why) const;

    RedisEndpoint m_endpoint;
    QString m_name;
    redisAsyncContext *m_ctx = nullptr;
    RedisQtAdapter *m_adapter = nullptr;
    bool m_ready = false;
    bool m_connecting = false;
    std::unique_ptr<WaiterList> m_connectWaiters;
    QString m_lastError;
    QElapsedTimer m_sinceFailure;
    int m_backoffMs = 0; // 0: no failure since the last success
    QList<QByteArray> m_channels;
    QPointer<Waiter> m_subscribed; // fired when every channel is subscribed
};

} // namespace holdfast
