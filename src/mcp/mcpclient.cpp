#include "mcp/mcpclient.h"

#include "mcp/mcpalarm.h"
#include "mcp/mcpcontent.h"
#include "mcp/mcplogging.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QJsonArray>
#include <QPointer>

#include <chrono>

namespace holdfast::mcp {

namespace {

constexpr int kMethodNotFound = -32601;
constexpr int kMaxListPages = 1000; // a server whose cursors never end is not listed forever

// A request waiting for its answer; lives in the frame of the coroutine that sent it.
struct Pending
{
    Alarm *alarm = nullptr;
    std::optional<QJsonObject> answer; // the response message
    std::optional<QString> failure;    // the transport ended first
};

QJsonObject message(const QString &method, const QJsonObject &params)
{
    QJsonObject m;
    m.insert(QLatin1String("jsonrpc"), QLatin1String("2.0"));
    m.insert(QLatin1String("method"), method);
    if (!params.isEmpty())
        m.insert(QLatin1String("params"), params);
    return m;
}

QString rpcErrorText(const QJsonObject &error)
{
    return QStringLiteral("MCP error %1: %2")
        .arg(error.value(QLatin1String("code")).toInteger())
        .arg(error.value(QLatin1String("message")).toString());
}

} // namespace

// How a request ended.
struct Client::Reply
{
    enum class End { Answered, Failed, TimedOut, Cancelled };
    End end = End::Failed;
    qint64 id = 0;
    QJsonObject result; // Answered without a JSON-RPC error
    QString error;      // otherwise: why
};

struct Client::Private
{
    std::unique_ptr<Transport> transport;
    qint64 nextId = 1;
    QHash<qint64, Pending *> pending;
    bool opened = false;
    bool ended = false; // the transport ended or close() was called: nothing more is sent
    bool transportEnded = false;
    QString endedWhy;
    bool ready = false;
    QString version;
    QList<Tool> tools;
    bool listing = false;
    bool listAgain = false;

