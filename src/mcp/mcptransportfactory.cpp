#include "mcp/mcptransportfactory.h"

#include "mcp/stdiotransport.h"

namespace holdfast::mcp {

std::unique_ptr<Transport> makeTransport(const ServerConfig &config)
{
    if (config.isHttp())
        return nullptr; // TODO(mcphttp): the Streamable HTTP transport
    return std::make_unique<StdioTransport>(config);
}

} // namespace holdfast::mcp
