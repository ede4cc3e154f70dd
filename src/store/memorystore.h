#pragma once

#include "core/store.h"

#include <QHash>
#include <QMap>
#include <QSet>

namespace holdfast {

// Keeps everything in this process: for tests and throwaway runs ("memory:").
class MemoryStore final : public Store
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(MemoryStore)
public:
    explicit MemoryStore(QObject *parent = nullptr);

    QCoro::Task<Status> open() override;
    QString describe() const override { return QStringLiteral("memory:"); }

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
    struct Data
    {
        SessionMeta meta;
        QList<Message> messages; // by index
        // Each message's children (key -1: the first messages), ascending: the siblings of a
        // message are its parent's children, and latestLeaf follows the last child.
        QHash<qint64, QList<qint64>> children;
        QMap<int, TurnRecord> turns;
        QHash<int, QList<Chunk>> chunks;
        QHash<QString, Attachment> attachments;
        QHash<QString, QByteArray> attachmentBytes;
        QSet<QString> linked; // attachments some message links
    };
    // Stores a new message (or replaces one, as a retried final save does) and links it.
    static void put(Data &d, const Message &m);
    static Message withSiblings(const Data &d, Message m);
    // Fills a message's attachments from the session's (a prompt links them by id).
    static Message withAttachments(const Data &d, Message m);

    QHash<QString, Data> m_sessions;
};

} // namespace holdfast
