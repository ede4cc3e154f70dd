#include "mcp/mcplogging.h"

Q_LOGGING_CATEGORY(lcMcp, "holdfast.mcp", QtInfoMsg)
