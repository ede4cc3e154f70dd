#include "store/sqlitestatement.h"

namespace holdfast::sqlite {

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

} // namespace holdfast::sqlite
