#include "core/json.h"

#include <QJsonArray>

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
        {QStringLiteral("active_turn"),
         meta.activeTurn > 0 ? QJsonValue(meta.activeTurn) : QJsonValue()},
    };
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
    };
}

QJsonObject toJson(const Chunk &chunk)
{
    return QJsonObject{{QStringLiteral("seq"), chunk.seq}, {QStringLiteral("text"), chunk.text}};
}

QJsonObject errorBody(const Error &error)
{
    return QJsonObject{
        {QStringLiteral("error"), QJsonObject{{QStringLiteral("code"), errorCodeName(error.code)},
                                              {QStringLiteral("message"), error.message}}}};
}

std::optional<Message> messageFromJson(const QJsonObject &o)
{
    if (!o.value(QStringLiteral("index")).isDouble() || !o.value(QStringLiteral("role")).isString())
        return std::nullopt;
    Message m;
    m.index = o.value(QStringLiteral("index")).toInteger();
    m.role = o.value(QStringLiteral("role")).toString();
    m.content = o.value(QStringLiteral("content")).toString();
    m.turn = o.value(QStringLiteral("turn")).toInt();
    m.state = messageStateFromName(o.value(QStringLiteral("state")).toString())
                  .value_or(Message::State::Complete);
    m.createdAt = fromIso(o.value(QStringLiteral("created_at")).toString());
    return m;
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
    s.activeTurn = o.value(QStringLiteral("active_turn")).toInt();
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
    return t;
}

std::optional<Chunk> chunkFromJson(const QJsonObject &o)
{
    if (!o.value(QStringLiteral("seq")).isDouble())
        return std::nullopt;
    return Chunk{o.value(QStringLiteral("seq")).toInt(),
                 o.value(QStringLiteral("text")).toString()};
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
