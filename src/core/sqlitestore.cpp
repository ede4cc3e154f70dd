#include "core/sqlitestore.h"

#include "core/logging.h"

#include <QCoroFuture>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QHash>
#include <QPromise>
#include <QSqlDatabase>
#include <QSqlDriver>
#include <QSqlError>
#include <QSqlQuery>

#include <sqlite3.h>

#include <algorithm>
#include <atomic>

namespace holdfast {

namespace {

// hf_contains(text, needle): 1 when text contains needle in any case, for every script (SQLite's
// own LIKE folds ASCII only, so "ärger" would not find "Ärger"). NULL contains nothing.
void containsFolded(sqlite3_context *context, int, sqlite3_value **argv)
{
    const auto *text = reinterpret_cast<const char *>(sqlite3_value_text(argv[0]));
    const int textBytes = sqlite3_value_bytes(argv[0]);
    const auto *needle = reinterpret_cast<const char *>(sqlite3_value_text(argv[1]));
    const int needleBytes = sqlite3_value_bytes(argv[1]);
    if (!text || !needle) {
        sqlite3_result_int(context, 0);
        return;
    }
    const QString haystack = QString::fromUtf8(text, textBytes);
    sqlite3_result_int(
        context, haystack.contains(QString::fromUtf8(needle, needleBytes), Qt::CaseInsensitive));
}

// 'HFDB': marks a file as a Holdfast database, so we never write our tables into someone else's.
constexpr int kApplicationId = 0x48464442;

// The schema of each release. Step N takes a file from version N to N + 1; step 0 creates it.
// Never edit a released step: add a new one and bump kSchemaVersion.
const char *const kMigrations[] = {
    // 0 -> 1: the first release.
    "CREATE TABLE sessions (id TEXT PRIMARY KEY, title TEXT, system TEXT, model TEXT NOT NULL,"
    " created_at TEXT NOT NULL, updated_at TEXT NOT NULL, total INTEGER NOT NULL DEFAULT 0,"
    " active_turn INTEGER NOT NULL DEFAULT 0, last_turn INTEGER NOT NULL DEFAULT 0)"
    " WITHOUT ROWID;"
    "CREATE TABLE messages (session TEXT NOT NULL, idx INTEGER NOT NULL, role TEXT NOT NULL,"
    " content TEXT NOT NULL, turn INTEGER NOT NULL DEFAULT 0, state TEXT NOT NULL,"
    " created_at TEXT NOT NULL, PRIMARY KEY (session, idx)) WITHOUT ROWID;"
    "CREATE TABLE turns (session TEXT NOT NULL, id INTEGER NOT NULL, state TEXT NOT NULL,"
    " prompt_index INTEGER NOT NULL, response_index INTEGER, chunks INTEGER NOT NULL DEFAULT 0,"
    " model TEXT NOT NULL, created_at TEXT NOT NULL, finished_at TEXT, error_code TEXT,"
    " error_message TEXT, PRIMARY KEY (session, id)) WITHOUT ROWID;"
    "CREATE TABLE chunks (session TEXT NOT NULL, turn INTEGER NOT NULL, seq INTEGER NOT NULL,"
    " text TEXT NOT NULL, PRIMARY KEY (session, turn, seq)) WITHOUT ROWID;",
    // 1 -> 2: listing newest first and finding unfinished turns without a full scan.
    "CREATE INDEX sessions_by_update ON sessions (updated_at DESC, id);"
    "CREATE INDEX turns_unfinished ON turns (state) WHERE state IN ('queued', 'streaming');",
};
static_assert(std::size(kMigrations) == SqliteStore::kSchemaVersion);

QVariant nullable(const QString &text)
{
    return text.isNull() ? QVariant() : QVariant(text);
}

QVariant isoOrNull(const QDateTime &time)
{
    return time.isValid() ? QVariant(toIso(time)) : QVariant();
}

// SQLite's primary result codes that mean "the disk or the file", not "a bug".
Error sqlError(const QSqlError &error, const QString &what)
{
    const int code = error.nativeErrorCode().toInt() & 0xff;
    QString text = error.databaseText();
    if (text.isEmpty())
        text = error.text();
    switch (code) {
    case 13: // SQLITE_FULL
        return makeError(ErrorCode::Unavailable, QStringLiteral("%1: the disk is full").arg(what));
    case 5: // SQLITE_BUSY
    case 6: // SQLITE_LOCKED
        return makeError(ErrorCode::Unavailable,
                         QStringLiteral("%1: the database is busy (%2)").arg(what, text));
    case 19: // SQLITE_CONSTRAINT
        return makeError(ErrorCode::Conflict, QStringLiteral("%1: %2").arg(what, text));
    default:
        return makeError(ErrorCode::Unavailable, QStringLiteral("%1: %2").arg(what, text));
    }
}

} // namespace

// The connection and its prepared statements. Lives on the worker thread only.
class SqliteStore::Connection
{
public:
    Connection(QString path, QString name) : m_path(std::move(path)), m_name(std::move(name)) {}
    ~Connection() { close(); }

