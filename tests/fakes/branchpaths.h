#pragma once

// The message indexes of a branch, as the branch suites compare them (tst_servicebranches,
// tst_sharedbranches, tst_storetree, tst_clientbranches, tst_branches, tst_crashbranches).

#include "core/types.h"

#include <QJsonArray>
#include <QJsonObject>
#include <QList>

#include <initializer_list>

namespace holdfast::test {

inline QList<qint64> indexes(const QList<Message> &messages)
{
    QList<qint64> out;
    for (const Message &m : messages)
        out << m.index;
    return out;
}

// Of the API's message objects.
inline QList<qint64> indexes(const QJsonArray &messages)
{
    QList<qint64> out;
    for (const QJsonValue &m : messages)
        out << m.toObject().value(QStringLiteral("index")).toInteger();
    return out;
}

// A literal list for QCOMPARE, which wants both sides of one type.
inline QList<qint64> list(std::initializer_list<qint64> l)
{
    return QList<qint64>(l);
}

} // namespace holdfast::test
