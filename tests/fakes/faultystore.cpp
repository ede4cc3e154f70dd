#include "fakes/faultystore.h"

namespace holdfast::test {

FaultyStore::FaultyStore(std::unique_ptr<Store> inner, QObject *parent)
    : Store(parent), m_inner(std::move(inner))
{
    connect(m_inner.get(), &Store::cancelRequested, this, &Store::cancelRequested);
    connect(m_inner.get(), &Store::turnUpdated, this, &Store::turnUpdated);
    connect(m_inner.get(), &Store::toolDecisionRequested, this, &Store::toolDecisionRequested);
}

FaultyStore::~FaultyStore() = default;

std::optional<Error> FaultyStore::writeFault(const char *what)
{
    switch (m_fault) {
    case Fault::None:
        return std::nullopt;
    case Fault::DiskFull:
        ++m_failedWrites;
        return makeError(ErrorCode::Unavailable,
                         QStringLiteral("%1: the disk is full").arg(QLatin1String(what)));
    case Fault::ReadOnly:
        ++m_failedWrites;
        return makeError(
            ErrorCode::Unavailable,
            QStringLiteral("%1: attempt to write a readonly database").arg(QLatin1String(what)));
    }
    return std::nullopt;
}

QCoro::Task<Status> FaultyStore::open()
{
    co_return co_await m_inner->open();
}

QString FaultyStore::describe() const
{
    return m_inner->describe();
}

QCoro::Task<Status> FaultyStore::createSession(SessionMeta meta)
{
    if (auto e = writeFault("create session"))
        co_return *e;
    co_return co_await m_inner->createSession(std::move(meta));
}

QCoro::Task<Result<std::optional<SessionMeta>>> FaultyStore::loadSession(QString id)
{
    co_return co_await m_inner->loadSession(std::move(id));
}

QCoro::Task<Status> FaultyStore::saveSessionMeta(SessionMeta meta)
{
    if (auto e = writeFault("save session"))
        co_return *e;
    co_return co_await m_inner->saveSessionMeta(std::move(meta));
}

QCoro::Task<Status> FaultyStore::deleteSession(QString id)
{
    if (auto e = writeFault("delete session"))
        co_return *e;
    co_return co_await m_inner->deleteSession(std::move(id));
}

QCoro::Task<Result<SessionPage>> FaultyStore::listSessions(QString query, int limit, int offset)
{
    co_return co_await m_inner->listSessions(std::move(query), limit, offset);
}

QCoro::Task<Result<QList<Message>>> FaultyStore::loadMessages(QString id, qint64 from, qint64 to)
{
    ++m_messageLoads;
    co_return co_await m_inner->loadMessages(std::move(id), from, to);
}

QCoro::Task<Result<QList<Message>>> FaultyStore::loadBranch(QString id, qint64 last, int limit)
{
    ++m_messageLoads;
    co_return co_await m_inner->loadBranch(std::move(id), last, limit);
}

QCoro::Task<Result<qint64>> FaultyStore::latestLeaf(QString id, qint64 from)
{
    co_return co_await m_inner->latestLeaf(std::move(id), from);
}

QCoro::Task<Status> FaultyStore::beginTurn(SessionMeta meta, std::optional<Message> prompt,
                                           TurnRecord turn)
{
    if (auto e = writeFault("begin turn"))
        co_return *e;
    co_return co_await m_inner->beginTurn(std::move(meta), std::move(prompt), std::move(turn));
}

QCoro::Task<Status> FaultyStore::appendChunks(QString sid, int tid, QList<Chunk> chunks)
{
    if (auto e = writeFault("append chunks"))
        co_return *e;
    co_return co_await m_inner->appendChunks(std::move(sid), tid, std::move(chunks));
}

QCoro::Task<Status> FaultyStore::finishTurn(SessionMeta meta, std::optional<Message> answer,
                                            TurnRecord turn)
{
    if (auto e = writeFault("finish turn"))
        co_return *e;
    if (m_finishFailures > 0) {
        --m_finishFailures;
        ++m_failedWrites;
        co_return makeError(ErrorCode::Unavailable,
                            QStringLiteral("finish turn: the disk is full"));
    }
    co_return co_await m_inner->finishTurn(std::move(meta), std::move(answer), std::move(turn));
}

QCoro::Task<Status> FaultyStore::saveTurnState(QString sid, int tid, TurnRecord::State state)
{
    if (auto e = writeFault("save turn state"))
        co_return *e;
    co_return co_await m_inner->saveTurnState(std::move(sid), tid, state);
}

QCoro::Task<Result<std::optional<TurnRecord>>> FaultyStore::loadTurn(QString sid, int tid)
{
    co_return co_await m_inner->loadTurn(std::move(sid), tid);
}

QCoro::Task<Result<QList<Chunk>>> FaultyStore::loadChunks(QString sid, int tid, int from, int limit)
{
    co_return co_await m_inner->loadChunks(std::move(sid), tid, from, limit);
}

QCoro::Task<Result<QList<TurnRecord>>> FaultyStore::unfinishedTurns()
{
    co_return co_await m_inner->unfinishedTurns();
}

QCoro::Task<Status> FaultyStore::putAttachment(QString sid, Attachment meta, QByteArray bytes)
{
    if (auto e = writeFault("store attachment"))
        co_return *e;
    co_return co_await m_inner->putAttachment(std::move(sid), std::move(meta), std::move(bytes));
}

QCoro::Task<Result<std::optional<Attachment>>> FaultyStore::loadAttachment(QString sid, QString aid)
{
    co_return co_await m_inner->loadAttachment(std::move(sid), std::move(aid));
}

QCoro::Task<Result<std::optional<QByteArray>>> FaultyStore::loadAttachmentBytes(QString sid,
                                                                                QString aid)
{
    co_return co_await m_inner->loadAttachmentBytes(std::move(sid), std::move(aid));
}

QCoro::Task<Result<qint64>> FaultyStore::deleteUnlinkedAttachments(QDateTime olderThan)
{
    if (auto e = writeFault("delete unlinked attachments"))
        co_return *e;
    co_return co_await m_inner->deleteUnlinkedAttachments(std::move(olderThan));
}

} // namespace holdfast::test
