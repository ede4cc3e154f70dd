#include "core/types.h"

#include <QTimeZone>

namespace holdfast {

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
    for (auto s : {S::Queued, S::Streaming, S::Done, S::Cancelled, S::Interrupted, S::Error}) {
        if (turnStateName(s) == name)
            return s;
    }
    return std::nullopt;
}

QString toIso(const QDateTime &time)
{
    if (!time.isValid())
        return {};
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
