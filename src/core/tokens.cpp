#include "core/tokens.h"

#include <QJsonDocument>

namespace holdfast::tokens {

qint64 utf8Bytes(QStringView text)
{
    qint64 bytes = 0;
    for (const QChar c : text) {
        const char16_t u = c.unicode();
        // A surrogate pair is 4 bytes in UTF-8: 2 for each half.
        bytes += u < 0x80 ? 1 : u < 0x800 ? 2 : QChar::isSurrogate(u) ? 2 : 3;
    }
    return bytes;
}

qint64 estimate(QStringView text)
{
    return (utf8Bytes(text) + 3) / 4;
}

qint64 estimate(const Attachment &attachment)
{
    if (attachment.type.startsWith(QLatin1String("image/")))
        return kPerImage;
    return (std::max<qint64>(attachment.size, 0) + 3) / 4;
}

qint64 estimateToolCalls(const QList<MessageToolCall> &calls)
{
    qint64 n = 0;
    for (const MessageToolCall &c : calls) {
        n += estimate(c.name) +
             estimate(QString::fromUtf8(QJsonDocument(c.arguments).toJson(QJsonDocument::Compact)));
        n += (c.result ? estimate(*c.result) : 0) + kPerMessage;
    }
    return n;
}

qint64 estimate(const Message &message)
{
    qint64 n = estimate(message.content) + kPerMessage + estimateToolCalls(message.toolCalls);
    for (const Attachment &a : message.attachments)
        n += estimate(a);
    return n;
}

} // namespace holdfast::tokens