    void failPending(const QString &why)
    {
        const auto waiting = pending.values();
        pending.clear();
        for (Pending *p : waiting) {
            p->failure = why;
            p->alarm->fire();
        }
    }
};

Client::Client(std::unique_ptr<Transport> transport, QObject *parent)
    : QObject(parent), d(std::make_unique<Private>())
{
    d->transport = std::move(transport);
    Transport *t = d->transport.get();
    connect(t, &Transport::opened, this, [this] { d->opened = true; });
    connect(t, &Transport::received, this, [this](const QJsonObject &m) { handleMessage(m); });
    connect(t, &Transport::stderrLine, this, &Client::stderrLine);
    connect(t, &Transport::closed, this, [this](const QString &why) {
        d->transportEnded = true;
        if (!d->ended)
            d->endedWhy = why;
        d->ended = true;
        d->ready = false;
        d->failPending(d->endedWhy);
        Q_EMIT closed(why);
    });
}

Client::~Client()
{
    d->ended = true;
    if (d->endedWhy.isEmpty())
        d->endedWhy = QStringLiteral("the MCP client was stopped");
    // Resumes every waiting request now, while this object is whole, so that none wakes up later
    // in a destroyed client.
    d->failPending(d->endedWhy);
}

QStringList Client::supportedProtocolVersions()
{
    return {QStringLiteral("2025-11-25"), QStringLiteral("2025-06-18"),
            QStringLiteral("2025-03-26"), QStringLiteral("2024-11-05")};
}

bool Client::ready() const
{
    return d->ready;
}

QString Client::protocolVersion() const
{
    return d->version;
}

QList<Tool> Client::tools() const
{
    return d->tools;
}

bool Client::transportEnded() const
{
    return d->transportEnded;
}

Transport *Client::transport() const
{
    return d->transport.get();
}

void Client::close()
{
    if (!d->ended)
        d->endedWhy = QStringLiteral("the MCP client was stopped");
    d->ended = true;
    d->ready = false;
    d->failPending(d->endedWhy);
    d->transport->close();
}

void Client::send(const QJsonObject &m)
{
    if (!d->ended)
        d->transport->send(m);
}

QCoro::Task<Client::Reply> Client::request(QString method, QJsonObject params, int timeoutMs,
                                           ToolCallCancel *cancel)
{
    Reply reply;
    if (d->ended) {
        reply.error = d->endedWhy;
        co_return reply;
    }
    if (cancel && cancel->isCancelled()) {
        reply.end = Reply::End::Cancelled;
        co_return reply;
    }
    reply.id = d->nextId++;
    Alarm alarm(timeoutMs);
    Pending pending;
    pending.alarm = &alarm;
    bool cancelled = false;
    if (cancel)
        QObject::connect(cancel, &ToolCallCancel::cancelled, alarm.context(), [&cancelled, &alarm] {
            cancelled = true;
            alarm.fire();
        });
    d->pending.insert(reply.id, &pending);
    QJsonObject m = message(method, params);
    m.insert(QLatin1String("id"), reply.id);
    QPointer<Client> self(this);
    send(m);
    co_await alarm.wakeup();
    if (self)
        d->pending.remove(reply.id);
    // An answer that came in with the timeout or the cancel still counts.
    if (pending.answer) {
        const QJsonValue error = pending.answer->value(QLatin1String("error"));
        if (error.isObject()) {
            reply.error = rpcErrorText(error.toObject());
        } else {
            reply.end = Reply::End::Answered;
            reply.result = pending.answer->value(QLatin1String("result")).toObject();
        }
    } else if (pending.failure) {
        reply.error = *pending.failure;
    } else {
        reply.end = cancelled ? Reply::End::Cancelled : Reply::End::TimedOut;
        // The spec's way to tell the server to stop working on it.
        QJsonObject params;
        params.insert(QLatin1String("requestId"), reply.id);
        params.insert(QLatin1String("reason"), cancelled ? QStringLiteral("cancelled by the user")
                                                         : QStringLiteral("timed out"));
        if (self)
            send(message(QStringLiteral("notifications/cancelled"), params));
    }
    co_return reply;
}

QCoro::Task<Status> Client::initialize(int timeoutMs)
{
    QElapsedTimer clock;
    clock.start();
    const auto remaining = [&] { return std::max<int>(1, timeoutMs - int(clock.elapsed())); };
    QPointer<Client> self(this);
    const auto fail = [this, &self](ErrorCode code, const QString &why) -> Status {
        if (self)
            close();
        return makeError(code, why);
    };
    if (!d->opened && !d->ended) {
        Alarm alarm(timeoutMs);
        connect(d->transport.get(), &Transport::opened, alarm.context(),
                [&alarm] { alarm.fire(); });
        connect(d->transport.get(), &Transport::closed, alarm.context(),
                [&alarm] { alarm.fire(); });
        d->transport->open();
        if (!d->opened && !d->ended)
            co_await alarm.wakeup();
        if (!self)
            co_return makeError(ErrorCode::Unavailable, QStringLiteral("stopped"));
    }
    if (d->ended)
        co_return makeError(ErrorCode::Unavailable, d->endedWhy);
    if (!d->opened)
        co_return fail(ErrorCode::UpstreamTimeout, QStringLiteral("the server did not start"));

    QJsonObject info;
    info.insert(QLatin1String("name"), QLatin1String("holdfast"));
    info.insert(QLatin1String("version"), QCoreApplication::applicationVersion().isEmpty()
                                              ? QStringLiteral("0")
                                              : QCoreApplication::applicationVersion());
    QJsonObject params;
    params.insert(QLatin1String("protocolVersion"), supportedProtocolVersions().first());
    params.insert(QLatin1String("capabilities"), QJsonObject());
    params.insert(QLatin1String("clientInfo"), info);
    const Reply reply =
        co_await request(QStringLiteral("initialize"), params, remaining(), nullptr);
    if (!self)
        co_return makeError(ErrorCode::Unavailable, QStringLiteral("stopped"));
    if (reply.end == Reply::End::TimedOut)
        co_return fail(ErrorCode::UpstreamTimeout,
                       QStringLiteral("no answer to initialize within %1 ms").arg(timeoutMs));
    if (reply.end != Reply::End::Answered)
        co_return fail(ErrorCode::UpstreamError, QStringLiteral("initialize: ") + reply.error);
    const QString version = reply.result.value(QLatin1String("protocolVersion")).toString();
    if (!supportedProtocolVersions().contains(version))
        co_return fail(ErrorCode::UpstreamError,
                       QStringLiteral("the server speaks MCP version \"%1\"; Holdfast speaks %2")
                           .arg(version, supportedProtocolVersions().join(QStringLiteral(", "))));
    d->version = version;
    d->transport->setProtocolVersion(version);
    send(message(QStringLiteral("notifications/initialized"), {}));

    if (reply.result.value(QLatin1String("capabilities"))
            .toObject()
            .contains(QLatin1String("tools"))) {
        auto tools = co_await listTools(remaining());
        if (!self)
            co_return makeError(ErrorCode::Unavailable, QStringLiteral("stopped"));
        if (!tools)
            co_return fail(tools.error().code, tools.error().message);
        d->tools = std::move(*tools);
    }
    d->ready = !d->ended;
    if (!d->ready)
        co_return makeError(ErrorCode::Unavailable, d->endedWhy);
    qCInfo(lcMcp) << "MCP server ready: protocol" << version << "," << d->tools.size() << "tool(s)";
    co_return Ok{};
}

QCoro::Task<Result<QList<Tool>>> Client::listTools(int timeoutMs)
{
    QList<Tool> tools;
    QString cursor;
    QPointer<Client> self(this);
    for (int page = 0; page < kMaxListPages; ++page) {
        QJsonObject params;
        if (!cursor.isEmpty())
            params.insert(QLatin1String("cursor"), cursor);
        const Reply reply =
            co_await request(QStringLiteral("tools/list"), params, timeoutMs, nullptr);
        if (!self)
            co_return makeError(ErrorCode::Unavailable, QStringLiteral("stopped"));
        if (reply.end == Reply::End::TimedOut)
            co_return makeError(
                ErrorCode::UpstreamTimeout,
                QStringLiteral("no answer to tools/list within %1 ms").arg(timeoutMs));
        if (reply.end != Reply::End::Answered)
            co_return makeError(ErrorCode::UpstreamError,
                                QStringLiteral("tools/list: ") + reply.error);
        for (const QJsonValue &value : reply.result.value(QLatin1String("tools")).toArray()) {
            const QJsonObject object = value.toObject();
            Tool tool;
            tool.name = object.value(QLatin1String("name")).toString();
            if (tool.name.isEmpty()) {
                qCWarning(lcMcp) << "tools/list: a tool without a name; left out";
                continue;
            }
            tool.description = object.value(QLatin1String("description")).toString();
            tool.inputSchema = object.value(QLatin1String("inputSchema")).toObject();
            if (tool.inputSchema.isEmpty())
                tool.inputSchema.insert(QLatin1String("type"), QLatin1String("object"));
            tools.append(std::move(tool));
        }
        cursor = reply.result.value(QLatin1String("nextCursor")).toString();
        if (cursor.isEmpty())
            co_return tools;
    }
    co_return makeError(ErrorCode::UpstreamError,
                        QStringLiteral("tools/list: more than %1 pages").arg(kMaxListPages));
}

QCoro::Task<> Client::relist()
{
    // One listing at a time; a change announced meanwhile lists once more after it.
    if (d->listing) {
        d->listAgain = true;
        co_return;
    }
    d->listing = true;
    QPointer<Client> self(this);
    do {
        d->listAgain = false;
        auto tools = co_await listTools(kRelistTimeoutMs);
        if (!self)
            co_return;
        if (tools) {
            d->tools = std::move(*tools);
            Q_EMIT toolsChanged();
        } else {
            qCWarning(lcMcp).noquote() << "re-listing tools failed:" << tools.error().message;
        }
    } while (d->listAgain && d->ready);
    d->listing = false;
}

QCoro::Task<ToolOutcome> Client::callTool(QString name, QJsonObject arguments, int timeoutMs,
                                          ToolCallCancel *cancel)
{
    if (!d->ready)
        co_return ToolOutcome{d->ended ? d->endedWhy : QStringLiteral("the server is not ready"),
                              true};
    QJsonObject params;
    params.insert(QLatin1String("name"), name);
    params.insert(QLatin1String("arguments"), arguments);
    const Reply reply = co_await request(QStringLiteral("tools/call"), params, timeoutMs, cancel);
    switch (reply.end) {
    case Reply::End::Answered:
        co_return toolOutcome(reply.result);
    case Reply::End::TimedOut:
        co_return ToolOutcome{QStringLiteral("the tool gave no result within %1 ms").arg(timeoutMs),
                              true};
    case Reply::End::Cancelled:
        co_return ToolOutcome{QStringLiteral("the tool call was cancelled"), true};
    case Reply::End::Failed:
        break;
    }
    co_return ToolOutcome{reply.error, true};
}

void Client::handleMessage(const QJsonObject &m)
{
    const QJsonValue id = m.value(QLatin1String("id"));
    const QString method = m.value(QLatin1String("method")).toString();
    if (!method.isEmpty() && !id.isUndefined()) { // a request from the server
        QJsonObject answer;
        answer.insert(QLatin1String("jsonrpc"), QLatin1String("2.0"));
        answer.insert(QLatin1String("id"), id);
        if (method == QLatin1String("ping")) {
            answer.insert(QLatin1String("result"), QJsonObject());
        } else {
            QJsonObject error;
            error.insert(QLatin1String("code"), kMethodNotFound);
            error.insert(QLatin1String("message"),
                         QString(QStringLiteral("Method not found: ") + method));
            answer.insert(QLatin1String("error"), error);
        }
        send(answer);
        return;
    }
    if (!method.isEmpty()) { // a notification
        if (method == QLatin1String("notifications/tools/list_changed") && d->ready)
            relist();
        else if (method == QLatin1String("notifications/message"))
            qCInfo(lcMcp).noquote() << "server log:"
                                    << m.value(QLatin1String("params"))
                                           .toObject()
                                           .value(QLatin1String("data"))
                                           .toVariant()
                                           .toString();
        return;
    }
    if (id.isDouble() &&
        (m.contains(QLatin1String("result")) || m.contains(QLatin1String("error")))) {
        Pending *p = d->pending.take(id.toInteger());
        if (p) {
            p->answer = m;
            p->alarm->fire();
            return;
        }
    }
    qCWarning(lcMcp) << "an MCP message that answers nothing we asked; ignored:" << m;
}

} // namespace holdfast::mcp
