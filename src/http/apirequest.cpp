#include "http/apirequest.h"

#include "core/strictjson.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonValue>

#include <algorithm>
#include <cmath>
#include <limits>

namespace holdfast::api {

Error badRequest(const QString &message)
{
    return makeError(ErrorCode::BadRequest, message);
}

Result<QJsonObject> jsonBody(const HttpRequest &request)
{
    if (request.body.isEmpty())
        return QJsonObject{};
    const QByteArray contentType = request.header("content-type");
    const qsizetype semicolon = contentType.indexOf(';');
    const QByteArray mediaType =
        (semicolon < 0 ? contentType : contentType.left(semicolon)).trimmed().toLower();
    if (mediaType != "application/json") {
        return makeError(
            ErrorCode::UnsupportedMediaType,
            contentType.isEmpty()
                ? QStringLiteral("the body has no Content-Type; send application/json")
                : QStringLiteral("Content-Type '%1' is not supported; send application/json")
                      .arg(QString::fromLatin1(contentType.left(100))));
    }
    // Qt's parser also takes unknown escapes ("\\x"), raw control characters in strings, lone
    // surrogates and numbers like "1.": the strict check rejects those first (core/strictjson).
    if (const std::optional<json::StrictError> strict = json::strictError(request.body))
        return badRequest(QStringLiteral("the body is not valid JSON: %1 at offset %2")
                              .arg(QLatin1String(strict->problem))
                              .arg(strict->offset));
    QJsonParseError error;
    const QJsonDocument document = QJsonDocument::fromJson(request.body, &error);
    if (error.error != QJsonParseError::NoError)
        return badRequest(QStringLiteral("the body is not valid JSON: %1 at offset %2")
                              .arg(error.errorString())
                              .arg(error.offset));
    if (!document.isObject())
        return badRequest(QStringLiteral("the body must be a JSON object"));
    return document.object();
}

Result<std::optional<QString>> stringField(const QJsonObject &object, const QString &key)
{
    const QJsonValue value = object.value(key);
    if (value.isUndefined())
        return std::optional<QString>();
    if (value.isNull())
        return std::optional<QString>(QString());
    if (!value.isString())
        return badRequest(QStringLiteral("'%1' must be a string").arg(key));
    QString text = value.toString();
    if (text.isNull())
        text = QLatin1String(""); // "" stays a set, empty value
    return std::optional<QString>(text);
}

Result<std::optional<double>> numberField(const QJsonObject &object, const QString &key)
{
    const QJsonValue value = object.value(key);
    if (value.isUndefined() || value.isNull())
        return std::optional<double>();
    if (!value.isDouble())
        return badRequest(QStringLiteral("'%1' must be a number").arg(key));
    return std::optional<double>(value.toDouble());
}

Result<std::optional<qint64>> integerField(const QJsonObject &object, const QString &key)
{
    const QJsonValue value = object.value(key);
    if (value.isUndefined() || value.isNull())
        return std::optional<qint64>();
    const double d = value.toDouble();
    if (!value.isDouble() || d != std::floor(d) || std::abs(d) > 9007199254740992.0)
        return badRequest(QStringLiteral("'%1' must be an integer").arg(key));
    return std::optional<qint64>(qint64(d));
}

Result<std::optional<QStringList>> stringListField(const QJsonObject &object, const QString &key)
{
    const QJsonValue value = object.value(key);
    if (value.isUndefined() || value.isNull())
        return std::optional<QStringList>();
    const Error wrongType = badRequest(QStringLiteral("'%1' must be an array of strings").arg(key));
    if (!value.isArray())
        return wrongType;
    QStringList list;
    const QJsonArray array = value.toArray();
    for (const QJsonValue &item : array) {
        if (!item.isString())
            return wrongType;
        list.append(item.toString());
    }
    return std::optional<QStringList>(list);
}

Result<std::optional<TurnOptions>> optionsField(const QJsonObject &object, const QString &key)
{
    const QJsonValue value = object.value(key);
    if (value.isUndefined())
        return std::optional<TurnOptions>();
    if (value.isNull())
        return std::optional<TurnOptions>(TurnOptions{});
    if (!value.isObject())
        return badRequest(QStringLiteral("'%1' must be an object").arg(key));
    const QJsonObject o = value.toObject();
    TurnOptions options;
    const auto temperature = numberField(o, QStringLiteral("temperature"));
    if (!temperature)
        return temperature.error();
    options.temperature = *temperature;
    const auto topP = numberField(o, QStringLiteral("top_p"));
    if (!topP)
        return topP.error();
    options.topP = *topP;
    // Integers beyond int's range are out of range all the same: clamped, the service says 422
    // for the low ones; a high one means "no limit" to any model.
    const auto clamped = [](qint64 n) {
        return int(std::clamp<qint64>(n, std::numeric_limits<int>::min(),
                                      std::numeric_limits<int>::max()));
    };
    const auto maxTokens = integerField(o, QStringLiteral("max_tokens"));
    if (!maxTokens)
        return maxTokens.error();
    if (*maxTokens)
        options.maxTokens = clamped(**maxTokens);
    const auto contextTokens = integerField(o, QStringLiteral("context_tokens"));
    if (!contextTokens)
        return contextTokens.error();
    if (*contextTokens)
        options.contextTokens = clamped(**contextTokens);
    return std::optional<TurnOptions>(options);
}

std::optional<qint64> parseInteger(QStringView text)
{
    qsizetype i = 0;
    const bool negative = text.startsWith(QLatin1Char('-'));
    if (negative)
        i = 1;
    if (i >= text.size() || text.size() - i > 18)
        return std::nullopt;
    qint64 value = 0;
    for (; i < text.size(); ++i) {
        const QChar c = text[i];
        if (c < QLatin1Char('0') || c > QLatin1Char('9'))
            return std::nullopt;
        value = value * 10 + (c.unicode() - '0');
    }
    return negative ? -value : value;
}

Result<qint64> queryInteger(const HttpRequest &request, const QString &key, qint64 fallback,
                            qint64 min, qint64 max)
{
    const std::optional<QString> text = request.queryValue(key);
    if (!text)
        return fallback;
    const std::optional<qint64> value = parseInteger(*text);
    if (!value)
        return badRequest(QStringLiteral("query parameter '%1' must be an integer").arg(key));
    if (*value < min || *value > max)
        return badRequest(QStringLiteral("query parameter '%1' must be between %2 and %3")
                              .arg(key)
                              .arg(min)
                              .arg(max));
    return *value;
}

Result<int> turnId(const QString &segment)
{
    const std::optional<qint64> value = parseInteger(segment);
    if (!value || *value < 1 || *value > std::numeric_limits<int>::max())
        return badRequest(QStringLiteral("invalid turn id '%1': it must be a positive integer")
                              .arg(segment.left(80)));
    return int(*value);
}

} // namespace holdfast::api