    std::atomic<quint64> rows{0};

    sqlite3 *handle() const
    {
        const QVariant handle = m_db.driver()->handle();
        if (handle.isValid() && qstrcmp(handle.typeName(), "sqlite3*") == 0)
            return *static_cast<sqlite3 *const *>(handle.constData());
        return nullptr;
    }

    Status registerFunctions()
    {
        sqlite3 *db = handle();
        if (!db || sqlite3_create_function_v2(
                       db, "hf_contains", 2, SQLITE_UTF8 | SQLITE_DETERMINISTIC, nullptr,
                       &containsFolded, nullptr, nullptr, nullptr) != SQLITE_OK)
            return makeError(
                ErrorCode::Internal,
                QStringLiteral("cannot register the search function on %1").arg(m_path));
        return Ok{};
    }

    Status open()
    {
        if (m_db.isOpen())
            return Ok{};
        if (Status s = prepareFile(); !s)
            return s;
        m_db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), m_name);
        m_db.setDatabaseName(m_path);
        m_db.setConnectOptions(QStringLiteral("QSQLITE_BUSY_TIMEOUT=5000"));
        if (!m_db.open())
            return fail(sqlError(m_db.lastError(), QStringLiteral("cannot open %1").arg(m_path)));
        if (Status s = registerFunctions(); !s)
            return fail(s.error());

        // Reading the header first tells a foreign or damaged file apart before we write.
        auto version = pragma(QStringLiteral("user_version"));
        if (!version)
            return fail(makeError(ErrorCode::Unavailable,
                                  QStringLiteral("%1 is not a Holdfast database (%2)")
                                      .arg(m_path, version.error().message)));
        auto appId = pragma(QStringLiteral("application_id"));
        auto tables = scalar(QStringLiteral("SELECT count(*) FROM sqlite_master"));
        if (!appId || !tables)
            return fail(appId ? tables.error() : appId.error());
        if (*version > kSchemaVersion)
            return fail(makeError(
                ErrorCode::Unavailable,
                QStringLiteral("%1 was written by a newer Holdfast (schema version %2; this "
                               "build reads up to %3). Upgrade Holdfast or use another --store.")
                    .arg(m_path)
                    .arg(*version)
                    .arg(kSchemaVersion)));
        if (*appId != kApplicationId && (*tables > 0 || *version > 0))
            return fail(makeError(ErrorCode::Unavailable,
                                  QStringLiteral("%1 is an SQLite file of another program, not a "
                                                 "Holdfast database: refusing to touch it")
                                      .arg(m_path)));

