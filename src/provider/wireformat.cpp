#include "provider/wireformat.h"

#include "provider/httpmodelstream.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

namespace holdfast::upstream {

namespace {
StreamItem fault(StreamItem::Fault kind, const QString &reported = {})
{
    StreamItem item;
    item.fault = kind;
    item.reported = reported;
    return item;
}
} // namespace

StreamItem readOpenAiEvent(const SseParser::Event &event)
{
    StreamItem item;
    const QString data = event.data.trimmed();
    if (data == QLatin1String("[DONE]")) {
        item.end = true;
        return item;
    }
    QJsonParseError parseError;
    const QJsonDocument doc = QJsonDocument::fromJson(data.toUtf8(), &parseError);
    if (parseError.error != QJsonParseError::NoError || !doc.isObject())
        return fault(StreamItem::Fault::Malformed);
    const QJsonObject object = doc.object();
    // Servers report a failure after the headers went out as an event with an error object.
    if (object.contains(QStringLiteral("error")) || event.type == QLatin1String("error"))
        return fault(StreamItem::Fault::Reported, errorText(data.toUtf8()));
    const QJsonValue choices = object.value(QStringLiteral("choices"));
    if (!choices.isUndefined() && !choices.isArray())
        return fault(StreamItem::Fault::Malformed);
    // A chunk without choices is allowed (the usage chunk of stream_options).
    const QJsonArray list = choices.toArray();
    if (list.isEmpty())
        return item;
    const QJsonValue content = list.at(0)
                                   .toObject()
                                   .value(QStringLiteral("delta"))
                                   .toObject()
                                   .value(QStringLiteral("content"));
    if (content.isString()) {
        item.hasText = true;
        item.text = content.toString();
    } else if (!content.isNull() && !content.isUndefined()) {
        return fault(StreamItem::Fault::Malformed);
    }
    return item;
}

StreamItem readOllamaLine(const QByteArray &line)
{
    StreamItem item;
    if (line.trimmed().isEmpty())
        return item;
    QJsonParseError parseError;
    const QJsonDocument doc = QJsonDocument::fromJson(line, &parseError);
    if (parseError.error != QJsonParseError::NoError || !doc.isObject())
        return fault(StreamItem::Fault::Malformed);
    const QJsonObject object = doc.object();
    if (object.contains(QStringLiteral("error")))
        return fault(StreamItem::Fault::Reported, errorText(line));
    const QJsonValue message = object.value(QStringLiteral("message"));
    const QJsonValue done = object.value(QStringLiteral("done"));
    if ((!message.isUndefined() && !message.isObject()) || (!done.isUndefined() && !done.isBool()))
        return fault(StreamItem::Fault::Malformed);
    const QJsonValue content = message.toObject().value(QStringLiteral("content"));
    if (content.isString()) {
        item.hasText = true;
        item.text = content.toString();
    }
    item.end = done.toBool();
    return item;
}

} // namespace holdfast::upstream
