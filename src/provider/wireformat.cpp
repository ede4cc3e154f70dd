#include "provider/wireformat.h"

#include "provider/httpmodelstream.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <cmath>

namespace holdfast::upstream {

namespace {
StreamItem fault(StreamItem::Fault kind, const QString &reported = {})
{
    StreamItem item;
    item.fault = kind;
    item.reported = reported;
    return item;
}
// A count as servers write it: a non-negative integer.
std::optional<qint64> count(const QJsonValue &value)
{
    if (!value.isDouble())
        return std::nullopt;
    const double d = value.toDouble();
    if (d < 0 || d != std::floor(d) || d > 9007199254740992.0)
        return std::nullopt;
    return qint64(d);
}

// Usage from two counts; none when the server gave neither.
std::optional<TokenUsage> usageOf(const QJsonValue &prompt, const QJsonValue &completion)
{
    const std::optional<qint64> p = count(prompt);
    const std::optional<qint64> c = count(completion);
    if (!p && !c)
        return std::nullopt;
    TokenUsage usage;
    usage.promptTokens = p.value_or(0);
    usage.completionTokens = c.value_or(0);
    return usage;
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
    // A chunk without choices is allowed (the usage chunk of stream_options); "usage" is null on
    // the other chunks of such a stream.
    const QJsonValue usage = object.value(QStringLiteral("usage"));
    if (usage.isObject()) {
        item.usage = usageOf(usage[QStringLiteral("prompt_tokens")],
                             usage[QStringLiteral("completion_tokens")]);
    }
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
    if (item.end) {
        item.usage = usageOf(object.value(QStringLiteral("prompt_eval_count")),
                             object.value(QStringLiteral("eval_count")));
    }
    return item;
}

} // namespace holdfast::upstream
