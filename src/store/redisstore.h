#pragma once

#include "core/store.h"
#include "store/redisconnection.h"

#include <QPair>
#include <QSet>
#include <QTimer>

namespace holdfast {

// Redis store for several headless instances sharing sessions (hiredis on the Qt event loop).
// Keys: hf:schema, hf:sessions (sorted set: every session, newest first), hf:unfinished (set of
// "SID/T" for turns not ended) and per session, with the braces keeping a session in one cluster
// slot: hf:{SID}:sess (hash), hf:{SID}:msg:N (JSON), hf:{SID}:kids:N (sorted set: message N's
// children, N = -1 the first messages; redisscripts.h tells the tree), hf:{SID}:turn:T (hash),
// hf:{SID}:chunks:T (stream, entry id "SEQ-1", fields t: the text, and tool: a tool step's JSON,
// only on one), hf:{SID}:lease:T (the running instance's id, with a TTL it keeps renewing),
// hf:{SID}:cancel:T (a cancel request), hf:{SID}:decide:T (answers to tool calls, hash of call id
// -> "1"/"0", until the running instance takes them), hf:{SID}:att:AID (an attachment's metadata,
// hash), hf:{SID}:attbytes:AID (its bytes), hf:{SID}:atts (set of its attachment ids) and
// hf:unlinked (sorted set of "SID/AID": uploads no message links yet, by time); a message's JSON
// holds a copy of its attachments' metadata, and an answer's its tool calls. Every multi-key write
// is one Lua script, which Redis runs atomically. Chunks and turn states, cancel requests and
// answers to tool calls are announced on the pub/sub channels hf:turns:DB, hf:cancel:DB and
// hf:tools:DB (message "SID/T").
class RedisStore final : public Store
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(RedisStore)
public:
    static constexpr int kSchemaVersion = 1;

    struct Options
    {
        RedisEndpoint endpoint;
        int leaseMs = 10000; // a turn whose lease is not renewed for this long was cut off
    };

    explicit RedisStore(Options options, QObject *parent = nullptr);
    ~RedisStore() override;

    // "redis://[[USER]:PASSWORD@]HOST[:PORT][/DB][?lease_ms=N&timeout_ms=N]"
    static Result<Options> parseUrl(const QString &url);
    static Result<std::unique_ptr<Store>> fromUrl(const QString &url);

    QCoro::Task<Status> open() override;
    QString describe() const override; // never the password

    QCoro::Task<Status> createSession(SessionMeta meta) override;
    QCoro::Task<Result<std::optional<SessionMeta>>> loadSession(QString id) override;
    QCoro::Task<Status> saveSessionMeta(SessionMeta meta) override;
    QCoro::Task<Status> deleteSession(QString id) override;
    QCoro::Task<Result<SessionPage>> listSessions(QString query, int limit, int offset) override;
    QCoro::Task<Result<QList<Message>>> loadMessages(QString id, qint64 from, qint64 to) override;
    QCoro::Task<Result<QList<Message>>> loadBranch(QString id, qint64 last, int limit) override;
    QCoro::Task<Result<qint64>> latestLeaf(QString id, qint64 from) override;

    QCoro::Task<Status> beginTurn(SessionMeta meta, std::optional<Message> prompt,
                                  TurnRecord turn) override;
    QCoro::Task<Status> appendChunks(QString sid, int tid, QList<Chunk> chunks) override;
    QCoro::Task<Status> finishTurn(SessionMeta meta, std::optional<Message> answer,
                                   TurnRecord turn) override;
    QCoro::Task<Status> saveTurnState(QString sid, int tid, TurnRecord::State state) override;
    QCoro::Task<Result<std::optional<TurnRecord>>> loadTurn(QString sid, int tid) override;
    QCoro::Task<Result<QList<Chunk>>> loadChunks(QString sid, int tid, int from,
                                                 int limit) override;
    // Turns not ended whose lease expired: their instance is gone. Turns that a live instance
    // runs (this one included) are not listed.
    QCoro::Task<Result<QList<TurnRecord>>> unfinishedTurns() override;
    QCoro::Task<Status> putAttachment(QString sid, Attachment meta, QByteArray bytes) override;
    QCoro::Task<Result<std::optional<Attachment>>> loadAttachment(QString sid,
                                                                  QString aid) override;
    QCoro::Task<Result<std::optional<QByteArray>>> loadAttachmentBytes(QString sid,
                                                                       QString aid) override;
    QCoro::Task<Result<qint64>> deleteUnlinkedAttachments(QDateTime olderThan) override;

    bool isShared() const override { return true; }
    QCoro::Task<Status> requestCancel(QString sid, int tid) override;
    // The instance that runs the turn takes the answer and emits toolDecisionRequested (once).
    QCoro::Task<Status> requestToolDecision(QString sid, int tid, QString cid,
                                            bool approve) override;

    const QString &instanceId() const { return m_instance; }
    const Options &options() const { return m_options; }

private:
    QCoro::Task<Result<RedisReply>> call(QList<QByteArray> args);
    QCoro::Task<Result<RedisReply>> eval(QByteArray script, QList<QByteArray> keys,
                                         QList<QByteArray> args);
    QCoro::Task<> renewLeases();
    // Takes the answers to tool calls waiting for turn `tid` (this instance runs it) and emits
    // them.
    QCoro::Task<> takeToolDecisions(QString sid, int tid);
    QCoro::Task<Result<QList<SessionMeta>>> sessionsAt(QList<QByteArray> ids);
    QCoro::Task<Result<bool>> messagesMatch(QString sid, qint64 total, QString query);
    void onMessage(const QByteArray &channel, const QByteArray &payload);

    Options m_options;
    QString m_instance;
    RedisConnection *m_commands;
    RedisConnection *m_events;
    QByteArray m_turnsChannel;
    QByteArray m_cancelChannel;
    QByteArray m_toolsChannel;
    QSet<QPair<QString, int>> m_owned; // turns this instance runs: their leases are renewed
    QTimer m_leaseTimer;
    QTimer m_reconnectTimer;
    bool m_opened = false;
    bool m_renewing = false;
};

} // namespace holdfast
