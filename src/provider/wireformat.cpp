#include "provider/wireformat.h"

#include "core/attachmentrules.h"
#include "provider/httpmodelstream.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRandomGenerator>
#include <QSet>

#include <algorithm>
#include <cmath>
#include <limits>

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

// A call's arguments as JSON text: a string as it is (OpenAI's pieces), an object written out
// (Ollama's, and servers that send OpenAI's whole); nullopt for anything else.
std::optional<QString> argumentsText(const QJsonValue &value)
{
    if (value.isString())
        return value.toString();
    if (value.isNull() || value.isUndefined())
        return QString();
    if (value.isObject())
        return QString::fromUtf8(QJsonDocument(value.toObject()).toJson(QJsonDocument::Compact));
    return std::nullopt;
}

// A string field that may be absent or null; nullopt when it is something else.
std::optional<QString> optionalString(const QJsonValue &value)
{
    if (value.isString())
        return value.toString();
    if (value.isNull() || value.isUndefined())
        return QString();
    return std::nullopt;
}

// OpenAI's delta.tool_calls: the pieces, or nullopt when they are not what the format allows.
std::optional<QList<ToolCallPiece>> openAiToolCalls(const QJsonValue &value)
{
    QList<ToolCallPiece> pieces;
    if (value.isNull() || value.isUndefined())
        return pieces;
    if (!value.isArray())
        return std::nullopt;
    for (const QJsonValue &entry : value.toArray()) {
        if (!entry.isObject())
            return std::nullopt;
        const QJsonObject call = entry.toObject();
        ToolCallPiece piece;
        const QJsonValue index = call.value(QStringLiteral("index"));
        if (!index.isNull() && !index.isUndefined()) {
            const std::optional<qint64> n = count(index);
            if (!n || *n > std::numeric_limits<int>::max())
                return std::nullopt;
            piece.index = int(*n);
        }
        const std::optional<QString> id = optionalString(call.value(QStringLiteral("id")));
        const QJsonValue function = call.value(QStringLiteral("function"));
        if (!id || (!function.isObject() && !function.isNull() && !function.isUndefined()))
            return std::nullopt;
        const std::optional<QString> name = optionalString(function[QStringLiteral("name")]);
        const std::optional<QString> arguments =
            argumentsText(function[QStringLiteral("arguments")]);
        if (!name || !arguments)
            return std::nullopt;
        piece.id = *id;
        piece.name = *name;
        piece.arguments = *arguments;
        pieces.append(piece);
    }
    return pieces;
}

// Ollama's message.tool_calls: whole calls, or nullopt when they are not what the format allows.
std::optional<QList<ToolCallPiece>> ollamaToolCalls(const QJsonValue &value)
{
    QList<ToolCallPiece> pieces;
    if (value.isNull() || value.isUndefined())
        return pieces;
    if (!value.isArray())
        return std::nullopt;
    for (const QJsonValue &entry : value.toArray()) {
        const QJsonValue function = entry[QStringLiteral("function")];
        if (!entry.isObject() || !function.isObject())
            return std::nullopt;
        const std::optional<QString> id = optionalString(entry[QStringLiteral("id")]);
        const std::optional<QString> name = optionalString(function[QStringLiteral("name")]);
        const std::optional<QString> arguments =
            argumentsText(function[QStringLiteral("arguments")]);
        if (!id || !name || !arguments)
            return std::nullopt;
        ToolCallPiece piece;
        piece.whole = true;
        piece.id = *id;
        piece.name = *name;
        piece.arguments = *arguments;
        pieces.append(piece);
    }
    return pieces;
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
    const QJsonObject choice = list.at(0).toObject();
    const QJsonObject delta = choice.value(QStringLiteral("delta")).toObject();
    const QJsonValue content = delta.value(QStringLiteral("content"));
    if (content.isString()) {
        item.hasText = true;
        item.text = content.toString();
    } else if (!content.isNull() && !content.isUndefined()) {
        return fault(StreamItem::Fault::Malformed);
    }
    const std::optional<QList<ToolCallPiece>> calls =
        openAiToolCalls(delta.value(QStringLiteral("tool_calls")));
    const std::optional<QString> finishReason =
        optionalString(choice.value(QStringLiteral("finish_reason")));
    if (!calls || !finishReason)
        return fault(StreamItem::Fault::Malformed);
    item.toolCalls = *calls;
    item.finishReason = *finishReason;
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
    const std::optional<QList<ToolCallPiece>> calls =
        ollamaToolCalls(message.toObject().value(QStringLiteral("tool_calls")));
    if (!calls)
        return fault(StreamItem::Fault::Malformed);
    item.toolCalls = *calls;
    item.end = done.toBool();
    if (item.end) {
        item.usage = usageOf(object.value(QStringLiteral("prompt_eval_count")),
                             object.value(QStringLiteral("eval_count")));
    }
    return item;
}

