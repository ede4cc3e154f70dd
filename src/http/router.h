#pragma once

#include "http/httpmessage.h"

#include <QByteArray>
#include <QList>
#include <QStringList>

#include <functional>

namespace holdfast {

// The routes of the API: a method and a path pattern each ("/v1/sessions/{sid}/turns/{tid}").
// A placeholder matches one non-empty path segment. Matching tells apart "no such path" (404)
// from "this path, not this method" (405, with the methods that exist). HEAD matches a GET route.
class Router
{
public:
    using Handler =
        std::function<void(HttpRequest request, QStringList args, HttpResponder responder)>;

    struct Route
    {
        QByteArray method;
        QStringList pattern;      // segments; "{name}" is a placeholder
        QStringList placeholders; // names, in order
        Handler handler;
        ErrorFormat errorFormat; // empty: the API.md error body
    };

    struct Match
    {
        const Route *route = nullptr; // the route to run, if path and method match
        QStringList args;             // the placeholders' values, in order
        QByteArrayList allowed;       // the methods this path has (for 405)
        ErrorFormat errorFormat;      // of the routes of this path
        bool pathFound() const { return !allowed.isEmpty(); }
        // The value of a placeholder, or a null string.
        QString arg(const QString &name) const;
    };

    // One route as it was added: a method and its pattern ("/v1/sessions/{sid}").
    struct RouteInfo
    {
        QByteArray method;
        QString pattern;
    };

    void add(const QByteArray &method, const QString &pattern, Handler handler,
             ErrorFormat errorFormat = {});
    Match match(const QByteArray &method, const QStringList &segments) const;
    // Every route, in the order added (tests check docs/openapi.yaml against it).
    QList<RouteInfo> routes() const;

private:
    QList<Route> m_routes;
};

} // namespace holdfast
