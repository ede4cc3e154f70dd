#include "mcp/mcpconfig.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QStandardPaths>
#include <QUrl>

namespace holdfast::mcp {

namespace {

Error invalid(const QString &message)
{
    return makeError(ErrorCode::Invalid, message);
}

QString entryError(const QString &name, const QString &problem)
{
    return QStringLiteral("server \"%1\": %2").arg(name, problem);
}

// {"KEY": "value", ...}: env and headers. Values must be strings, as in every README's examples.
std::optional<QString> readStringMap(const QJsonValue &value, const QString &what,
                                     QHash<QString, QString> *out)
{
    if (value.isUndefined() || value.isNull())
        return std::nullopt;
    if (!value.isObject())
        return QStringLiteral("\"%1\" must be an object of strings").arg(what);
    const QJsonObject object = value.toObject();
    for (auto it = object.begin(); it != object.end(); ++it) {
        if (!it.value().isString())
            return QStringLiteral("\"%1\": the value of \"%2\" must be a string")
                .arg(what, it.key());
        out->insert(it.key(), it.value().toString());
    }
    return std::nullopt;
}

enum class Kind { Unspecified, Stdio, Http };

// "type" (Cursor, Claude, VS Code) or "transport" (some others): what the entry says it is.
Result<Kind> readKind(const QJsonObject &entry)
{
    Kind kind = Kind::Unspecified;
    for (const QString &key : {QStringLiteral("type"), QStringLiteral("transport")}) {
        const QJsonValue value = entry.value(key);
        if (value.isUndefined() || value.isNull())
            continue;
        const QString name = value.toString().toLower();
        Kind named = Kind::Unspecified;
        if (name == QLatin1String("stdio"))
            named = Kind::Stdio;
        else if (name == QLatin1String("http") || name == QLatin1String("streamable-http") ||
                 name == QLatin1String("streamable_http") ||
                 name == QLatin1String("streamablehttp"))
            named = Kind::Http;
        else if (name == QLatin1String("sse"))
            return invalid(QStringLiteral("\"%1\": \"sse\" (the old HTTP+SSE transport) is not "
                                          "supported; use the server's Streamable HTTP URL")
                               .arg(key));
        else
            return invalid(
                QStringLiteral("\"%1\" must be \"stdio\" or \"http\" (or \"streamable-http\")")
                    .arg(key));
        if (kind != Kind::Unspecified && kind != named)
            return invalid(QStringLiteral("\"type\" and \"transport\" disagree"));
        kind = named;
    }
    return kind;
}

Result<ServerConfig> readEntry(const QString &name, const QJsonValue &value)
{
    if (name.isEmpty())
        return invalid(QStringLiteral("a server has an empty name"));
    if (name.contains(QLatin1Char('/')) || name == QLatin1String("*"))
        return invalid(entryError(name, QStringLiteral("a server name may not contain '/' or be "
                                                       "\"*\" (tools are named SERVER/TOOL)")));
    if (std::any_of(name.begin(), name.end(), [](QChar c) { return c.unicode() < 0x20; }))
        return invalid(entryError(name, QStringLiteral("control characters in the name")));
    if (!value.isObject())
        return invalid(entryError(name, QStringLiteral("must be an object")));
    const QJsonObject entry = value.toObject();
    const auto fail = [&name](const QString &problem) {
        return invalid(entryError(name, problem));
    };

    const auto kind = readKind(entry);
    if (!kind)
        return fail(kind.error().message);
    ServerConfig config;
    config.name = name;
    const QJsonValue command = entry.value(QLatin1String("command"));
    const QJsonValue url = entry.value(QLatin1String("url"));
    const bool hasCommand = !command.isUndefined() && !command.isNull();
    const bool hasUrl = !url.isUndefined() && !url.isNull();
    if (hasCommand && hasUrl)
        return fail(QStringLiteral("has both \"command\" (stdio) and \"url\" (HTTP); keep one"));
    if (!hasCommand && !hasUrl)
        return fail(QStringLiteral("needs \"command\" (a local server over stdio) or \"url\" (a "
                                   "Streamable HTTP server)"));
    if (hasCommand) {
        if (*kind == Kind::Http)
            return fail(
                QStringLiteral("is of type http but has a \"command\" instead of a \"url\""));
        if (!command.isString() || command.toString().trimmed().isEmpty())
            return fail(QStringLiteral("\"command\" must be a non-empty string"));
        config.command = command.toString();
        const QJsonValue args = entry.value(QLatin1String("args"));
        if (!args.isUndefined() && !args.isNull()) {
            if (!args.isArray())
                return fail(QStringLiteral("\"args\" must be an array of strings"));
            for (const QJsonValue &arg : args.toArray()) {
                if (!arg.isString())
                    return fail(QStringLiteral("\"args\" must be an array of strings"));
                config.args.append(arg.toString());
            }
        }
        if (const auto problem = readStringMap(entry.value(QLatin1String("env")),
                                               QStringLiteral("env"), &config.env))
            return fail(*problem);
    } else {
        if (*kind == Kind::Stdio)
            return fail(
                QStringLiteral("is of type stdio but has a \"url\" instead of a \"command\""));
        const QUrl parsed(url.toString(), QUrl::StrictMode);
        if (!url.isString() || !parsed.isValid() ||
            (parsed.scheme() != QLatin1String("http") &&
             parsed.scheme() != QLatin1String("https")) ||
            parsed.host().isEmpty())
            return fail(QStringLiteral("\"url\" must be an http:// or https:// URL"));
        config.url = url.toString();
        if (const auto problem = readStringMap(entry.value(QLatin1String("headers")),
                                               QStringLiteral("headers"), &config.headers))
            return fail(*problem);
    }
    return config;
}

} // namespace

Result<QList<ServerConfig>> parseConfig(const QByteArray &json)
{
    if (json.trimmed().isEmpty())
        return QList<ServerConfig>{};
    QJsonParseError parseError;
    const QJsonDocument document = QJsonDocument::fromJson(json, &parseError);
    if (parseError.error != QJsonParseError::NoError)
        return invalid(QStringLiteral("mcp.json is not JSON: %1 at offset %2")
                           .arg(parseError.errorString())
                           .arg(parseError.offset));
    if (!document.isObject())
        return invalid(QStringLiteral("mcp.json must be an object: {\"mcpServers\": {...}}"));
    const QJsonValue servers = document.object().value(QLatin1String("mcpServers"));
    if (servers.isUndefined() || servers.isNull())
        return QList<ServerConfig>{};
    if (!servers.isObject())
        return invalid(QStringLiteral("\"mcpServers\" must be an object of servers"));
    QList<ServerConfig> result;
    const QJsonObject object = servers.toObject();
    for (auto it = object.begin(); it != object.end(); ++it) {
        // "disabled": true (Claude Desktop, Cline) keeps an entry in the file without running it.
        if (it.value().isObject() && it.value().toObject().value(QLatin1String("disabled")) == true)
            continue;
        auto entry = readEntry(it.key(), it.value());
        if (!entry)
            return entry.error();
        result.append(std::move(*entry));
    }
    return result;
}

Result<QList<ServerConfig>> loadConfig(const QString &path)
{
    QFile file(path);
    if (!file.exists())
        return QList<ServerConfig>{};
    if (!file.open(QIODevice::ReadOnly))
        return makeError(ErrorCode::Internal,
                         QStringLiteral("cannot read %1: %2").arg(path, file.errorString()));
    auto parsed = parseConfig(file.readAll());
    if (!parsed)
        return makeError(parsed.error().code, path + QStringLiteral(": ") + parsed.error().message);
    return parsed;
}

QString defaultConfigPath()
{
    return QDir(QStandardPaths::writableLocation(QStandardPaths::GenericConfigLocation))
        .filePath(QStringLiteral("holdfast/mcp.json"));
}

} // namespace holdfast::mcp
