#pragma once

#include "core/store.h"

#include <memory>

namespace holdfast::test {

// A Store that passes every call to a real store, except that writes fail on command as a full
// disk or a read-only file would make them fail (ErrorCode::Unavailable, with SQLite's wording).
// Reads always go through (and message reads are counted). For tests only.
class FaultyStore final : public Store
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(FaultyStore)
public:
    enum class Fault { None, DiskFull, ReadOnly };

    explicit FaultyStore(std::unique_ptr<Store> inner, QObject *parent = nullptr);
    ~FaultyStore() override;

    void setFault(Fault fault) { m_fault = fault; }
    // The next `count` finishTurn calls fail as on a full disk (the turn's final save retries).
    void failFinishTurns(int count) { m_finishFailures = count; }
    Fault fault() const { return m_fault; }
    int failedWrites() const { return m_failedWrites; }
    int messageLoads() const { return m_messageLoads; }
    Store *inner() const { return m_inner.get(); }

    QCoro::Task<Status> open() override;
    QString describe() const override;
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

private:
    // The error a write meets now, if any.
    std::optional<Error> writeFault(const char *what);

    std::unique_ptr<Store> m_inner;
    Fault m_fault = Fault::None;
    int m_failedWrites = 0;
    int m_messageLoads = 0;
    int m_finishFailures = 0;
};

} // namespace holdfast::test
