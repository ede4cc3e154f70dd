#pragma once

#include "client/sessionclient.h"

#include <QPointer>

namespace holdfast {

class SessionService;

// The in-process service: direct calls, and its signals relayed as they are.
class LocalClient final : public SessionClient
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(LocalClient)
public:
    explicit LocalClient(SessionService *service, QObject *parent = nullptr);

    QString description() const override;

    QCoro::Task<Result<SessionPage>> listSessions(QString query, int limit, int offset) override;
    QCoro::Task<Result<SessionSnapshot>> createSession(CreateSessionParams params) override;
    QCoro::Task<Result<SessionSnapshot>> session(QString sid, int window) override;
    QCoro::Task<Result<SessionSnapshot>> patchSession(QString sid,
                                                      PatchSessionParams params) override;
    QCoro::Task<Status> deleteSession(QString sid) override;
    QCoro::Task<Result<MessagePage>> messages(QString sid, qint64 before, int limit) override;
    QCoro::Task<Result<TurnRecord>> startTurn(QString sid, StartTurnParams params) override;
    QCoro::Task<Result<TurnRecord>> turn(QString sid, int tid) override;
    QCoro::Task<Result<ChunkPage>> chunks(QString sid, int tid, int from) override;
    QCoro::Task<Result<TurnRecord>> cancelTurn(QString sid, int tid) override;
    QCoro::Task<Result<QList<ModelInfo>>> models() override;
    QCoro::Task<Result<Attachment>> uploadAttachment(QString sid, UploadParams params) override;
    QCoro::Task<Result<QByteArray>> attachmentBytes(QString sid, QString aid) override;
    QCoro::Task<Result<ToolList>> tools() override;
    QCoro::Task<Result<TurnRecord>> answerToolCall(QString sid, int tid, QString cid,
                                                   bool approve) override;
    void watchTurn(const QString &, int, int) override {}

private:
    Error gone() const;

    QPointer<SessionService> m_service;
};

} // namespace holdfast
