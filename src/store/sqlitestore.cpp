#include "store/sqlitestore.h"

#include "core/logging.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QStringEncoder>

#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <unordered_map>
#include <vector>

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

// Writes toIso(time) as its 24 ASCII characters ("2024-05-01T12:34:56.789Z") without
// QDateTime::toString, which costs more than the statement it goes into. False for an invalid
// time and for the years before 1 and after 9999, which toIso writes in other widths.
bool formatIso(const QDateTime &time, char *out)
{
    if (!time.isValid())
        return false;
    constexpr qint64 kDayMs = 86400000;
    const qint64 ms = time.toMSecsSinceEpoch();
    qint64 days = ms / kDayMs;
    qint64 msOfDay = ms % kDayMs;
    if (msOfDay < 0) {
        msOfDay += kDayMs;
        --days;
    }
    // The proleptic Gregorian date of a day count (H. Hinnant's civil_from_days), as QDate.
    days += 719468;
    const qint64 era = (days >= 0 ? days : days - 146096) / 146097;
    const qint64 dayOfEra = days - era * 146097;
    const qint64 yearOfEra =
        (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146096) / 365;
    const qint64 dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100);
    const qint64 mp = (5 * dayOfYear + 2) / 153;
    const qint64 day = dayOfYear - (153 * mp + 2) / 5 + 1;
    const qint64 month = mp < 10 ? mp + 3 : mp - 9;
    const qint64 year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);
    if (year < 1 || year > 9999)
        return false;
    const auto put = [out](int at, qint64 value, int width) {
        for (int i = at + width - 1; i >= at; --i) {
            out[i] = char('0' + value % 10);
            value /= 10;
        }
    };
    put(0, year, 4);
    out[4] = '-';
    put(5, month, 2);
    out[7] = '-';
    put(8, day, 2);
    out[10] = 'T';
    put(11, msOfDay / 3600000, 2);
    out[13] = ':';
    put(14, msOfDay / 60000 % 60, 2);
    out[16] = ':';
    put(17, msOfDay / 1000 % 60, 2);
    out[19] = '.';
    put(20, msOfDay % 1000, 3);
    out[23] = 'Z';
    return true;
}
constexpr int kIsoLength = 24;

// SQLite's primary result codes that mean "the disk or the file", not "a bug".
Error sqlError(int rc, QString text, const QString &what)
{
    const int code = rc & 0xff;
    if (text.isEmpty())
        text = QString::fromUtf8(sqlite3_errstr(rc));
    switch (code) {
    case SQLITE_FULL:
        return makeError(ErrorCode::Unavailable, QStringLiteral("%1: the disk is full").arg(what));
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return makeError(ErrorCode::Unavailable,
                         QStringLiteral("%1: the database is busy (%2)").arg(what, text));
    case SQLITE_CONSTRAINT:
        return makeError(ErrorCode::Conflict, QStringLiteral("%1: %2").arg(what, text));
    default:
        return makeError(ErrorCode::Unavailable, QStringLiteral("%1: %2").arg(what, text));
    }
}

QString errorText(sqlite3 *db)
{
    return db ? QString::fromUtf8(sqlite3_errmsg(db)) : QString();
}

// A statement prepared once for the connection's life, with the UTF-8 of the texts bound to it
// (bound without a copy: they must live until the statement is reset).
struct Statement
{
    Q_DISABLE_COPY_MOVE(Statement)
    Statement() = default;
    ~Statement() { sqlite3_finalize(stmt); }

    sqlite3_stmt *stmt = nullptr;
    std::vector<QByteArray> texts;
};

// One use of a cached statement: bind values in order, exec(), then read the rows with next()
// and the column getters. Going out of scope resets the statement and clears its bindings (which
// also ends a read's snapshot).
class Query
{
public:
    Q_DISABLE_COPY_MOVE(Query)
    Query(sqlite3 *db, Statement *statement, const char *sql, std::atomic<quint64> *rows)
        : m_db(db), m_statement(statement), m_stmt(statement ? statement->stmt : nullptr),
          m_sql(sql), m_rows(rows)
    {}
    // A statement that did not prepare: exec() reports why.
    Query(int rc, QString text, const char *sql)
        : m_sql(sql), m_prepareRc(rc), m_prepareText(std::move(text))
    {}
    ~Query()
    {
        if (m_stmt) {
            sqlite3_reset(m_stmt);
            sqlite3_clear_bindings(m_stmt);
        }
    }

