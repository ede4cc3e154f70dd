#pragma once

// The Redis store's codec: key names, and records to and from what Redis holds (hashes for
// sessions and turns, JSON for messages, the replies of the read scripts).

#include "core/types.h"
#include "store/redisconnection.h"

#include <QHash>

#include <optional>

namespace holdfast::rediscodec {

inline const QByteArray kSessionsKey = QByteArrayLiteral("hf:sessions");
inline const QByteArray kUnfinishedKey = QByteArrayLiteral("hf:unfinished");
inline const QByteArray kSchemaKey = QByteArrayLiteral("hf:schema");
// Uploads no message links yet (sorted set of "SID/AID", score: created, ms since the epoch).
inline const QByteArray kUnlinkedKey = QByteArrayLiteral("hf:unlinked");

// A command line. (Braced lists of string literals inside coroutines trip g++ 12.)
template <typename... Args> QList<QByteArray> cmd(const Args &...args)
{
    return QList<QByteArray>{QByteArray(args)...};
}

// "hf:{SID}:", the start of every key of a session (the braces keep it in one cluster slot).
QByteArray prefix(const QString &sid);
QByteArray sessKey(const QString &sid);
QByteArray msgKey(const QString &sid, qint64 index);
QByteArray turnKey(const QString &sid, int tid, const char *kind);
QByteArray member(const QString &sid, int tid);
// An attachment's metadata (hash), its bytes (string), and the session's attachment ids (set).
QByteArray attKey(const QString &sid, const QString &aid);
QByteArray attBytesKey(const QString &sid, const QString &aid);
QByteArray attsKey(const QString &sid);
QByteArray num(qint64 n);
QByteArray iso(const QDateTime &t);
// A script that uses the tree's Lua functions.
QByteArray withTree(const char *script);
// Sorted-set score: ascending order is newest first, equal times by id.
QByteArray score(const SessionMeta &meta);
QHash<QByteArray, QByteArray> fields(const RedisReply &hash);
QString str(const QHash<QByteArray, QByteArray> &f, const char *name);
// Sessions and messages written before the tree read as one branch: head = total - 1, a
// message's parent the one before it.
SessionMeta metaFrom(const QHash<QByteArray, QByteArray> &f);
// The fields a PATCH owns; the counters are written only by the turn scripts, so that a PATCH
// through one instance never rolls back a turn another instance has just stored.
// The options not set are absent: `unsetOptions` names them (for HDEL).
QList<QByteArray> describedFields(const SessionMeta &m);
QList<QByteArray> unsetOptions(const TurnOptions &o);
// A message's JSON holds its attachments' metadata (written by kBeginTurn, not here).
QByteArray messageJson(const Message &m);
std::optional<Message> messageFrom(qint64 index, const QByteArray &json);
// {index, JSON, siblings} of kLoadBranch and kMessagesAt.
std::optional<Message> branchEntry(const RedisReply &entry);
QList<QByteArray> turnFields(const TurnRecord &t);
std::optional<TurnRecord> turnFrom(const RedisReply &hash);
// "SID/T", a turn in hf:unfinished and in the pub/sub messages.
bool parseMember(const QByteArray &text, QString *sid, int *tid);
QList<QByteArray> attachmentFields(const Attachment &a);
std::optional<Attachment> attachmentFrom(const QHash<QByteArray, QByteArray> &f);

} // namespace holdfast::rediscodec
