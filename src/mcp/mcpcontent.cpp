#include "mcp/mcpcontent.h"

#include <QJsonArray>
#include <QJsonDocument>

namespace holdfast::mcp {

namespace {

qsizetype decodedSize(const QJsonValue &base64)
{
    return QByteArray::fromBase64(base64.toString().toLatin1()).size();
}

QString describeBinary(const QString &kind, const QJsonObject &part)
{
    return QStringLiteral("[%1 %2, %3 bytes]")
        .arg(kind, part.value(QLatin1String("mimeType")).toString(QStringLiteral("unknown type")))
        .arg(decodedSize(part.value(QLatin1String("data"))));
}

QString describePart(const QJsonObject &part)
{
    const QString type = part.value(QLatin1String("type")).toString();
    if (type == QLatin1String("text"))
        return part.value(QLatin1String("text")).toString();
    if (type == QLatin1String("image") || type == QLatin1String("audio"))
        return describeBinary(type, part);
    if (type == QLatin1String("resource_link"))
        return QStringLiteral("[resource %1]").arg(part.value(QLatin1String("uri")).toString());
    if (type == QLatin1String("resource")) {
        // An embedded resource: its text is worth giving the model, a blob only its size.
        const QJsonObject resource = part.value(QLatin1String("resource")).toObject();
        const QString uri = resource.value(QLatin1String("uri")).toString();
        if (resource.contains(QLatin1String("text")))
            return QStringLiteral("[resource %1]\n").arg(uri) +
                   resource.value(QLatin1String("text")).toString();
        return QStringLiteral("[resource %1, %2, %3 bytes]")
            .arg(uri,
                 resource.value(QLatin1String("mimeType")).toString(QStringLiteral("unknown type")))
            .arg(decodedSize(resource.value(QLatin1String("blob"))));
    }
    return QStringLiteral("[%1 content]").arg(type.isEmpty() ? QStringLiteral("unknown") : type);
}

} // namespace

ToolOutcome toolOutcome(const QJsonObject &result)
{
    ToolOutcome outcome;
    outcome.isError = result.value(QLatin1String("isError")).toBool(false);
    const QJsonArray content = result.value(QLatin1String("content")).toArray();
    QStringList parts;
    for (const QJsonValue &part : content)
        parts.append(describePart(part.toObject()));
    outcome.content = parts.join(QLatin1Char('\n'));
    const QJsonValue structured = result.value(QLatin1String("structuredContent"));
    if (content.isEmpty() && structured.isObject())
        outcome.content =
            QString::fromUtf8(QJsonDocument(structured.toObject()).toJson(QJsonDocument::Compact));
    return outcome;
}

} // namespace holdfast::mcp
