#include "http/openaiapi.h"

#include "core/json.h"
#include "core/sessionservice.h"
#include "core/tokens.h"
#include "http/apirequest.h"
#include "http/httpconnection.h"

#include <QDateTime>
#include <QJsonArray>
#include <QJsonDocument>
#include <QUuid>

#include <limits>

// OpenAI's shapes: https://platform.openai.com/docs/api-reference/chat (the chat completion
// object, the chunk object, the model list). `usage` is what the model server reported; Holdfast
// does not tokenize, so where the server reported nothing (the demo model reports its own) it is
// an estimate (a token per 4 UTF-8 bytes), which is what tools that only display or budget need.
namespace holdfast {

namespace {

struct CompletionRequest
{
    QString model; // as the client named it; empty: the server's default
    QList<ChatMessage> messages;
    TurnOptions options;
    bool stream = false;
    bool includeUsage = false;
};

QString openAiType(ErrorCode code)
{
    switch (code) {
    case ErrorCode::Unauthorized:
        return QStringLiteral("authentication_error");
    case ErrorCode::Forbidden:
        return QStringLiteral("permission_error");
    case ErrorCode::NotFound:
        return QStringLiteral("not_found_error");
    case ErrorCode::Conflict:
        return QStringLiteral("conflict_error");
    case ErrorCode::RateLimited:
        return QStringLiteral("rate_limit_error");
    case ErrorCode::Internal:
    case ErrorCode::UpstreamError:
    case ErrorCode::Unavailable:
    case ErrorCode::UpstreamTimeout:
        return QStringLiteral("server_error");
    default:
        return QStringLiteral("invalid_request_error");
    }
}

QJsonObject openAiErrorObject(const Error &error)
{
    return QJsonObject{{QStringLiteral("code"), errorCodeName(error.code)},
                       {QStringLiteral("message"), error.message},
                       {QStringLiteral("type"), openAiType(error.code)}};
}

QJsonObject openAiErrorBody(const Error &error)
{
    return QJsonObject{{QStringLiteral("error"), openAiErrorObject(error)}};
}

// A message's content: a string, or an array of parts of which only text parts are supported.
Result<QString> contentOf(const QJsonValue &value, qsizetype index)
{
    if (value.isString())
        return value.toString();
    if (value.isNull() || value.isUndefined())
        return QString();
    if (!value.isArray())
        return api::badRequest(
            QStringLiteral("messages[%1].content must be a string or an array").arg(index));
    QString text;
    for (const QJsonValue &part : value.toArray()) {
        const QJsonObject p = part.toObject();
        if (p.value(QStringLiteral("type")).toString() != QLatin1String("text") ||
            !p.value(QStringLiteral("text")).isString()) {
            return api::badRequest(
                QStringLiteral("messages[%1].content: only text parts are supported").arg(index));
        }
        text += p.value(QStringLiteral("text")).toString();
    }
    return text;
}

Result<CompletionRequest> parseCompletion(const HttpRequest &request)
{
    const auto body = api::jsonBody(request);
    if (!body)
        return body.error();
    CompletionRequest r;
    const auto model = api::stringField(*body, QStringLiteral("model"));
    if (!model)
        return model.error();
    if (*model)
        r.model = **model;

    const QJsonValue messages = body->value(QStringLiteral("messages"));
    if (!messages.isArray() || messages.toArray().isEmpty())
        return api::badRequest(QStringLiteral("'messages' must be a non-empty array"));
    const QJsonArray list = messages.toArray();
    for (qsizetype i = 0; i < list.size(); ++i) {
        const QJsonObject m = list.at(i).toObject();
        QString role = m.value(QStringLiteral("role")).toString();
        if (role == QLatin1String("developer"))
            role = QStringLiteral("system"); // OpenAI's newer name for it
        if (role != QLatin1String("system") && role != QLatin1String("user") &&
            role != QLatin1String("assistant")) {
            return api::badRequest(
                QStringLiteral("messages[%1].role must be system, developer, user or assistant")
                    .arg(i));
        }
        const auto content = contentOf(m.value(QStringLiteral("content")), i);
        if (!content)
            return content.error();
        r.messages.append(ChatMessage{role, *content});
    }

    const QJsonValue stream = body->value(QStringLiteral("stream"));
    if (!stream.isUndefined() && !stream.isNull() && !stream.isBool())
        return api::badRequest(QStringLiteral("'stream' must be a boolean"));
    r.stream = stream.toBool();
    const QJsonValue streamOptions = body->value(QStringLiteral("stream_options"));
    if (!streamOptions.isUndefined() && !streamOptions.isNull()) {
        const QJsonValue include = streamOptions.toObject().value(QStringLiteral("include_usage"));
        if (!streamOptions.isObject() || (!include.isUndefined() && !include.isBool()))
            return api::badRequest(
                QStringLiteral("'stream_options' must be an object with a boolean include_usage"));
        r.includeUsage = include.toBool();
    }

    const auto temperature = api::numberField(*body, QStringLiteral("temperature"));
    if (!temperature)
        return temperature.error();
    r.options.temperature = *temperature;
    const auto topP = api::numberField(*body, QStringLiteral("top_p"));
    if (!topP)
        return topP.error();
    r.options.topP = *topP;
    // Ranges are the service's (422): a session's turn checks them after its 409.
    for (const QString &key :
         {QStringLiteral("max_completion_tokens"), QStringLiteral("max_tokens")}) {
        const auto maxTokens = api::integerField(*body, key);
        if (!maxTokens)
            return maxTokens.error();
        if (!*maxTokens || r.options.maxTokens)
            continue;
        r.options.maxTokens = int(std::clamp<qint64>(**maxTokens, std::numeric_limits<int>::min(),
                                                     std::numeric_limits<int>::max()));
    }
    return r;
}

// Answers one completion in OpenAI's shape: a chat.completion object, or chat.completion.chunk
// events ending in [DONE]. The 200 goes out with the first chunk, so that a failure before any
// text still gets its own status.
class CompletionWriter
{
public:
    CompletionWriter(HttpResponder responder, const CompletionRequest &request, QString model,
                     HttpHeaders headers)
        : m_responder(std::move(responder)), m_model(std::move(model)),
          m_headers(std::move(headers)), m_stream(request.stream),
          m_includeUsage(request.stream && request.includeUsage),
          m_id(QStringLiteral("chatcmpl-") + QUuid::createUuid().toString(QUuid::Id128)),
          m_created(QDateTime::currentSecsSinceEpoch())
    {
        for (const ChatMessage &m : request.messages)
            m_promptTokens += tokens::estimate(m.content) + tokens::kPerMessage;
    }