QString newToolCallId()
{
    static constexpr char kAlphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    QString id = QStringLiteral("call_");
    for (int i = 0; i < 24; ++i)
        id +=
            QLatin1Char(kAlphabet[QRandomGenerator::global()->bounded(int(sizeof kAlphabet) - 1)]);
    return id;
}

void ToolCallAssembler::add(const ToolCallPiece &piece)
{
    qsizetype at = -1;
    if (piece.whole) {
        // Always a call of its own.
    } else if (piece.index) {
        at = m_byIndex.value(*piece.index, -1);
    } else if (!m_calls.isEmpty() && !m_calls.last().whole &&
               (piece.id.isEmpty() || piece.id == m_calls.last().id)) {
        // A server that leaves out index: a piece with a new id starts a call, others continue.
        at = m_calls.size() - 1;
    }
    if (at < 0) {
        at = m_calls.size();
        m_calls.append(Pending{});
        m_calls.last().index = piece.index;
        m_calls.last().whole = piece.whole;
        if (piece.index)
            m_byIndex.insert(*piece.index, at);
    }
    Pending &call = m_calls[at];
    if (call.id.isEmpty())
        call.id = piece.id;
    // The name comes with the first piece; a server that repeats it in later ones adds nothing.
    if (piece.name != call.name)
        call.name += piece.name;
    call.arguments += piece.arguments;
}

Result<QList<ProviderToolCall>> ToolCallAssembler::calls(const QString &finishReason) const
{
    const auto failure = [](const QString &text) {
        return makeError(ErrorCode::UpstreamError, text);
    };
    if (m_calls.isEmpty()) {
        if (finishReason == QLatin1String("tool_calls"))
            return failure(QStringLiteral(
                "it ended its answer with finish_reason \"tool_calls\" but sent no tool call"));
        return QList<ProviderToolCall>{};
    }
    QList<Pending> ordered = m_calls;
    if (std::all_of(ordered.cbegin(), ordered.cend(), [](const Pending &p) { return p.index; })) {
        std::stable_sort(ordered.begin(), ordered.end(),
                         [](const Pending &a, const Pending &b) { return *a.index < *b.index; });
    }
    QList<ProviderToolCall> out;
    QSet<QString> ids;
    for (const Pending &p : std::as_const(ordered)) {
        if (p.name.isEmpty())
            return failure(QStringLiteral("it sent a tool call without a function name"));
        const QString name = excerpt(p.name, 64);
        QJsonObject arguments;
        if (!p.arguments.trimmed().isEmpty()) {
            QJsonParseError parseError;
            const QJsonDocument doc = QJsonDocument::fromJson(p.arguments.toUtf8(), &parseError);
            if (parseError.error != QJsonParseError::NoError || !doc.isObject()) {
                if (finishReason == QLatin1String("length"))
                    return failure(QStringLiteral("its answer was cut off (finish_reason "
                                                  "\"length\") in the arguments of its call of %1")
                                       .arg(name));
                return failure(
                    QStringLiteral("the arguments of its call of %1 are not a JSON object: %2")
                        .arg(name, excerpt(p.arguments, 120)));
            }
            arguments = doc.object();
        }
        ProviderToolCall call;
        call.id = p.id;
        if (call.id.isEmpty() || ids.contains(call.id))
            call.id = newToolCallId();
        ids.insert(call.id);
        call.wireName = p.name;
        call.arguments = arguments;
        out.append(call);
    }
    return out;
}

QJsonArray toolDefinitions(const QList<ToolSpec> &tools)
{
    QJsonArray definitions;
    for (const ToolSpec &tool : tools) {
        // A schema is required by some servers; an MCP tool always has one, but never send none.
        QJsonObject parameters = tool.parameters;
        if (parameters.isEmpty())
            parameters = QJsonObject{{QStringLiteral("type"), QStringLiteral("object")},
                                     {QStringLiteral("properties"), QJsonObject{}}};
        definitions.append(
            QJsonObject{{QStringLiteral("type"), QStringLiteral("function")},
                        {QStringLiteral("function"),
                         QJsonObject{{QStringLiteral("name"), tool.wireName},
                                     {QStringLiteral("description"), tool.description},
                                     {QStringLiteral("parameters"), parameters}}}});
    }
    return definitions;
}

