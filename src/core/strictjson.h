#pragma once

#include <QByteArrayView>

#include <optional>

namespace holdfast::json {

// What RFC 8259 forbids and QJsonDocument::fromJson lets through (see strictjson.cpp). A text
// passes both this check and Qt's parse if and only if it is RFC 8259 JSON.
struct StrictError
{
    const char *problem; // "an invalid escape", ...: a static Latin-1 phrase
    qsizetype offset;    // 0-based byte offset of the offending byte
};
std::optional<StrictError> strictError(QByteArrayView text);

} // namespace holdfast::json
