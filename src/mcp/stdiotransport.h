#pragma once

#include "mcp/mcpconfig.h"
#include "mcp/mcptransport.h"

#include <QPointer>
#include <QProcess>

namespace holdfast::mcp {

// MCP's stdio transport: the server is a child process (the entry's command and args, Holdfast's
// environment plus the entry's env) that reads JSON-RPC messages from stdin and writes them to
// stdout, one per line; what it writes to stderr is its log. Nothing here blocks: closing
// escalates from closing stdin to SIGTERM to SIGKILL on timers.
class StdioTransport final : public Transport
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(StdioTransport)
public:
    explicit StdioTransport(ServerConfig config, QObject *parent = nullptr);
    ~StdioTransport() override;

    void open() override;
    void send(const QJsonObject &message) override;
    void close() override;

    // The child's process id while it runs, else 0 (tests kill it to see a server die).
    qint64 processId() const;
    // How long close() lets the server go before it is terminated, then killed.
    static constexpr int kCloseGraceMs = 1000;

private:
    void readStdout();
    void readStderr();
    void processEnded(const QString &why);

    ServerConfig m_config;
    QPointer<QProcess> m_process;
    QByteArray m_stdout;
    QByteArray m_stderr;
    bool m_ended = false;
};

} // namespace holdfast::mcp
