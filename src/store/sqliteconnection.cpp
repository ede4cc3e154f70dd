#include "store/sqliteconnection.h"

#include "core/logging.h"
#include "store/sqlitechunklog.h"
#include "store/sqliteschema.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>

namespace holdfast {

using sqlite::errorText;
using sqlite::kApplicationId;
using sqlite::kMigrations;
using sqlite::sqlError;

static_assert(sqlite::kSchemaVersion == SqliteStore::kSchemaVersion);

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

} // namespace

Status SqliteStore::Connection::registerFunctions()
{
    if (sqlite3_create_function_v2(m_db, "hf_contains", 2, SQLITE_UTF8 | SQLITE_DETERMINISTIC,
                                   nullptr, &containsFolded, nullptr, nullptr,
                                   nullptr) != SQLITE_OK ||
        sqlite3_create_function_v2(m_db, "hf_chunk_record", 2, SQLITE_UTF8 | SQLITE_DETERMINISTIC,
                                   nullptr, &sqlite::chunkRecordFunction, nullptr, nullptr,
                                   nullptr) != SQLITE_OK)
        return makeError(ErrorCode::Internal,
                         QStringLiteral("cannot register the functions on %1").arg(m_path));
    return Ok{};
}

Status SqliteStore::Connection::open()
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
        return fail(
            makeError(ErrorCode::Unavailable, QStringLiteral("%1 is not a Holdfast database (%2)")
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
    for (const char *sql :
         {"PRAGMA journal_mode = WAL", "PRAGMA synchronous = NORMAL", "PRAGMA temp_store = MEMORY",
          "PRAGMA wal_autocheckpoint = 4000", "PRAGMA journal_size_limit = 16777216"}) {
        if (Status s = exec(QString::fromLatin1(sql)); !s)
            return fail(s.error());
    }
    if (*version < kSchemaVersion) {
        if (Status s = migrate(int(*version)); !s)
            return fail(s.error());
    }
    return Ok{};
}

void SqliteStore::Connection::close()
{
    if (!m_db)
        return;
    liveTurns.clear();
    lastTurnKey = -1;
    m_statements.clear();
    sqlite3_close_v2(m_db);
    m_db = nullptr;
}

Status SqliteStore::Connection::exec(const QString &sql)
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

Status SqliteStore::Connection::updateMeta(const SessionMeta &meta)
{
    Query u =
        query("UPDATE sessions SET title = ?, system = ?, model = ?, updated_at = ?,"
              " total = ?, active_turn = ?, last_turn = ?, head = ?, length = ?, temperature = ?,"
              " top_p = ?, max_tokens = ?, context_tokens = ?, tools = ?, tool_approval = ?"
              " WHERE id = ?");
    u.add(meta.title);
    u.add(meta.system);
    u.add(meta.model);
    u.addIso(meta.updatedAt);
    u.add(meta.total);
    u.add(meta.activeTurn);
    u.add(meta.lastTurn);
    sqlite::addIndex(u, meta.head);
    u.add(meta.length);
    sqlite::bindOptions(u, meta.options);
    sqlite::bindTools(u, meta);
    u.add(meta.id);
    if (Status s = u.exec(QStringLiteral("saving session")); !s)
        return s;
    if (u.changes() == 0)
        return makeError(ErrorCode::NotFound,
                         QStringLiteral("session '%1' does not exist").arg(meta.id));
    return Ok{};
}

Query SqliteStore::Connection::query(const char *sql, std::atomic<quint64> *counter)
{
    auto it = m_statements.find(sql);
    if (it == m_statements.end()) {
        auto statement = std::make_unique<Statement>();
        const int rc =
            sqlite3_prepare_v3(m_db, sql, -1, SQLITE_PREPARE_PERSISTENT, &statement->stmt, nullptr);
        if (rc != SQLITE_OK)
            return Query(rc, errorText(m_db), sql);
        it = m_statements.emplace(sql, std::move(statement)).first;
    }
    return Query(m_db, it->second.get(), sql, counter);
}

Status SqliteStore::Connection::prepareFile()
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

Result<qint64> SqliteStore::Connection::scalar(const QString &sql)
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

Status SqliteStore::Connection::migrate(int from)
{
    if (from > 0)
        qCInfo(lcStore) << "migrating" << m_path << "from schema version" << from << "to"
                        << kSchemaVersion;
    return transaction([&]() -> Status {
        for (int step = from; step < kSchemaVersion; ++step) {
            const QStringList statements =
                QString::fromUtf8(kMigrations[step]).split(QLatin1Char(';'), Qt::SkipEmptyParts);
            for (const QString &sql : statements) {
                if (Status s = exec(sql); !s)
                    return makeError(s.error().code,
                                     QStringLiteral("migrating %1 to schema version %2: %3")
                                         .arg(m_path)
                                         .arg(step + 1)
                                         .arg(s.error().message));
            }
        }
        if (Status s = exec(QStringLiteral("PRAGMA application_id = %1").arg(kApplicationId)); !s)
            return s;
        return exec(QStringLiteral("PRAGMA user_version = %1").arg(kSchemaVersion));
    });
}

} // namespace holdfast
