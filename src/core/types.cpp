#include "core/types.h"

#include <QTimeZone>

namespace holdfast {

TurnOptions TurnOptions::overriddenBy(const TurnOptions &over) const
{
    TurnOptions merged = *this;
    if (over.temperature)
        merged.temperature = over.temperature;
    if (over.topP)
        merged.topP = over.topP;
    if (over.maxTokens)
        merged.maxTokens = over.maxTokens;
    if (over.contextTokens)
        merged.contextTokens = over.contextTokens;
    return merged;
}

QString messageStateName(Message::State state)
{
    switch (state) {
    case Message::State::Complete:
        return QStringLiteral("complete");
    case Message::State::Interrupted:
        return QStringLiteral("interrupted");
    case Message::State::Error:
        return QStringLiteral("error");
    }
    return QStringLiteral("complete");
}

std::optional<Message::State> messageStateFromName(const QString &name)
{
    for (auto s : {Message::State::Complete, Message::State::Interrupted, Message::State::Error}) {
        if (messageStateName(s) == name)
            return s;
    }
    return std::nullopt;
}

QString turnStateName(TurnRecord::State state)
{
    switch (state) {
    case TurnRecord::State::Queued:
        return QStringLiteral("queued");
    case TurnRecord::State::Streaming:
        return QStringLiteral("streaming");
    case TurnRecord::State::Waiting:
        return QStringLiteral("waiting");
    case TurnRecord::State::Done:
        return QStringLiteral("done");
    case TurnRecord::State::Cancelled:
        return QStringLiteral("cancelled");
    case TurnRecord::State::Interrupted:
        return QStringLiteral("interrupted");
    case TurnRecord::State::Error:
        return QStringLiteral("error");
    }
    return QStringLiteral("error");
}

std::optional<TurnRecord::State> turnStateFromName(const QString &name)
{
    using S = TurnRecord::State;
    for (auto s :
         {S::Queued, S::Streaming, S::Waiting, S::Done, S::Cancelled, S::Interrupted, S::Error}) {
        if (turnStateName(s) == name)
            return s;
    }
    return std::nullopt;
}

QString toolApprovalName(ToolApproval approval)
{
    return approval == ToolApproval::Auto ? QStringLiteral("auto") : QStringLiteral("ask");
}

std::optional<ToolApproval> toolApprovalFromName(const QString &name)
{
    if (name == QLatin1String("ask"))
        return ToolApproval::Ask;
    if (name == QLatin1String("auto"))
        return ToolApproval::Auto;
    return std::nullopt;
}

bool writeIso(const QDateTime &time, char *out)
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

QString toIso(const QDateTime &time)
{
    if (!time.isValid())
        return {};
    char text[kIsoLength];
    if (writeIso(time, text))
        return QString::fromLatin1(text, kIsoLength);
    return time.toUTC().toString(QStringLiteral("yyyy-MM-ddTHH:mm:ss.zzzZ"));
}

QDateTime fromIso(const QString &text)
{
    if (text.isEmpty())
        return {};
    QDateTime t = QDateTime::fromString(text, Qt::ISODateWithMs);
    if (!t.isValid())
        t = QDateTime::fromString(text, Qt::ISODate);
    return t.toUTC();
}

QString nowIso()
{
    return toIso(QDateTime::currentDateTimeUtc());
}

} // namespace holdfast
