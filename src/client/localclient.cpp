#include "client/localclient.h"

#include "core/sessionservice.h"

namespace holdfast {

LocalClient::LocalClient(SessionService *service, QObject *parent)
    : SessionClient(parent), m_service(service)
{
    connect(service, &SessionService::sessionChanged, this, &SessionClient::sessionChanged);
    connect(service, &SessionService::sessionDeleted, this, &SessionClient::sessionDeleted);
    connect(service, &SessionService::turnStarted, this, &SessionClient::turnStarted);
    connect(service, &SessionService::chunkReady, this, &SessionClient::chunkReady);
    connect(service, &SessionService::toolStepReady, this, &SessionClient::toolStepReady);
    connect(service, &SessionService::turnStateChanged, this, &SessionClient::turnStateChanged);
    connect(service, &SessionService::turnFinished, this, &SessionClient::turnFinished);
}

QString LocalClient::description() const
{
    return tr("this computer");
}

Error LocalClient::gone() const
{
    return makeError(ErrorCode::Unavailable, tr("the service has stopped"));
}

// Each call keeps its own QPointer: the service may be destroyed while a call awaits.
QCoro::Task<Result<SessionPage>> LocalClient::listSessions(QString query, int limit, int offset)
{
    if (!m_service)
        co_return gone();
    co_return co_await m_service->listSessions(query, limit, offset);
}

QCoro::Task<Result<SessionSnapshot>> LocalClient::createSession(CreateSessionParams params)
{
    if (!m_service)
        co_return gone();
    co_return co_await m_service->createSession(std::move(params));
}

QCoro::Task<Result<SessionSnapshot>> LocalClient::session(QString sid, int window)
{
    if (!m_service)
        co_return gone();
    co_return co_await m_service->session(sid, window);
}

QCoro::Task<Result<SessionSnapshot>> LocalClient::patchSession(QString sid,
                                                               PatchSessionParams params)
{
    if (!m_service)
        co_return gone();
    co_return co_await m_service->patchSession(sid, std::move(params));
}

QCoro::Task<Status> LocalClient::deleteSession(QString sid)
{
    if (!m_service)
        co_return gone();
    co_return co_await m_service->deleteSession(sid);
}

QCoro::Task<Result<MessagePage>> LocalClient::messages(QString sid, qint64 before, int limit)
{
    if (!m_service)
        co_return gone();
    co_return co_await m_service->messages(sid, before, limit);
}

QCoro::Task<Result<TurnRecord>> LocalClient::startTurn(QString sid, StartTurnParams params)
{
    if (!m_service)
        co_return gone();
    co_return co_await m_service->startTurn(sid, std::move(params));
}

QCoro::Task<Result<TurnRecord>> LocalClient::turn(QString sid, int tid)
{
    if (!m_service)
        co_return gone();
    co_return co_await m_service->turn(sid, tid);
}

QCoro::Task<Result<ChunkPage>> LocalClient::chunks(QString sid, int tid, int from)
{
    if (!m_service)
        co_return gone();
    co_return co_await m_service->chunks(sid, tid, from, 0);
}

QCoro::Task<Result<TurnRecord>> LocalClient::cancelTurn(QString sid, int tid)
{
    if (!m_service)
        co_return gone();
    co_return co_await m_service->cancelTurn(sid, tid);
}

QCoro::Task<Result<QList<ModelInfo>>> LocalClient::models()
{
    if (!m_service)
        co_return gone();
    co_return co_await m_service->models();
}

QCoro::Task<Result<Attachment>> LocalClient::uploadAttachment(QString sid, UploadParams params)
{
    if (!m_service)
        co_return gone();
    co_return co_await m_service->uploadAttachment(std::move(sid), std::move(params));
}

QCoro::Task<Result<QByteArray>> LocalClient::attachmentBytes(QString sid, QString aid)
{
    if (!m_service)
        co_return gone();
    auto content = co_await m_service->attachment(std::move(sid), std::move(aid));
    if (!content)
        co_return content.error();
    co_return std::move(content->bytes);
}

QCoro::Task<Result<ToolList>> LocalClient::tools()
{
    if (!m_service)
        co_return gone();
    co_return m_service->tools();
}

QCoro::Task<Result<TurnRecord>> LocalClient::answerToolCall(QString sid, int tid, QString cid,
                                                            bool approve)
{
    if (!m_service)
        co_return gone();
    co_return co_await m_service->answerToolCall(std::move(sid), tid, std::move(cid), approve);
}

} // namespace holdfast
