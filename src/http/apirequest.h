#pragma once

#include "core/error.h"
#include "http/httpmessage.h"

#include <QJsonObject>

#include <optional>

// Turning a request into typed values, with API.md's errors: 415 for a body that is not JSON,
// 400 for malformed JSON, wrong field types and bad query parameters.
namespace holdfast::api {

Error badRequest(const QString &message);

// Why `text` is not exactly one JSON value by RFC 8259 (escapes, control characters and
// surrogates in strings, UTF-8, nothing after the value), with the byte offset; nullopt when it is.
std::optional<QString> jsonSyntaxError(QByteArrayView text);
// The body as a JSON object; an empty body is {}. Invalid JSON is 400 (see jsonSyntaxError).
Result<QJsonObject> jsonBody(const HttpRequest &request);

// A string field: nullopt when absent, a null QString when JSON null, else its text.
Result<std::optional<QString>> stringField(const QJsonObject &object, const QString &key);
Result<std::optional<double>> numberField(const QJsonObject &object, const QString &key);
Result<std::optional<qint64>> integerField(const QJsonObject &object, const QString &key);

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