QString fenceFor(QStringView content)
{
    qsizetype longest = 0;
    qsizetype run = 0;
    for (const QChar c : content) {
        run = c == u'`' ? run + 1 : 0;
        longest = std::max(longest, run);
    }
    return QString(std::max<qsizetype>(3, longest + 1), u'`');
}

QString messageText(const ChatMessage &message, const PdfTexts &pdfs)
{
    QString text;
    for (const AttachmentContent &a : message.attachments) {
        if (attachments::isImage(a.meta.type))
            continue;
        const QString content =
            attachments::isPdf(a.meta.type) ? pdfs.value(a.meta.id) : QString::fromUtf8(a.bytes);
        const QString fence = fenceFor(content);
        text += a.meta.name + u'\n' + fence + u'\n' + content;
        if (!content.endsWith(u'\n'))
            text += u'\n';
        text += fence + QStringLiteral("\n\n");
    }
    return text + message.content;
}

namespace {
bool hasImages(const ChatMessage &message)
{
    return std::any_of(
        message.attachments.cbegin(), message.attachments.cend(),
        [](const AttachmentContent &a) { return attachments::isImage(a.meta.type); });
}
} // namespace

namespace {
bool isToolResult(const ChatMessage &message)
{
    return message.role == QLatin1String("tool");
}
} // namespace

QJsonObject openAiMessage(const ChatMessage &message, const PdfTexts &pdfs)
{
    if (isToolResult(message))
        return QJsonObject{{QStringLiteral("role"), message.role},
                           {QStringLiteral("tool_call_id"), message.toolCallId},
                           {QStringLiteral("content"), message.content}};
    const QString text = messageText(message, pdfs);
    if (!message.toolCalls.isEmpty()) {
        QJsonArray calls;
        for (const ProviderToolCall &c : message.toolCalls) {
            const QString arguments =
                QString::fromUtf8(QJsonDocument(c.arguments).toJson(QJsonDocument::Compact));
            calls.append(QJsonObject{{QStringLiteral("id"), c.id},
                                     {QStringLiteral("type"), QStringLiteral("function")},
                                     {QStringLiteral("function"),
                                      QJsonObject{{QStringLiteral("name"), c.wireName},
                                                  {QStringLiteral("arguments"), arguments}}}});
        }
        // OpenAI's own shape of a message that only calls tools: content null.
        return QJsonObject{{QStringLiteral("role"), message.role},
                           {QStringLiteral("content"),
                            text.isEmpty() ? QJsonValue(QJsonValue::Null) : QJsonValue(text)},
                           {QStringLiteral("tool_calls"), calls}};
    }
    if (!hasImages(message))
        return QJsonObject{{QStringLiteral("role"), message.role},
                           {QStringLiteral("content"), text}};
    QJsonArray parts{QJsonObject{{QStringLiteral("type"), QStringLiteral("text")},
                                 {QStringLiteral("text"), text}}};
    for (const AttachmentContent &a : message.attachments) {
        if (!attachments::isImage(a.meta.type))
            continue;
        const QString url = QStringLiteral("data:") + a.meta.type + QStringLiteral(";base64,") +
                            QString::fromLatin1(a.bytes.toBase64());
        parts.append(
            QJsonObject{{QStringLiteral("type"), QStringLiteral("image_url")},
                        {QStringLiteral("image_url"), QJsonObject{{QStringLiteral("url"), url}}}});
    }
    return QJsonObject{{QStringLiteral("role"), message.role}, {QStringLiteral("content"), parts}};
}

QJsonObject ollamaMessage(const ChatMessage &message, const PdfTexts &pdfs)
{
    if (isToolResult(message))
        return QJsonObject{{QStringLiteral("role"), message.role},
                           {QStringLiteral("content"), message.content},
                           {QStringLiteral("tool_name"), message.toolName}};
    QJsonObject object{{QStringLiteral("role"), message.role},
                       {QStringLiteral("content"), messageText(message, pdfs)}};
    if (!message.toolCalls.isEmpty()) {
        QJsonArray calls;
        for (const ProviderToolCall &c : message.toolCalls) {
            calls.append(QJsonObject{{QStringLiteral("function"),
                                      QJsonObject{{QStringLiteral("name"), c.wireName},
                                                  {QStringLiteral("arguments"), c.arguments}}}});
        }
        object.insert(QStringLiteral("tool_calls"), calls);
    }
    if (hasImages(message)) {
        QJsonArray images;
        for (const AttachmentContent &a : message.attachments) {
            if (attachments::isImage(a.meta.type))
                images.append(QString::fromLatin1(a.bytes.toBase64()));
        }
        object.insert(QStringLiteral("images"), images);
    }
    return object;
}

} // namespace holdfast::upstream