    bool clientGone() const { return !m_responder.isOpen(); }

    void chunk(const QString &text)
    {
        m_text += text;
        if (!m_stream || text.isEmpty())
            return;
        begin();
        write(chunkObject(QJsonObject{{QStringLiteral("content"), text}}, QJsonValue::Null));
    }

    // `reported`: the model server's usage, if it reported one (else an estimate goes out).
    void finish(const std::optional<TokenUsage> &reported,
                const QString &reason = QStringLiteral("stop"))
    {
        m_reported = reported;
        if (!m_stream) {
            m_responder.sendJson(
                200,
                QJsonObject{{QStringLiteral("id"), m_id},
                            {QStringLiteral("object"), QStringLiteral("chat.completion")},
                            {QStringLiteral("created"), m_created},
                            {QStringLiteral("model"), m_model},
                            {QStringLiteral("choices"),
                             QJsonArray{QJsonObject{
                                 {QStringLiteral("index"), 0},
                                 {QStringLiteral("message"),
                                  QJsonObject{{QStringLiteral("role"), QStringLiteral("assistant")},
                                              {QStringLiteral("content"), m_text},
                                              {QStringLiteral("refusal"), QJsonValue::Null}}},
                                 {QStringLiteral("logprobs"), QJsonValue::Null},
                                 {QStringLiteral("finish_reason"), reason}}}},
                            {QStringLiteral("usage"), usage()},
                            {QStringLiteral("system_fingerprint"), QJsonValue::Null}},
                m_headers);
            return;
        }
        begin();
        write(chunkObject(QJsonObject{}, reason));
        if (m_includeUsage) {
            QJsonObject last = base();
            last.insert(QStringLiteral("choices"), QJsonArray{});
            last.insert(QStringLiteral("usage"), usage());
            write(last);
        }
        m_responder.endStream("data: [DONE]\n\n");
    }

