#pragma once

#include "core/tools.h"
#include "mcp/mcpconfig.h"

#include <QObject>

#include <memory>

namespace holdfast::mcp {

class Client;

// The ToolHost of the configured MCP servers: one Client per server, started on demand (the first
// turn that may use its tools, or GET /v1/tools), restarted with back-off when it dies, stopped at
// exit. A stdio server's stderr goes to the log and its last lines to ToolServerInfo::stderrTail.
class Hub final : public ToolHost
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(Hub)
public:
    explicit Hub(QObject *parent = nullptr);
    // Stops what still runs without waiting (stop() first lets the servers end cleanly).
    ~Hub() override;

    // Replaces the configuration: servers no longer listed, or listed differently, are stopped;
    // new ones start now when startAll() was called before, else on demand.
    void setServers(QList<ServerConfig> servers);
    QList<ServerConfig> servers() const;
    // Starts every configured server now (the headless server at start; the window lazily).
    void startAll();
    // Stops every server and waits (bounded, a few seconds) until their processes have ended;
    // nothing restarts after it. For the app's shutdown.
    QCoro::Task<> stop();

    ToolList list() const override;
    bool hasServer(const QString &server) const override;
    QCoro::Task<QList<ToolInfo>> toolsFor(QStringList allowed) override;
    QCoro::Task<ToolOutcome> call(QString name, QJsonObject arguments, int timeoutMs,
                                  ToolCallCancel *cancel) override;

    // The running client of `server` (null when it is not running): for tests and diagnostics.
    Client *client(const QString &server) const;

    static constexpr int kStartTimeoutMs = 60000; // handshake; npx may download the server first
    static constexpr int kToolsForWaitMs = 15000; // how long a turn waits for starting servers
    static constexpr int kFirstRestartMs = 1000;  // back-off after a death, doubling ...
    static constexpr int kMaxRestartMs = 60000;   // ... up to this
    static constexpr int kStderrTailLines = 20;

private:
    struct Server;
    void start(const std::shared_ptr<Server> &server);
    QCoro::Task<> run(std::shared_ptr<Server> server);
    void failed(const std::shared_ptr<Server> &server, const QString &why);
    void stopServer(const std::shared_ptr<Server> &server);
    std::shared_ptr<Server> find(const QString &name) const;

    struct Private;
    std::unique_ptr<Private> d;
};

} // namespace holdfast::mcp
