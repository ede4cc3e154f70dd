#pragma once

// Helpers of tst_mcp's Streamable HTTP cases: MCP servers over HTTP in child processes (the
// reference server-everything, and httptestserver.mjs for the edge cases), and a raw JSON-RPC
// peer on an HttpTransport.

#include "fakes/mcpservers.h"
#include "fakes/testutil.h"
#include "mcp/httptransport.h"
#include "mcp/mcphub.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QProcess>
#include <QStandardPaths>
#include <QTcpServer>

#include <memory>

namespace holdfast::test {

// A node MCP server over HTTP, stopped (killed) with the object.
class HttpMcpServer
{
public:
    Q_DISABLE_COPY_MOVE(HttpMcpServer)
    HttpMcpServer() = default;
    ~HttpMcpServer()
    {
        if (m_process.state() != QProcess::NotRunning) {
            m_process.kill();
            m_process.waitForFinished(5000);
        }
    }

    // server-everything's "streamableHttp" on a free port (it takes the port from PORT).
    void startEverything(const QString &npmDir)
    {
        QTcpServer probe; // a port the kernel just called free
        if (!probe.listen(QHostAddress::LocalHost, 0)) {
            failure = QStringLiteral("no free port");
            return;
        }
        m_port = probe.serverPort();
        probe.close();
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("PORT"), QString::number(m_port));
        m_process.setProcessEnvironment(env);
        m_path = QStringLiteral("/mcp");
        start({npmDir + QStringLiteral("/node_modules/@modelcontextprotocol/server-everything/"
                                       "dist/index.js"),
               QStringLiteral("streamableHttp")},
              QProcess::StandardError, "listening on port");
    }

    // httptestserver.mjs, which prints its port.
    void startTestServer(const QString &script)
    {
        start({script}, QProcess::StandardOutput, "listening ");
        if (failure.isEmpty())
            m_port = quint16(m_seen.mid(m_seen.indexOf("listening ") + 10).trimmed().toUInt());
    }

    QUrl url(const QString &path = {}) const
    {
        return QUrl(QStringLiteral("http://127.0.0.1:%1%2")
                        .arg(m_port)
                        .arg(path.isEmpty() ? m_path : path));
    }

    QString failure;

private:
    void start(const QStringList &args, QProcess::ProcessChannel channel, const QByteArray &ready)
    {
        const QString node = QStandardPaths::findExecutable(QStringLiteral("node"));
        if (node.isEmpty()) {
            failure = QStringLiteral("node is not installed (scripts/deps.sh)");
            return;
        }
        m_process.setReadChannel(channel);
        m_process.start(node, args);
        const bool up = spinUntil(
            [&] {
                m_seen += m_process.readAll();
                return m_seen.contains(ready) && m_seen.endsWith('\n');
            },
            15000);
        if (!up) {
            failure = QStringLiteral("the server did not start: ") + QString::fromUtf8(m_seen) +
                      QString::fromUtf8(m_process.readAllStandardError());
        }
    }

    QProcess m_process;
    QByteArray m_seen;
    quint16 m_port = 0;
    QString m_path;
};

// JSON-RPC over an HttpTransport, the way mcp::Client uses it, without the client.
class RawPeer
{
public:
    explicit RawPeer(const QUrl &url, const QHash<QString, QString> &headers = {})
        : transport(std::make_unique<mcp::HttpTransport>(url, headers))
    {
        QObject::connect(transport.get(), &mcp::Transport::opened, [this] { opened = true; });
        QObject::connect(transport.get(), &mcp::Transport::closed,
                         [this](const QString &why) { closedWhy = why; });
        QObject::connect(transport.get(), &mcp::Transport::received,
                         [this](const QJsonObject &m) { received.append(m); });
        transport->open();
    }

    // Sends a request and waits for its answer; an empty object when none came (or it closed).
    QJsonObject request(const QString &method, const QJsonObject &params = {})
    {
        const int id = ++m_lastId;
        transport->send(QJsonObject{{QStringLiteral("jsonrpc"), QStringLiteral("2.0")},
                                    {QStringLiteral("id"), id},
                                    {QStringLiteral("method"), method},
                                    {QStringLiteral("params"), params}});
        QJsonObject answer;
        spinUntil([&] {
            for (const QJsonObject &m : std::as_const(received)) {
                if (m.value(QLatin1String("id")) == QJsonValue(id) &&
                    !m.contains(QLatin1String("method"))) {
                    answer = m;
                }
            }
            return !answer.isEmpty() || !closedWhy.isNull();
        });
        return answer;
    }

    void notify(const QString &method)
    {
        transport->send(QJsonObject{{QStringLiteral("jsonrpc"), QStringLiteral("2.0")},
                                    {QStringLiteral("method"), method}});
    }

    // initialize, the version as the server answered it, notifications/initialized.
    QJsonObject handshake()
    {
        const QJsonObject answer =
            request(QStringLiteral("initialize"),
                    {{QStringLiteral("protocolVersion"), QStringLiteral("2025-06-18")},
                     {QStringLiteral("capabilities"), QJsonObject()},
                     {QStringLiteral("clientInfo"),
                      QJsonObject{{QStringLiteral("name"), QStringLiteral("t")},
                                  {QStringLiteral("version"), QStringLiteral("1")}}}});
        const QString version = answer.value(QLatin1String("result"))
                                    .toObject()
                                    .value(QLatin1String("protocolVersion"))
                                    .toString();
        if (!version.isEmpty()) {
            transport->setProtocolVersion(version);
            notify(QStringLiteral("notifications/initialized"));
        }
        return answer;
    }

    std::unique_ptr<mcp::HttpTransport> transport;
    QList<QJsonObject> received;
    bool opened = false;
    QString closedWhy; // null while open

private:
    int m_lastId = 0;
};

// Runs the test functions of `cases` that the command line names (all when it names none; none
// when it names only functions of another class in the same executable).
inline int runCases(QObject *cases, int argc, char **argv)
{
    QStringList args;
    bool named = false;
    bool mine = false;
    for (int i = 0; i < argc; ++i) {
        const QString arg = QString::fromLocal8Bit(argv[i]);
        const bool function = i > 0 && !arg.startsWith(QLatin1Char('-'));
        named = named || function;
        const QByteArray signature = arg.section(QLatin1Char(':'), 0, 0).toLatin1() + "()";
        const bool ours =
            function && cases->metaObject()->indexOfMethod(signature.constData()) >= 0;
        mine = mine || ours;
        if (!function || ours)
            args.append(arg);
    }
    if (named && !mine)
        return 0;
    return QTest::qExec(cases, args);
}

inline QString firstText(const QJsonObject &answer)
{
    return answer.value(QLatin1String("result"))
        .toObject()
        .value(QLatin1String("content"))
        .toArray()
        .at(0)
        .toObject()
        .value(QLatin1String("text"))
        .toString();
}

} // namespace holdfast::test
