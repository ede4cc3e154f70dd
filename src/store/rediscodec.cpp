#include "store/rediscodec.h"

#include "core/json.h"
#include "store/redisscripts.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLocale>

#include <iterator>

namespace holdfast::rediscodec {

QByteArray prefix(const QString &sid)
{
    return "hf:{" + sid.toUtf8() + "}:";
}
QByteArray sessKey(const QString &sid)
{
    return prefix(sid) + "sess";
}
QByteArray msgKey(const QString &sid, qint64 index)
{
    return prefix(sid) + "msg:" + QByteArray::number(index);
}
QByteArray turnKey(const QString &sid, int tid, const char *kind)
{
    return prefix(sid) + kind + QByteArray::number(tid);
}
QByteArray member(const QString &sid, int tid)
{
    return sid.toUtf8() + '/' + QByteArray::number(tid);
}

QByteArray attKey(const QString &sid, const QString &aid)
{
    return prefix(sid) + "att:" + aid.toUtf8();
}
QByteArray attBytesKey(const QString &sid, const QString &aid)
{
    return prefix(sid) + "attbytes:" + aid.toUtf8();
}
QByteArray attsKey(const QString &sid)
{
    return prefix(sid) + "atts";
}

QByteArray num(qint64 n)
{
    return QByteArray::number(n);
}
QByteArray iso(const QDateTime &t)
{
    return toIso(t).toUtf8();
}
// A script that uses the tree's Lua functions.
QByteArray withTree(const char *script)
{
    return QByteArray(redisscripts::kTreeLua) + script;
}
// Sorted-set score: ascending order is newest first, equal times by id.
QByteArray score(const SessionMeta &meta)
{
    return num(-meta.updatedAt.toMSecsSinceEpoch());
}

namespace {

// The shortest text that reads back as the same double.
QByteArray real(double d)
{
    return QByteArray::number(d, 'g', QLocale::FloatingPointShortest);
}

// The session hash's fields of the options, in TurnOptions' order.
constexpr const char *kOptionFields[] = {"temperature", "top_p", "max_tokens", "context_tokens"};

// A count field, "" for none (a turn's usage and context).
QByteArray optionalNum(bool has, qint64 n)
{
    return has ? num(n) : QByteArray("");
}

} // namespace

QHash<QByteArray, QByteArray> fields(const RedisReply &hash)
{
    QHash<QByteArray, QByteArray> out;
    for (qsizetype i = 0; i + 1 < hash.elements.size(); i += 2)
        out.insert(hash.elements.at(i).string, hash.elements.at(i + 1).string);
    return out;
}

QString str(const QHash<QByteArray, QByteArray> &f, const char *name)
{
    const auto it = f.constFind(name);
    return it == f.constEnd() ? QString() : QString::fromUtf8(*it);
}

SessionMeta metaFrom(const QHash<QByteArray, QByteArray> &f)
{
    SessionMeta m;
    m.id = str(f, "id");
    m.title = str(f, "title");
    m.system = str(f, "system");
    if (f.contains("title") && m.title.isNull())
        m.title = QLatin1String("");
    if (f.contains("system") && m.system.isNull())
        m.system = QLatin1String("");
    m.model = str(f, "model");
    m.createdAt = fromIso(str(f, "created"));
    m.updatedAt = fromIso(str(f, "updated"));
    m.total = f.value("total").toLongLong();
    m.activeTurn = f.value("active").toInt();
    m.lastTurn = f.value("last").toInt();
    // Written before the tree: one branch, head on the last message.
    m.head = f.value("head", num(m.total - 1)).toLongLong();
    m.length = f.value("length", num(m.total)).toLongLong();
    // Written before the options: none set.
    bool ok = false;
    if (const double v = f.value(kOptionFields[0]).toDouble(&ok); ok)
        m.options.temperature = v;
    if (const double v = f.value(kOptionFields[1]).toDouble(&ok); ok)
        m.options.topP = v;
    if (const int v = f.value(kOptionFields[2]).toInt(&ok); ok)
        m.options.maxTokens = v;
    if (const int v = f.value(kOptionFields[3]).toInt(&ok); ok)
        m.options.contextTokens = v;
    // Written before tools: none, ask.
    const QJsonArray tools = QJsonDocument::fromJson(f.value("tools")).array();
    for (const QJsonValue &v : tools)
        m.tools.append(v.toString());
    m.toolApproval = toolApprovalFromName(str(f, "approval")).value_or(ToolApproval::Ask);
    return m;
}

// The fields a PATCH owns; the counters are written only by the turn scripts, so that a PATCH
// through one instance never rolls back a turn another instance has just stored.
QList<QByteArray> describedFields(const SessionMeta &m)
{
    QList<QByteArray> pairs{
        "id",
        m.id.toUtf8(),
        "model",
        m.model.toUtf8(),
        "created",
        iso(m.createdAt),
        "updated",
        iso(m.updatedAt),
        "tools",
        QJsonDocument(QJsonArray::fromStringList(m.tools)).toJson(QJsonDocument::Compact),
        "approval",
        toolApprovalName(m.toolApproval).toUtf8()};
    if (!m.title.isNull())
        pairs << "title" << m.title.toUtf8();
    if (!m.system.isNull())
        pairs << "system" << m.system.toUtf8();
    const TurnOptions &o = m.options;
    if (o.temperature)
        pairs << kOptionFields[0] << real(*o.temperature);
    if (o.topP)
        pairs << kOptionFields[1] << real(*o.topP);
    if (o.maxTokens)
        pairs << kOptionFields[2] << num(*o.maxTokens);
    if (o.contextTokens)
        pairs << kOptionFields[3] << num(*o.contextTokens);
    return pairs;
}

QList<QByteArray> unsetOptions(const TurnOptions &o)
{
    QList<QByteArray> names;
    const bool set[] = {bool(o.temperature), bool(o.topP), bool(o.maxTokens),
                        bool(o.contextTokens)};
    for (std::size_t i = 0; i < std::size(set); ++i) {
        if (!set[i])
            names << kOptionFields[i];
    }
    return names;
}

QByteArray messageJson(const Message &m)
{
    QJsonObject o{{QStringLiteral("role"), m.role},
                  {QStringLiteral("content"), m.content},
                  {QStringLiteral("turn"), m.turn},
                  {QStringLiteral("state"), messageStateName(m.state)},
                  {QStringLiteral("created_at"), toIso(m.createdAt)},
                  {QStringLiteral("parent"), m.parent},
                  {QStringLiteral("depth"), m.depth}};
    // An answer's tool calls. Their arguments are objects whose keys are not escaped, but the
    // keys are written in order and "parent" < "tool_calls": hfParent (redisscripts.h) meets the
    // message's own "parent" first.
    if (!m.toolCalls.isEmpty()) {
        QJsonArray calls;
        for (const MessageToolCall &call : m.toolCalls)
            calls.append(json::toJson(call));
        o.insert(QStringLiteral("tool_calls"), calls);
    }
    // Without attachments: kBeginTurn adds them from their hashes (a prompt names them by id).
    return QJsonDocument(o).toJson(QJsonDocument::Compact);
}

std::optional<Message> messageFrom(qint64 index, const QByteArray &json)
{
    const QJsonObject o = QJsonDocument::fromJson(json).object();
    if (o.isEmpty())
        return std::nullopt;
    Message m;
    m.index = index;
    json::readMessageFields(o, m);
    // Written before the tree: one branch, each message after the one before it.
    m.parent = o.value(QStringLiteral("parent")).toInteger(index - 1);
    m.depth = o.value(QStringLiteral("depth")).toInteger(index);
    // Written before attachments: none.
    const QJsonArray attachments = o.value(QStringLiteral("attachments")).toArray();
    for (const QJsonValue &v : attachments) {
        const QJsonObject a = v.toObject();
        Attachment att;
        att.id = a.value(QStringLiteral("id")).toString();
        att.name = a.value(QStringLiteral("name")).toString();
        att.type = a.value(QStringLiteral("type")).toString();
        att.size = a.value(QStringLiteral("size")).toInteger();
        att.createdAt = fromIso(a.value(QStringLiteral("created_at")).toString());
        m.attachments.append(att);
    }
    // Written before tools: none.
    const QJsonArray calls = o.value(QStringLiteral("tool_calls")).toArray();
    for (const QJsonValue &v : calls) {
        if (auto call = json::messageToolCallFromJson(v.toObject()))
            m.toolCalls.append(*call);
    }
    return m;
}

// {index, JSON, siblings} of kLoadBranch and kMessagesAt.
std::optional<Message> branchEntry(const RedisReply &entry)
{
    if (entry.elements.size() != 3)
        return std::nullopt;
    auto m = messageFrom(entry.elements.at(0).toInt(), entry.elements.at(1).string);
    if (!m)
        return std::nullopt;
    for (const RedisReply &sibling : entry.elements.at(2).elements)
        m->siblings.append(sibling.toInt());
    return m;
}

QList<QByteArray> turnFields(const TurnRecord &t)
{
    return {"id",       num(t.id),
            "session",  t.session.toUtf8(),
            "state",    turnStateName(t.state).toUtf8(),
            "prompt",   num(t.promptIndex),
            "response", num(t.responseIndex),
            "chunks",   num(t.chunks),
            "model",    t.model.toUtf8(),
            "created",  iso(t.createdAt),
            "finished", iso(t.finishedAt),
            "ecode",    t.errorCode.toUtf8(),
            "emsg",     t.errorMessage.toUtf8(),
            "ptok",     optionalNum(bool(t.usage), t.usage ? t.usage->promptTokens : 0),
            "ctok",     optionalNum(bool(t.usage), t.usage ? t.usage->completionTokens : 0),
            "cmsgs",    optionalNum(bool(t.context), t.context ? t.context->messages : 0),
            "cdrop",    optionalNum(bool(t.context), t.context ? t.context->dropped : 0),
            "first",    iso(t.firstChunkAt)};
}

std::optional<TurnRecord> turnFrom(const RedisReply &hash)
{
    const auto f = fields(hash);
    if (f.isEmpty())
        return std::nullopt;
    TurnRecord t;
    t.id = f.value("id").toInt();
    t.session = str(f, "session");
    t.state = turnStateFromName(str(f, "state")).value_or(TurnRecord::State::Error);
    t.promptIndex = f.value("prompt", "-1").toLongLong();
    t.responseIndex = f.value("response", "-1").toLongLong();
    t.chunks = f.value("chunks").toInt();
    t.model = str(f, "model");
    t.createdAt = fromIso(str(f, "created"));
    t.finishedAt = fromIso(str(f, "finished"));
    t.errorCode = str(f, "ecode");
    t.errorMessage = str(f, "emsg");
    // Written before usage and context: none (absent or "").
    if (!f.value("ptok").isEmpty())
        t.usage = TokenUsage{f.value("ptok").toLongLong(), f.value("ctok").toLongLong()};
    if (!f.value("cmsgs").isEmpty())
        t.context = ContextUse{f.value("cmsgs").toInt(), f.value("cdrop").toInt()};
    t.firstChunkAt = fromIso(str(f, "first"));
    return t;
}

bool parseMember(const QByteArray &text, QString *sid, int *tid)
{
    const qsizetype slash = text.lastIndexOf('/');
    bool ok = false;
    *tid = text.mid(slash + 1).toInt(&ok);
    *sid = QString::fromUtf8(text.left(slash));
    return slash > 0 && ok;
}

QList<QByteArray> attachmentFields(const Attachment &a)
{
    return {"id",   a.id.toUtf8(), "name",    a.name.toUtf8(), "type", a.type.toUtf8(),
            "size", num(a.size),   "created", iso(a.createdAt)};
}

std::optional<Attachment> attachmentFrom(const QHash<QByteArray, QByteArray> &f)
{
    if (f.isEmpty())
        return std::nullopt;
    Attachment a;
    a.id = str(f, "id");
    a.name = str(f, "name");
    a.type = str(f, "type");
    a.size = f.value("size").toLongLong();
    a.createdAt = fromIso(str(f, "created"));
    return a;
}

} // namespace holdfast::rediscodec