        for (const char *sql : {"PRAGMA journal_mode = WAL", "PRAGMA synchronous = NORMAL",
                                "PRAGMA temp_store = MEMORY"}) {
            if (Status s = exec(QString::fromLatin1(sql)); !s)
                return fail(s.error());
        }
        if (*version < kSchemaVersion) {
            if (Status s = migrate(int(*version)); !s)
                return fail(s.error());
        }
        return Ok{};
    }

    void close()
    {
        if (!m_db.isValid())
            return;
        m_queries.clear();
        m_db.close();
        m_db = QSqlDatabase();
        QSqlDatabase::removeDatabase(m_name);
    }

    bool isOpen() const { return m_db.isOpen(); }

    // False after SQLite rolled a failed transaction back by itself (it may on a full disk or an
    // I/O error): then no savepoint is left to roll back to.
    bool inTransaction() const
    {
        sqlite3 *db = handle();
        return db && !sqlite3_get_autocommit(db);
    }

    // A cached prepared statement; bind values positionally and exec().
    QSqlQuery &query(const char *sql)
    {
        auto it = m_queries.find(sql);
        if (it == m_queries.end()) {
            QSqlQuery q(m_db);
            q.setForwardOnly(true);
            q.prepare(QString::fromUtf8(sql));
            it = m_queries.insert(sql, q);
        }
        return *it;
    }

    Status exec(QSqlQuery &q, const QString &what)
    {
        const bool ok = q.exec();
        if (!ok) {
            const Error e = sqlError(q.lastError(), what);
            q.finish();
            return e;
        }
        // sqlite3_changes() is stale after a SELECT: count writes only.
        const int affected = q.isSelect() ? 0 : q.numRowsAffected();
        if (affected > 0)
            rows += quint64(affected);
        return Ok{};
    }

    Status exec(const QString &sql)
    {
        QSqlQuery q(m_db);
        if (!q.exec(sql))
            return sqlError(q.lastError(), sql.section(QLatin1Char(' '), 0, 2));
        return Ok{};
    }

    Status begin() { return exec(QStringLiteral("BEGIN IMMEDIATE")); }
    Status commit()
    {
        Status s = exec(QStringLiteral("COMMIT"));
        if (!s)
            rollback();
        return s;
    }
    void rollback()
    {
        QSqlQuery q(m_db);
        q.exec(QStringLiteral("ROLLBACK"));
    }

    // Runs `body` in one write transaction; any failure rolls everything back.
    template <typename Body> Status transaction(Body body)
    {
        if (!m_db.isOpen())
            return notOpen();
        if (Status s = begin(); !s)
            return s;
        Status s = body();
        if (!s) {
            rollback();
            return s;
        }
        return commit();
    }

    // Saves a session's metadata (never its messages: saves are incremental).
    Status updateMeta(const SessionMeta &meta)
    {
        QSqlQuery &u = query("UPDATE sessions SET title = ?, system = ?, model = ?, updated_at = ?,"
                             " total = ?, active_turn = ?, last_turn = ? WHERE id = ?");
        u.addBindValue(meta.title.isNull() ? QVariant() : QVariant(meta.title));
        u.addBindValue(meta.system.isNull() ? QVariant() : QVariant(meta.system));
        u.addBindValue(meta.model);
        u.addBindValue(toIso(meta.updatedAt));
        u.addBindValue(meta.total);
        u.addBindValue(meta.activeTurn);
        u.addBindValue(meta.lastTurn);
        u.addBindValue(meta.id);
        if (Status s = exec(u, QStringLiteral("saving session")); !s)
            return s;
        if (u.numRowsAffected() == 0)
            return makeError(ErrorCode::NotFound,
                             QStringLiteral("session '%1' does not exist").arg(meta.id));
        return Ok{};
    }

    static Error notOpen()
    {
        return makeError(ErrorCode::Unavailable, QStringLiteral("the SQLite store is not open"));
    }

private:
    Status fail(Error error)
    {
        close();
        return error;
    }

    Status prepareFile()
    {
        const QFileInfo info(m_path);
        QDir dir = info.absoluteDir();
        if (!dir.exists()) {
            if (!QDir().mkpath(dir.absolutePath()))
                return makeError(ErrorCode::Unavailable,
                                 QStringLiteral("cannot create the folder %1").arg(dir.path()));
            QFile::setPermissions(dir.absolutePath(),
                                  QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner);
        }
        if (!info.exists()) {
            // Conversations are private: the file (and SQLite's -wal/-shm, which copy its mode)
            // are readable by their owner only.
            QFile file(m_path);
            if (!file.open(QIODevice::WriteOnly))
                return makeError(
                    ErrorCode::Unavailable,
                    QStringLiteral("cannot create %1: %2").arg(m_path, file.errorString()));
            file.close();
            file.setPermissions(QFile::ReadOwner | QFile::WriteOwner);
        }
        return Ok{};
    }

    Result<qint64> scalar(const QString &sql)
    {
        QSqlQuery q(m_db);
        if (!q.exec(sql))
            return sqlError(q.lastError(), sql);
        if (!q.next())
            return makeError(ErrorCode::Internal, QStringLiteral("%1 returned nothing").arg(sql));
        return q.value(0).toLongLong();
    }

    Result<qint64> pragma(const QString &name) { return scalar(QStringLiteral("PRAGMA ") + name); }

    Status migrate(int from)
    {
        if (from > 0)
            qCInfo(lcStore) << "migrating" << m_path << "from schema version" << from << "to"
                            << kSchemaVersion;
        return transaction([&]() -> Status {
            for (int step = from; step < kSchemaVersion; ++step) {
                const QStringList statements = QString::fromUtf8(kMigrations[step])
                                                   .split(QLatin1Char(';'), Qt::SkipEmptyParts);
                for (const QString &sql : statements) {
                    if (Status s = exec(sql); !s)
                        return makeError(s.error().code,
                                         QStringLiteral("migrating %1 to schema version %2: %3")
                                             .arg(m_path)
                                             .arg(step + 1)
                                             .arg(s.error().message));
                }
            }
            if (Status s = exec(QStringLiteral("PRAGMA application_id = %1").arg(kApplicationId));
                !s)
                return s;
            return exec(QStringLiteral("PRAGMA user_version = %1").arg(kSchemaVersion));
        });
    }

    QString m_path;
    QString m_name;
    QSqlDatabase m_db;
    QHash<const char *, QSqlQuery> m_queries;
};