    void add(qint64 value)
    {
        if (m_stmt)
            sqlite3_bind_int64(m_stmt, ++m_bound, value);
    }
    // A null QString binds NULL (as Qt SQL did); an empty one binds ''.
    void add(const QString &text)
    {
        if (!m_stmt)
            return;
        if (text.isNull()) {
            addNull();
            return;
        }
        QByteArray &utf8 = buffer();
        utf8.resize(text.size() * 3);
        QStringEncoder encoder(QStringEncoder::Utf8, QStringEncoder::Flag::Stateless);
        const char *end = encoder.appendToBuffer(utf8.data(), text);
        bindText(utf8.constData(), int(end - utf8.constData()));
    }
    // toIso(time): NULL for an invalid time.
    void addIso(const QDateTime &time)
    {
        if (!m_stmt)
            return;
        if (!time.isValid()) {
            addNull();
            return;
        }
        QByteArray &text = buffer();
        text.resize(kIsoLength);
        if (formatIso(time, text.data()))
            bindText(text.constData(), kIsoLength);
        else
            add(toIso(time));
    }
    void addNull()
    {
        if (m_stmt)
            sqlite3_bind_null(m_stmt, ++m_bound);
    }

    // Runs the statement up to its first row; `what` names the work in the error (null: the
    // statement's first three words). A statement without rows (a write) is reset at once, so
    // that the same Query can bind and exec() again.
    Status exec(const QString &what = {})
    {
        if (!m_stmt)
            return sqlError(m_prepareRc, m_prepareText, describe(what));
        m_bound = 0;
        m_changes = 0;
        m_pendingRow = false;
        m_done = false;
        const int rc = sqlite3_step(m_stmt);
        if (rc == SQLITE_ROW) {
            m_pendingRow = true;
            return Ok{};
        }
        m_done = true;
        if (rc != SQLITE_DONE) {
            const Error error = sqlError(rc, errorText(m_db), describe(what));
            sqlite3_reset(m_stmt);
            return error;
        }
        // sqlite3_changes() is stale after a SELECT: count writes only.
        if (sqlite3_column_count(m_stmt) == 0) {
            m_changes = sqlite3_changes(m_db);
            if (m_changes > 0 && m_rows)
                *m_rows += quint64(m_changes);
        }
        sqlite3_reset(m_stmt);
        return Ok{};
    }

    // The rows a write changed.
    int changes() const { return m_changes; }

    // Moves to the next row (the first after exec()); false at the end and on an error.
    bool next()
    {
        if (std::exchange(m_pendingRow, false))
            return true;
        if (!m_stmt || m_done)
            return false;
        if (sqlite3_step(m_stmt) == SQLITE_ROW)
            return true;
        m_done = true;
        return false;
    }

    bool isNull(int column) const { return sqlite3_column_type(m_stmt, column) == SQLITE_NULL; }
    qint64 integer(int column) const { return sqlite3_column_int64(m_stmt, column); }
    // A NULL column reads as a null QString, '' as an empty one.
    QString text(int column) const
    {
        const auto *data = reinterpret_cast<const char *>(sqlite3_column_text(m_stmt, column));
        if (!data)
            return {};
        const int bytes = sqlite3_column_bytes(m_stmt, column);
        if (bytes == 0)
            return QString(QLatin1StringView(""));
        return QString::fromUtf8(data, bytes);
    }

private:
    QByteArray &buffer()
    {
        const auto index = std::size_t(m_bound);
        if (m_statement->texts.size() <= index)
            m_statement->texts.resize(index + 1);
        return m_statement->texts[index];
    }
    void bindText(const char *data, int bytes)
    {
        sqlite3_bind_text(m_stmt, ++m_bound, data, bytes, SQLITE_STATIC);
    }
    QString describe(const QString &what) const
    {
        return what.isNull() ? QString::fromUtf8(m_sql).section(QLatin1Char(' '), 0, 2) : what;
    }

    sqlite3 *m_db = nullptr;
    Statement *m_statement = nullptr;
    sqlite3_stmt *m_stmt = nullptr;
    const char *m_sql = nullptr;
    std::atomic<quint64> *m_rows = nullptr;
    int m_prepareRc = SQLITE_OK;
    QString m_prepareText;
    int m_bound = 0;
    int m_changes = 0;
    bool m_pendingRow = false;
    bool m_done = false;
};

} // namespace

