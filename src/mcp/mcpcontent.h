#pragma once

#include "core/tools.h"

#include <QJsonObject>

namespace holdfast::mcp {

// A tools/call result as the model sees it: the text parts joined with newlines, every other
// part described in brackets ("[image image/png, 1234 bytes]", "[resource file:///x]"), and the
// result's isError. A result with no content but structuredContent gives that object's JSON.
ToolOutcome toolOutcome(const QJsonObject &result);

} // namespace holdfast::mcp
