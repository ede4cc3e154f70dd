// The client side of the MCP conformance suite (tests/mcp/conformance/run-conformance.sh): the
// suite starts a test server for a scenario and runs `conformanceclient URL` with the scenario's
// name in MCP_CONFORMANCE_SCENARIO. Built on holdfast_mcp as Holdfast uses it: the transport the
// factory makes for a {"url": …} entry of mcp.json, and mcp::Client. Exits 0 when the scenario's
// steps worked, 1 with the reason on stderr when not.

#include "mcp/mcpclient.h"
#include "mcp/mcptransportfactory.h"

#include <QCoreApplication>
#include <QCoroTask>
#include <QJsonObject>
#include <QTimer>

#include <cstdio>

using namespace holdfast;

namespace {

constexpr int kTimeoutMs = 20000;

int failWith(const QString &why)
{
    std::fprintf(stderr, "conformanceclient: %s\n", qPrintable(why));
    return 1;
}

// What the scenario's server checks: the handshake always; tools_call calls add_numbers;
// sse-retry calls the tool whose answer stream the server closes early (SEP-1699).
QCoro::Task<int> run(QString url, QString scenario)
{
    mcp::ServerConfig config;
    config.name = QStringLiteral("conformance");
    config.url = url;
    std::unique_ptr<mcp::Transport> transport = mcp::makeTransport(config);
    if (!transport)
        co_return failWith(QStringLiteral("no transport for %1").arg(url));
    mcp::Client client(std::move(transport));
    const Status status = co_await client.initialize(kTimeoutMs);
    if (!status.ok())
        co_return failWith(QStringLiteral("initialize: ") + status.error().message);
    QString tool;
    QJsonObject arguments;
    if (scenario == QLatin1String("tools_call")) {
        tool = QStringLiteral("add_numbers");
        arguments = {{QStringLiteral("a"), 5}, {QStringLiteral("b"), 3}};
    } else if (scenario == QLatin1String("sse-retry")) {
        tool = QStringLiteral("test_reconnection");
    }
    int exitCode = 0;
    if (!tool.isEmpty()) {
        bool listed = false;
        for (const mcp::Tool &t : client.tools())
            listed = listed || t.name == tool;
        if (!listed) {
            exitCode = failWith(QStringLiteral("the server lists no tool %1").arg(tool));
        } else {
            const ToolOutcome outcome =
                co_await client.callTool(tool, arguments, kTimeoutMs, nullptr);
            std::fprintf(stdout, "%s: %s\n", qPrintable(tool), qPrintable(outcome.content));
            if (outcome.isError)
                exitCode = failWith(QStringLiteral("%1 failed: %2").arg(tool, outcome.content));
        }
    }
    client.close();
    co_return exitCode;
}

} // namespace

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    const QStringList args = app.arguments();
    if (args.size() < 2)
        return failWith(QStringLiteral("usage: conformanceclient SERVER_URL"));
    const QString scenario = qEnvironmentVariable("MCP_CONFORMANCE_SCENARIO");
    int exitCode = 1;
    run(args.last(), scenario).then([&exitCode](int code) {
        exitCode = code;
        // One more turn of the loop: close()'s DELETE goes out (best effort).
        QTimer::singleShot(100, qApp, &QCoreApplication::quit);
    });
    app.exec();
    return exitCode;
}