// The connection and its prepared statements. Lives on the worker thread only.
class SqliteStore::Connection
{
public:
    explicit Connection(QString path) : m_path(std::move(path)) {}
    ~Connection() { close(); }

    std::atomic<quint64> rows{0};

    Status registerFunctions()
    {
        if (sqlite3_create_function_v2(m_db, "hf_contains", 2, SQLITE_UTF8 | SQLITE_DETERMINISTIC,
                                       nullptr, &containsFolded, nullptr, nullptr,
                                       nullptr) != SQLITE_OK)
            return makeError(
                ErrorCode::Internal,
                QStringLiteral("cannot register the search function on %1").arg(m_path));
        return Ok{};
    }

    Status open()
    {
        if (m_db)
            return Ok{};
        if (Status s = prepareFile(); !s)
            return s;
        // As Qt's QSQLITE driver opened it: read-write, private cache, 5 s busy timeout. The
        // connection never leaves the worker thread, so it needs no mutex.
        const int rc = sqlite3_open_v2(m_path.toUtf8().constData(), &m_db,
                                       SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                                           SQLITE_OPEN_PRIVATECACHE | SQLITE_OPEN_NOMUTEX,
                                       nullptr);
        if (rc != SQLITE_OK) {
            const QString text = errorText(m_db);
            return fail(sqlError(rc, text, QStringLiteral("cannot open %1").arg(m_path)));
        }
        sqlite3_busy_timeout(m_db, 5000);
        if (Status s = registerFunctions(); !s)
            return fail(s.error());

        // Reading the header first tells a foreign or damaged file apart before we write.
        auto version = pragma("user_version");
        if (!version)
            return fail(makeError(ErrorCode::Unavailable,
                                  QStringLiteral("%1 is not a Holdfast database (%2)")
                                      .arg(m_path, version.error().message)));
        auto appId = pragma("application_id");
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

        // The WAL is copied back into the file every 4,000 pages (16 MiB) instead of SQLite's
        // 1,000: the pages a busy store rewrites all the time (turns, sessions, the indexes'
        // inner pages) are then copied back four times less often. The WAL is cut back to
        // 16 MiB after each copy.
        for (const char *sql : {"PRAGMA journal_mode = WAL", "PRAGMA synchronous = NORMAL",
                                "PRAGMA temp_store = MEMORY", "PRAGMA wal_autocheckpoint = 4000",
                                "PRAGMA journal_size_limit = 16777216"}) {
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
        if (!m_db)
            return;
        m_statements.clear();
        sqlite3_close_v2(m_db);
        m_db = nullptr;
    }

    bool isOpen() const { return m_db != nullptr; }

    // False after SQLite rolled a failed transaction back by itself (it may on a full disk or an
    // I/O error): then no savepoint is left to roll back to.
    bool inTransaction() const { return m_db && !sqlite3_get_autocommit(m_db); }

    // A cached prepared statement (keyed by the address of its literal SQL).
    Query query(const char *sql) { return query(sql, &rows); }

    // Runs one statement that takes no value (BEGIN, SAVEPOINT, ...), prepared once.
    Status command(const char *sql)
    {
        Query q = query(sql, nullptr);
        return q.exec();
    }

    // Runs one statement once (opening, migrations).
    Status exec(const QString &sql)
    {
        sqlite3_stmt *stmt = nullptr;
        const QByteArray utf8 = sql.toUtf8();
        int rc = sqlite3_prepare_v2(m_db, utf8.constData(), int(utf8.size()), &stmt, nullptr);
        if (rc == SQLITE_OK) {
            do {
                rc = sqlite3_step(stmt);
            } while (rc == SQLITE_ROW);
        }
        const QString text = rc == SQLITE_DONE ? QString() : errorText(m_db);
        sqlite3_finalize(stmt);
        if (rc != SQLITE_DONE)
            return sqlError(rc, text, sql.section(QLatin1Char(' '), 0, 2));
        return Ok{};
    }

    Status begin() { return command("BEGIN IMMEDIATE"); }
    Status commit()
    {
        Status s = command("COMMIT");
        if (!s)
            rollback();
        return s;
    }
    void rollback() { command("ROLLBACK"); }

    // Runs `body` in one write transaction; any failure rolls everything back.
    template <typename Body> Status transaction(Body body)
    {
        if (!m_db)
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
        Query u = query("UPDATE sessions SET title = ?, system = ?, model = ?, updated_at = ?,"
                        " total = ?, active_turn = ?, last_turn = ? WHERE id = ?");
        u.add(meta.title);
        u.add(meta.system);
        u.add(meta.model);
        u.addIso(meta.updatedAt);
        u.add(meta.total);
        u.add(meta.activeTurn);
        u.add(meta.lastTurn);
        u.add(meta.id);
        if (Status s = u.exec(QStringLiteral("saving session")); !s)
            return s;
        if (u.changes() == 0)
            return makeError(ErrorCode::NotFound,
                             QStringLiteral("session '%1' does not exist").arg(meta.id));
        return Ok{};
    }

    static Error notOpen()
    {
        return makeError(ErrorCode::Unavailable, QStringLiteral("the SQLite store is not open"));
    }

private:
    // `counter` adds up the rows the statement's writes change (null: not counted).
    Query query(const char *sql, std::atomic<quint64> *counter)
    {
        auto it = m_statements.find(sql);
        if (it == m_statements.end()) {
            auto statement = std::make_unique<Statement>();
            const int rc = sqlite3_prepare_v3(m_db, sql, -1, SQLITE_PREPARE_PERSISTENT,
                                              &statement->stmt, nullptr);
            if (rc != SQLITE_OK)
                return Query(rc, errorText(m_db), sql);
            it = m_statements.emplace(sql, std::move(statement)).first;
        }
        return Query(m_db, it->second.get(), sql, counter);
    }

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
        sqlite3_stmt *stmt = nullptr;
        const QByteArray utf8 = sql.toUtf8();
        int rc = sqlite3_prepare_v2(m_db, utf8.constData(), int(utf8.size()), &stmt, nullptr);
        if (rc == SQLITE_OK)
            rc = sqlite3_step(stmt);
        const qint64 value = rc == SQLITE_ROW ? sqlite3_column_int64(stmt, 0) : 0;
        const QString text = rc == SQLITE_ROW || rc == SQLITE_DONE ? QString() : errorText(m_db);
        sqlite3_finalize(stmt);
        if (rc == SQLITE_DONE)
            return makeError(ErrorCode::Internal, QStringLiteral("%1 returned nothing").arg(sql));
        if (rc != SQLITE_ROW)
            return sqlError(rc, text, sql);
        return value;
    }

