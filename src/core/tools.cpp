#include "core/tools.h"

#include <QRegularExpression>

#include <algorithm>

namespace holdfast {

QString toolServerStateName(ToolServerInfo::State state)
{
    switch (state) {
    case ToolServerInfo::State::Starting:
        return QStringLiteral("starting");
    case ToolServerInfo::State::Ready:
        return QStringLiteral("ready");
    case ToolServerInfo::State::Error:
        return QStringLiteral("error");
    }
    return QStringLiteral("error");
}

std::optional<ToolServerInfo::State> toolServerStateFromName(const QString &name)
{
    using S = ToolServerInfo::State;
    for (auto s : {S::Starting, S::Ready, S::Error}) {
        if (toolServerStateName(s) == name)
            return s;
    }
    return std::nullopt;
}

QString toolServerOf(const QString &name)
{
    const qsizetype slash = name.indexOf(QLatin1Char('/'));
    return slash < 0 ? QString() : name.left(slash);
}

QHash<QString, QString> toolWireNames(const QStringList &names)
{
    // Sorted, so that a name's function does not depend on the order tools were listed in.
    QStringList sorted = names;
    sorted.sort();
    sorted.removeDuplicates();
    static const QRegularExpression kNotAllowed(QStringLiteral("[^a-zA-Z0-9_-]"));
    constexpr qsizetype kMax = 64;
    QHash<QString, QString> wire;
    QSet<QString> taken;
    for (const QString &name : std::as_const(sorted)) {
        QString base = name;
        base.replace(QLatin1Char('/'), QStringLiteral("__"));
        base.replace(kNotAllowed, QStringLiteral("_"));
        if (base.isEmpty())
            base = QStringLiteral("tool");
        base.truncate(kMax);
        QString candidate = base;
        for (int n = 2; taken.contains(candidate); ++n) {
            const QString suffix = QStringLiteral("_%1").arg(n);
            candidate = base.left(kMax - suffix.size()) + suffix;
        }
        taken.insert(candidate);
        wire.insert(name, candidate);
    }
    return wire;
}

} // namespace holdfast
