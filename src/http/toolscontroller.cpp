#include "http/toolscontroller.h"

#include "core/json.h"
#include "core/sessionservice.h"
#include "http/apirequest.h"

#include <QJsonArray>

namespace holdfast {

using api::failed;

void ToolsController::registerRoutes(Router &router, SessionService *service)
{
    router.add("GET", QStringLiteral("/v1/tools"),
               [service](HttpRequest, QStringList, HttpResponder responder) {
                   list(service, std::move(responder));
               });
    router.add("POST", QStringLiteral("/v1/sessions/{sid}/turns/{tid}/tool-calls/{cid}"),
               [service](HttpRequest request, QStringList args, HttpResponder responder) {
                   answer(service, std::move(request), args[0], args[1], args[2],
                          std::move(responder));
               });
}

void ToolsController::list(SessionService *service, HttpResponder responder)
{
    const ToolList tools = service->tools();
    QJsonArray toolArray;
    for (const ToolInfo &tool : tools.tools) {
        toolArray.append(QJsonObject{{QStringLiteral("name"), tool.name},
                                     {QStringLiteral("description"), tool.description},
                                     {QStringLiteral("input_schema"), tool.inputSchema}});
    }
    QJsonArray serverArray;
    for (const ToolServerInfo &server : tools.servers) {
        QJsonObject o{{QStringLiteral("name"), server.name},
                      {QStringLiteral("state"), toolServerStateName(server.state)}};
        // "error" only where there is one to tell (a server in `error`, or one that failed and
        // is starting again); the stderr tail is for the settings dialog, not the API.
        if (!server.error.isEmpty())
            o.insert(QStringLiteral("error"), server.error);
        serverArray.append(o);
    }
    responder.sendJson(200, QJsonObject{{QStringLiteral("tools"), toolArray},
                                        {QStringLiteral("servers"), serverArray}});
}

QCoro::Task<bool> ToolsController::hasCall(SessionService *service, QString sid, int tid,
                                           QString cid)
{
    int from = 0;
    while (true) {
        const auto page = co_await service->chunks(sid, tid, from, 0);
        if (!page)
            co_return true; // not known to be unknown: the service gives its own error
        for (const Chunk &chunk : page->chunks) {
            if (chunk.toolCall && chunk.toolCall->id == cid)
                co_return true;
        }
        if (page->chunks.isEmpty() || page->next <= from)
            co_return false;
        from = page->next;
    }
}

QCoro::Task<> ToolsController::answer(SessionService *service, HttpRequest request, QString sid,
                                      QString tid, QString cid, HttpResponder responder)
{
    const auto id = api::turnId(tid);
    if (failed(id, responder))
        co_return;
    const auto body = api::jsonBody(request);
    if (failed(body, responder))
        co_return;
    const QJsonValue approve = body->value(QStringLiteral("approve"));
    if (!approve.isBool()) {
        responder.sendError(api::badRequest(approve.isUndefined() || approve.isNull()
                                                ? QStringLiteral("'approve' is required")
                                                : QStringLiteral("'approve' must be a boolean")));
        co_return;
    }
    const auto turn = co_await service->answerToolCall(sid, *id, cid, approve.toBool());
    if (failed(turn, responder))
        co_return;
    responder.send(202, "application/json", json::toJsonBytes(*turn));
}

} // namespace holdfast