    // Before any text: the error's status and OpenAI's error body. After: a last event holding
    // the error, and the stream closes (API.md).
    void fail(const Error &error)
    {
        if (!m_begun) {
            m_responder.sendError(error, m_headers);
            return;
        }
        m_responder.endStream(
            "data: " + QJsonDocument(openAiErrorBody(error)).toJson(QJsonDocument::Compact) +
            "\n\n");
    }

private:
    QJsonObject base() const
    {
        QJsonObject o{{QStringLiteral("id"), m_id},
                      {QStringLiteral("object"), QStringLiteral("chat.completion.chunk")},
                      {QStringLiteral("created"), m_created},
                      {QStringLiteral("model"), m_model},
                      {QStringLiteral("system_fingerprint"), QJsonValue::Null}};
        if (m_includeUsage)
            o.insert(QStringLiteral("usage"), QJsonValue::Null);
        return o;
    }

    QJsonObject chunkObject(const QJsonObject &delta, const QJsonValue &finishReason) const
    {
        QJsonObject o = base();
        o.insert(QStringLiteral("choices"),
                 QJsonArray{QJsonObject{{QStringLiteral("index"), 0},
                                        {QStringLiteral("delta"), delta},
                                        {QStringLiteral("logprobs"), QJsonValue::Null},
                                        {QStringLiteral("finish_reason"), finishReason}}});
        return o;
    }

    QJsonObject usage() const
    {
        const qint64 prompt = m_reported ? m_reported->promptTokens : m_promptTokens;
        const qint64 completion =
            m_reported ? m_reported->completionTokens : tokens::estimate(m_text);
        return QJsonObject{{QStringLiteral("prompt_tokens"), prompt},
                           {QStringLiteral("completion_tokens"), completion},
                           {QStringLiteral("total_tokens"), prompt + completion}};
    }

    void begin()
    {
        if (m_begun)
            return;
        m_begun = true;
        HttpHeaders headers = m_headers;
        headers.append(qMakePair(QByteArray("Cache-Control"), QByteArray("no-cache")));
        m_responder.beginStream(200, "text/event-stream", headers);
        // OpenAI's first chunk names the role.
        write(chunkObject(QJsonObject{{QStringLiteral("role"), QStringLiteral("assistant")},
                                      {QStringLiteral("content"), QString()}},
                          QJsonValue::Null));
    }

    void write(const QJsonObject &event)
    {
        m_responder.writeStream("data: " + QJsonDocument(event).toJson(QJsonDocument::Compact) +
                                "\n\n");
    }

