#pragma once

// The SQLite store's connection: opening and checking the file, migrations, transactions and
// the statements prepared once. Lives on the store's worker thread only.

#include "store/sqlitestatement.h"
#include "store/sqlitestore.h"

#include <QHash>

#include <memory>
#include <unordered_map>
#include <utility>

namespace holdfast {

using sqlite::Query;
using sqlite::Statement;

class SqliteStore::Connection
{
public:
    explicit Connection(QString path) : m_path(std::move(path)) {}
    ~Connection() { close(); }

    std::atomic<quint64> rows{0};

    // A running turn as its chunk batches see it: its key in the chunk log and the seq its next
    // chunk must have. Kept here (this connection is its file's only writer) so that a batch
    // checks continuity without rewriting the turns row; read from the file on a turn's first
    // batch after a start, dropped when the turn ends or its session goes, and all dropped when
    // a transaction fails (what they counted may not be stored).
    struct LiveTurn
    {
        qint64 key = 0;
        int next = 0;
    };
    QHash<std::pair<QString, int>, LiveTurn> liveTurns;
    // The largest turn key stored (-1: not read yet since the start).
    qint64 lastTurnKey = -1;

    // Opens (creating the file, private to its owner, if needed), checks that the file is a
    // Holdfast database this build can read, and migrates an older one forward.
    Status open();
    void close();

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
    Status exec(const QString &sql);

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
    Status updateMeta(const SessionMeta &meta);

    static Error notOpen()
    {
        return makeError(ErrorCode::Unavailable, QStringLiteral("the SQLite store is not open"));
    }

private:
    // `counter` adds up the rows the statement's writes change (null: not counted).
    Query query(const char *sql, std::atomic<quint64> *counter);

    Status fail(Error error)
    {
        close();
        return error;
    }

    Status prepareFile();
    Status registerFunctions();
    Result<qint64> scalar(const QString &sql);

    Result<qint64> pragma(const char *name)
    {
        return scalar(QStringLiteral("PRAGMA ") + QLatin1StringView(name));
    }

    Status migrate(int from);

    QString m_path;
    sqlite3 *m_db = nullptr;
    std::unordered_map<const char *, std::unique_ptr<Statement>> m_statements;
};

// Here rather than in sqlitestore.cpp: every file of the store's calls uses it.
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

} // namespace holdfast
