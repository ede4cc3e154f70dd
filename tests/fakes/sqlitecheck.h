#pragma once

// SQLite's own check of a database file a test left behind (tst_crash, tst_storagefaults), and
// the schema version a file says it has (tst_store, tst_storetree).
// Header-only: the suites that use it link Qt SQL, the fakes library does not.

#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QString>

namespace holdfast::test {

// "ok" when PRAGMA integrity_check finds nothing wrong in `db`, else what it found.
inline QString integrityCheck(const QString &db)
{
    QString result;
    const QString name = QStringLiteral("integrity-check");
    {
        QSqlDatabase sql = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), name);
        sql.setDatabaseName(db);
        if (!sql.open())
            return QStringLiteral("cannot open: ") + sql.lastError().text();
        QSqlQuery q(sql);
        if (!q.exec(QStringLiteral("PRAGMA integrity_check")))
            result = QStringLiteral("failed: ") + q.lastError().text();
        while (q.next())
            result += q.value(0).toString();
        sql.close();
    }
    QSqlDatabase::removeDatabase(name);
    return result;
}

// PRAGMA user_version of the file at `path`, -1 when it cannot be read.
inline int userVersion(const QString &path)
{
    int version = -1;
    {
        QSqlDatabase db =
            QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), QStringLiteral("probe"));
        db.setDatabaseName(path);
        if (db.open()) {
            QSqlQuery q(QStringLiteral("PRAGMA user_version"), db);
            if (q.next())
                version = q.value(0).toInt();
        }
        db.close();
    }
    QSqlDatabase::removeDatabase(QStringLiteral("probe"));
    return version;
}

} // namespace holdfast::test
