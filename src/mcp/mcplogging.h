#pragma once

#include <QLoggingCategory>

// The MCP host's log: servers starting and dying, their stderr, protocol trouble.
Q_DECLARE_LOGGING_CATEGORY(lcMcp)
