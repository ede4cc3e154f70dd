#include "mcp/mcphub.h"

#include "mcp/mcpalarm.h"
#include "mcp/mcpclient.h"
#include "mcp/mcplogging.h"
#include "mcp/mcptransportfactory.h"

#include <QCoroTimer>
#include <QElapsedTimer>
#include <QPointer>
#include <QTimer>

#include <chrono>

using namespace std::chrono_literals;

namespace holdfast::mcp {

struct Hub::Server
{
    ServerConfig config;
    Client *client = nullptr; // a child of the hub while it runs
    bool launched = false;    // started once at least (servers start on demand)
    bool removed = false;     // no longer configured, or the hub stopped
    int generation = 0;       // bumped when a client is dropped: a stale restart timer does nothing
    ToolServerInfo::State state = ToolServerInfo::State::Starting;
    QString error;
    QStringList stderrTail;
    QList<Tool> tools;
    int restartMs = kFirstRestartMs;
    QElapsedTimer readySince;
};

struct Hub::Private
{
    QList<std::shared_ptr<Server>> servers;
    QList<QPointer<Client>> closing; // stopped clients whose transport has not ended yet
    bool autoStart = false;
    bool stopping = false;
};

Hub::Hub(QObject *parent) : ToolHost(parent), d(std::make_unique<Private>()) {}

Hub::~Hub()
{
    // Deleting a client fails its pending calls now, while this hub is whole; its transport stops
    // the process without waiting for it.
    d->stopping = true;
    for (const auto &s : std::as_const(d->servers)) {
        s->removed = true;
        delete std::exchange(s->client, nullptr);
    }
    for (const QPointer<Client> &c : std::as_const(d->closing))
        delete c.data();
}

void Hub::setServers(QList<ServerConfig> servers)
{
    QList<std::shared_ptr<Server>> next;
    for (ServerConfig &config : servers) {
        std::shared_ptr<Server> kept = find(config.name);
        if (kept && kept->config == config) {
            next.append(kept);
            continue;
        }
        auto server = std::make_shared<Server>();
        server->config = std::move(config);
        next.append(server);
    }
    for (const auto &old : std::as_const(d->servers)) {
        if (!next.contains(old)) {
            old->removed = true;
            stopServer(old);
        }
    }
    d->servers = next;
    if (d->autoStart) {
        for (const auto &s : std::as_const(d->servers)) {
            if (!s->launched)
                start(s);
        }
    }
    Q_EMIT changed();
}

QList<ServerConfig> Hub::servers() const
{
    QList<ServerConfig> configs;
    for (const auto &s : std::as_const(d->servers))
        configs.append(s->config);
    return configs;
}

void Hub::startAll()
{
    d->autoStart = true;
    for (const auto &s : std::as_const(d->servers)) {
        if (!s->launched)
            start(s);
    }
}

QCoro::Task<> Hub::stop()
{
    d->stopping = true;
    for (const auto &s : std::as_const(d->servers)) {
        s->removed = true;
        stopServer(s);
    }
    QPointer<Hub> self(this);
    QElapsedTimer clock;
    clock.start();
    // A stdio server gets its grace period, then SIGTERM, then SIGKILL: a few seconds at most.
    while (self && clock.elapsed() < 5000 &&
           std::any_of(d->closing.cbegin(), d->closing.cend(),
                       [](const QPointer<Client> &c) { return !c.isNull(); }))
        co_await QCoro::sleepFor(20ms);
}

ToolList Hub::list() const
{
    ToolList result;
    for (const auto &s : std::as_const(d->servers)) {
        ToolServerInfo info;
        info.name = s->config.name;
        info.state = s->state;
        info.error = s->error;
        info.stderrTail = s->stderrTail.join(QLatin1Char('\n'));
        result.servers.append(info);
        if (s->state != ToolServerInfo::State::Ready)
            continue;
        for (const Tool &tool : std::as_const(s->tools)) {
            ToolInfo t;
            t.name = s->config.name + QLatin1Char('/') + tool.name;
            t.description = tool.description;
            t.inputSchema = tool.inputSchema;
            result.tools.append(t);
        }
    }
    return result;
}

bool Hub::hasServer(const QString &server) const
{
    return find(server) != nullptr;
}

QCoro::Task<QList<ToolInfo>> Hub::toolsFor(QStringList allowed)
{
    if (allowed.isEmpty())
        co_return QList<ToolInfo>{};
    const bool all = allowed.contains(QStringLiteral("*"));
    QList<std::shared_ptr<Server>> wanted;
    for (const auto &s : std::as_const(d->servers)) {
        const QString prefix = s->config.name + QLatin1Char('/');
        if (all || std::any_of(allowed.cbegin(), allowed.cend(),
                               [&prefix](const QString &n) { return n.startsWith(prefix); }))
            wanted.append(s);
    }
    for (const auto &s : std::as_const(wanted)) {
        if (!s->launched) // one waiting to be restarted is not hurried
            start(s);
    }
    QPointer<Hub> self(this);
    QElapsedTimer clock;
    clock.start();
    const auto starting = [&wanted] {
        return std::any_of(wanted.cbegin(), wanted.cend(), [](const auto &s) {
            return !s->removed && s->state == ToolServerInfo::State::Starting;
        });
    };
    while (starting() && clock.elapsed() < kToolsForWaitMs) {
        Alarm alarm(std::max<int>(1, kToolsForWaitMs - int(clock.elapsed())));
        connect(this, &ToolHost::changed, alarm.context(), [&alarm] { alarm.fire(); });
        co_await alarm.wakeup();
        if (!self)
            co_return QList<ToolInfo>{};
    }
    QList<ToolInfo> tools;
    for (const ToolInfo &t : list().tools) {
        if ((all && hasServer(toolServerOf(t.name))) || allowed.contains(t.name)) {
            const bool isWanted = std::any_of(wanted.cbegin(), wanted.cend(), [&t](const auto &s) {
                return s->config.name == toolServerOf(t.name);
            });
            if (isWanted)
                tools.append(t);
        }
    }
    co_return tools;
}

QCoro::Task<ToolOutcome> Hub::call(QString name, QJsonObject arguments, int timeoutMs,
                                   ToolCallCancel *cancel)
{
    const QString serverName = toolServerOf(name);
    const std::shared_ptr<Server> s = find(serverName);
    if (!s)
        co_return ToolOutcome{QStringLiteral("no MCP server \"%1\" is configured").arg(serverName),
                              true};
    if (s->state != ToolServerInfo::State::Ready || !s->client)
        co_return ToolOutcome{
            QStringLiteral("the MCP server \"%1\" is not ready%2")
                .arg(serverName, s->error.isEmpty() ? QString() : QStringLiteral(": ") + s->error),
            true};
    QPointer<Client> client(s->client);
    const QString tool = name.mid(serverName.size() + 1);
    ToolOutcome outcome = co_await client->callTool(tool, arguments, timeoutMs, cancel);
    co_return outcome;
}

Client *Hub::client(const QString &server) const
{
    const auto s = find(server);
    return s ? s->client : nullptr;
}

std::shared_ptr<Hub::Server> Hub::find(const QString &name) const
{
    for (const auto &s : std::as_const(d->servers)) {
        if (s->config.name == name)
            return s;
    }
    return nullptr;
}

void Hub::start(const std::shared_ptr<Server> &server)
{
    if (server->removed || d->stopping || server->client)
        return;
    server->launched = true;
    server->state = ToolServerInfo::State::Starting;
    server->error.clear();
    std::unique_ptr<Transport> transport = makeTransport(server->config);
    if (!transport) {
        server->state = ToolServerInfo::State::Error;
        server->error = QStringLiteral("this build cannot reach MCP servers over HTTP");
        Q_EMIT changed();
        return;
    }
    auto *client = new Client(std::move(transport), this);
    server->client = client;
    const std::weak_ptr<Server> weak = server;
    connect(client, &Client::stderrLine, this, [weak](const QString &line) {
        if (const auto s = weak.lock()) {
            s->stderrTail.append(line);
            while (s->stderrTail.size() > kStderrTailLines)
                s->stderrTail.removeFirst();
        }
    });
    connect(client, &Client::toolsChanged, this, [this, weak, client] {
        const auto s = weak.lock();
        if (s && s->client == client) {
            s->tools = client->tools();
            Q_EMIT changed();
        }
    });
    connect(client, &Client::closed, this, [this, weak, client](const QString &why) {
        const auto s = weak.lock();
        // While starting, run() sees the failure in initialize()'s result.
        if (s && s->client == client && s->state == ToolServerInfo::State::Ready)
            failed(s, why);
    });
    Q_EMIT changed();
    run(server);
}

QCoro::Task<> Hub::run(std::shared_ptr<Server> server)
{
    QPointer<Client> client(server->client);
    QPointer<Hub> self(this);
    const Status started = co_await client->initialize(kStartTimeoutMs);
    if (!self || !client || server->client != client)
        co_return; // stopped or replaced meanwhile
    if (!started) {
        failed(server, started.error().message);
        co_return;
    }
    server->state = ToolServerInfo::State::Ready;
    server->error.clear();
    server->tools = client->tools();
    server->readySince.start();
    qCInfo(lcMcp).noquote() << "MCP server" << server->config.name << "is ready with"
                            << server->tools.size() << "tool(s)";
    Q_EMIT changed();
}

void Hub::failed(const std::shared_ptr<Server> &server, const QString &why)
{
    stopServer(server);
    server->state = ToolServerInfo::State::Error;
    server->tools.clear();
    // A server that ran for a while before it died starts over with the shortest back-off.
    if (server->readySince.isValid() && server->readySince.elapsed() > kMaxRestartMs)
        server->restartMs = kFirstRestartMs;
    server->readySince.invalidate();
    if (server->removed || d->stopping) {
        server->error = why;
    } else {
        const int delay = server->restartMs;
        server->restartMs = std::min(2 * server->restartMs, kMaxRestartMs);
        server->error = QStringLiteral("%1 (restarting in %2 s)").arg(why).arg(delay / 1000.0);
        const std::weak_ptr<Server> weak = server;
        const int generation = server->generation;
        QTimer::singleShot(delay, this, [this, weak, generation] {
            const auto s = weak.lock();
            if (s && s->generation == generation)
                start(s);
        });
    }
    qCWarning(lcMcp).noquote() << "MCP server" << server->config.name << ":" << server->error;
    Q_EMIT changed();
}

void Hub::stopServer(const std::shared_ptr<Server> &server)
{
    ++server->generation;
    Client *client = std::exchange(server->client, nullptr);
    if (!client)
        return;
    client->disconnect(this);
    client->close();
    if (client->transportEnded()) {
        client->deleteLater();
        return;
    }
    // The client goes when its transport has ended (a process gone); stop() waits for that.
    connect(client, &Client::closed, client, &QObject::deleteLater);
    d->closing.removeAll(QPointer<Client>());
    d->closing.append(client);
}

} // namespace holdfast::mcp
