#pragma once

#include "http/router.h"

#include <QCoroTask>

namespace holdfast {

class SessionService;

// /v1/sessions/{sid}/attachments: upload one file (the one route whose body is raw bytes, not
// JSON) and read it back with headers that keep a browser from running it.
class AttachmentsController
{
public:
    static void registerRoutes(Router &router, SessionService *service);
    // True for an upload's head: its body limit is --max-attachment-bytes, not --max-body-bytes.
    static bool isUpload(const HttpRequest &head);

private:
    static QCoro::Task<> upload(SessionService *service, HttpRequest request, QString sid,
                                HttpResponder responder);
    static QCoro::Task<> get(SessionService *service, QString sid, QString aid,
                             HttpResponder responder);
};

} // namespace holdfast
