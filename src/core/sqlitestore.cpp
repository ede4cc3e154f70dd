#include "core/sqlitestore.h"

// STUB: being replaced by the real implementation.
namespace holdfast {
namespace {
Error notYet() { return makeError(ErrorCode::Unavailable, QStringLiteral("sqlite store: not implemented yet")); }
}
SqliteStore::SqliteStore(QString path, QObject *parent) : Store(parent), m_path(std::move(path)) {}
SqliteStore::~SqliteStore() = default;
QCoro::Task<Status> SqliteStore::open() { co_return notYet(); }
QCoro::Task<Status> SqliteStore::createSession(SessionMeta) { co_return notYet(); }
QCoro::Task<Result<std::optional<SessionMeta>>> SqliteStore::loadSession(QString) { co_return notYet(); }
QCoro::Task<Status> SqliteStore::saveSessionMeta(SessionMeta) { co_return notYet(); }
QCoro::Task<Status> SqliteStore::deleteSession(QString) { co_return notYet(); }
QCoro::Task<Result<SessionPage>> SqliteStore::listSessions(QString, int, int) { co_return notYet(); }
QCoro::Task<Result<QList<Message>>> SqliteStore::loadMessages(QString, qint64, qint64) { co_return notYet(); }
QCoro::Task<Status> SqliteStore::beginTurn(SessionMeta, Message, TurnRecord) { co_return notYet(); }
QCoro::Task<Status> SqliteStore::appendChunks(QString, int, QList<Chunk>) { co_return notYet(); }
QCoro::Task<Status> SqliteStore::finishTurn(SessionMeta, std::optional<Message>, TurnRecord) { co_return notYet(); }
QCoro::Task<Result<std::optional<TurnRecord>>> SqliteStore::loadTurn(QString, int) { co_return notYet(); }
QCoro::Task<Result<QList<Chunk>>> SqliteStore::loadChunks(QString, int, int, int) { co_return notYet(); }
QCoro::Task<Result<QList<TurnRecord>>> SqliteStore::unfinishedTurns() { co_return notYet(); }
}