    HttpResponder m_responder;
    QString m_model;
    HttpHeaders m_headers;
    bool m_stream;
    bool m_includeUsage;
    QString m_id;
    qint64 m_created;
    QString m_text;
    qint64 m_promptTokens = 0;            // estimated
    std::optional<TokenUsage> m_reported; // the model server's
    bool m_begun = false;
};

// Without a session: the request's messages go to the model as they are; nothing is stored.
QCoro::Task<> statelessCompletion(SessionService *service, CompletionRequest request,
                                  HttpResponder responder)
{
    if (!responder.isOpen())
        co_return; // the client left already: generate nothing
    auto started = service->completeStateless(
        StatelessParams{request.model, request.messages, request.options});
    if (api::failed(started, responder))
        co_return;
    std::unique_ptr<ProviderStream> stream = std::move(started->stream);
    // A client that leaves stops a stateless generation: nothing would keep its text.
    if (HttpConnection *connection = responder.connection()) {
        QObject::connect(connection, &HttpConnection::closed, stream.get(),
                         [s = stream.get()] { s->cancel(); });
    }
    CompletionWriter out(responder, request, started->model, {});
    while (true) {
        const QStringList chunks = co_await stream->next();
        if (chunks.isEmpty())
            break;
        for (const QString &c : chunks)
            out.chunk(c);
    }
    if (stream->cancelled())
        co_return;
    if (stream->error())
        out.fail(*stream->error());
    else
        out.finish(stream->usage());
}

// With X-Holdfast-Session: the last user message is a turn's prompt, saved like any other.
QCoro::Task<> sessionCompletion(SessionService *service, QString sid, CompletionRequest request,
                                HttpResponder responder)
{
    std::optional<QString> prompt;
    for (qsizetype i = request.messages.size() - 1; i >= 0 && !prompt; --i) {
        if (request.messages.at(i).role == QLatin1String("user"))
            prompt = request.messages.at(i).content;
    }
    if (!prompt) {
        responder.sendError(api::badRequest(QStringLiteral("'messages' holds no user message")));
        co_return;
    }
    StartTurnParams params;
    params.prompt = *prompt;
    if (!request.model.isEmpty())
        params.model = request.model;
    params.options = request.options;
    const auto turn = co_await service->startTurn(sid, params);
    if (api::failed(turn, responder))
        co_return;
    const int tid = turn->id;
    const QString model = request.model.isEmpty() ? turn->model : request.model;
    CompletionWriter out(
        responder, request, model,
        {{"X-Holdfast-Session", sid.toUtf8()}, {"X-Holdfast-Turn", QByteArray::number(tid)}});
    int next = 0;
    while (true) {
        // The turn goes on without this client (API.md): stop reading, not generating.
        if (out.clientGone())
            co_return;
        const auto page = co_await service->chunks(sid, tid, next, SessionService::kMaxWaitMs);
        if (!page) {
            out.fail(page.error());
            co_return;
        }
        // Only the model's text is an OpenAI answer: the turn's tool calls and results (the
        // session's tools) run and are stored, but are not part of it (docs/api.md).
        for (const Chunk &c : page->chunks) {
            if (!c.isToolStep())
                out.chunk(c.text);
        }
        next = page->next;
        if (page->done)
            break;
    }
    const auto ended = co_await service->waitForTurn(sid, tid, SessionService::kMaxWaitMs);
    if (!ended) {
        out.fail(ended.error());
        co_return;
    }
    switch (ended->state) {
    case TurnRecord::State::Done:
    case TurnRecord::State::Cancelled:
        out.finish(ended->usage);
        break;
    case TurnRecord::State::Error:
        out.fail(makeError(errorCodeFromName(ended->errorCode).value_or(ErrorCode::UpstreamError),
                           ended->errorMessage));
        break;
    default:
        out.fail(makeError(ErrorCode::Unavailable,
                           QStringLiteral("the turn was interrupted: the server is stopping")));
        break;
    }
}

QCoro::Task<> completions(SessionService *service, HttpRequest request, HttpResponder responder)
{
    // A session the header names that does not exist is 404 before the body is looked at.
    const QByteArray header = request.header("x-holdfast-session").trimmed();
    const QString sid = QString::fromUtf8(header);
    if (request.hasHeader("x-holdfast-session")) {
        if (!SessionService::isValidSessionId(sid)) {
            responder.sendError(api::badRequest(QStringLiteral("X-Holdfast-Session must match ") +
                                                SessionService::sessionIdPattern()));
            co_return;
        }
        const auto session = co_await service->session(sid, 0);
        if (api::failed(session, responder))
            co_return;
    }
    const auto parsed = parseCompletion(request);
    if (api::failed(parsed, responder))
        co_return;
    if (request.hasHeader("x-holdfast-session"))
        co_await sessionCompletion(service, sid, *parsed, responder);
    else
        co_await statelessCompletion(service, *parsed, responder);
}

QCoro::Task<> listModels(SessionService *service, qint64 created, HttpResponder responder)
{
    const QList<ModelInfo> models = co_await service->models();
    QJsonArray data;
    for (const ModelInfo &m : models) {
        data.append(QJsonObject{{QStringLiteral("id"), m.id},
                                {QStringLiteral("object"), QStringLiteral("model")},
                                {QStringLiteral("created"), created},
                                {QStringLiteral("owned_by"), m.ownedBy}});
    }
    responder.sendJson(200, QJsonObject{{QStringLiteral("object"), QStringLiteral("list")},
                                        {QStringLiteral("data"), data}});
}

} // namespace

void registerOpenAiRoutes(Router &router, SessionService *service, const HttpOptions &, QObject *)
{
    const qint64 created = QDateTime::currentSecsSinceEpoch();
    router.add("GET", QStringLiteral("/v1/models"),
               [service, created](HttpRequest, QStringList, HttpResponder responder) {
                   listModels(service, created, std::move(responder));
               });
    router.add(
        "POST", QStringLiteral("/v1/chat/completions"),
        [service](HttpRequest request, QStringList, HttpResponder responder) {
            completions(service, std::move(request), std::move(responder));
        },
        openAiErrorBody);
}

} // namespace holdfast
