#pragma once

#include "core/error.h"
#include "core/tools.h"
#include "mcp/mcptransport.h"

#include <QCoroTask>
#include <QHash>
#include <QJsonObject>
#include <QObject>

#include <memory>

namespace holdfast::mcp {

// A tool as one server lists it (its own name, without "SERVER/").
struct Tool
{
    QString name;
    QString description;
    QJsonObject inputSchema;
};

// The client side of one MCP session over a Transport: the handshake (initialize, version
// negotiation, notifications/initialized), tools/list (again on notifications/tools/list_changed),
// tools/call with a timeout and cancellation (notifications/cancelled), and the JSON-RPC
// bookkeeping. Every failure of a call is an error outcome, never an exception or a hang.
class Client : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(Client)
public:
    explicit Client(std::unique_ptr<Transport> transport, QObject *parent = nullptr);
    ~Client() override;

    // The protocol versions this client speaks, newest first; initialize() offers the first.
    static QStringList supportedProtocolVersions();

    // Opens the transport and does the handshake, then lists the tools (when the server has
    // any). An error (and the transport closed) when any step fails or takes over timeoutMs.
    QCoro::Task<Status> initialize(int timeoutMs);
    bool ready() const;
    QString protocolVersion() const; // as negotiated
    QList<Tool> tools() const;
    // Runs tools/call; the result's content joined (text parts, other parts described in
    // brackets), isError from the result or for a JSON-RPC error, a timeout, a closed transport.
    QCoro::Task<ToolOutcome> callTool(QString name, QJsonObject arguments, int timeoutMs,
                                      ToolCallCancel *cancel);
    // Fails every pending request at once and stops the transport; closed() follows when the
    // transport has really ended (a process gone).
    void close();
    bool transportEnded() const; // closed() was emitted
    Transport *transport() const;

Q_SIGNALS:
    void toolsChanged();             // after tools/list answered again (list_changed)
    void closed(const QString &why); // the transport ended (also after close())
    void stderrLine(const QString &line);

private:
    struct Private;
    struct Reply;
    static constexpr int kRelistTimeoutMs = 30000;
    // Sends one request and waits for its answer, the timeout, `cancel`, or the transport's end.
    QCoro::Task<Reply> request(QString method, QJsonObject params, int timeoutMs,
                               ToolCallCancel *cancel);
    QCoro::Task<Result<QList<Tool>>> listTools(int timeoutMs);
    QCoro::Task<> relist();
    void handleMessage(const QJsonObject &message);
    void send(const QJsonObject &message);

    std::unique_ptr<Private> d;
};

} // namespace holdfast::mcp
