#pragma once

#include <QJsonObject>
#include <QObject>

namespace holdfast::mcp {

// One connection to an MCP server: JSON-RPC messages out and in. StdioTransport runs the server
// as a child process (newline-delimited JSON on stdin/stdout); HttpTransport speaks Streamable
// HTTP (POST per message, answers as JSON or SSE, Mcp-Session-Id).
class Transport : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(Transport)
public:
    explicit Transport(QObject *parent = nullptr) : QObject(parent) {}
    ~Transport() override = default;

    // Starts the process or prepares the connection; opened() or closed() follows.
    virtual void open() = 0;
    virtual void send(const QJsonObject &message) = 0;
    // Stops the process (stdin closed, then terminate, then kill) or ends the HTTP session.
    virtual void close() = 0;
    // After the handshake: the protocol version both sides agreed on (HTTP sends it as the
    // MCP-Protocol-Version header of every later request).
    virtual void setProtocolVersion(const QString &version) { Q_UNUSED(version); }

Q_SIGNALS:
    void opened();
    void received(const QJsonObject &message);
    // The process ended or the server cannot be reached any more; `why` for the server's error.
    void closed(const QString &why);
    void stderrLine(const QString &line); // stdio: what the server writes to stderr
};

} // namespace holdfast::mcp
