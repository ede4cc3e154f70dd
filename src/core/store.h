#pragma once

#include "core/error.h"
#include "core/types.h"

#include <QCoroTask>
#include <QObject>

#include <memory>
#include <optional>

namespace holdfast {

// Where sessions live. Every call is asynchronous and never blocks the calling thread for I/O;
// every write is one transaction. Implementations: MemoryStore, SqliteStore, RedisStore.
class Store : public QObject
{
    Q_OBJECT
public:
    explicit Store(QObject *parent = nullptr) : QObject(parent) {}
    ~Store() override = default;

    // Makes the store usable: creates or migrates the schema. Refuses data from a newer Holdfast.
    virtual QCoro::Task<Status> open() = 0;
    virtual QString describe() const = 0; // e.g. "sqlite:/path/holdfast.db", never a password

    // Sessions.
    virtual QCoro::Task<Status> createSession(SessionMeta meta) = 0; // Conflict if the id exists
    virtual QCoro::Task<Result<std::optional<SessionMeta>>> loadSession(QString id) = 0;
    // Saves what a PATCH owns, and head/length (a branch switch). A shared store (Redis) moves
    // head only when no turn is active and nothing was appended since `meta` was read: else
    // Conflict, so that instances agree on head (shared/API.md: PATCH head during a turn is 409).
    virtual QCoro::Task<Status> saveSessionMeta(SessionMeta meta) = 0;
    virtual QCoro::Task<Status> deleteSession(QString id) = 0;
    // Newest updated_at first; `query` (may be empty) matches title or message text, any case.
    virtual QCoro::Task<Result<SessionPage>> listSessions(QString query, int limit, int offset) = 0;
    // Messages with index in [from, to), oldest first, siblings filled.
    virtual QCoro::Task<Result<QList<Message>>> loadMessages(QString id, qint64 from,
                                                             qint64 to) = 0;

    // The branch: up to `limit` messages on the path that ends at message `last` (included),
    // following parent links towards the first message; returned oldest first, siblings filled.
    // O(limit) whatever the size of the history and the number of branches. `last` unknown: [].
    virtual QCoro::Task<Result<QList<Message>>> loadBranch(QString id, qint64 last, int limit) = 0;
    // From message `from`, the child with the highest index, again and again, until a message
    // without children: its index (`from` itself when it has none). NotFound if `from` is unknown.
    virtual QCoro::Task<Result<qint64>> latestLeaf(QString id, qint64 from) = 0;

    // Turns. beginTurn stores the user message (none when the turn regenerates an answer), the new
    // turn and the session's metadata (with its new head) at once.
    virtual QCoro::Task<Status> beginTurn(SessionMeta meta, std::optional<Message> prompt,
                                          TurnRecord turn) = 0;
    // Stores chunks (consecutive seqs) and the turn's chunk count; the batch that holds seq 0 also
    // stores the turn's first_chunk_at (the time of that write). A tool step's call or result
    // (Chunk::toolCall / toolResult, ToolResult::approved included) is stored with its chunk and
    // loaded back as it was; an answer's Message::toolCalls likewise with its message.
    virtual QCoro::Task<Status> appendChunks(QString sid, int tid, QList<Chunk> chunks) = 0;
    // Stores the answer (if any), the ended turn and the session's metadata (head on the answer)
    // at once: a crash never leaves head on a message that does not exist.
    virtual QCoro::Task<Status> finishTurn(SessionMeta meta, std::optional<Message> answer,
                                           TurnRecord turn) = 0;
    // Stores a running turn's state (Streaming <-> Waiting, shared/API.md, Tools (MCP)) so that
    // every instance reads it; a turn that has ended is left as it is (Ok). `state` must be one
    // of a turn not ended (an end is stored by finishTurn); NotFound if the turn is unknown.
    virtual QCoro::Task<Status> saveTurnState(QString sid, int tid, TurnRecord::State state) = 0;
    virtual QCoro::Task<Result<std::optional<TurnRecord>>> loadTurn(QString sid, int tid) = 0;
    // Up to `limit` chunks with seq >= from, in order.
    virtual QCoro::Task<Result<QList<Chunk>>> loadChunks(QString sid, int tid, int from,
                                                         int limit) = 0;
    // Turns still queued, streaming or waiting (left so by a crash when read at start-up).
    virtual QCoro::Task<Result<QList<TurnRecord>>> unfinishedTurns() = 0;

