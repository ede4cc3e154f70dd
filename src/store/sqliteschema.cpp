#include "store/sqliteschema.h"

#include "core/json.h"
#include "core/logging.h"

#include <QJsonArray>
#include <QJsonDocument>

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
    // 3 -> 4: attachments (shared/API.md, Attachments), a session's options and a turn's usage,
    // context and first chunk time (Usage and context budget); NULL: not set. An attachment's
    // bytes have their own table, so that no query of its metadata (a session's load) reads a
    // page of them; `linked` marks one a message uses (unlinked old uploads are deleted, through
    // the partial index). A message's attachments are links, in order.
    "ALTER TABLE sessions ADD COLUMN temperature REAL;"
    "ALTER TABLE sessions ADD COLUMN top_p REAL;"
    "ALTER TABLE sessions ADD COLUMN max_tokens INTEGER;"
    "ALTER TABLE sessions ADD COLUMN context_tokens INTEGER;"
    "ALTER TABLE turns ADD COLUMN prompt_tokens INTEGER;"
    "ALTER TABLE turns ADD COLUMN completion_tokens INTEGER;"
    "ALTER TABLE turns ADD COLUMN context_messages INTEGER;"
    "ALTER TABLE turns ADD COLUMN context_dropped INTEGER;"
    "ALTER TABLE turns ADD COLUMN first_chunk_at TEXT;"
    "CREATE TABLE attachments (session TEXT NOT NULL, id TEXT NOT NULL, name TEXT NOT NULL,"
    " type TEXT NOT NULL, size INTEGER NOT NULL, created_at TEXT NOT NULL,"
    " linked INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (session, id)) WITHOUT ROWID;"
    "CREATE INDEX attachments_unlinked ON attachments (created_at) WHERE linked = 0;"
    "CREATE TABLE attachment_bytes (session TEXT NOT NULL, id TEXT NOT NULL, bytes BLOB NOT NULL,"
    " PRIMARY KEY (session, id));"
    "CREATE TABLE message_attachments (session TEXT NOT NULL, idx INTEGER NOT NULL,"
    " position INTEGER NOT NULL, attachment TEXT NOT NULL, PRIMARY KEY (session, idx, position))"
    " WITHOUT ROWID;",
    // 4 -> 5: tools (shared/API.md, Tools (MCP)). NULL is the default everywhere, so that old
    // rows need no rewrite and a text chunk costs nothing more: a session's tools (a JSON array;
    // NULL: none) and tool approval (NULL: ask), an answer's tool calls (a JSON array), a chunk's
    // tool step (json.h storedToolStep). A turn waiting for an approval has not ended: the index
    // of unfinished turns covers it.
    "ALTER TABLE sessions ADD COLUMN tools TEXT;"
    "ALTER TABLE sessions ADD COLUMN tool_approval TEXT;"
    "ALTER TABLE messages ADD COLUMN tool_calls TEXT;"
    "ALTER TABLE chunks ADD COLUMN tool TEXT;"
    "DROP INDEX turns_unfinished;"
    "CREATE INDEX turns_unfinished ON turns (state)"
    " WHERE state IN ('queued', 'streaming', 'waiting');",
    // 5 -> 6: the chunk log (sqlitechunklog.h). A chunk row per chunk, keyed by a random session
    // id, made each group commit rewrite a page of `chunks` (and one of `turns`) per running
    // turn. A batch is now one row appended at the tail of chunk_log, found through the turn's
    // key: numbers given in order, so that the index entries of running turns are at its tail
    // too. Existing turns are numbered in the order they were created; each old chunk becomes a
    // batch of one (hf_chunk_record packs it).
    "ALTER TABLE turns ADD COLUMN turn_key INTEGER;"
    "UPDATE turns SET turn_key = o.n FROM (SELECT session AS s, id AS i,"
    " row_number() OVER (ORDER BY created_at, session, id) AS n FROM turns) AS o"
    " WHERE turns.session = o.s AND turns.id = o.i;"
    "CREATE UNIQUE INDEX turns_by_key ON turns (turn_key);"
    "CREATE TABLE chunk_log (id INTEGER PRIMARY KEY, turn_key INTEGER NOT NULL,"
    " first_seq INTEGER NOT NULL, count INTEGER NOT NULL, data BLOB NOT NULL);"
    "INSERT INTO chunk_log (turn_key, first_seq, count, data)"
    " SELECT t.turn_key, c.seq, 1, hf_chunk_record(c.text, c.tool) FROM chunks c"
    " JOIN turns t ON t.session = c.session AND t.id = c.turn ORDER BY t.turn_key, c.seq;"
    "CREATE UNIQUE INDEX chunk_log_by_turn ON chunk_log (turn_key, first_seq);"
    "DROP TABLE chunks;",
};

