#pragma once

#include "core/error.h"

#include <QHash>
#include <QList>
#include <QString>
#include <QStringList>

namespace holdfast::mcp {

// One entry of mcp.json's "mcpServers", in the notation Cursor, LM Studio and Claude Desktop use:
// {"command", "args", "env"} for a local server over stdio, {"url", "headers"} for Streamable HTTP.
struct ServerConfig
{
    QString name;
    // stdio
    QString command;
    QStringList args;
    QHash<QString, QString> env; // added to Holdfast's own environment, for this server only
    // Streamable HTTP
    QString url;
    QHash<QString, QString> headers;

    bool isHttp() const { return !url.isEmpty(); }
    bool operator==(const ServerConfig &) const = default;
};

// Reads mcp.json's text: the servers sorted by name (entries with "disabled": true left out);
// a clear error (ErrorCode::Invalid) naming the entry for anything that is not the notation
// above. Unknown keys of an entry are ignored; "type"/"transport" must match it when present.
Result<QList<ServerConfig>> parseConfig(const QByteArray &json);
// The file at `path`; a missing file is no server at all.
Result<QList<ServerConfig>> loadConfig(const QString &path);
// ~/.config/holdfast/mcp.json (the setting mcp-config's default).
QString defaultConfigPath();

} // namespace holdfast::mcp
