#pragma once

// Helpers of tst_mcp: stopping what a test started, reading the hub's state, writing mcp.json.

#include "fakes/testutil.h"
#include "mcp/mcpclient.h"
#include "mcp/mcpconfig.h"
#include "mcp/mcphub.h"
#include "mcp/stdiotransport.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QTest>

#include <signal.h>

namespace holdfast::test {

inline const QString kTestServer = QStringLiteral(HOLDFAST_MCP_TEST_SERVER);
constexpr int kStartMs = 20000;

inline QJsonObject object(const char *json)
{
    return QJsonDocument::fromJson(json).object();
}

inline qint64 processIdOf(mcp::Client *client)
{
    auto *stdio = client ? qobject_cast<mcp::StdioTransport *>(client->transport()) : nullptr;
    return stdio ? stdio->processId() : 0;
}

inline bool alive(qint64 pid)
{
    return pid > 0 && ::kill(pid_t(pid), 0) == 0;
}

// Stops the client's server and waits until its process has gone, so that no test leaves one.
inline void stopClient(mcp::Client *client)
{
    const qint64 pid = processIdOf(client);
    client->close();
    QVERIFY2(test::spinUntil([pid] { return !alive(pid); }, 10000), "the server did not stop");
}

inline void stopHub(mcp::Hub *hub)
{
    QList<qint64> pids;
    for (const mcp::ServerConfig &s : hub->servers())
        pids.append(processIdOf(hub->client(s.name)));
    HF_AWAIT_VOID(hub->stop());
    for (qint64 pid : std::as_const(pids)) {
        // A process just killed may still be a zombie for a moment.
        QVERIFY2(test::spinUntil([pid] { return !alive(pid); }, 5000), "a server still runs");
    }
}

inline ToolServerInfo serverInfo(const mcp::Hub &hub, const QString &name)
{
    for (const ToolServerInfo &s : hub.list().servers) {
        if (s.name == name)
            return s;
    }
    return {};
}

inline QStringList toolNames(const QList<mcp::Tool> &tools)
{
    QStringList names;
    for (const mcp::Tool &t : tools)
        names.append(t.name);
    return names;
}

inline void writeMcpJson(const QString &home, const QList<mcp::ServerConfig> &servers,
                         QByteArray raw = {})
{
    QDir().mkpath(home + QStringLiteral("/config/holdfast"));
    QFile file(home + QStringLiteral("/config/holdfast/mcp.json"));
    QVERIFY(file.open(QIODevice::WriteOnly));
    if (raw.isEmpty()) {
        QJsonObject entries;
        for (const mcp::ServerConfig &s : servers) {
            QJsonObject entry;
            entry.insert(QLatin1String("command"), s.command);
            entry.insert(QLatin1String("args"), QJsonArray::fromStringList(s.args));
            entries.insert(s.name, entry);
        }
        QJsonObject root;
        root.insert(QLatin1String("mcpServers"), entries);
        raw = QJsonDocument(root).toJson();
    }
    file.write(raw);
}

} // namespace holdfast::test