    Result<qint64> pragma(const char *name)
    {
        return scalar(QStringLiteral("PRAGMA ") + QLatin1StringView(name));
    }

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
    sqlite3 *m_db = nullptr;
    std::unordered_map<const char *, std::unique_ptr<Statement>> m_statements;
};

struct SqliteStore::PendingWrite
{
    WriteBody body;
    bool chunkBatch = false;
    Handoff::Result<std::optional<Status>> result;
};

QString SqliteStore::timestamp(const QDateTime &time)
{
    char text[kIsoLength];
    if (formatIso(time, text))
        return QString::fromLatin1(text, kIsoLength);
    return toIso(time);
}

namespace {

SessionMeta readMeta(const Query &q)
{
    SessionMeta m;
    m.id = q.text(0);
    m.title = q.text(1);
    m.system = q.text(2);
    m.model = q.text(3);
    m.createdAt = fromIso(q.text(4));
    m.updatedAt = fromIso(q.text(5));
    m.total = q.integer(6);
    m.activeTurn = int(q.integer(7));
    m.lastTurn = int(q.integer(8));
    return m;
}

#define HF_META_COLUMNS                                                                            \
    "id, title, system, model, created_at, updated_at, total, active_turn, last_turn"

Message readMessage(const Query &q)
{
    Message m;
    m.index = q.integer(0);
    m.role = q.text(1);
    m.content = q.text(2);
    m.turn = int(q.integer(3));
    m.state = messageStateFromName(q.text(4)).value_or(Message::State::Complete);
    m.createdAt = fromIso(q.text(5));
    return m;
}

TurnRecord readTurn(const Query &q)
{
    TurnRecord t;
    t.session = q.text(0);
    t.id = int(q.integer(1));
    t.state = turnStateFromName(q.text(2)).value_or(TurnRecord::State::Error);
    t.promptIndex = q.integer(3);
    t.responseIndex = q.isNull(4) ? -1 : q.integer(4);
    t.chunks = int(q.integer(5));
    t.model = q.text(6);
    t.createdAt = fromIso(q.text(7));
    t.finishedAt = q.isNull(8) ? QDateTime() : fromIso(q.text(8));
    t.errorCode = q.text(9);
    t.errorMessage = q.text(10);
    return t;
}

#define HF_TURN_COLUMNS                                                                            \
    "session, id, state, prompt_index, response_index, chunks, model, created_at, finished_at, "   \
    "error_code, error_message"

void bindMeta(Query &q, const SessionMeta &m)
{
    q.add(m.id);
    q.add(m.title);
    q.add(m.system);
    q.add(m.model);
    q.addIso(m.createdAt);
    q.addIso(m.updatedAt);
    q.add(m.total);
    q.add(m.activeTurn);
    q.add(m.lastTurn);
}

void bindMessage(Query &q, const QString &sid, const Message &m)
{
    q.add(sid);
    q.add(m.index);
    q.add(m.role);
    // An answer without a chunk (cancelled or crashed before the first) has a null QString,
    // which binds as NULL and breaks `content NOT NULL`: store it as the empty text it is.
    q.add(m.content.isNull() ? QStringLiteral("") : m.content);
    q.add(m.turn);
    q.add(messageStateName(m.state));
    q.addIso(m.createdAt);
}

void bindTurn(Query &q, const TurnRecord &t)
{
    q.add(t.session);
    q.add(t.id);
    q.add(turnStateName(t.state));
    q.add(t.promptIndex);
    if (t.responseIndex < 0)
        q.addNull();
    else
        q.add(t.responseIndex);
    q.add(t.chunks);
    q.add(t.model);
    q.addIso(t.createdAt);
    q.addIso(t.finishedAt);
    if (t.errorCode.isEmpty())
        q.addNull();
    else
        q.add(t.errorCode);
    if (t.errorMessage.isEmpty())
        q.addNull();
    else
        q.add(t.errorMessage);
}

} // namespace

