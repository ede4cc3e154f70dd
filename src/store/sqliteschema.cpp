#include "store/sqliteschema.h"

namespace holdfast::sqlite {

// 'HFDB': marks a file as a Holdfast database, so we never write our tables into someone else's.
const int kApplicationId = 0x48464442;

// The schema of each release. Step N takes a file from version N to N + 1; step 0 creates it.
// Never edit a released step: add a new one and bump kSchemaVersion.
const char *const kMigrations[] = {
    // 0 -> 1: the first release.
    "CREATE TABLE sessions (id TEXT PRIMARY KEY, title TEXT, system TEXT, model TEXT NOT NULL,"
    " created_at TEXT NOT NULL, updated_at TEXT NOT NULL, total INTEGER NOT NULL DEFAULT 0,"
    " active_turn INTEGER NOT NULL DEFAULT 0, last_turn INTEGER NOT NULL DEFAULT 0)"
    " WITHOUT ROWID;"
    "CREATE TABLE messages (session TEXT NOT NULL, idx INTEGER NOT NULL, role TEXT NOT NULL,"
    " content TEXT NOT NULL, turn INTEGER NOT NULL DEFAULT 0, state TEXT NOT NULL,"
    " created_at TEXT NOT NULL, PRIMARY KEY (session, idx)) WITHOUT ROWID;"
    "CREATE TABLE turns (session TEXT NOT NULL, id INTEGER NOT NULL, state TEXT NOT NULL,"
    " prompt_index INTEGER NOT NULL, response_index INTEGER, chunks INTEGER NOT NULL DEFAULT 0,"
    " model TEXT NOT NULL, created_at TEXT NOT NULL, finished_at TEXT, error_code TEXT,"
    " error_message TEXT, PRIMARY KEY (session, id)) WITHOUT ROWID;"
    "CREATE TABLE chunks (session TEXT NOT NULL, turn INTEGER NOT NULL, seq INTEGER NOT NULL,"
    " text TEXT NOT NULL, PRIMARY KEY (session, turn, seq)) WITHOUT ROWID;",
    // 1 -> 2: listing newest first and finding unfinished turns without a full scan.
    "CREATE INDEX sessions_by_update ON sessions (updated_at DESC, id);"
    "CREATE INDEX turns_unfinished ON turns (state) WHERE state IN ('queued', 'streaming');",
    // 2 -> 3: the conversation tree (shared/API.md, Branches). Every message gets its parent
    // (NULL for a first message) and depth; the session its head (the active branch's last
    // message, NULL without one) and that branch's length. What was there becomes one branch:
    // each message follows the one before it. The index finds a message's children (siblings).
    "ALTER TABLE messages ADD COLUMN parent INTEGER;"
    "ALTER TABLE messages ADD COLUMN depth INTEGER NOT NULL DEFAULT 0;"
    "UPDATE messages SET parent = CASE WHEN idx > 0 THEN idx - 1 END, depth = idx;"
    "ALTER TABLE sessions ADD COLUMN head INTEGER;"
    "ALTER TABLE sessions ADD COLUMN length INTEGER NOT NULL DEFAULT 0;"
    "UPDATE sessions SET head = CASE WHEN total > 0 THEN total - 1 END, length = total;"
    "CREATE INDEX messages_by_parent ON messages (session, parent);",
};

void addIndex(Query &q, qint64 index)
{
    if (index < 0)
        q.addNull();
    else
        q.add(index);
}

SessionMeta readMeta(const Query &q)
{
    SessionMeta m;
    m.id = q.text(0);
    m.title = q.text(1);
    m.system = q.text(2);
    m.model = q.text(3);
    m.createdAt = fromIso(q.text(4));
    m.updatedAt = fromIso(q.text(5));
    m.total = q.integer(6);
    m.activeTurn = int(q.integer(7));
    m.lastTurn = int(q.integer(8));
    m.head = q.isNull(9) ? -1 : q.integer(9);
    m.length = q.integer(10);
    return m;
}

Message readMessage(const Query &q)
{
    Message m;
    m.index = q.integer(0);
    m.role = q.text(1);
    m.content = q.text(2);
    m.turn = int(q.integer(3));
    m.state = messageStateFromName(q.text(4)).value_or(Message::State::Complete);
    m.createdAt = fromIso(q.text(5));
    m.parent = q.isNull(6) ? -1 : q.integer(6);
    m.depth = q.integer(7);
    return m;
}

TurnRecord readTurn(const Query &q)
{
    TurnRecord t;
    t.session = q.text(0);
    t.id = int(q.integer(1));
    t.state = turnStateFromName(q.text(2)).value_or(TurnRecord::State::Error);
    t.promptIndex = q.integer(3);
    t.responseIndex = q.isNull(4) ? -1 : q.integer(4);
    t.chunks = int(q.integer(5));
    t.model = q.text(6);
    t.createdAt = fromIso(q.text(7));
    t.finishedAt = q.isNull(8) ? QDateTime() : fromIso(q.text(8));
    t.errorCode = q.text(9);
    t.errorMessage = q.text(10);
    return t;
}

void bindMeta(Query &q, const SessionMeta &m)
{
    q.add(m.id);
    q.add(m.title);
    q.add(m.system);
    q.add(m.model);
    q.addIso(m.createdAt);
    q.addIso(m.updatedAt);
    q.add(m.total);
    q.add(m.activeTurn);
    q.add(m.lastTurn);
    addIndex(q, m.head);
    q.add(m.length);
}

void bindMessage(Query &q, const QString &sid, const Message &m)
{
    q.add(sid);
    q.add(m.index);
    q.add(m.role);
    // An answer without a chunk (cancelled or crashed before the first) has a null QString,
    // which binds as NULL and breaks `content NOT NULL`: store it as the empty text it is.
    q.add(m.content.isNull() ? QStringLiteral("") : m.content);
    q.add(m.turn);
    q.add(messageStateName(m.state));
    q.addIso(m.createdAt);
    addIndex(q, m.parent);
    q.add(m.depth);
}

void bindTurn(Query &q, const TurnRecord &t)
{
    q.add(t.session);
    q.add(t.id);
    q.add(turnStateName(t.state));
    q.add(t.promptIndex);
    if (t.responseIndex < 0)
        q.addNull();
    else
        q.add(t.responseIndex);
    q.add(t.chunks);
    q.add(t.model);
    q.addIso(t.createdAt);
    q.addIso(t.finishedAt);
    if (t.errorCode.isEmpty())
        q.addNull();
    else
        q.add(t.errorCode);
    if (t.errorMessage.isEmpty())
        q.addNull();
    else
        q.add(t.errorMessage);
}

} // namespace holdfast::sqlite
