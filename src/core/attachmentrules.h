#pragma once

#include "core/error.h"

#include <QByteArray>
#include <QString>

// The checks of an upload (shared/API.md, Attachments) as pure functions, in the API's order:
// 415 (a media type that is not accepted), 400 (empty body, bad name), 422 (bytes that are not
// what the type says). SessionService runs them; nothing here touches a store.
namespace holdfast::attachments {

// The most files one user message may carry.
constexpr int kMaxPerMessage = 10;

// The media type to store for a body sent with `contentType` (compared case-insensitively,
// parameters dropped): an accepted type as given, text/plain for an unknown type whose body is
// UTF-8 without NUL, else 415. The body's agreement with the type is checkBytes()'s.
Result<QString> storedType(const QByteArray &contentType, const QByteArray &bytes);
// The name to store: null gives "attachment"; 1 to 255 code points without '/', '\\', DEL or a
// C0/C1 control character, else 400.
Result<QString> checkedName(const QString &name);
// 422 unless the bytes are of `type` (storedType's answer): an image's or a PDF's magic number,
// valid UTF-8 for text.
std::optional<Error> checkBytes(const QString &type, const QByteArray &bytes);

bool isImage(const QString &type);
bool isPdf(const QString &type);
bool isValidUtf8(const QByteArray &bytes);

} // namespace holdfast::attachments