SqliteStore::SqliteStore(QString path, QObject *parent) : Store(parent), m_path(std::move(path))
{
    // One thread owns the connection for the store's whole life: SQLite connections must not
    // move between threads, and one writer is what SQLite wants anyway.
    m_pool.setMaxThreadCount(1);
    m_pool.setExpiryTimeout(-1);
    m_pool.setObjectName(QStringLiteral("holdfast-sqlite"));
    m_connection = std::make_unique<Connection>(m_path);
}

SqliteStore::~SqliteStore()
{
    m_pool.start([this] { m_connection->close(); });
    m_pool.waitForDone();
}

template <typename T, typename Work> Handoff::Result<std::optional<T>> SqliteStore::run(Work work)
{
    const auto done = m_handoff.expect<std::optional<T>>();
    m_pool.start([this, done, work = std::move(work)]() mutable {
        std::optional<T> result;
        if (m_connection->isOpen())
            result.emplace(work(*m_connection));
        else
            result.emplace(Connection::notOpen());
        const quint64 rows = m_connection->rows.exchange(0);
        if (rows)
            countRows(rows);
        done.complete(std::move(result));
    });
    return done;
}

Handoff::Result<std::optional<Status>> SqliteStore::write(WriteBody body, bool chunkBatch)
{
    auto pending = std::make_shared<PendingWrite>(
        PendingWrite{std::move(body), chunkBatch, m_handoff.expect<std::optional<Status>>()});
    const auto done = pending->result;
    bool schedule = false;
    {
        QMutexLocker lock(&m_pendingMutex);
        m_pending.append(std::move(pending));
        schedule = !std::exchange(m_flushScheduled, true);
    }
    if (schedule)
        m_pool.start([this] { flushWrites(); });
    return done;
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
            if (Status s = c.command("SAVEPOINT write"); !s)
                return s;
            const quint64 rowsBefore = c.rows.load();
            Status s = writes.at(i)->body(c);
            if (!s) {
                if (!c.inTransaction())
                    return s; // SQLite rolled back everything: every write failed
                c.command("ROLLBACK TO write");
                c.rows = rowsBefore;
                failures[i] = std::move(s);
            }
            if (Status r = c.command("RELEASE write"); !r)
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
    // Every caller of this batch is resumed by one wake-up of its thread.
    for (qsizetype i = 0; i < writes.size(); ++i)
        writes.at(i)->result.complete(all ? failures.at(i).value_or(Status(Ok{})) : all);
}

