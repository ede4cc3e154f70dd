#pragma once

// The statement layer of the SQLite store: SQLite's result codes as Holdfast errors, statements
// prepared once per connection, and one use of such a statement (Query: bind, step, read). It
// uses SQLite's C API directly (not Qt SQL), which saves a copy of every text in and out.

#include "core/error.h"
#include "core/types.h"

#include <QByteArray>
#include <QStringEncoder>

#include <sqlite3.h>

#include <atomic>
#include <optional>
#include <type_traits>
#include <utility>
#include <vector>

namespace holdfast::sqlite {

// SQLite's primary result codes that mean "the disk or the file", not "a bug".
Error sqlError(int rc, QString text, const QString &what);
QString errorText(sqlite3 *db);

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
        if (writeIso(time, text.data()))
            bindText(text.constData(), kIsoLength);
        else
            add(toIso(time));
    }
    void addNull()
    {
        if (m_stmt)
            sqlite3_bind_null(m_stmt, ++m_bound);
    }
    // (Not an overload of add: an int argument would be ambiguous.)
    void addReal(double value)
    {
        if (m_stmt)
            sqlite3_bind_double(m_stmt, ++m_bound, value);
    }
    // Bound without a copy: the statement's buffer shares the bytes until the next bind.
    void addBlob(const QByteArray &bytes)
    {
        if (!m_stmt)
            return;
        QByteArray &kept = buffer();
        kept = bytes;
        sqlite3_bind_blob64(m_stmt, ++m_bound, kept.constData(), sqlite3_uint64(kept.size()),
                            SQLITE_STATIC);
    }
    template <typename T> void addOptional(const std::optional<T> &value)
    {
        if (!value)
            addNull();
        else if constexpr (std::is_floating_point_v<T>)
            addReal(*value);
        else
            add(qint64(*value));
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

    // Ends a read before its last row, so that the same Query can bind and exec() again.
    void reset()
    {
        if (m_stmt)
            sqlite3_reset(m_stmt);
        m_pendingRow = false;
        m_done = true;
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
    double real(int column) const { return sqlite3_column_double(m_stmt, column); }
    QByteArray blob(int column) const
    {
        const auto *data = static_cast<const char *>(sqlite3_column_blob(m_stmt, column));
        return QByteArray(data, data ? sqlite3_column_bytes(m_stmt, column) : 0);
    }
    // The column's bytes in place: valid until the next step, reset or read of the column.
    QByteArrayView blobView(int column) const
    {
        const auto *data = static_cast<const char *>(sqlite3_column_blob(m_stmt, column));
        return data ? QByteArrayView(data, sqlite3_column_bytes(m_stmt, column)) : QByteArrayView();
    }
    std::optional<double> optionalReal(int column) const
    {
        return isNull(column) ? std::nullopt : std::optional<double>(real(column));
    }
    std::optional<qint64> optionalInteger(int column) const
    {
        return isNull(column) ? std::nullopt : std::optional<qint64>(integer(column));
    }
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

} // namespace holdfast::sqlite
