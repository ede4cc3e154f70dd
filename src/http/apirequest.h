#pragma once

#include "core/error.h"
#include "core/types.h"
#include "http/httpmessage.h"

#include <QJsonObject>

#include <optional>

// Turning a request into typed values, with API.md's errors: 415 for a body that is not JSON,
// 400 for malformed JSON, wrong field types and bad query parameters.
namespace holdfast::api {

Error badRequest(const QString &message);

// The body as a JSON object; an empty body is {}. Invalid JSON by RFC 8259 is 400, naming the
// problem and its byte offset (json::strictError, then Qt's parse).
Result<QJsonObject> jsonBody(const HttpRequest &request);

// A string field: nullopt when absent, a null QString when JSON null, else its text.
Result<std::optional<QString>> stringField(const QJsonObject &object, const QString &key);
Result<std::optional<double>> numberField(const QJsonObject &object, const QString &key);
Result<std::optional<qint64>> integerField(const QJsonObject &object, const QString &key);

// An array of strings (tool names): nullopt when absent or JSON null; anything else that is not
// an array of strings is 400.
Result<std::optional<QStringList>> stringListField(const QJsonObject &object, const QString &key);

// A generation options object (shared/API.md, Usage and context budget): nullopt when absent,
// {} when null. A wrong type is 400; ranges are the service's (422, after its 409).
Result<std::optional<TurnOptions>> optionsField(const QJsonObject &object, const QString &key);

// An integer query parameter in [min, max]; `fallback` when absent.
Result<qint64> queryInteger(const HttpRequest &request, const QString &key, qint64 fallback,
                            qint64 min, qint64 max);
// Parses a decimal integer strictly (optional '-', digits only, no overflow).
std::optional<qint64> parseInteger(QStringView text);
// A path segment naming a turn: a positive integer, else 400.
Result<int> turnId(const QString &segment);

// Sends the error of a failed result; true when it did.
template <typename T> bool failed(const Result<T> &result, HttpResponder &responder)
{
    if (result)
        return false;
    responder.sendError(result.error());
    return true;
}

} // namespace holdfast::api
