#pragma once

#include "core/store.h"
#include "runtime/handoff.h"

#include <QMutex>
#include <QThreadPool>

#include <functional>
#include <memory>

namespace holdfast {

// SQLite store (WAL, synchronous=NORMAL). Every statement runs on one worker thread that owns
// the connection; callers co_await the results and never block. Every write (sessions, turns,
// chunks) joins one FIFO queue; what queued up while the worker was busy is written in one
// transaction (group commit), each write in its own savepoint so that it fails alone.
//
// The schema carries its version in PRAGMA user_version: an older file is migrated forward in
// one transaction, a file from a newer Holdfast is refused with a clear message.
class SqliteStore final : public Store
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(SqliteStore)
public:
    explicit SqliteStore(QString path, QObject *parent = nullptr);
    ~SqliteStore() override;

    // The version of the files this build writes (sqliteschema.h tells each one).
    static constexpr int kSchemaVersion = 6;

    QCoro::Task<Status> open() override;
    QString describe() const override { return QStringLiteral("sqlite:") + m_path; }

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
    QCoro::Task<Result<QList<TurnRecord>>> unfinishedTurns() override;
    QCoro::Task<Status> putAttachment(QString sid, Attachment meta, QByteArray bytes) override;
    QCoro::Task<Result<std::optional<Attachment>>> loadAttachment(QString sid,
                                                                  QString aid) override;
    QCoro::Task<Result<std::optional<QByteArray>>> loadAttachmentBytes(QString sid,
                                                                       QString aid) override;
    QCoro::Task<Result<qint64>> deleteUnlinkedAttachments(QDateTime olderThan) override;

    // Group commit: how many transactions wrote, and how many writes they carried; the same
    // for the transactions that stored chunks and the chunk batches among their writes.
    quint64 writeTransactions() const { return m_writeTransactions.load(); }
    quint64 writes() const { return m_writes.load(); }
    quint64 chunkTransactions() const { return m_chunkTransactions.load(); }
    quint64 chunkBatches() const { return m_chunkBatches.load(); }

    class Connection; // sqliteconnection.h

private:
    struct PendingWrite;
    using WriteBody = std::function<Status(Connection &)>;

    // Reads: runs `work` on the worker thread with the open connection and returns its result.
    template <typename T, typename Work> Handoff::Result<std::optional<T>> run(Work work);
    // Writes: queues `body` (which must not open a transaction) for the next group commit.
    Handoff::Result<std::optional<Status>> write(WriteBody body, bool chunkBatch = false);
    void flushWrites();

    QString m_path;
    // Results come back to the caller's thread through this: one wake-up per finished batch.
    Handoff m_handoff;
    QThreadPool m_pool;
    std::unique_ptr<Connection> m_connection; // used on the worker thread only

    QMutex m_pendingMutex;
    QList<std::shared_ptr<PendingWrite>> m_pending;
    bool m_flushScheduled = false;
    std::atomic<quint64> m_writeTransactions{0};
    std::atomic<quint64> m_writes{0};
    std::atomic<quint64> m_chunkTransactions{0};
    std::atomic<quint64> m_chunkBatches{0};
};

} // namespace holdfast