QCoro::Task<Status> SqliteStore::open()
{
    auto opened = m_handoff.expect<std::optional<Status>>();
    m_pool.start([this, opened] { opened.complete(std::optional<Status>(m_connection->open())); });
    const std::optional<Status> result = co_await opened;
    if (*result)
        qCInfo(lcStore) << "opened" << describe() << "schema version" << kSchemaVersion;
    co_return *result;
}

QCoro::Task<Status> SqliteStore::createSession(SessionMeta meta)
{
    auto work = [meta](Connection &c) -> Status {
        Query q = c.query("INSERT INTO sessions (" HF_META_COLUMNS
                          ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
        bindMeta(q, meta);
        Status s = q.exec(QStringLiteral("creating session"));
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
        Query q = c.query("SELECT " HF_META_COLUMNS " FROM sessions WHERE id = ?");
        q.add(id);
        if (Status s = q.exec(QStringLiteral("loading session")); !s)
            return s.error();
        std::optional<SessionMeta> meta;
        if (q.next())
            meta = readMeta(q);
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
            Query q = c.query(sql);
            q.add(id);
            if (Status s = q.exec(QStringLiteral("deleting session")); !s)
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
        {
            Query count =
                c.query(filtered ? "SELECT count(*) FROM sessions s WHERE hf_contains(s.title, ?)"
                                   " OR EXISTS (SELECT 1 FROM messages m WHERE m.session = s.id AND"
                                   " hf_contains(m.content, ?))"
                                 : "SELECT count(*) FROM sessions");
            if (filtered) {
                count.add(pattern);
                count.add(pattern);
            }
            if (Status s = count.exec(QStringLiteral("listing sessions")); !s)
                return s.error();
            if (count.next())
                page.total = count.integer(0);
        }

        Query q = c.query(filtered ? "SELECT " HF_META_COLUMNS " FROM sessions s WHERE"
                                     " hf_contains(s.title, ?) OR EXISTS (SELECT 1 FROM messages m"
                                     " WHERE m.session = s.id AND hf_contains(m.content, ?))"
                                     " ORDER BY updated_at DESC, id LIMIT ? OFFSET ?"
                                   : "SELECT " HF_META_COLUMNS " FROM sessions"
                                     " ORDER BY updated_at DESC, id LIMIT ? OFFSET ?");
        if (filtered) {
            q.add(pattern);
            q.add(pattern);
        }
        q.add(limit);
        q.add(offset);
        if (Status s = q.exec(QStringLiteral("listing sessions")); !s)
            return s.error();
        while (q.next())
            page.sessions.append(readMeta(q));
        return page;
    };
    auto r = co_await run<R>(std::move(work));
    co_return std::move(*r);
}

QCoro::Task<Result<QList<Message>>> SqliteStore::loadMessages(QString id, qint64 from, qint64 to)
{
    using R = Result<QList<Message>>;
    auto work = [id, from, to](Connection &c) -> R {
        Query q = c.query("SELECT idx, role, content, turn, state, created_at FROM messages"
                          " WHERE session = ? AND idx >= ? AND idx < ? ORDER BY idx");
        q.add(id);
        q.add(from);
        q.add(to);
        if (Status s = q.exec(QStringLiteral("loading messages")); !s)
            return s.error();
        QList<Message> messages;
        while (q.next())
            messages.append(readMessage(q));
        return messages;
    };
    auto r = co_await run<R>(std::move(work));
    co_return std::move(*r);
}

QCoro::Task<Status> SqliteStore::beginTurn(SessionMeta meta, std::optional<Message> prompt,
                                           TurnRecord turn)
{
    auto work = [meta, prompt, turn](Connection &c) -> Status {
        if (prompt) {
            Query m = c.query("INSERT INTO messages (session, idx, role, content, turn,"
                              " state, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)");
            bindMessage(m, meta.id, *prompt);
            if (Status s = m.exec(QStringLiteral("storing the prompt")); !s)
                return s;
        }
        Query t = c.query("INSERT INTO turns (" HF_TURN_COLUMNS
                          ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
        bindTurn(t, turn);
        if (Status s = t.exec(QStringLiteral("storing the turn")); !s)
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
        Query upd = c.query("UPDATE turns SET chunks = ? WHERE session = ? AND id = ?"
                            " AND chunks = ? AND state IN ('queued', 'streaming')");
        upd.add(chunks.constLast().seq + 1);
        upd.add(sid);
        upd.add(tid);
        upd.add(chunks.constFirst().seq);
        if (Status s = upd.exec(QStringLiteral("storing chunks")); !s)
            return s;
        if (upd.changes() == 0) {
            Query probe = c.query("SELECT chunks, state FROM turns WHERE session = ? AND id = ?");
            probe.add(sid);
            probe.add(tid);
            if (Status s = probe.exec(QStringLiteral("storing chunks")); !s)
                return s;
            if (!probe.next())
                return makeError(
                    ErrorCode::NotFound,
                    QStringLiteral("turn %1 of '%2' does not exist").arg(tid).arg(sid));
            const QString detail =
                QStringLiteral("chunk %1 does not follow the %2 stored chunks of turn %3 "
                               "of '%4' (state %5)")
                    .arg(chunks.constFirst().seq)
                    .arg(probe.integer(0))
                    .arg(tid)
                    .arg(sid, probe.text(1));
            return makeError(ErrorCode::Conflict, detail);
        }
        Query ins = c.query("INSERT INTO chunks (session, turn, seq, text) VALUES (?, ?, ?, ?)");
        int expected = chunks.constFirst().seq;
        for (const Chunk &chunk : chunks) {
            if (chunk.seq != expected++)
                return makeError(ErrorCode::Conflict,
                                 QStringLiteral("chunks of turn %1 of '%2' are not "
                                                "consecutive")
                                     .arg(tid)
                                     .arg(sid));
            ins.add(sid);
            ins.add(tid);
            ins.add(chunk.seq);
            ins.add(chunk.text);
            if (Status s = ins.exec(QStringLiteral("storing chunks")); !s)
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
            Query m = c.query("INSERT OR REPLACE INTO messages (session, idx, role, content,"
                              " turn, state, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)");
            bindMessage(m, meta.id, *answer);
            if (Status s = m.exec(QStringLiteral("storing the answer")); !s)
                return s;
        }
        Query t = c.query("INSERT OR REPLACE INTO turns (" HF_TURN_COLUMNS
                          ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
        bindTurn(t, turn);
        if (Status s = t.exec(QStringLiteral("storing the turn")); !s)
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
        Query q = c.query("SELECT " HF_TURN_COLUMNS " FROM turns WHERE session = ? AND id = ?");
        q.add(sid);
        q.add(tid);
        if (Status s = q.exec(QStringLiteral("loading turn")); !s)
            return s.error();
        std::optional<TurnRecord> turn;
        if (q.next())
            turn = readTurn(q);
        return turn;
    };
    auto r = co_await run<R>(std::move(work));
    co_return std::move(*r);
}

QCoro::Task<Result<QList<Chunk>>> SqliteStore::loadChunks(QString sid, int tid, int from, int limit)
{
    using R = Result<QList<Chunk>>;
    auto work = [sid, tid, from, limit](Connection &c) -> R {
        Query q = c.query("SELECT seq, text FROM chunks WHERE session = ? AND turn = ?"
                          " AND seq >= ? ORDER BY seq LIMIT ?");
        q.add(sid);
        q.add(tid);
        q.add(from);
        q.add(limit);
        if (Status s = q.exec(QStringLiteral("loading chunks")); !s)
            return s.error();
        QList<Chunk> chunks;
        while (q.next())
            chunks.append(Chunk{int(q.integer(0)), q.text(1)});
        return chunks;
    };
    auto r = co_await run<R>(std::move(work));
    co_return std::move(*r);
}

QCoro::Task<Result<QList<TurnRecord>>> SqliteStore::unfinishedTurns()
{
    using R = Result<QList<TurnRecord>>;
    auto work = [](Connection &c) -> R {
        Query q = c.query("SELECT " HF_TURN_COLUMNS " FROM turns"
                          " WHERE state IN ('queued', 'streaming') ORDER BY session, id");
        if (Status s = q.exec(QStringLiteral("finding unfinished turns")); !s)
            return s.error();
        QList<TurnRecord> turns;
        while (q.next())
            turns.append(readTurn(q));
        return turns;
    };
    auto r = co_await run<R>(std::move(work));
    co_return std::move(*r);
}

} // namespace holdfast