struct SqliteStore::PendingWrite
{
    WriteBody body;
    bool chunkBatch = false;
    QPromise<std::optional<Status>> promise;
};

namespace {

SessionMeta readMeta(const QSqlQuery &q)
{
    SessionMeta m;
    m.id = q.value(0).toString();
    m.title = q.value(1).toString();
    m.system = q.value(2).toString();
    m.model = q.value(3).toString();
    m.createdAt = fromIso(q.value(4).toString());
    m.updatedAt = fromIso(q.value(5).toString());
    m.total = q.value(6).toLongLong();
    m.activeTurn = q.value(7).toInt();
    m.lastTurn = q.value(8).toInt();
    return m;
}

#define HF_META_COLUMNS                                                                            \
    "id, title, system, model, created_at, updated_at, total, active_turn, last_turn"

Message readMessage(const QSqlQuery &q)
{
    Message m;
    m.index = q.value(0).toLongLong();
    m.role = q.value(1).toString();
    m.content = q.value(2).toString();
    m.turn = q.value(3).toInt();
    m.state = messageStateFromName(q.value(4).toString()).value_or(Message::State::Complete);
    m.createdAt = fromIso(q.value(5).toString());
    return m;
}

TurnRecord readTurn(const QSqlQuery &q)
{
    TurnRecord t;
    t.session = q.value(0).toString();
    t.id = q.value(1).toInt();
    t.state = turnStateFromName(q.value(2).toString()).value_or(TurnRecord::State::Error);
    t.promptIndex = q.value(3).toLongLong();
    t.responseIndex = q.value(4).isNull() ? -1 : q.value(4).toLongLong();
    t.chunks = q.value(5).toInt();
    t.model = q.value(6).toString();
    t.createdAt = fromIso(q.value(7).toString());
    t.finishedAt = q.value(8).isNull() ? QDateTime() : fromIso(q.value(8).toString());
    t.errorCode = q.value(9).toString();
    t.errorMessage = q.value(10).toString();
    return t;
}

#define HF_TURN_COLUMNS                                                                            \
    "session, id, state, prompt_index, response_index, chunks, model, created_at, finished_at, "   \
    "error_code, error_message"

void bindMeta(QSqlQuery &q, const SessionMeta &m)
{
    q.addBindValue(m.id);
    q.addBindValue(nullable(m.title));
    q.addBindValue(nullable(m.system));
    q.addBindValue(m.model);
    q.addBindValue(toIso(m.createdAt));
    q.addBindValue(toIso(m.updatedAt));
    q.addBindValue(m.total);
    q.addBindValue(m.activeTurn);
    q.addBindValue(m.lastTurn);
}

void bindMessage(QSqlQuery &q, const QString &sid, const Message &m)
{
    q.addBindValue(sid);
    q.addBindValue(m.index);
    q.addBindValue(m.role);
    // An answer without a chunk (cancelled or crashed before the first) has a null QString,
    // which binds as NULL and breaks `content NOT NULL`: store it as the empty text it is.
    q.addBindValue(m.content.isNull() ? QStringLiteral("") : m.content);
    q.addBindValue(m.turn);
    q.addBindValue(messageStateName(m.state));
    q.addBindValue(toIso(m.createdAt));
}

void bindTurn(QSqlQuery &q, const TurnRecord &t)
{
    q.addBindValue(t.session);
    q.addBindValue(t.id);
    q.addBindValue(turnStateName(t.state));
    q.addBindValue(t.promptIndex);
    q.addBindValue(t.responseIndex < 0 ? QVariant() : QVariant(t.responseIndex));
    q.addBindValue(t.chunks);
    q.addBindValue(t.model);
    q.addBindValue(toIso(t.createdAt));
    q.addBindValue(isoOrNull(t.finishedAt));
    q.addBindValue(t.errorCode.isEmpty() ? QVariant() : QVariant(t.errorCode));
    q.addBindValue(t.errorMessage.isEmpty() ? QVariant() : QVariant(t.errorMessage));
}

} // namespace

