#include "mcp/mcptransportfactory.h"

#include "mcp/httptransport.h"
#include "mcp/stdiotransport.h"

namespace holdfast::mcp {

std::unique_ptr<Transport> makeTransport(const ServerConfig &config)
{
    if (config.isHttp())
        return std::make_unique<HttpTransport>(QUrl(config.url), config.headers);
    return std::make_unique<StdioTransport>(config);
}

} // namespace holdfast::mcp
