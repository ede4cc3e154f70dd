#include "http/sessionscontroller.h"

#include "core/json.h"
#include "core/sessionservice.h"
#include "http/apirequest.h"

#include <QJsonArray>

#include <limits>

namespace holdfast {

using api::failed;

namespace {
QByteArray sessionLocation(const QString &sid)
{
    return "/v1/sessions/" + sid.toUtf8();
}
} // namespace

void SessionsController::registerRoutes(Router &router, SessionService *service)
{
    router.add("GET", QStringLiteral("/v1/sessions"),
               [service](HttpRequest request, QStringList, HttpResponder responder) {
                   list(service, std::move(request), std::move(responder));
               });
    router.add("POST", QStringLiteral("/v1/sessions"),
               [service](HttpRequest request, QStringList, HttpResponder responder) {
                   create(service, std::move(request), std::move(responder));
               });
    router.add("GET", QStringLiteral("/v1/sessions/{sid}"),
               [service](HttpRequest request, QStringList args, HttpResponder responder) {
                   get(service, std::move(request), args[0], std::move(responder));
               });
    router.add("PATCH", QStringLiteral("/v1/sessions/{sid}"),
               [service](HttpRequest request, QStringList args, HttpResponder responder) {
                   patch(service, std::move(request), args[0], std::move(responder));
               });
    router.add("DELETE", QStringLiteral("/v1/sessions/{sid}"),
               [service](HttpRequest, QStringList args, HttpResponder responder) {
                   remove(service, args[0], std::move(responder));
               });
    router.add("GET", QStringLiteral("/v1/sessions/{sid}/messages"),
               [service](HttpRequest request, QStringList args, HttpResponder responder) {
                   messages(service, std::move(request), args[0], std::move(responder));
               });
}

QCoro::Task<> SessionsController::list(SessionService *service, HttpRequest request,
                                       HttpResponder responder)
{
    const auto limit = api::queryInteger(request, QStringLiteral("limit"), 50, 0, 1000);
    if (failed(limit, responder))
        co_return;
    const auto offset =
        api::queryInteger(request, QStringLiteral("offset"), 0, 0, std::numeric_limits<int>::max());
    if (failed(offset, responder))
        co_return;
    const QString query = request.queryValue(QStringLiteral("q")).value_or(QString());
    const auto page = co_await service->listSessions(query, int(*limit), int(*offset));
    if (failed(page, responder))
        co_return;
    QJsonArray sessions;
    for (const SessionMeta &meta : page->sessions)
        sessions.append(json::toJson(meta));
    responder.sendJson(200, QJsonObject{{QStringLiteral("sessions"), sessions},
                                        {QStringLiteral("total"), page->total}});
}

QCoro::Task<> SessionsController::create(SessionService *service, HttpRequest request,
                                         HttpResponder responder)
{
    const auto body = api::jsonBody(request);
    if (failed(body, responder))
        co_return;
    CreateSessionParams params;
    const auto id = api::stringField(*body, QStringLiteral("id"));
    const auto title = api::stringField(*body, QStringLiteral("title"));
    const auto system = api::stringField(*body, QStringLiteral("system"));
    const auto model = api::stringField(*body, QStringLiteral("model"));
    if (failed(id, responder) || failed(title, responder) || failed(system, responder) ||
        failed(model, responder))
        co_return;
    if (*id && !(*id)->isNull()) {
        if ((*id)->isEmpty()) {
            responder.sendError(api::badRequest(QStringLiteral("'id' must not be empty")));
            co_return;
        }
        params.id = **id;
    }
    params.title = *title;
    params.system = *system;
    if (*model && !(*model)->isNull())
        params.model = **model;
    const auto created = co_await service->createSession(params);
    if (failed(created, responder))
        co_return;
    responder.sendJson(201, json::toJson(*created),
                       {{"Location", sessionLocation(created->meta.id)}});
}

QCoro::Task<> SessionsController::get(SessionService *service, HttpRequest request, QString sid,
                                      HttpResponder responder)
{
    const auto window = api::queryInteger(request, QStringLiteral("window"), 30, 0, 1000);
    if (failed(window, responder))
        co_return;
    const auto snapshot = co_await service->session(sid, int(*window));
    if (failed(snapshot, responder))
        co_return;
    responder.send(200, "application/json", json::toJsonBytes(*snapshot));
}

QCoro::Task<> SessionsController::patch(SessionService *service, HttpRequest request, QString sid,
                                        HttpResponder responder)
{
    const auto body = api::jsonBody(request);
    if (failed(body, responder))
        co_return;
    PatchSessionParams params;
    const auto title = api::stringField(*body, QStringLiteral("title"));
    const auto system = api::stringField(*body, QStringLiteral("system"));
    const auto model = api::stringField(*body, QStringLiteral("model"));
    const auto head = api::integerField(*body, QStringLiteral("head"));
    const auto options = api::optionsField(*body, QStringLiteral("options"));
    if (failed(title, responder) || failed(system, responder) || failed(model, responder) ||
        failed(head, responder) || failed(options, responder))
        co_return;
    params.options = *options; // replaces the session's options; {} (or null) clears them
    params.head = *head;       // a negative one is no message: 422 from the service, after its 409
    params.title = *title;     // null clears
    params.system = *system;
    if (*model && !(*model)->isNull())
        params.model = **model;
    // Tools (shared/API.md, Tools (MCP)): null clears the list, like [] (as null clears options).
    const auto tools = api::stringListField(*body, QStringLiteral("tools"));
    const auto approval = api::stringField(*body, QStringLiteral("tool_approval"));
    if (failed(tools, responder) || failed(approval, responder))
        co_return;
    if (*tools)
        params.tools = **tools;
    else if (body->value(QStringLiteral("tools")).isNull())
        params.tools = QStringList();
    if (*approval && !(*approval)->isNull()) {
        params.toolApproval = toolApprovalFromName(**approval);
        if (!params.toolApproval) {
            // 422, but after the 409 of a branch switch while a turn runs (API.md's order).
            const auto current = co_await service->session(sid, 0);
            if (failed(current, responder))
                co_return;
            if (params.head && current->meta.activeTurn > 0) {
                responder.sendError(makeError(
                    ErrorCode::Conflict,
                    QStringLiteral("session '%1' has an active turn (%2): its branch cannot "
                                   "change until it ends")
                        .arg(sid)
                        .arg(current->meta.activeTurn)));
                co_return;
            }
            responder.sendError(makeError(
                ErrorCode::Invalid, QStringLiteral("'tool_approval' must be \"ask\" or \"auto\", "
                                                   "not '%1'")
                                        .arg((*approval)->left(40))));
            co_return;
        }
    }
    const auto patched = co_await service->patchSession(sid, params);
    if (failed(patched, responder))
        co_return;
    responder.sendJson(200, json::toJson(*patched));
}

QCoro::Task<> SessionsController::remove(SessionService *service, QString sid,
                                         HttpResponder responder)
{
    const Status deleted = co_await service->deleteSession(sid);
    if (failed(deleted, responder))
        co_return;
    responder.sendEmpty(204);
}

QCoro::Task<> SessionsController::messages(SessionService *service, HttpRequest request,
                                           QString sid, HttpResponder responder)
{
    const auto before = api::queryInteger(request, QStringLiteral("before"), -1, 0,
                                          std::numeric_limits<qint64>::max());
    if (failed(before, responder))
        co_return;
    const auto limit = api::queryInteger(request, QStringLiteral("limit"), 50, 1, 200);
    if (failed(limit, responder))
        co_return;
    const auto page = co_await service->messages(sid, *before, int(*limit));
    if (failed(page, responder))
        co_return;
    QJsonArray messages;
    for (const Message &m : page->messages)
        messages.append(json::toJson(m));
    responder.sendJson(200, QJsonObject{{QStringLiteral("messages"), messages},
                                        {QStringLiteral("total"), page->total},
                                        {QStringLiteral("length"), page->length}});
}

} // namespace holdfast
