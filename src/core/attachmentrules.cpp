#include "core/attachmentrules.h"

#include <QList>
#include <QStringDecoder>

namespace holdfast::attachments {

namespace {

constexpr int kMaxNameCodePoints = 255;

QByteArray essence(const QByteArray &contentType)
{
    const qsizetype semicolon = contentType.indexOf(';');
    return (semicolon < 0 ? contentType : contentType.left(semicolon)).trimmed().toLower();
}

bool startsWith(const QByteArray &bytes, QByteArrayView magic, qsizetype at = 0)
{
    return bytes.size() >= at + magic.size() && QByteArrayView(bytes).sliced(at).startsWith(magic);
}

} // namespace

bool isImage(const QString &type)
{
    return type == QLatin1String("image/png") || type == QLatin1String("image/jpeg") ||
           type == QLatin1String("image/webp") || type == QLatin1String("image/gif");
}

bool isPdf(const QString &type)
{
    return type == QLatin1String("application/pdf");
}

bool isValidUtf8(const QByteArray &bytes)
{
    QStringDecoder decoder(QStringDecoder::Utf8, QStringDecoder::Flag::Stateless);
    const QString text = decoder.decode(bytes);
    Q_UNUSED(text);
    return !decoder.hasError();
}

Result<QString> storedType(const QByteArray &contentType, const QByteArray &bytes)
{
    const QString type = QString::fromLatin1(essence(contentType));
    if (isImage(type) || isPdf(type) || type.startsWith(QLatin1String("text/")) ||
        type == QLatin1String("application/json"))
        return type;
    // Any other type (or none) is text when it reads as text: a log or a source file sent as
    // application/octet-stream by a client that does not know better.
    if (!bytes.contains('\0') && isValidUtf8(bytes))
        return QStringLiteral("text/plain");
    return makeError(ErrorCode::UnsupportedMediaType,
                     contentType.isEmpty()
                         ? QStringLiteral("the body has no Content-Type and is not UTF-8 text; "
                                          "accepted: images (png, jpeg, webp, gif), PDF and text")
                         : QStringLiteral("Content-Type '%1' is not accepted: images (png, jpeg, "
                                          "webp, gif), PDF and text are")
                               .arg(QString::fromLatin1(contentType.left(100))));
}

Result<QString> checkedName(const QString &name)
{
    if (name.isNull())
        return QStringLiteral("attachment");
    const QList<uint> codePoints = name.toUcs4();
    if (codePoints.isEmpty() || codePoints.size() > kMaxNameCodePoints)
        return makeError(
            ErrorCode::BadRequest,
            QStringLiteral("the name must be 1 to %1 characters long").arg(kMaxNameCodePoints));
    for (const uint c : codePoints) {
        // A lone surrogate (toUcs4 keeps it) is no character either.
        if (c < 0x20 || (c >= 0x7f && c <= 0x9f) || c == '/' || c == '\\' ||
            (c >= 0xd800 && c <= 0xdfff))
            return makeError(ErrorCode::BadRequest,
                             QStringLiteral("the name must not hold '/', '\\' or control "
                                            "characters"));
    }
    return name;
}

std::optional<Error> checkBytes(const QString &type, const QByteArray &bytes)
{
    bool ok = true;
    if (type == QLatin1String("image/png"))
        ok = startsWith(bytes, "\x89PNG\r\n\x1a\n");
    else if (type == QLatin1String("image/jpeg"))
        ok = startsWith(bytes, "\xff\xd8\xff");
    else if (type == QLatin1String("image/gif"))
        ok = startsWith(bytes, "GIF87a") || startsWith(bytes, "GIF89a");
    else if (type == QLatin1String("image/webp"))
        ok = startsWith(bytes, "RIFF") && startsWith(bytes, "WEBP", 8);
    else if (isPdf(type))
        ok = startsWith(bytes, "%PDF-");
    else if (!isValidUtf8(bytes)) // text/* and application/json
        return makeError(
            ErrorCode::Invalid,
            QStringLiteral("the body of a %1 attachment must be valid UTF-8").arg(type));
    if (ok)
        return std::nullopt;
    return makeError(ErrorCode::Invalid,
                     QStringLiteral("the bytes are not a %1 file (their magic number does not "
                                    "match)")
                         .arg(type));
}

} // namespace holdfast::attachments
