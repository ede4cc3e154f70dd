#pragma once

#include "mcp/mcpconfig.h"
#include "mcp/mcptransport.h"

#include <memory>

namespace holdfast::mcp {

// The transport for a configured server: stdio for a command, Streamable HTTP for a url. Null
// when this build cannot reach such a server (the Hub shows the server in error).
std::unique_ptr<Transport> makeTransport(const ServerConfig &config);

} // namespace holdfast::mcp
