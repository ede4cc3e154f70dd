#pragma once

// SQLite's own check of a database file a test left behind (tst_crash, tst_storagefaults).
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

} // namespace holdfast::test
