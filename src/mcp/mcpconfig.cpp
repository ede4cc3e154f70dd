#include "mcp/mcpconfig.h"

#include <QDir>
#include <QStandardPaths>

namespace holdfast::mcp {

QString defaultConfigPath()
{
    return QDir(QStandardPaths::writableLocation(QStandardPaths::GenericConfigLocation))
        .filePath(QStringLiteral("holdfast/mcp.json"));
}

// TODO(mcp): parseConfig, loadConfig.

} // namespace holdfast::mcp
