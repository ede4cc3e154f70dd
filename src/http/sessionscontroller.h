#pragma once

#include "http/router.h"

#include <QCoroTask>

namespace holdfast {

class SessionService;

// /v1/sessions and /v1/sessions/{sid}[/messages]: list, create, read, patch, delete, page
// through messages. Parses and validates, calls the SessionService, answers API.md's JSON.
class SessionsController
{
public:
    static void registerRoutes(Router &router, SessionService *service);

private:
    static QCoro::Task<> list(SessionService *service, HttpRequest request,
                              HttpResponder responder);
    static QCoro::Task<> create(SessionService *service, HttpRequest request,
                                HttpResponder responder);
    static QCoro::Task<> get(SessionService *service, HttpRequest request, QString sid,
                             HttpResponder responder);
    static QCoro::Task<> patch(SessionService *service, HttpRequest request, QString sid,
                               HttpResponder responder);
    static QCoro::Task<> remove(SessionService *service, QString sid, HttpResponder responder);
    static QCoro::Task<> messages(SessionService *service, HttpRequest request, QString sid,
                                  HttpResponder responder);
};

} // namespace holdfast
