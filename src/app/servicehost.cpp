#include "app/servicehost.h"

#include "app/providersetup.h"
#include "app/settings.h"
#include "core/logging.h"
#include "core/providerregistry.h"
#include "core/sessionservice.h"
#include "core/store.h"
#include "http/httpserver.h"
#include "mcp/mcphub.h"

#include <QDir>
#include <QFileInfo>

namespace holdfast {

namespace {
// "127.0.0.1:8080", "[::1]:0", "localhost:9000"
bool parseListen(const QString &spec, QHostAddress *address, quint16 *port, QString *error)
{
    const qsizetype colon = spec.lastIndexOf(QLatin1Char(':'));
    if (colon <= 0) {
        *error = QStringLiteral("--listen '%1': expected HOST:PORT").arg(spec);
        return false;
    }
    QString host = spec.left(colon);
    if (host.startsWith(QLatin1Char('[')) && host.endsWith(QLatin1Char(']')))
        host = host.mid(1, host.size() - 2);
    bool ok = false;
    const uint p = spec.mid(colon + 1).toUInt(&ok);
    if (!ok || p > 65535) {
        *error = QStringLiteral("--listen '%1': invalid port").arg(spec);
        return false;
    }
    if (host == QLatin1String("localhost"))
        *address = QHostAddress(QHostAddress::LocalHost);
    else if (host == QLatin1String("*") || host == QLatin1String("0.0.0.0"))
        *address = QHostAddress(QHostAddress::AnyIPv4);
    else
        *address = QHostAddress(host);
    if (address->isNull()) {
        *error = QStringLiteral("--listen '%1': '%2' is not an IP address").arg(spec, host);
        return false;
    }
    *port = quint16(p);
    return true;
}
} // namespace

ServiceHost::ServiceHost(QObject *parent) : QObject(parent) {}

ServiceHost::~ServiceHost()
{
    delete m_http;
    delete m_service;
}

QCoro::Task<Status> ServiceHost::start(const Settings &settings, bool serveHttp)
{
    auto store = createStore(settings.value(QStringLiteral("store")));
    if (!store) {
        m_failure = Failure::Usage;
        co_return store.error();
    }
    m_store = std::move(*store);

    m_providers = new ProviderRegistry(this);
    if (Status s = setupProviders(settings, m_providers); !s) {
        m_failure = Failure::Usage;
        co_return s;
    }

    ServiceConfig config;
    config.maxLoadedSessions = int(settings.integer(QStringLiteral("max-loaded-sessions")));
    config.maxPromptBytes = settings.integer(QStringLiteral("max-prompt-bytes"));
    config.maxAttachmentBytes = settings.integer(QStringLiteral("max-attachment-bytes"));
    config.shutdownTimeoutMs = int(settings.integer(QStringLiteral("shutdown-timeout-ms")));
    config.autoTitle = settings.flag(QStringLiteral("auto-title"));
    config.maxToolRounds = int(settings.integer(QStringLiteral("max-tool-rounds")));
    config.toolApprovalTimeoutMs =
        int(settings.integer(QStringLiteral("tool-approval-timeout-ms")));
    config.toolTimeoutMs = int(settings.integer(QStringLiteral("tool-timeout-ms")));
    m_service = new SessionService(m_store.get(), m_providers, config);

    m_mcpConfigPath = settings.value(QStringLiteral("mcp-config"));
    if (m_mcpConfigPath.isEmpty())
        m_mcpConfigPath = mcp::defaultConfigPath();
    m_tools = new mcp::Hub(this);
    const auto servers = mcp::loadConfig(m_mcpConfigPath);
    if (servers) {
        m_tools->setServers(*servers);
    } else if (serveHttp) {
        m_failure = Failure::Usage;
        co_return servers.error();
    } else {
        m_mcpConfigError = servers.error().message;
        qCWarning(lcCore).noquote() << "no MCP servers:" << m_mcpConfigError;
    }
    m_service->setToolHost(m_tools);

    const Status started = co_await m_service->start();
    if (!started) {
        m_failure = Failure::Runtime;
        co_return started;
    }

    // The headless service starts its MCP servers now, so that GET /v1/tools shows them and the
    // first turn does not wait; the window starts a server when a chat first needs it.
    if (serveHttp)
        m_tools->startAll();

    QString listen = settings.value(QStringLiteral("listen"));
    if (serveHttp && listen.isEmpty())
        listen = QStringLiteral("127.0.0.1:8080");
    if (!listen.isEmpty()) {
        QHostAddress address;
        quint16 port = 0;
        QString error;
        if (!parseListen(listen, &address, &port, &error)) {
            m_failure = Failure::Usage;
            co_return makeError(ErrorCode::BadRequest, error);
        }
        HttpOptions options;
        options.token = settings.value(QStringLiteral("token"));
        options.maxBodyBytes = settings.integer(QStringLiteral("max-body-bytes"));
        options.maxHeadBytes = settings.integer(QStringLiteral("max-header-bytes"));
        options.maxHeaderCount = int(settings.integer(QStringLiteral("max-headers")));
        options.maxStreamsPerClient =
            int(settings.integer(QStringLiteral("max-streams-per-client")));
        options.maxConnections = int(settings.integer(QStringLiteral("max-connections")));
        options.maxConnectionsPerClient =
            int(settings.integer(QStringLiteral("max-connections-per-client")));
        options.headTimeoutMs = int(settings.integer(QStringLiteral("head-timeout-ms")));
        options.bodyTimeoutMs = int(settings.integer(QStringLiteral("body-timeout-ms")));
        options.maxBufferedBytes = settings.integer(QStringLiteral("max-buffered-bytes"));
        options.corsOrigin = settings.value(QStringLiteral("cors-origin"));
        options.allowedHosts = settings.list(QStringLiteral("allowed-host"));
        m_http = new HttpServer(m_service, options);
        const Status listening = m_http->listen(address, port);
        if (!listening) {
            m_failure =
                listening.error().code == ErrorCode::BadRequest ? Failure::Usage : Failure::Runtime;
            co_return listening;
        }
        QString host = address.toString();
        if (address.protocol() == QAbstractSocket::IPv6Protocol)
            host = QLatin1Char('[') + host + QLatin1Char(']');
        m_url = QStringLiteral("http://%1:%2").arg(host).arg(m_http->serverPort());
    }
    co_return Ok{};
}

QCoro::Task<> ServiceHost::shutdown()
{
    if (m_http)
        m_http->beginShutdown();
    if (m_service)
        co_await m_service->shutdown();
    if (m_http)
        co_await m_http->finishShutdown(); // open event streams send their `done` before exit
    if (m_tools)
        co_await m_tools->stop(); // after the turns: their tool calls have ended by now
}

} // namespace holdfast
