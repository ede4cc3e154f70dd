#include "http/attachmentscontroller.h"

#include "core/json.h"
#include "core/sessionservice.h"
#include "http/apirequest.h"

#include <QUrl>

namespace holdfast {

using api::failed;

void AttachmentsController::registerRoutes(Router &router, SessionService *service)
{
    router.add("POST", QStringLiteral("/v1/sessions/{sid}/attachments"),
               [service](HttpRequest request, QStringList args, HttpResponder responder) {
                   upload(service, std::move(request), args[0], std::move(responder));
               });
    router.add("GET", QStringLiteral("/v1/sessions/{sid}/attachments/{aid}"),
               [service](HttpRequest, QStringList args, HttpResponder responder) {
                   get(service, args[0], args[1], std::move(responder));
               });
}

bool AttachmentsController::isUpload(const HttpRequest &head)
{
    const QStringList &s = head.segments;
    return head.method == "POST" && s.size() == 4 && s[0] == QLatin1String("v1") &&
           s[1] == QLatin1String("sessions") && !s[2].isEmpty() &&
           s[3] == QLatin1String("attachments");
}

QCoro::Task<> AttachmentsController::upload(SessionService *service, HttpRequest request,
                                            QString sid, HttpResponder responder)
{
    UploadParams params;
    // No `name`: the default name; `name=` (empty) is a name, and too short (400).
    if (const std::optional<QString> name = request.queryValue(QStringLiteral("name")))
        params.name = name->isNull() ? QString(QLatin1String("")) : *name;
    params.type = QString::fromLatin1(request.header("content-type"));
    params.bytes = std::move(request.body);
    const auto stored = co_await service->uploadAttachment(sid, std::move(params));
    if (failed(stored, responder))
        co_return;
    responder.sendJson(
        201, json::toJson(*stored),
        {{"Location", "/v1/sessions/" + sid.toUtf8() + "/attachments/" + stored->id.toUtf8()}});
}

QCoro::Task<> AttachmentsController::get(SessionService *service, QString sid, QString aid,
                                         HttpResponder responder)
{
    const auto file = co_await service->attachment(sid, aid);
    if (failed(file, responder))
        co_return;
    // RFC 6266 / 8187: the name percent-encoded as UTF-8, so no byte of it can end the field.
    const QByteArray filename = QUrl::toPercentEncoding(file->meta.name, "!#$&+^`|");
    responder.send(200, file->meta.type.toLatin1(), file->bytes,
                   {{"Content-Disposition", "attachment; filename*=UTF-8''" + filename},
                    {"X-Content-Type-Options", "nosniff"}});
}

} // namespace holdfast
