#include "http/router.h"

namespace holdfast {

namespace {
bool isPlaceholder(const QString &segment)
{
    return segment.startsWith(QLatin1Char('{')) && segment.endsWith(QLatin1Char('}'));
}
} // namespace

QString Router::Match::arg(const QString &name) const
{
    if (!route)
        return {};
    const qsizetype i = route->placeholders.indexOf(name);
    return i >= 0 && i < args.size() ? args.at(i) : QString();
}

void Router::add(const QByteArray &method, const QString &pattern, Handler handler,
                 ErrorFormat errorFormat)
{
    Route route;
    route.method = method;
    route.pattern = pattern.mid(1).split(QLatin1Char('/'));
    for (const QString &segment : std::as_const(route.pattern)) {
        if (isPlaceholder(segment))
            route.placeholders.append(segment.mid(1, segment.size() - 2));
    }
    route.handler = std::move(handler);
    route.errorFormat = std::move(errorFormat);
    m_routes.append(std::move(route));
}

QList<Router::RouteInfo> Router::routes() const
{
    QList<RouteInfo> list;
    for (const Route &route : m_routes)
        list.append({route.method, QLatin1Char('/') + route.pattern.join(QLatin1Char('/'))});
    return list;
}

Router::Match Router::match(const QByteArray &method, const QStringList &segments) const
{
    // HEAD runs the GET route; the connection writes its head and drops its body.
    const QByteArray wanted = method == "HEAD" ? QByteArrayLiteral("GET") : method;
    Match result;
    for (const Route &route : m_routes) {
        if (route.pattern.size() != segments.size())
            continue;
        QStringList args;
        bool matches = true;
        for (qsizetype i = 0; i < segments.size() && matches; ++i) {
            if (isPlaceholder(route.pattern[i])) {
                matches = !segments[i].isEmpty();
                args.append(segments[i]);
            } else {
                matches = route.pattern[i] == segments[i];
            }
        }
        if (!matches)
            continue;
        if (!result.allowed.contains(route.method))
            result.allowed.append(route.method);
        if (route.method == "GET" && !result.allowed.contains("HEAD"))
            result.allowed.append("HEAD");
        if (!result.errorFormat)
            result.errorFormat = route.errorFormat;
        if (route.method == wanted && !result.route) {
            result.route = &route;
            result.args = args;
        }
    }
    return result;
}

} // namespace holdfast
