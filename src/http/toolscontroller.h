#pragma once

#include "http/router.h"

#include <QCoroTask>

namespace holdfast {

class SessionService;

// Tools (shared/API.md, Tools (MCP)): GET /v1/tools (the MCP servers' tools and states) and
// POST /v1/sessions/{sid}/turns/{tid}/tool-calls/{cid} (the user's answer to a waiting call).
class ToolsController
{
public:
    static void registerRoutes(Router &router, SessionService *service);
    // Whether turn `tid` has recorded a call with id `cid` (a tool_call chunk): the server answers
    // 404 for an unknown call from the request head, before 413, 415 and 400 (API.md's order).
    static QCoro::Task<bool> hasCall(SessionService *service, QString sid, int tid, QString cid);

private:
    static void list(SessionService *service, HttpResponder responder);
    static QCoro::Task<> answer(SessionService *service, HttpRequest request, QString sid,
                                QString tid, QString cid, HttpResponder responder);
};

} // namespace holdfast
