#pragma once

#include "core/error.h"

#include <QCoroTask>
#include <QObject>

#include <memory>

namespace holdfast {

namespace mcp {
class Hub;
}

class HttpServer;
class ProviderRegistry;
class SessionService;
class Settings;
class Store;

// Builds and runs the in-process service from the settings: store, providers, service, and the
// HTTP server when --listen (or --headless) asks for it. Shared by the window and --headless.
class ServiceHost final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ServiceHost)
public:
    explicit ServiceHost(QObject *parent = nullptr);
    ~ServiceHost() override;

    enum class Failure { None, Usage, Runtime };

    // Opens the store (recovering crashed turns) and starts listening if asked to.
    QCoro::Task<Status> start(const Settings &settings, bool serveHttp);
    Failure failureKind() const { return m_failure; }
    // The URL the API is served on ("" when not served).
    QString url() const { return m_url; }

    QCoro::Task<> shutdown();

    SessionService *service() const { return m_service; }
    HttpServer *http() const { return m_http; }
    // The MCP servers of --mcp-config (the window's settings replace them with setServers()).
    mcp::Hub *tools() const { return m_tools; }
    QString mcpConfigPath() const { return m_mcpConfigPath; }
    // Why the window runs without the servers of an mcp.json it could not read ("" when fine);
    // for --headless such a file is a usage error.
    QString mcpConfigError() const { return m_mcpConfigError; }

private:
    std::unique_ptr<Store> m_store;
    ProviderRegistry *m_providers = nullptr;
    SessionService *m_service = nullptr;
    HttpServer *m_http = nullptr;
    mcp::Hub *m_tools = nullptr;
    QString m_mcpConfigPath;
    QString m_mcpConfigError;
    Failure m_failure = Failure::None;
    QString m_url;
};

} // namespace holdfast
