// The core types' helpers: the one time format (toIso, writeIso) against Qt's own formatting.
#include "core/types.h"

#include <QRandomGenerator>
#include <QTest>
#include <QTimeZone>

using namespace holdfast;

class TestTypes : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    // toIso writes its text without QDateTime::toString: it must be exactly what toString
    // writes, for every date (leap days, month and year ends, before 1970, local times) and for
    // the years the fast path leaves to toString (before 1, after 9999). The JSON of a snapshot
    // (json::toJsonBytes) writes the same text through writeIso.
    void toIsoIsQtsFormat()
    {
        QList<QDateTime> times = {
            QDateTime(),
            QDateTime::fromMSecsSinceEpoch(0, Qt::UTC),
            QDateTime::fromMSecsSinceEpoch(-1, Qt::UTC),
            QDateTime(QDate(2024, 2, 29), QTime(23, 59, 59, 999), Qt::UTC),
            QDateTime(QDate(2000, 3, 1), QTime(0, 0), Qt::UTC),
            QDateTime(QDate(1900, 2, 28), QTime(12, 0, 0, 5), Qt::UTC),
            QDateTime(QDate(1, 1, 1), QTime(0, 0), Qt::UTC),
            QDateTime(QDate(9999, 12, 31), QTime(23, 59, 59, 999), Qt::UTC),
            QDateTime(QDate(-1, 12, 31), QTime(23, 59, 59, 999), Qt::UTC),
            QDateTime(QDate(10000, 1, 1), QTime(0, 0), Qt::UTC),
            QDateTime(QDate(2026, 11, 25), QTime(15, 30, 27, 123), QTimeZone(-5 * 3600)),
            QDateTime(QDate(2026, 3, 29), QTime(2, 30), Qt::LocalTime),
            QDateTime::currentDateTime(),
            QDateTime::currentDateTimeUtc(),
        };
        // Every day from 1900 to 2200 at a varying time, and random instants over years 1..9999.
        constexpr qint64 kDayMs = 86400000;
        const qint64 from = QDateTime(QDate(1900, 1, 1), QTime(0, 0), Qt::UTC).toMSecsSinceEpoch();
        for (qint64 day = 0; day < 300 * 366; ++day)
            times.append(QDateTime::fromMSecsSinceEpoch(from + day * kDayMs + (day * 7919) % kDayMs,
                                                        Qt::UTC));
        const qint64 first = QDateTime(QDate(1, 1, 1), QTime(0, 0), Qt::UTC).toMSecsSinceEpoch();
        const qint64 last =
            QDateTime(QDate(9999, 12, 31), QTime(23, 59, 59, 999), Qt::UTC).toMSecsSinceEpoch();
        QRandomGenerator random(7);
        for (int i = 0; i < 50000; ++i)
            times.append(QDateTime::fromMSecsSinceEpoch(
                first + qint64(random.bounded(double(last - first))), Qt::UTC));
        for (const QDateTime &time : std::as_const(times)) {
            const QString expected =
                time.isValid() ? time.toUTC().toString(QStringLiteral("yyyy-MM-ddTHH:mm:ss.zzzZ"))
                               : QString();
            const QString actual = toIso(time);
            if (actual != expected || actual.isNull() != expected.isNull())
                QFAIL(qPrintable(QStringLiteral("%1: %2, toString %3")
                                     .arg(time.toMSecsSinceEpoch())
                                     .arg(actual, expected)));
        }
    }
};

QTEST_GUILESS_MAIN(TestTypes)
#include "tst_types.moc"
