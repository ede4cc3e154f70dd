#pragma once

#include "core/types.h"

#include <QCoroTask>
#include <QHash>
#include <QJsonObject>
#include <QObject>
#include <QStringList>

namespace holdfast {

// A tool the model may call (shared/API.md, Tools (MCP)): `name` is "SERVER/TOOL".
struct ToolInfo
{
    QString name;
    QString description;
    QJsonObject inputSchema; // the MCP tool's inputSchema (a JSON Schema object)

    bool operator==(const ToolInfo &) const = default;
};

// A configured MCP server as GET /v1/tools lists it.
struct ToolServerInfo
{
    enum class State { Starting, Ready, Error };

    QString name;
    State state = State::Starting;
    QString error;      // why it is in `error` (also while it waits to be restarted)
    QString stderrTail; // the last lines a stdio server wrote to stderr (for the settings)

    bool operator==(const ToolServerInfo &) const = default;
};

QString toolServerStateName(ToolServerInfo::State state);
std::optional<ToolServerInfo::State> toolServerStateFromName(const QString &name);

// GET /v1/tools.
struct ToolList
{
    QList<ToolInfo> tools;
    QList<ToolServerInfo> servers;
};

// What a call gave back: MCP's content, text joined, other content described in brackets; a
// JSON-RPC error, a timeout or a dead server is a result with isError.
struct ToolOutcome
{
    QString content;
    bool isError = false;
};

// Lets the caller of ToolHost::call() stop it (the turn was cancelled): the host tells the server
// (MCP's notifications/cancelled) and the call returns an error outcome at once.
class ToolCallCancel : public QObject
{
    Q_OBJECT
public:
    explicit ToolCallCancel(QObject *parent = nullptr) : QObject(parent) {}
    void cancel()
    {
        if (m_cancelled)
            return;
        m_cancelled = true;
        Q_EMIT cancelled();
    }
    bool isCancelled() const { return m_cancelled; }

Q_SIGNALS:
    void cancelled();

private:
    bool m_cancelled = false;
};

// Where tools come from: the MCP servers of mcp.json (src/mcp's McpHub). The session service
// uses this interface only, so that core does not depend on the MCP client.
class ToolHost : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ToolHost)
public:
    explicit ToolHost(QObject *parent = nullptr) : QObject(parent) {}
    ~ToolHost() override = default;

    // The tools of the ready servers, and every configured server's state, now.
    virtual ToolList list() const = 0;
    // Whether `server` is configured (a tool name whose server is not is 422).
    virtual bool hasServer(const QString &server) const = 0;
    // The tools among `allowed` ("SERVER/TOOL" or "*"), for a turn about to start: servers not
    // yet started are started, and those starting are waited for (bounded); a server that is not
    // ready then contributes none.
    virtual QCoro::Task<QList<ToolInfo>> toolsFor(QStringList allowed) = 0;
    // Runs one call ("SERVER/TOOL"); never fails otherwise than with an error outcome. Gives up
    // after timeoutMs (an error outcome) and when `cancel` fires.
    virtual QCoro::Task<ToolOutcome> call(QString name, QJsonObject arguments, int timeoutMs,
                                          ToolCallCancel *cancel) = 0;

Q_SIGNALS:
    // The list of tools or a server's state changed (notifications/tools/list_changed, a server
    // started, died, or the configuration was replaced).
    void changed();
};

// The server part of a tool name ("fs" of "fs/read_file"); empty when there is no slash.
QString toolServerOf(const QString &name);

// Function names for the tools offered to a model: each matches ^[a-zA-Z0-9_-]{1,64}$ (OpenAI's
// rule) and is unique among `names`; keyed by the tool's "SERVER/TOOL" name. The same names give
// the same functions, so that earlier turns' calls keep their names.
QHash<QString, QString> toolWireNames(const QStringList &names);

} // namespace holdfast
