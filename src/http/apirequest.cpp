#include "http/apirequest.h"

#include <QJsonDocument>
#include <QJsonValue>

#include <nlohmann/json.hpp>

#include <limits>

namespace holdfast::api {

namespace {

// nlohmann's SAX interface: takes every value, keeps the first syntax error. Only the syntax is
// wanted here; Qt builds the document afterwards.
class SyntaxCheck final : public nlohmann::json_sax<nlohmann::json>
{
public:
    bool null() override { return true; }
    bool boolean(bool) override { return true; }
    bool number_integer(number_integer_t) override { return true; }
    bool number_unsigned(number_unsigned_t) override { return true; }
    bool number_float(number_float_t, const string_t &) override { return true; }
    bool string(string_t &) override { return true; }
    bool binary(binary_t &) override { return true; }
    bool start_object(std::size_t) override { return true; }
    bool key(string_t &) override { return true; }
    bool end_object() override { return true; }
    bool start_array(std::size_t) override { return true; }
    bool end_array() override { return true; }
    bool parse_error(std::size_t position, const std::string &,
                     const nlohmann::json::exception &ex) override
    {
        // "[json.exception.parse_error.101] parse error at line 1, column 12: syntax error while
        // parsing value - invalid string: ...; last read: '...'": keep the reason only, since
        // "last read" repeats body bytes (a whole string, maybe not UTF-8).
        std::string_view what(ex.what());
        if (const auto bracket = what.find("] "); bracket != std::string_view::npos)
            what.remove_prefix(bracket + 2);
        if (const auto dash = what.find(" - "); dash != std::string_view::npos)
            what.remove_prefix(dash + 3);
        if (const auto lastRead = what.find("; last read"); lastRead != std::string_view::npos)
            what = what.substr(0, lastRead);
        message =
            QString::fromUtf8(what.data(), qsizetype(std::min<std::size_t>(what.size(), 160)));
        offset = position > 0 ? qint64(position) - 1 : 0; // `position` counts the bytes read
        return false;
    }

    QString message;
    qint64 offset = 0;
};

} // namespace

Error badRequest(const QString &message)
{
    return makeError(ErrorCode::BadRequest, message);
}

std::optional<QString> jsonSyntaxError(QByteArrayView text)
{
    // nlohmann stops at a NUL byte as at the end of its input; a raw NUL is never valid JSON.
    if (const qsizetype nul = text.indexOf('\0'); nul >= 0)
        return QStringLiteral("a NUL byte at offset %1").arg(nul);
    SyntaxCheck check;
    if (nlohmann::json::sax_parse(text.cbegin(), text.cend(), &check))
        return std::nullopt;
    return QStringLiteral("%1 at offset %2").arg(check.message).arg(check.offset);
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
    // Qt's parser also takes unknown escapes ("\\x"), raw control characters in strings and lone
    // surrogates: the body is checked by RFC 8259 first.
    if (const std::optional<QString> syntax = jsonSyntaxError(request.body))
        return badRequest(QStringLiteral("the body is not valid JSON: %1").arg(*syntax));
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