SqliteStore::SqliteStore(QString path, QObject *parent)
    : Store(parent), m_path(std::move(path)),
      m_connectionName(QStringLiteral("holdfast-sqlite-%1").arg(quintptr(this), 0, 16))
{
    // One thread owns the connection for the store's whole life: SQLite connections must not
    // move between threads, and one writer is what SQLite wants anyway.
    m_pool.setMaxThreadCount(1);
    m_pool.setExpiryTimeout(-1);
    m_pool.setObjectName(QStringLiteral("holdfast-sqlite"));
    m_connection = std::make_unique<Connection>(m_path, m_connectionName);
}

SqliteStore::~SqliteStore()
{
    m_pool.start([this] { m_connection->close(); });
    m_pool.waitForDone();
}

template <typename T, typename Work> QFuture<std::optional<T>> SqliteStore::run(Work work)
{
    auto promise = std::make_shared<QPromise<std::optional<T>>>();
    QFuture<std::optional<T>> future = promise->future();
    promise->start();
    m_pool.start([this, promise, work = std::move(work)]() mutable {
        std::optional<T> result;
        if (m_connection->isOpen())
            result.emplace(work(*m_connection));
        else
            result.emplace(Connection::notOpen());
        const quint64 rows = m_connection->rows.exchange(0);
        if (rows)
            countRows(rows);
        promise->addResult(std::move(result));
        promise->finish();
    });
    return future;
}

QFuture<std::optional<Status>> SqliteStore::write(WriteBody body, bool chunkBatch)
{
    auto pending = std::make_shared<PendingWrite>();
    pending->body = std::move(body);
    pending->chunkBatch = chunkBatch;
    QFuture<std::optional<Status>> future = pending->promise.future();
    pending->promise.start();
    bool schedule = false;
    {
        QMutexLocker lock(&m_pendingMutex);
        m_pending.append(std::move(pending));
        schedule = !std::exchange(m_flushScheduled, true);
    }
    if (schedule)
        m_pool.start([this] { flushWrites(); });
    return future;
}

// Worker thread: writes everything queued so far, in order, in one transaction. Each write has
// its own savepoint, so one that fails (a conflict, an unknown turn) fails alone with its own
// error. When the transaction fails (the commit on a full disk), nothing of it was stored and
// every write in it reports that error.
void SqliteStore::flushWrites()
{
    QList<std::shared_ptr<PendingWrite>> writes;
    {
        QMutexLocker lock(&m_pendingMutex);
        writes.swap(m_pending);
        m_flushScheduled = false;
    }
    if (writes.isEmpty())
        return;
    Connection &c = *m_connection;
    QList<std::optional<Status>> failures(writes.size());
    const Status all = c.transaction([&]() -> Status {
        for (qsizetype i = 0; i < writes.size(); ++i) {
            if (Status s = c.exec(QStringLiteral("SAVEPOINT write")); !s)
                return s;
            const quint64 rowsBefore = c.rows.load();
            Status s = writes.at(i)->body(c);
            if (!s) {
                if (!c.inTransaction())
                    return s; // SQLite rolled back everything: every write failed
                c.exec(QStringLiteral("ROLLBACK TO write"));
                c.rows = rowsBefore;
                failures[i] = std::move(s);
            }
            if (Status r = c.exec(QStringLiteral("RELEASE write")); !r)
                return r;
        }
        return Ok{};
    });
    const auto chunkBatches = quint64(
        std::count_if(writes.cbegin(), writes.cend(),
                      [](const std::shared_ptr<PendingWrite> &w) { return w->chunkBatch; }));
    m_writeTransactions += 1;
    m_writes += quint64(writes.size());
    m_chunkTransactions += chunkBatches > 0 ? 1 : 0;
    m_chunkBatches += chunkBatches;
    const quint64 rows = c.rows.exchange(0);
    if (rows && all)
        countRows(rows);
    for (qsizetype i = 0; i < writes.size(); ++i) {
        PendingWrite &w = *writes[i];
        w.promise.addResult(all ? failures.at(i).value_or(Status(Ok{})) : all);
        w.promise.finish();
    }
}