namespace {

QString compact(const QJsonArray &a)
{
    return QString::fromUtf8(QJsonDocument(a).toJson(QJsonDocument::Compact));
}

QJsonArray arrayAt(const Query &q, int column)
{
    return q.isNull(column) ? QJsonArray()
                            : QJsonDocument::fromJson(q.text(column).toUtf8()).array();
}

} // namespace

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
    m.options.temperature = q.optionalReal(11);
    m.options.topP = q.optionalReal(12);
    if (!q.isNull(13))
        m.options.maxTokens = int(q.integer(13));
    if (!q.isNull(14))
        m.options.contextTokens = int(q.integer(14));
    // Written before tools (NULL): none, ask.
    for (const QJsonValue &v : arrayAt(q, 15))
        m.tools.append(v.toString());
    if (!q.isNull(16))
        m.toolApproval = toolApprovalFromName(q.text(16)).value_or(ToolApproval::Ask);
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
    for (const QJsonValue &v : arrayAt(q, 8)) {
        if (auto call = json::messageToolCallFromJson(v.toObject()))
            m.toolCalls.append(*call);
    }
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
    if (!q.isNull(11) || !q.isNull(12))
        t.usage = TokenUsage{q.integer(11), q.integer(12)};
    if (!q.isNull(13) || !q.isNull(14))
        t.context = ContextUse{int(q.integer(13)), int(q.integer(14))};
    t.firstChunkAt = q.isNull(15) ? QDateTime() : fromIso(q.text(15));
    return t;
}

Attachment readAttachment(const Query &q, int first)
{
    Attachment a;
    a.id = q.text(first);
    a.name = q.text(first + 1);
    a.type = q.text(first + 2);
    a.size = q.integer(first + 3);
    a.createdAt = fromIso(q.text(first + 4));
    return a;
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
    bindOptions(q, m.options);
    bindTools(q, m);
}

void bindTools(Query &q, const SessionMeta &m)
{
    q.add(m.tools.isEmpty() ? QString() : compact(QJsonArray::fromStringList(m.tools)));
    q.add(m.toolApproval == ToolApproval::Ask ? QString() : toolApprovalName(m.toolApproval));
}

void bindOptions(Query &q, const TurnOptions &o)
{
    q.addOptional(o.temperature);
    q.addOptional(o.topP);
    q.addOptional(o.maxTokens);
    q.addOptional(o.contextTokens);
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
    QJsonArray calls;
    for (const MessageToolCall &call : m.toolCalls)
        calls.append(json::toJson(call));
    q.add(calls.isEmpty() ? QString() : compact(calls));
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
    q.addOptional(t.usage ? std::optional(t.usage->promptTokens) : std::nullopt);
    q.addOptional(t.usage ? std::optional(t.usage->completionTokens) : std::nullopt);
    q.addOptional(t.context ? std::optional(t.context->messages) : std::nullopt);
    q.addOptional(t.context ? std::optional(t.context->dropped) : std::nullopt);
    q.addIso(t.firstChunkAt);
}

} // namespace holdfast::sqlite
