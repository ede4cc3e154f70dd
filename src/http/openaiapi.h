#pragma once

#include "http/router.h"

class QObject;

namespace holdfast {

class SessionService;
struct HttpOptions;

// THE HOOK for the OpenAI-compatible routes (GET /v1/models, POST /v1/chat/completions).
// HttpServer calls this once, after adding its own routes; openaiapi.cpp replaces the no-op.
//
// Register with router.add(method, path, handler, errorFormat). Before a handler runs, the
// server has already answered, with the route's errorFormat: 401 (token), 404/405 (routing),
// 503 (shutting down, except GET) and 413 (body over the limit, decided before it is read).
// The handler gets the whole request and answers once through its HttpResponder: send(),
// sendJson(), sendError(), or beginStream()/writeStream()/endStream() for `stream: true` (each
// write goes out at once; chunked framing is done for you). A responder may be kept across
// co_awaits: once the client has left, every call on it does nothing and isOpen() is false.
// Pass an ErrorFormat so that every error of these routes carries OpenAI's `type` field.
// `context` is the server: a parent for QObjects that must live as long as the routes.
void registerOpenAiRoutes(Router &router, SessionService *service, const HttpOptions &options,
                          QObject *context);

} // namespace holdfast
