#pragma once

#include "http/router.h"

#include <QCoroTask>
#include <QPointer>

namespace holdfast {

class EventStreams;
class SessionService;

// /v1/sessions/{sid}/turns[/{tid}[/chunks|/events|/cancel]]: start a turn, read its state, its
// chunks by long-poll or as Server-Sent Events, cancel it.
class TurnsController
{
public:
    static void registerRoutes(Router &router, SessionService *service, EventStreams *streams);

private:
    static QCoro::Task<> start(SessionService *service, HttpRequest request, QString sid,
                               HttpResponder responder);
    static QCoro::Task<> get(SessionService *service, QString sid, QString tid,
                             HttpResponder responder);
    static QCoro::Task<> chunks(SessionService *service, HttpRequest request, QString sid,
                                QString tid, HttpResponder responder);
    static QCoro::Task<> events(SessionService *service, QPointer<EventStreams> streams,
                                HttpRequest request, QString sid, QString tid,
                                HttpResponder responder);
    static QCoro::Task<> cancel(SessionService *service, QString sid, QString tid,
                                HttpResponder responder);
};

} // namespace holdfast
