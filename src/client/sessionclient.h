#pragma once

#include "core/error.h"
#include "core/parameters.h"
#include "core/provider.h"
#include "core/tools.h"
#include "core/types.h"

#include <QCoroTask>
#include <QObject>

namespace holdfast {

// What the window talks to: the session service of shared/API.md, in this process
// (LocalClient) or on another machine (RemoteClient). Every call is asynchronous.
class SessionClient : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(SessionClient)
public:
    explicit SessionClient(QObject *parent = nullptr) : QObject(parent) {}
    ~SessionClient() override = default;

    // Where the sessions live, for the window's title and status bar.
    virtual QString description() const = 0;
    virtual bool isOnline() const { return true; }

    virtual QCoro::Task<Result<SessionPage>> listSessions(QString query, int limit, int offset) = 0;
    virtual QCoro::Task<Result<SessionSnapshot>> createSession(CreateSessionParams params) = 0;
    virtual QCoro::Task<Result<SessionSnapshot>> session(QString sid, int window) = 0;
    virtual QCoro::Task<Result<SessionSnapshot>> patchSession(QString sid,
                                                              PatchSessionParams params) = 0;
    virtual QCoro::Task<Status> deleteSession(QString sid) = 0;
    // The newest `limit` messages of the active branch below index `before` (before < 0: the
    // newest); on a session nobody branched, the indexes [max(0, before - limit), before).
    virtual QCoro::Task<Result<MessagePage>> messages(QString sid, qint64 before, int limit) = 0;
    virtual QCoro::Task<Result<TurnRecord>> startTurn(QString sid, StartTurnParams params) = 0;
    virtual QCoro::Task<Result<TurnRecord>> turn(QString sid, int tid) = 0;
    // The chunks stored so far with seq >= from (one page), without waiting.
    virtual QCoro::Task<Result<ChunkPage>> chunks(QString sid, int tid, int from) = 0;
    virtual QCoro::Task<Result<TurnRecord>> cancelTurn(QString sid, int tid) = 0;
    virtual QCoro::Task<Result<QList<ModelInfo>>> models() = 0;
    // Attachments (shared/API.md, Attachments): one upload, and one file's bytes.
    virtual QCoro::Task<Result<Attachment>> uploadAttachment(QString sid, UploadParams params) = 0;
    virtual QCoro::Task<Result<QByteArray>> attachmentBytes(QString sid, QString aid) = 0;
    // Tools (shared/API.md, Tools (MCP)): GET /v1/tools, and the answer to a call that waits.
    virtual QCoro::Task<Result<ToolList>> tools() = 0;
    virtual QCoro::Task<Result<TurnRecord>> answerToolCall(QString sid, int tid, QString cid,
                                                           bool approve) = 0;

    // Makes sure chunkReady, toolStepReady, turnStateChanged and turnFinished are emitted for this
    // turn from `fromSeq` on (the remote client opens its event stream and reads the turn after
    // each tool step, as the stream carries no state; the local one hears every turn anyway).
    virtual void watchTurn(const QString &sid, int tid, int fromSeq) = 0;

Q_SIGNALS:
    void sessionChanged(const holdfast::SessionMeta &meta);
    void sessionDeleted(const QString &sid);
    void turnStarted(const holdfast::TurnRecord &turn);
    void chunkReady(const QString &sid, int tid, int seq, const QString &text);
    // A tool call or its result, in seq order with chunkReady's text chunks.
    void toolStepReady(const QString &sid, int tid, const holdfast::Chunk &chunk);
    // A running turn went from streaming to waiting (a tool call waits for approval) or back.
    void turnStateChanged(const holdfast::TurnRecord &turn);
    void turnFinished(const holdfast::TurnRecord &turn);
    // The remote service became unreachable (online false, with why) or reachable again.
    void connectionChanged(bool online, const QString &message);
};

} // namespace holdfast
