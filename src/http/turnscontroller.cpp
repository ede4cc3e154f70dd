#include "http/turnscontroller.h"

#include "core/json.h"
#include "core/sessionservice.h"
#include "http/apirequest.h"
#include "http/eventstream.h"

#include <QJsonArray>

#include <limits>

namespace holdfast {

using api::failed;

namespace {
QByteArray turnLocation(const TurnRecord &turn)
{
    return "/v1/sessions/" + turn.session.toUtf8() + "/turns/" + QByteArray::number(turn.id);
}

// A message index of the body; a negative one names no message (the service answers 422, after
// its 409), and must not read as "null" (-1) or "unset".
constexpr qint64 kNoMessage = -2;

Result<StartTurnParams> startParams(const HttpRequest &request)
{
    const auto body = api::jsonBody(request);
    if (!body)
        return body.error();
    StartTurnParams params;
    const auto regenerate = api::integerField(*body, QStringLiteral("regenerate"));
    if (!regenerate)
        return regenerate.error();
    if (*regenerate)
        params.regenerate = std::max(**regenerate, kNoMessage);
    const QJsonValue prompt = body->value(QStringLiteral("prompt"));
    // A regeneration answers a stored prompt: "prompt" may be left out (or be "").
    const bool promptOptional = *regenerate && (prompt.isUndefined() || prompt.isNull());
    if (!prompt.isString() && !promptOptional)
        return api::badRequest(prompt.isUndefined() || prompt.isNull()
                                   ? QStringLiteral("'prompt' is required")
                                   : QStringLiteral("'prompt' must be a string"));
    params.prompt = prompt.toString();
    // "parent": null (a new first message) is not the same as no "parent" (after head).
    const QJsonValue parent = body->value(QStringLiteral("parent"));
    if (parent.isNull()) {
        params.parent = -1;
    } else if (!parent.isUndefined()) {
        const auto index = api::integerField(*body, QStringLiteral("parent"));
        if (!index)
            return index.error();
        params.parent = **index < 0 ? kNoMessage : **index;
    }
    const QJsonValue attachments = body->value(QStringLiteral("attachments"));
    if (!attachments.isUndefined() && !attachments.isNull()) {
        const QString wrongType = QStringLiteral("'attachments' must be an array of strings");
        if (!attachments.isArray())
            return api::badRequest(wrongType);
        const QJsonArray ids = attachments.toArray();
        for (const QJsonValue &id : ids) {
            if (!id.isString())
                return api::badRequest(wrongType);
            params.attachments.append(id.toString());
        }
    }
    if (*regenerate && !params.attachments.isEmpty())
        return api::badRequest(QStringLiteral("'regenerate' takes no 'attachments'"));
    const auto model = api::stringField(*body, QStringLiteral("model"));
    if (!model)
        return model.error();
    if (*model && !(*model)->isNull())
        params.model = **model;
    const auto options = api::optionsField(*body, QStringLiteral("options"));
    if (!options)
        return options.error();
    params.options = options->value_or(TurnOptions{});
    // The tools of this turn (shared/API.md, Tools (MCP)); absent or null: the session's.
    const auto tools = api::stringListField(*body, QStringLiteral("tools"));
    if (!tools)
        return tools.error();
    params.tools = *tools;
    return params;
}
} // namespace

void TurnsController::registerRoutes(Router &router, SessionService *service, EventStreams *streams)
{
    router.add("POST", QStringLiteral("/v1/sessions/{sid}/turns"),
               [service](HttpRequest request, QStringList args, HttpResponder responder) {
                   start(service, std::move(request), args[0], std::move(responder));
               });
    router.add("GET", QStringLiteral("/v1/sessions/{sid}/turns/{tid}"),
               [service](HttpRequest, QStringList args, HttpResponder responder) {
                   get(service, args[0], args[1], std::move(responder));
               });
    router.add("GET", QStringLiteral("/v1/sessions/{sid}/turns/{tid}/chunks"),
               [service](HttpRequest request, QStringList args, HttpResponder responder) {
                   chunks(service, std::move(request), args[0], args[1], std::move(responder));
               });
    router.add("GET", QStringLiteral("/v1/sessions/{sid}/turns/{tid}/events"),
               [service, streams = QPointer<EventStreams>(streams)](
                   HttpRequest request, QStringList args, HttpResponder responder) {
                   events(service, streams, std::move(request), args[0], args[1],
                          std::move(responder));
               });
    router.add("POST", QStringLiteral("/v1/sessions/{sid}/turns/{tid}/cancel"),
               [service](HttpRequest, QStringList args, HttpResponder responder) {
                   cancel(service, args[0], args[1], std::move(responder));
               });
}

QCoro::Task<> TurnsController::start(SessionService *service, HttpRequest request, QString sid,
                                     HttpResponder responder)
{
    const auto params = startParams(request);
    if (failed(params, responder))
        co_return;
    const auto turn = co_await service->startTurn(sid, *params);
    if (failed(turn, responder))
        co_return;
    responder.send(202, "application/json", json::toJsonBytes(*turn),
                   {{"Location", turnLocation(*turn)}});
}

QCoro::Task<> TurnsController::get(SessionService *service, QString sid, QString tid,
                                   HttpResponder responder)
{
    const auto id = api::turnId(tid);
    if (failed(id, responder))
        co_return;
    const auto turn = co_await service->turn(sid, *id);
    if (failed(turn, responder))
        co_return;
    responder.send(200, "application/json", json::toJsonBytes(*turn));
}

QCoro::Task<> TurnsController::chunks(SessionService *service, HttpRequest request, QString sid,
                                      QString tid, HttpResponder responder)
{
    const auto id = api::turnId(tid);
    if (failed(id, responder))
        co_return;
    const auto from =
        api::queryInteger(request, QStringLiteral("from"), 0, 0, std::numeric_limits<int>::max());
    if (failed(from, responder))
        co_return;
    // Only `wait` is clamped, not refused (API.md).
    const auto wait = api::queryInteger(request, QStringLiteral("wait"), 0,
                                        std::numeric_limits<qint64>::min() / 2,
                                        std::numeric_limits<qint64>::max() / 2);
    if (failed(wait, responder))
        co_return;
    const int waitMs = int(std::clamp<qint64>(*wait, 0, SessionService::kMaxWaitMs));
    const auto page = co_await service->chunks(sid, *id, int(*from), waitMs);
    if (failed(page, responder))
        co_return;
    QJsonArray list;
    for (const Chunk &c : page->chunks)
        list.append(json::toJson(c));
    responder.sendJson(200, QJsonObject{{QStringLiteral("chunks"), list},
                                        {QStringLiteral("next"), page->next},
                                        {QStringLiteral("done"), page->done},
                                        {QStringLiteral("state"), turnStateName(page->state)}});
}

QCoro::Task<> TurnsController::events(SessionService *service, QPointer<EventStreams> streams,
                                      HttpRequest request, QString sid, QString tid,
                                      HttpResponder responder)
{
    const auto id = api::turnId(tid);
    if (failed(id, responder))
        co_return;
    // An EventSource reconnects to the same URL with Last-Event-ID: that wins over ?from.
    const QByteArray lastEventId = request.header("last-event-id").trimmed();
    int from = 0;
    if (!lastEventId.isEmpty()) {
        const auto last = api::parseInteger(QString::fromLatin1(lastEventId));
        if (!last || *last < 0 || *last >= std::numeric_limits<int>::max()) {
            responder.sendError(api::badRequest(
                QStringLiteral("Last-Event-ID must be a chunk seq (an integer >= 0)")));
            co_return;
        }
        from = int(*last + 1);
    } else {
        const auto fromParam = api::queryInteger(request, QStringLiteral("from"), 0, 0,
                                                 std::numeric_limits<int>::max());
        if (failed(fromParam, responder))
            co_return;
        from = int(*fromParam);
    }
    const auto turn = co_await service->turn(sid, *id);
    if (failed(turn, responder))
        co_return;
    if (!streams || !responder.isOpen())
        co_return;
    streams->open(sid, *id, from, responder);
}

QCoro::Task<> TurnsController::cancel(SessionService *service, QString sid, QString tid,
                                      HttpResponder responder)
{
    const auto id = api::turnId(tid);
    if (failed(id, responder))
        co_return;
    const auto turn = co_await service->cancelTurn(sid, *id);
    if (failed(turn, responder))
        co_return;
    responder.send(202, "application/json", json::toJsonBytes(*turn));
}

} // namespace holdfast
