#include "core/json.h"

#include <QJsonArray>
#include <QJsonDocument>

#include <algorithm>
#include <utility>

namespace holdfast::json {

namespace {
QJsonValue nullable(const QString &text)
{
    return text.isNull() ? QJsonValue(QJsonValue::Null) : QJsonValue(text);
}

QJsonValue nullableTime(const QDateTime &time)
{
    return time.isValid() ? QJsonValue(toIso(time)) : QJsonValue(QJsonValue::Null);
}

QString stringOrNull(const QJsonValue &value)
{
    return value.isString() ? value.toString() : QString();
}

QJsonArray siblingsArray(const QList<qint64> &siblings)
{
    QJsonArray array;
    for (const qint64 index : siblings)
        array.append(index);
    return array;
}

QJsonArray attachmentsArray(const QList<Attachment> &attachments)
{
    QJsonArray array;
    for (const Attachment &a : attachments)
        array.append(toJson(a));
    return array;
}

QJsonArray toolCallsArray(const QList<MessageToolCall> &calls)
{
    QJsonArray array;
    for (const MessageToolCall &call : calls)
        array.append(toJson(call));
    return array;
}

// A message index, or -1 for null (a first message's parent, a session without head).
qint64 indexOrNull(const QJsonValue &value)
{
    return value.isDouble() ? value.toInteger() : -1;
}
} // namespace

QJsonObject toJson(const Message &message)
{
    return QJsonObject{
        {QStringLiteral("index"), message.index},
        {QStringLiteral("role"), message.role},
        {QStringLiteral("content"), message.content},
        {QStringLiteral("turn"), message.turn > 0 ? QJsonValue(message.turn) : QJsonValue()},
        {QStringLiteral("state"), messageStateName(message.state)},
        {QStringLiteral("created_at"), toIso(message.createdAt)},
        {QStringLiteral("parent"), message.parent >= 0 ? QJsonValue(message.parent) : QJsonValue()},
        {QStringLiteral("siblings"), siblingsArray(message.siblings)},
        {QStringLiteral("attachments"), attachmentsArray(message.attachments)},
        {QStringLiteral("tool_calls"), toolCallsArray(message.toolCalls)},
    };
}

QJsonObject toJson(const Attachment &attachment)
{
    return QJsonObject{
        {QStringLiteral("id"), attachment.id},
        {QStringLiteral("name"), attachment.name},
        {QStringLiteral("type"), attachment.type},
        {QStringLiteral("size"), attachment.size},
        {QStringLiteral("created_at"), toIso(attachment.createdAt)},
    };
}

QJsonObject toJson(const SessionMeta &meta)
{
    return QJsonObject{
        {QStringLiteral("id"), meta.id},
        {QStringLiteral("title"), nullable(meta.title)},
        {QStringLiteral("system"), nullable(meta.system)},
        {QStringLiteral("model"), meta.model},
        {QStringLiteral("created_at"), toIso(meta.createdAt)},
        {QStringLiteral("updated_at"), toIso(meta.updatedAt)},
        {QStringLiteral("total"), meta.total},
        {QStringLiteral("head"), meta.head >= 0 ? QJsonValue(meta.head) : QJsonValue()},
        {QStringLiteral("length"), meta.length},
        {QStringLiteral("active_turn"),
         meta.activeTurn > 0 ? QJsonValue(meta.activeTurn) : QJsonValue()},
        {QStringLiteral("options"), toJson(meta.options)},
        {QStringLiteral("tools"), QJsonArray::fromStringList(meta.tools)},
        {QStringLiteral("tool_approval"), toolApprovalName(meta.toolApproval)},
    };
}

QJsonObject toJson(const TurnOptions &options)
{
    QJsonObject object;
    if (options.temperature)
        object.insert(QStringLiteral("temperature"), *options.temperature);
    if (options.topP)
        object.insert(QStringLiteral("top_p"), *options.topP);
    if (options.maxTokens)
        object.insert(QStringLiteral("max_tokens"), *options.maxTokens);
    if (options.contextTokens)
        object.insert(QStringLiteral("context_tokens"), *options.contextTokens);
    return object;
}

QJsonObject toJson(const TokenUsage &usage)
{
    return QJsonObject{{QStringLiteral("prompt_tokens"), usage.promptTokens},
                       {QStringLiteral("completion_tokens"), usage.completionTokens}};
}

QJsonObject toJson(const ContextUse &context)
{
    return QJsonObject{{QStringLiteral("messages"), context.messages},
                       {QStringLiteral("dropped"), context.dropped}};
}

QJsonObject toJson(const SessionSnapshot &snapshot)
{
    QJsonObject object = toJson(snapshot.meta);
    QJsonArray history;
    for (const Message &m : snapshot.history)
        history.append(toJson(m));
    object.insert(QStringLiteral("history"), history);
    return object;
}

namespace {
// A character JSON writes as itself (printable ASCII but the quote and the backslash).
bool isPlainJson(char16_t u)
{
    return u >= 0x20 && u < 0x80 && u != '"' && u != '\\';
}
} // namespace

void appendString(QByteArray &out, QStringView text)
{
    out += '"';
    const char16_t *const units = text.utf16();
    const qsizetype size = text.size();
    for (qsizetype i = 0; i < size; ++i) {
        // A run of plain characters (most of any text) is narrowed in one pass: an append per
        // character was most of the cost of a chunk event.
        qsizetype end = i;
        while (end < size && isPlainJson(units[end]))
            ++end;
        if (end > i) {
            const qsizetype at = out.size();
            out.resize(at + (end - i));
            std::transform(units + i, units + end, out.data() + at,
                           [](char16_t u) { return char(u); });
            i = end;
            if (i == size)
                break;
        }
        const char16_t u = units[i];
        if (u < 0x80) {
            out += '\\';
            switch (u) {
            case '"':
                out += '"';
                break;
            case '\\':
                out += '\\';
                break;
            case '\b':
                out += 'b';
                break;
            case '\f':
                out += 'f';
                break;
            case '\n':
                out += 'n';
                break;
            case '\r':
                out += 'r';
                break;
            case '\t':
                out += 't';
                break;
            default:
                out += "u00";
                out += "0123456789abcdef"[(u >> 4) & 0xf];
                out += "0123456789abcdef"[u & 0xf];
            }
            continue;
        }
        char32_t code = u;
        if (QChar::isHighSurrogate(u) && i + 1 < size &&
            QChar::isLowSurrogate(text[i + 1].unicode())) {
            code = QChar::surrogateToUcs4(u, text[++i].unicode());
        } else if (QChar::isSurrogate(u)) {
            out += "\xef\xbf\xbd"; // U+FFFD
            continue;
        }
        if (code < 0x800) {
            out += char(0xc0 | (code >> 6));
        } else if (code < 0x10000) {
            out += char(0xe0 | (code >> 12));
            out += char(0x80 | ((code >> 6) & 0x3f));
        } else {
            out += char(0xf0 | (code >> 18));
            out += char(0x80 | ((code >> 12) & 0x3f));
            out += char(0x80 | ((code >> 6) & 0x3f));
        }
        out += char(0x80 | (code & 0x3f));
    }
    out += '"';
}

namespace {
// The compact writer below produces what QJsonDocument(...).toJson(Compact) produces (keys in
// sorted order, no spaces, integers as integers); its strings are appendString()'s.
void writeNullable(QByteArray &out, const QString &text)
{
    if (text.isNull())
        out += "null";
    else
        appendString(out, text);
}

// toIso(time) as a JSON string, written in place (a tenth of a snapshot's cost otherwise).
void writeTime(QByteArray &out, const QDateTime &time)
{
    char text[kIsoLength + 2];
    if (!writeIso(time, text + 1)) {
        appendString(out, toIso(time));
        return;
    }
    text[0] = '"';
    text[kIsoLength + 1] = '"';
    out.append(text, kIsoLength + 2);
}

void writeMessage(QByteArray &out, const Message &m)
{
    out += "{\"attachments\":[";
    for (qsizetype i = 0; i < m.attachments.size(); ++i) {
        const Attachment &a = m.attachments.at(i);
        out += i > 0 ? ",{\"created_at\":" : "{\"created_at\":";
        writeTime(out, a.createdAt);
        out += ",\"id\":";
        appendString(out, a.id);
        out += ",\"name\":";
        appendString(out, a.name);
        out += ",\"size\":";
        out += QByteArray::number(a.size);
        out += ",\"type\":";
        appendString(out, a.type);
        out += '}';
    }
    out += "],\"content\":";
    appendString(out, m.content);
    out += ",\"created_at\":";
    writeTime(out, m.createdAt);
    out += ",\"index\":";
    out += QByteArray::number(m.index);
    out += ",\"parent\":";
    out += m.parent >= 0 ? QByteArray::number(m.parent) : QByteArray("null");
    out += ",\"role\":";
    appendString(out, m.role);
    out += ",\"siblings\":[";
    for (qsizetype i = 0; i < m.siblings.size(); ++i) {
        if (i > 0)
            out += ',';
        out += QByteArray::number(m.siblings.at(i));
    }
    out += "],\"state\":";
    appendString(out, messageStateName(m.state));
    out += ",\"tool_calls\":[";
    for (qsizetype i = 0; i < m.toolCalls.size(); ++i) {
        const MessageToolCall &call = m.toolCalls.at(i);
        out += i > 0 ? ",{\"approved\":" : "{\"approved\":";
        out += call.approved ? "true" : "false";
        out += ",\"arguments\":";
        // A model's arguments, any JSON: QJsonDocument writes them as toJson(message) does.
        out += QJsonDocument(call.arguments).toJson(QJsonDocument::Compact);
        out += ",\"id\":";
        appendString(out, call.id);
        out += ",\"is_error\":";
        out += call.isError ? "true" : "false";
        out += ",\"name\":";
        appendString(out, call.name);
        out += ",\"offset\":";
        out += QByteArray::number(call.offset);
        out += ",\"result\":";
        if (call.result)
            appendString(out, *call.result);
        else
            out += "null";
        out += '}';
    }
    out += "],\"turn\":";
    out += m.turn > 0 ? QByteArray::number(m.turn) : QByteArray("null");
    out += '}';
}
} // namespace

QByteArray toJsonBytes(const SessionSnapshot &snapshot)
{
    const SessionMeta &meta = snapshot.meta;
    QByteArray out;
    qsizetype estimate = 256;
    for (const Message &m : snapshot.history)
        estimate += m.content.size() * 3 / 2 + 128;
    out.reserve(estimate);
    out += "{\"active_turn\":";
    out += meta.activeTurn > 0 ? QByteArray::number(meta.activeTurn) : QByteArray("null");
    out += ",\"created_at\":";
    writeTime(out, meta.createdAt);
    out += ",\"head\":";
    out += meta.head >= 0 ? QByteArray::number(meta.head) : QByteArray("null");
    out += ",\"history\":[";
    bool first = true;
    for (const Message &m : snapshot.history) {
        if (!std::exchange(first, false))
            out += ',';
        writeMessage(out, m);
    }
    out += "],\"id\":";
    appendString(out, meta.id);
    out += ",\"length\":";
    out += QByteArray::number(meta.length);
    out += ",\"model\":";
    appendString(out, meta.model);
    out += ",\"options\":";
    // A handful of numbers: QJsonDocument writes them as toJson(meta) does.
    out += QJsonDocument(toJson(meta.options)).toJson(QJsonDocument::Compact);
    out += ",\"system\":";
    writeNullable(out, meta.system);
    out += ",\"title\":";
    writeNullable(out, meta.title);
    out += ",\"tool_approval\":";
    appendString(out, toolApprovalName(meta.toolApproval));
    out += ",\"tools\":[";
    for (qsizetype i = 0; i < meta.tools.size(); ++i) {
        if (i > 0)
            out += ',';
        appendString(out, meta.tools.at(i));
    }
    out += "],\"total\":";
    out += QByteArray::number(meta.total);
    out += ",\"updated_at\":";
    writeTime(out, meta.updatedAt);
    out += '}';
    return out;
}

QByteArray toJsonBytes(const TurnRecord &turn)
{
    QByteArray out;
    out.reserve(320 + turn.errorMessage.size() * 3 / 2);
    out += "{\"chunks\":";
    out += QByteArray::number(turn.chunks);
    out += ",\"context\":";
    if (turn.context) {
        out += "{\"dropped\":";
        out += QByteArray::number(turn.context->dropped);
        out += ",\"messages\":";
        out += QByteArray::number(turn.context->messages);
        out += '}';
    } else {
        out += "null";
    }
    out += ",\"created_at\":";
    writeTime(out, turn.createdAt);
    out += ",\"error\":";
    if (turn.errorCode.isEmpty()) {
        out += "null";
    } else {
        out += "{\"code\":";
        appendString(out, turn.errorCode);
        out += ",\"message\":";
        appendString(out, turn.errorMessage);
        out += '}';
    }
    out += ",\"finished_at\":";
    if (turn.finishedAt.isValid())
        writeTime(out, turn.finishedAt);
    else
        out += "null";
    out += ",\"first_chunk_at\":";
    if (turn.firstChunkAt.isValid())
        writeTime(out, turn.firstChunkAt);
    else
        out += "null";
    out += ",\"id\":";
    out += QByteArray::number(turn.id);
    out += ",\"model\":";
    appendString(out, turn.model);
    out += ",\"prompt_index\":";
    out += QByteArray::number(turn.promptIndex);
    out += ",\"response_index\":";
    out += turn.responseIndex >= 0 ? QByteArray::number(turn.responseIndex) : QByteArray("null");
    out += ",\"session\":";
    appendString(out, turn.session);
    out += ",\"state\":";
    appendString(out, turnStateName(turn.state));
    out += ",\"usage\":";
    if (turn.usage) {
        out += "{\"completion_tokens\":";
        out += QByteArray::number(turn.usage->completionTokens);
        out += ",\"prompt_tokens\":";
        out += QByteArray::number(turn.usage->promptTokens);
        out += '}';
    } else {
        out += "null";
    }
    out += '}';
    return out;
}

QJsonObject toJson(const TurnRecord &turn)
{
    QJsonValue error;
    if (!turn.errorCode.isEmpty()) {
        error = QJsonObject{{QStringLiteral("code"), turn.errorCode},
                            {QStringLiteral("message"), turn.errorMessage}};
    }
    return QJsonObject{
        {QStringLiteral("id"), turn.id},
        {QStringLiteral("session"), turn.session},
        {QStringLiteral("state"), turnStateName(turn.state)},
        {QStringLiteral("prompt_index"), turn.promptIndex},
        {QStringLiteral("response_index"),
         turn.responseIndex >= 0 ? QJsonValue(turn.responseIndex) : QJsonValue()},
        {QStringLiteral("chunks"), turn.chunks},
        {QStringLiteral("model"), turn.model},
        {QStringLiteral("created_at"), toIso(turn.createdAt)},
        {QStringLiteral("finished_at"), nullableTime(turn.finishedAt)},
        {QStringLiteral("error"), error},
        {QStringLiteral("usage"), turn.usage ? QJsonValue(toJson(*turn.usage)) : QJsonValue()},
        {QStringLiteral("context"),
         turn.context ? QJsonValue(toJson(*turn.context)) : QJsonValue()},
        {QStringLiteral("first_chunk_at"), nullableTime(turn.firstChunkAt)},
    };
}

QJsonObject toJson(const Chunk &chunk)
{
    QJsonObject o{{QStringLiteral("seq"), chunk.seq}, {QStringLiteral("text"), chunk.text}};
    if (chunk.toolCall)
        o.insert(QStringLiteral("tool_call"), toJson(*chunk.toolCall));
    if (chunk.toolResult)
        o.insert(QStringLiteral("tool_result"), toJson(*chunk.toolResult));
    return o;
}

QJsonObject toJson(const ToolCall &call)
{
    return QJsonObject{{QStringLiteral("id"), call.id},
                       {QStringLiteral("name"), call.name},
                       {QStringLiteral("arguments"), call.arguments}};
}

QJsonObject toJson(const ToolResult &result)
{
    return QJsonObject{{QStringLiteral("id"), result.id},
                       {QStringLiteral("content"), result.content},
                       {QStringLiteral("is_error"), result.isError}};
}

QJsonObject toJson(const MessageToolCall &call)
{
    return QJsonObject{
        {QStringLiteral("id"), call.id},
        {QStringLiteral("name"), call.name},
        {QStringLiteral("arguments"), call.arguments},
        {QStringLiteral("result"), call.result ? QJsonValue(*call.result) : QJsonValue()},
        {QStringLiteral("is_error"), call.isError},
        {QStringLiteral("approved"), call.approved},
        {QStringLiteral("offset"), call.offset},
    };
}

std::optional<ToolCall> toolCallFromJson(const QJsonObject &o)
{
    if (!o.value(QStringLiteral("id")).isString() || !o.value(QStringLiteral("name")).isString())
        return std::nullopt;
    ToolCall call;
    call.id = o.value(QStringLiteral("id")).toString();
    call.name = o.value(QStringLiteral("name")).toString();
    call.arguments = o.value(QStringLiteral("arguments")).toObject();
    return call;
}

std::optional<ToolResult> toolResultFromJson(const QJsonObject &o)
{
    if (!o.value(QStringLiteral("id")).isString())
        return std::nullopt;
    ToolResult result;
    result.id = o.value(QStringLiteral("id")).toString();
    result.content = o.value(QStringLiteral("content")).toString();
    result.isError = o.value(QStringLiteral("is_error")).toBool();
    result.approved = o.value(QStringLiteral("approved")).toBool();
    return result;
}

std::optional<MessageToolCall> messageToolCallFromJson(const QJsonObject &o)
{
    const auto call = toolCallFromJson(o);
    if (!call)
        return std::nullopt;
    MessageToolCall m;
    m.id = call->id;
    m.name = call->name;
    m.arguments = call->arguments;
    const QJsonValue result = o.value(QStringLiteral("result"));
    if (result.isString())
        m.result = result.toString();
    m.isError = o.value(QStringLiteral("is_error")).toBool();
    m.approved = o.value(QStringLiteral("approved")).toBool();
    m.offset = qint64(o.value(QStringLiteral("offset")).toDouble());
    return m;
}

QJsonObject storedToolStep(const Chunk &chunk)
{
    if (chunk.toolCall)
        return QJsonObject{{QStringLiteral("tool_call"), toJson(*chunk.toolCall)}};
    if (chunk.toolResult) {
        QJsonObject result = toJson(*chunk.toolResult);
        result.insert(QStringLiteral("approved"), chunk.toolResult->approved);
        return QJsonObject{{QStringLiteral("tool_result"), result}};
    }
    return {};
}

bool readStoredToolStep(const QJsonObject &o, Chunk &chunk)
{
    if (o.contains(QStringLiteral("tool_call"))) {
        chunk.toolCall = toolCallFromJson(o.value(QStringLiteral("tool_call")).toObject());
        return chunk.toolCall.has_value();
    }
    if (o.contains(QStringLiteral("tool_result"))) {
        chunk.toolResult = toolResultFromJson(o.value(QStringLiteral("tool_result")).toObject());
        return chunk.toolResult.has_value();
    }
    return o.isEmpty();
}

QJsonObject errorBody(const Error &error)
{
    return QJsonObject{
        {QStringLiteral("error"), QJsonObject{{QStringLiteral("code"), errorCodeName(error.code)},
                                              {QStringLiteral("message"), error.message}}}};
}

void readMessageFields(const QJsonObject &o, Message &m)
{
    m.role = o.value(QStringLiteral("role")).toString();
    m.content = o.value(QStringLiteral("content")).toString();
    m.turn = o.value(QStringLiteral("turn")).toInt();
    m.state = messageStateFromName(o.value(QStringLiteral("state")).toString())
                  .value_or(Message::State::Complete);
    m.createdAt = fromIso(o.value(QStringLiteral("created_at")).toString());
}

std::optional<Message> messageFromJson(const QJsonObject &o)
{
    if (!o.value(QStringLiteral("index")).isDouble() || !o.value(QStringLiteral("role")).isString())
        return std::nullopt;
    Message m;
    m.index = o.value(QStringLiteral("index")).toInteger();
    readMessageFields(o, m);
    m.parent = indexOrNull(o.value(QStringLiteral("parent")));
    const QJsonArray siblings = o.value(QStringLiteral("siblings")).toArray();
    for (const QJsonValue &v : siblings)
        m.siblings.append(v.toInteger());
    const QJsonArray attachments = o.value(QStringLiteral("attachments")).toArray();
    for (const QJsonValue &v : attachments) {
        if (auto a = attachmentFromJson(v.toObject()))
            m.attachments.append(*a);
    }
    const QJsonArray toolCalls = o.value(QStringLiteral("tool_calls")).toArray();
    for (const QJsonValue &v : toolCalls) {
        if (auto call = messageToolCallFromJson(v.toObject()))
            m.toolCalls.append(*call);
    }
    return m;
}

std::optional<Attachment> attachmentFromJson(const QJsonObject &o)
{
    if (!o.value(QStringLiteral("id")).isString())
        return std::nullopt;
    Attachment a;
    a.id = o.value(QStringLiteral("id")).toString();
    a.name = o.value(QStringLiteral("name")).toString();
    a.type = o.value(QStringLiteral("type")).toString();
    a.size = o.value(QStringLiteral("size")).toInteger();
    a.createdAt = fromIso(o.value(QStringLiteral("created_at")).toString());
    return a;
}

std::optional<SessionMeta> sessionFromJson(const QJsonObject &o)
{
    if (!o.value(QStringLiteral("id")).isString())
        return std::nullopt;
    SessionMeta s;
    s.id = o.value(QStringLiteral("id")).toString();
    s.title = stringOrNull(o.value(QStringLiteral("title")));
    s.system = stringOrNull(o.value(QStringLiteral("system")));
    s.model = o.value(QStringLiteral("model")).toString();
    s.createdAt = fromIso(o.value(QStringLiteral("created_at")).toString());
    s.updatedAt = fromIso(o.value(QStringLiteral("updated_at")).toString());
    s.total = o.value(QStringLiteral("total")).toInteger();
    s.head = indexOrNull(o.value(QStringLiteral("head")));
    s.length = o.value(QStringLiteral("length")).toInteger();
    s.activeTurn = o.value(QStringLiteral("active_turn")).toInt();
    s.options = optionsFromJson(o.value(QStringLiteral("options")).toObject());
    for (const QJsonValue &v : o.value(QStringLiteral("tools")).toArray())
        s.tools.append(v.toString());
    s.toolApproval = toolApprovalFromName(o.value(QStringLiteral("tool_approval")).toString())
                         .value_or(ToolApproval::Ask);
    return s;
}

std::optional<SessionSnapshot> snapshotFromJson(const QJsonObject &o)
{
    auto meta = sessionFromJson(o);
    if (!meta)
        return std::nullopt;
    SessionSnapshot snapshot{*meta, {}};
    const QJsonArray history = o.value(QStringLiteral("history")).toArray();
    for (const QJsonValue &v : history) {
        if (auto m = messageFromJson(v.toObject()))
            snapshot.history.append(*m);
    }
    return snapshot;
}

std::optional<TurnRecord> turnFromJson(const QJsonObject &o)
{
    if (!o.value(QStringLiteral("id")).isDouble())
        return std::nullopt;
    TurnRecord t;
    t.id = o.value(QStringLiteral("id")).toInt();
    t.session = o.value(QStringLiteral("session")).toString();
    t.state = turnStateFromName(o.value(QStringLiteral("state")).toString())
                  .value_or(TurnRecord::State::Error);
    t.promptIndex = o.value(QStringLiteral("prompt_index")).toInteger(-1);
    const QJsonValue response = o.value(QStringLiteral("response_index"));
    t.responseIndex = response.isDouble() ? response.toInteger() : -1;
    t.chunks = o.value(QStringLiteral("chunks")).toInt();
    t.model = o.value(QStringLiteral("model")).toString();
    t.createdAt = fromIso(o.value(QStringLiteral("created_at")).toString());
    t.finishedAt = fromIso(o.value(QStringLiteral("finished_at")).toString());
    const QJsonObject error = o.value(QStringLiteral("error")).toObject();
    t.errorCode = error.value(QStringLiteral("code")).toString();
    t.errorMessage = error.value(QStringLiteral("message")).toString();
    if (const QJsonValue usage = o.value(QStringLiteral("usage")); usage.isObject()) {
        TokenUsage u;
        u.promptTokens = usage[QStringLiteral("prompt_tokens")].toInteger();
        u.completionTokens = usage[QStringLiteral("completion_tokens")].toInteger();
        t.usage = u;
    }
    if (const QJsonValue context = o.value(QStringLiteral("context")); context.isObject()) {
        ContextUse c;
        c.messages = context[QStringLiteral("messages")].toInt();
        c.dropped = context[QStringLiteral("dropped")].toInt();
        t.context = c;
    }
    t.firstChunkAt = fromIso(o.value(QStringLiteral("first_chunk_at")).toString());
    return t;
}

TurnOptions optionsFromJson(const QJsonObject &o)
{
    TurnOptions options;
    if (const QJsonValue v = o.value(QStringLiteral("temperature")); v.isDouble())
        options.temperature = v.toDouble();
    if (const QJsonValue v = o.value(QStringLiteral("top_p")); v.isDouble())
        options.topP = v.toDouble();
    if (const QJsonValue v = o.value(QStringLiteral("max_tokens")); v.isDouble())
        options.maxTokens = v.toInt();
    if (const QJsonValue v = o.value(QStringLiteral("context_tokens")); v.isDouble())
        options.contextTokens = v.toInt();
    return options;
}

std::optional<Chunk> chunkFromJson(const QJsonObject &o)
{
    if (!o.value(QStringLiteral("seq")).isDouble())
        return std::nullopt;
    Chunk chunk;
    chunk.seq = o.value(QStringLiteral("seq")).toInt();
    chunk.text = o.value(QStringLiteral("text")).toString();
    if (o.contains(QStringLiteral("tool_call")))
        chunk.toolCall = toolCallFromJson(o.value(QStringLiteral("tool_call")).toObject());
    if (o.contains(QStringLiteral("tool_result")))
        chunk.toolResult = toolResultFromJson(o.value(QStringLiteral("tool_result")).toObject());
    return chunk;
}

std::optional<Error> errorFromJson(const QJsonObject &o)
{
    const QJsonObject e = o.value(QStringLiteral("error")).toObject();
    if (e.isEmpty())
        return std::nullopt;
    return Error{
        errorCodeFromName(e.value(QStringLiteral("code")).toString()).value_or(ErrorCode::Internal),
        e.value(QStringLiteral("message")).toString()};
}

} // namespace holdfast::json
