#pragma once

#include "core/store.h"

namespace holdfast {

// SQLite store (WAL). All I/O runs on a worker thread; callers await the results.
class SqliteStore final : public Store
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(SqliteStore)
public:
    explicit SqliteStore(QString path, QObject *parent = nullptr);
    ~SqliteStore() override;

    static constexpr int kSchemaVersion = 1;

    QCoro::Task<Status> open() override;
    QString describe() const override { return QStringLiteral("sqlite:") + m_path; }

    QCoro::Task<Status> createSession(SessionMeta meta) override;
    QCoro::Task<Result<std::optional<SessionMeta>>> loadSession(QString id) override;
    QCoro::Task<Status> saveSessionMeta(SessionMeta meta) override;
    QCoro::Task<Status> deleteSession(QString id) override;
    QCoro::Task<Result<SessionPage>> listSessions(QString query, int limit, int offset) override;
    QCoro::Task<Result<QList<Message>>> loadMessages(QString id, qint64 from, qint64 to) override;

    QCoro::Task<Status> beginTurn(SessionMeta meta, Message prompt, TurnRecord turn) override;
    QCoro::Task<Status> appendChunks(QString sid, int tid, QList<Chunk> chunks) override;
    QCoro::Task<Status> finishTurn(SessionMeta meta, std::optional<Message> answer,
                                   TurnRecord turn) override;
    QCoro::Task<Result<std::optional<TurnRecord>>> loadTurn(QString sid, int tid) override;
    QCoro::Task<Result<QList<Chunk>>> loadChunks(QString sid, int tid, int from,
                                                 int limit) override;
    QCoro::Task<Result<QList<TurnRecord>>> unfinishedTurns() override;

private:
    QString m_path;
};

} // namespace holdfast