    // Attachments (shared/API.md, Attachments). putAttachment stores one upload of session `sid`
    // durably (bytes written once, kept apart from the metadata); NotFound if the session does not
    // exist, Conflict if the id does. beginTurn links a prompt's Message::attachments (ids of
    // this session's attachments, in order; an unknown id is NotFound and nothing is stored);
    // loads of messages fill their metadata and never read bytes. deleteSession deletes them with
    // everything else. The loads of an unknown session or attachment give nullopt.
    virtual QCoro::Task<Status> putAttachment(QString sid, Attachment meta, QByteArray bytes) = 0;
    virtual QCoro::Task<Result<std::optional<Attachment>>> loadAttachment(QString sid,
                                                                          QString aid) = 0;
    virtual QCoro::Task<Result<std::optional<QByteArray>>> loadAttachmentBytes(QString sid,
                                                                               QString aid) = 0;
    // Deletes the attachments (of every session) uploaded before `olderThan` that no message
    // links: uploads nobody sent. Returns how many it deleted.
    virtual QCoro::Task<Result<qint64>> deleteUnlinkedAttachments(QDateTime olderThan) = 0;

    // Several instances share this store (Redis): state written by others must be re-read.
    virtual bool isShared() const { return false; }
    // Asks whichever instance runs the turn to cancel it (shared stores; others run no turn
    // elsewhere, so there is nothing to ask).
    virtual QCoro::Task<Status> requestCancel(QString sid, int tid)
    {
        Q_UNUSED(sid);
        Q_UNUSED(tid);
        co_return Ok{};
    }

    // Passes the user's answer to a tool call that waits for approval to whichever instance runs
    // the turn (shared stores; others run no turn elsewhere).
    virtual QCoro::Task<Status> requestToolDecision(QString sid, int tid, QString cid, bool approve)
    {
        Q_UNUSED(sid);
        Q_UNUSED(tid);
        Q_UNUSED(cid);
        Q_UNUSED(approve);
        co_return Ok{};
    }

    // Rows (or keys) written since the store was created: lets tests prove saves are incremental.
    quint64 rowsWritten() const { return m_rowsWritten.load(); }

Q_SIGNALS:
    // Another instance asked to cancel a turn this instance may be running (shared stores).
    void cancelRequested(const QString &sid, int tid);
    // Another instance passed on the answer to a tool call (shared stores).
    void toolDecisionRequested(const QString &sid, int tid, const QString &cid, bool approve);
    // Chunks or the state of a turn changed, maybe written by another instance (shared stores).
    void turnUpdated(const QString &sid, int tid);

protected:
    void countRows(quint64 n) { m_rowsWritten += n; }
    // saveTurnState's check: an end is stored by finishTurn only (with the answer), never alone.
    static Status checkRunningState(TurnRecord::State state)
    {
        TurnRecord probe;
        probe.state = state;
        if (!probe.ended())
            return Ok{};
        return makeError(
            ErrorCode::Internal,
            QStringLiteral("saveTurnState cannot end a turn (state %1)").arg(turnStateName(state)));
    }

private:
    std::atomic<quint64> m_rowsWritten{0};
};

// Builds a store from its spec: "memory:", "sqlite:PATH", "redis://HOST:PORT/DB".
Result<std::unique_ptr<Store>> createStore(const QString &spec);

} // namespace holdfast
