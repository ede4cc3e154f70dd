#pragma once

#include "core/tools.h"
#include "mcp/mcpconfig.h"

#include <QObject>

#include <memory>

namespace holdfast::mcp {

// The ToolHost of the configured MCP servers: one Client per server, started on demand (the first
// turn that may use its tools, or GET /v1/tools), restarted with back-off when it dies, stopped at
// exit. A stdio server's stderr goes to the log and its last lines to ToolServerInfo::stderrTail.
class Hub final : public ToolHost
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(Hub)
public:
    explicit Hub(QObject *parent = nullptr);
    ~Hub() override;

    // Replaces the configuration: servers no longer listed, or listed differently, are stopped.
    void setServers(QList<ServerConfig> servers);
    QList<ServerConfig> servers() const;
    // Starts every configured server now (the headless server at start; the window lazily).
    void startAll();

    ToolList list() const override;
    bool hasServer(const QString &server) const override;
    QCoro::Task<QList<ToolInfo>> toolsFor(QStringList allowed) override;
    QCoro::Task<ToolOutcome> call(QString name, QJsonObject arguments, int timeoutMs,
                                  ToolCallCancel *cancel) override;

private:
    struct Private;
    std::unique_ptr<Private> d;
};

} // namespace holdfast::mcp