QCoro::Task<Status> SqliteStore::open()
{
    auto promise = std::make_shared<QPromise<std::optional<Status>>>();
    QFuture<std::optional<Status>> future = promise->future();
    promise->start();
    m_pool.start([this, promise] {
        promise->addResult(std::optional<Status>(m_connection->open()));
        promise->finish();
    });
    const std::optional<Status> result = co_await future;
    if (*result)
        qCInfo(lcStore) << "opened" << describe() << "schema version" << kSchemaVersion;
    co_return *result;
}

QCoro::Task<Status> SqliteStore::createSession(SessionMeta meta)
{
    auto work = [meta](Connection &c) -> Status {
        QSqlQuery &q = c.query("INSERT INTO sessions (" HF_META_COLUMNS
                               ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
        bindMeta(q, meta);
        Status s = c.exec(q, QStringLiteral("creating session"));
        if (!s && s.error().code == ErrorCode::Conflict)
            return makeError(ErrorCode::Conflict,
                             QStringLiteral("session '%1' already exists").arg(meta.id));
        return s;
    };
    auto r = co_await write(std::move(work));
    co_return std::move(*r);
}

QCoro::Task<Result<std::optional<SessionMeta>>> SqliteStore::loadSession(QString id)
{
    using R = Result<std::optional<SessionMeta>>;
    auto work = [id](Connection &c) -> R {
        QSqlQuery &q = c.query("SELECT " HF_META_COLUMNS " FROM sessions WHERE id = ?");
        q.addBindValue(id);
        if (Status s = c.exec(q, QStringLiteral("loading session")); !s)
            return s.error();
        std::optional<SessionMeta> meta;
        if (q.next())
            meta = readMeta(q);
        q.finish();
        return meta;
    };
    auto r = co_await run<R>(std::move(work));
    co_return std::move(*r);
}

QCoro::Task<Status> SqliteStore::saveSessionMeta(SessionMeta meta)
{
    auto work = [meta](Connection &c) -> Status { return c.updateMeta(meta); };
    auto r = co_await write(std::move(work));
    co_return std::move(*r);
}

QCoro::Task<Status> SqliteStore::deleteSession(QString id)
{
    auto work = [id](Connection &c) -> Status {
        for (const char *sql :
             {"DELETE FROM chunks WHERE session = ?", "DELETE FROM turns WHERE session = ?",
              "DELETE FROM messages WHERE session = ?", "DELETE FROM sessions WHERE id = ?"}) {
            QSqlQuery &q = c.query(sql);
            q.addBindValue(id);
            if (Status s = c.exec(q, QStringLiteral("deleting session")); !s)
                return s;
        }
        return Ok{};
    };
    auto r = co_await write(std::move(work));
    co_return std::move(*r);
}

QCoro::Task<Result<SessionPage>> SqliteStore::listSessions(QString query, int limit, int offset)
{
    using R = Result<SessionPage>;
    auto work = [query, limit, offset](Connection &c) -> R {
        SessionPage page;
        const bool filtered = !query.isEmpty();
        const QString pattern = query;
        QSqlQuery &count =
            filtered ? c.query("SELECT count(*) FROM sessions s WHERE hf_contains(s.title, ?)"
                               " OR EXISTS (SELECT 1 FROM messages m WHERE m.session = s.id AND"
                               " hf_contains(m.content, ?))")
                     : c.query("SELECT count(*) FROM sessions");
        if (filtered) {
            count.addBindValue(pattern);
            count.addBindValue(pattern);
        }
        if (Status s = c.exec(count, QStringLiteral("listing sessions")); !s)
            return s.error();
        if (count.next())
            page.total = count.value(0).toLongLong();
        count.finish();

        QSqlQuery &q = filtered
                           ? c.query("SELECT " HF_META_COLUMNS " FROM sessions s WHERE"
                                     " hf_contains(s.title, ?) OR EXISTS (SELECT 1 FROM messages m"
                                     " WHERE m.session = s.id AND hf_contains(m.content, ?))"
                                     " ORDER BY updated_at DESC, id LIMIT ? OFFSET ?")
                           : c.query("SELECT " HF_META_COLUMNS " FROM sessions"
                                     " ORDER BY updated_at DESC, id LIMIT ? OFFSET ?");
        if (filtered) {
            q.addBindValue(pattern);
            q.addBindValue(pattern);
        }
        q.addBindValue(limit);
        q.addBindValue(offset);
        if (Status s = c.exec(q, QStringLiteral("listing sessions")); !s)
            return s.error();
        while (q.next())
            page.sessions.append(readMeta(q));
        q.finish();
        return page;
    };
    auto r = co_await run<R>(std::move(work));
    co_return std::move(*r);
}

QCoro::Task<Result<QList<Message>>> SqliteStore::loadMessages(QString id, qint64 from, qint64 to)
{
    using R = Result<QList<Message>>;
    auto work = [id, from, to](Connection &c) -> R {
        QSqlQuery &q = c.query("SELECT idx, role, content, turn, state, created_at FROM messages"
                               " WHERE session = ? AND idx >= ? AND idx < ? ORDER BY idx");
        q.addBindValue(id);
        q.addBindValue(from);
        q.addBindValue(to);
        if (Status s = c.exec(q, QStringLiteral("loading messages")); !s)
            return s.error();
        QList<Message> messages;
        while (q.next())
            messages.append(readMessage(q));
        q.finish();
        return messages;
    };
    auto r = co_await run<R>(std::move(work));
    co_return std::move(*r);
}

QCoro::Task<Status> SqliteStore::beginTurn(SessionMeta meta, Message prompt, TurnRecord turn)
{
    auto work = [meta, prompt, turn](Connection &c) -> Status {
        QSqlQuery &m = c.query("INSERT INTO messages (session, idx, role, content, turn,"
                               " state, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)");
        bindMessage(m, meta.id, prompt);
        if (Status s = c.exec(m, QStringLiteral("storing the prompt")); !s)
            return s;
        QSqlQuery &t = c.query("INSERT INTO turns (" HF_TURN_COLUMNS
                               ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
        bindTurn(t, turn);
        if (Status s = c.exec(t, QStringLiteral("storing the turn")); !s)
            return s;
        return c.updateMeta(meta);
    };
    auto r = co_await write(std::move(work));
    co_return std::move(*r);
}

QCoro::Task<Status> SqliteStore::appendChunks(QString sid, int tid, QList<Chunk> chunks)
{
    if (chunks.isEmpty())
        co_return Ok{};
    auto work = [sid, tid, chunks](Connection &c) -> Status {
        // The chunks must continue the turn's stream exactly (no gap, no repeat) and the
        // turn must still be running: checked and advanced by one conditional UPDATE.
        QSqlQuery &upd = c.query("UPDATE turns SET chunks = ? WHERE session = ? AND id = ?"
                                 " AND chunks = ? AND state IN ('queued', 'streaming')");
        upd.addBindValue(chunks.constLast().seq + 1);
        upd.addBindValue(sid);
        upd.addBindValue(tid);
        upd.addBindValue(chunks.constFirst().seq);
        if (Status s = c.exec(upd, QStringLiteral("storing chunks")); !s)
            return s;
        if (upd.numRowsAffected() == 0) {
            QSqlQuery &probe =
                c.query("SELECT chunks, state FROM turns WHERE session = ? AND id = ?");
            probe.addBindValue(sid);
            probe.addBindValue(tid);
            if (Status s = c.exec(probe, QStringLiteral("storing chunks")); !s)
                return s;
            if (!probe.next())
                return makeError(
                    ErrorCode::NotFound,
                    QStringLiteral("turn %1 of '%2' does not exist").arg(tid).arg(sid));
            const QString detail =
                QStringLiteral("chunk %1 does not follow the %2 stored chunks of turn %3 "
                               "of '%4' (state %5)")
                    .arg(chunks.constFirst().seq)
                    .arg(probe.value(0).toLongLong())
                    .arg(tid)
                    .arg(sid, probe.value(1).toString());
            probe.finish();
            return makeError(ErrorCode::Conflict, detail);
        }
        QSqlQuery &ins =
            c.query("INSERT INTO chunks (session, turn, seq, text) VALUES (?, ?, ?, ?)");
        int expected = chunks.constFirst().seq;
        for (const Chunk &chunk : chunks) {
            if (chunk.seq != expected++)
                return makeError(ErrorCode::Conflict,
                                 QStringLiteral("chunks of turn %1 of '%2' are not "
                                                "consecutive")
                                     .arg(tid)
                                     .arg(sid));
            ins.addBindValue(sid);
            ins.addBindValue(tid);
            ins.addBindValue(chunk.seq);
            ins.addBindValue(chunk.text);
            if (Status s = c.exec(ins, QStringLiteral("storing chunks")); !s)
                return s;
        }
        return Ok{};
    };
    auto r = co_await write(std::move(work), true);
    co_return std::move(*r);
}

QCoro::Task<Status> SqliteStore::finishTurn(SessionMeta meta, std::optional<Message> answer,
                                            TurnRecord turn)
{
    auto work = [meta, answer, turn](Connection &c) -> Status {
        if (answer) {
            // INSERT OR REPLACE: a retried save after an unknown outcome stays exactly-once.
            QSqlQuery &m = c.query("INSERT OR REPLACE INTO messages (session, idx, role, content,"
                                   " turn, state, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)");
            bindMessage(m, meta.id, *answer);
            if (Status s = c.exec(m, QStringLiteral("storing the answer")); !s)
                return s;
        }
        QSqlQuery &t = c.query("INSERT OR REPLACE INTO turns (" HF_TURN_COLUMNS
                               ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
        bindTurn(t, turn);
        if (Status s = c.exec(t, QStringLiteral("storing the turn")); !s)
            return s;
        return c.updateMeta(meta);
    };
    auto r = co_await write(std::move(work));
    co_return std::move(*r);
}

QCoro::Task<Result<std::optional<TurnRecord>>> SqliteStore::loadTurn(QString sid, int tid)
{
    using R = Result<std::optional<TurnRecord>>;
    auto work = [sid, tid](Connection &c) -> R {
        QSqlQuery &q =
            c.query("SELECT " HF_TURN_COLUMNS " FROM turns WHERE session = ? AND id = ?");
        q.addBindValue(sid);
        q.addBindValue(tid);
        if (Status s = c.exec(q, QStringLiteral("loading turn")); !s)
            return s.error();
        std::optional<TurnRecord> turn;
        if (q.next())
            turn = readTurn(q);
        q.finish();
        return turn;
    };
    auto r = co_await run<R>(std::move(work));
    co_return std::move(*r);
}

QCoro::Task<Result<QList<Chunk>>> SqliteStore::loadChunks(QString sid, int tid, int from, int limit)
{
    using R = Result<QList<Chunk>>;
    auto work = [sid, tid, from, limit](Connection &c) -> R {
        QSqlQuery &q = c.query("SELECT seq, text FROM chunks WHERE session = ? AND turn = ?"
                               " AND seq >= ? ORDER BY seq LIMIT ?");
        q.addBindValue(sid);
        q.addBindValue(tid);
        q.addBindValue(from);
        q.addBindValue(limit);
        if (Status s = c.exec(q, QStringLiteral("loading chunks")); !s)
            return s.error();
        QList<Chunk> chunks;
        while (q.next())
            chunks.append(Chunk{q.value(0).toInt(), q.value(1).toString()});
        q.finish();
        return chunks;
    };
    auto r = co_await run<R>(std::move(work));
    co_return std::move(*r);
}

QCoro::Task<Result<QList<TurnRecord>>> SqliteStore::unfinishedTurns()
{
    using R = Result<QList<TurnRecord>>;
    auto work = [](Connection &c) -> R {
        QSqlQuery &q = c.query("SELECT " HF_TURN_COLUMNS " FROM turns"
                               " WHERE state IN ('queued', 'streaming') ORDER BY session, id");
        if (Status s = c.exec(q, QStringLiteral("finding unfinished turns")); !s)
            return s.error();
        QList<TurnRecord> turns;
        while (q.next())
            turns.append(readTurn(q));
        q.finish();
        return turns;
    };
    auto r = co_await run<R>(std::move(work));
    co_return std::move(*r);
}

} // namespace holdfast
