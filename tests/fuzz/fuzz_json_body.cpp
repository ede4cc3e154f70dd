// The JSON body validation of the API (src/http/apirequest: media type, JSON, field types) and
// the JSON shapes read back from the network and from Redis (src/core/json).
// Input: byte 0 picks the Content-Type, the rest is the body.
// Checks: no crash; an empty body is {} whatever the type; a body that is not application/json
// is 415; a JSON object body is accepted; the server's check (json::strictError, then Qt's parse)
// accepts exactly what nlohmann's validator, asked directly as an oracle, accepts, so a body that
// RFC 8259 refuses is 400 whatever Qt makes of it; every field accessor answers without throwing.
#include "core/json.h"
#include "core/strictjson.h"
#include "fuzzsupport.h"
#include "http/apirequest.h"

#include <QJsonArray>
#include <QJsonDocument>

#include <nlohmann/json.hpp>

using namespace holdfast;

extern "C" int LLVMFuzzerInitialize(int *, char ***)
{
    fuzz::initQt();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const QList<QByteArray> types{"application/json",  "Application/JSON; charset=utf-8",
                                         "text/plain",        "",
                                         "application/json;", " application/json "};
    HttpRequest request;
    const QByteArray type = size > 0 ? types[data[0] % types.size()] : QByteArray();
    if (!type.isEmpty())
        request.headers.append({"content-type", type});
    request.body = fuzz::payload(data, size);

    // Query and path integers: strict decimal, agreeing with Qt's own conversion.
    const QString text = QString::fromUtf8(request.body.left(24));
    if (const auto n = api::parseInteger(text)) {
        bool ok = false;
        FUZZ_CHECK(text.toLongLong(&ok) == *n && ok);
    }

    const Result<QJsonObject> body = api::jsonBody(request);
    const bool json = type.split(';').first().trimmed().toLower() == "application/json";
    if (request.body.isEmpty()) {
        FUZZ_CHECK(body && body->isEmpty());
        return 0;
    }
    if (!json) {
        FUZZ_CHECK(!body && body.error().code == ErrorCode::UnsupportedMediaType);
        return 0;
    }
    // The oracle, where it differs from a request body check on purpose: a raw NUL ends its input
    // (but is never JSON), it takes a top-level scalar (Qt, and the API, want an object or array),
    // and it has no depth limit (Qt stops at 1024).
    const bool strict = !request.body.contains('\0') &&
                        nlohmann::json::accept(request.body.cbegin(), request.body.cend());
    QJsonParseError qtError;
    (void)QJsonDocument::fromJson(request.body, &qtError);
    const bool ours = !json::strictError(request.body) && qtError.error == QJsonParseError::NoError;
    QByteArrayView value(request.body);
    if (value.startsWith("\xef\xbb\xbf")) // a UTF-8 BOM: both skip it
        value = value.sliced(3);
    const qsizetype first = [&] {
        qsizetype i = 0;
        while (i < value.size() &&
               (value[i] == ' ' || value[i] == '\t' || value[i] == '\n' || value[i] == '\r'))
            ++i;
        return i;
    }();
    const bool structured = first < value.size() && (value[first] == '{' || value[first] == '[');
    if (structured && qtError.error != QJsonParseError::DeepNesting)
        FUZZ_CHECK(ours == strict);
    if (!body) {
        FUZZ_CHECK(body.error().code == ErrorCode::BadRequest);
        return 0;
    }
    FUZZ_CHECK(strict);
    FUZZ_CHECK(QJsonDocument::fromJson(request.body).isObject());
    for (const QString &key : body->keys()) {
        // Qt 6.4 drops a U+FEFF that starts a key when it decodes the key for keys(), but looks
        // keys up undecoded: value() of such a key is undefined, and an absent field is fine.
        // The API reads ASCII keys only, which this quirk never touches.
        const QJsonValue v = body->value(key);
        const auto s = api::stringField(*body, key);
        FUZZ_CHECK(s.ok() == (v.isUndefined() || v.isString() || v.isNull()));
        (void)api::numberField(*body, key);
        const auto i = api::integerField(*body, key);
        if (i && *i)
            FUZZ_CHECK(double(**i) == body->value(key).toDouble());
    }
    // The shapes clients and stores read back.
    (void)json::messageFromJson(*body);
    (void)json::sessionFromJson(*body);
    (void)json::snapshotFromJson(*body);
    (void)json::turnFromJson(*body);
    (void)json::chunkFromJson(*body);
    (void)json::errorFromJson(*body);
    for (const QJsonValue &v : body->value(QStringLiteral("history")).toArray())
        (void)json::messageFromJson(v.toObject());
    return 0;
}
