#pragma once

// The SQLite store's schema: its versions and the steps from each to the next, the columns of
// each record and the mapping between rows and records.

#include "core/types.h"
#include "store/sqlitestatement.h"

namespace holdfast::sqlite {

// Version 1 was the first release; version 2 added the indexes for listing and recovery;
// version 3 the conversation tree; version 4 attachments, session options and a turn's usage,
// context and first chunk time; version 5 tools (a session's tools and approval, an answer's
// tool calls, a chunk's tool step, the turn state "waiting"); version 6 the chunk log (a row
// per stored batch of chunks, sqlitechunklog.h) and a turn's key in it.
constexpr int kSchemaVersion = 6;

// 'HFDB' in PRAGMA application_id: marks a file as a Holdfast database.
extern const int kApplicationId;
// kMigrations[N] takes a file from version N to N + 1 (statements separated by ';').
extern const char *const kMigrations[kSchemaVersion];

// The columns read by readMeta, readMessage and readTurn, in their order; written by bindMeta,
// bindMessage and bindTurn in the same order.
#define HF_META_COLUMNS                                                                            \
    "id, title, system, model, created_at, updated_at, total, active_turn, last_turn, head, "      \
    "length, temperature, top_p, max_tokens, context_tokens, tools, tool_approval"
#define HF_META_VALUES "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?"
#define HF_MESSAGE_COLUMNS "idx, role, content, turn, state, created_at, parent, depth, tool_calls"
// (session, then HF_MESSAGE_COLUMNS)
#define HF_MESSAGE_VALUES "?, ?, ?, ?, ?, ?, ?, ?, ?, ?"
#define HF_TURN_COLUMNS                                                                            \
    "session, id, state, prompt_index, response_index, chunks, model, created_at, finished_at, "   \
    "error_code, error_message, prompt_tokens, completion_tokens, context_messages, "              \
    "context_dropped, first_chunk_at"
#define HF_TURN_VALUES "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?"
// HF_TURN_COLUMNS as read from `turns`: a running turn's chunks are counted in the chunk log
// (its turns row is not rewritten per batch), an ended turn's are the count stored at its end.
#define HF_TURN_SELECT                                                                             \
    "session, id, state, prompt_index, response_index,"                                            \
    " CASE WHEN state IN ('queued', 'streaming', 'waiting') THEN coalesce((SELECT l.first_seq"     \
    " + l.count FROM chunk_log l WHERE l.turn_key = turns.turn_key ORDER BY l.first_seq DESC"      \
    " LIMIT 1), chunks) ELSE chunks END, model, created_at, finished_at, error_code,"              \
    " error_message, prompt_tokens, completion_tokens, context_messages, context_dropped,"         \
    " first_chunk_at"
// The columns read by readAttachment.
#define HF_ATTACHMENT_COLUMNS "id, name, type, size, created_at"

SessionMeta readMeta(const Query &q);
Message readMessage(const Query &q);
TurnRecord readTurn(const Query &q);
// From `first`, the HF_ATTACHMENT_COLUMNS.
Attachment readAttachment(const Query &q, int first = 0);
void bindMeta(Query &q, const SessionMeta &m);
// Binds (session, then HF_MESSAGE_COLUMNS).
void bindMessage(Query &q, const QString &sid, const Message &m);
void bindTurn(Query &q, const TurnRecord &t);
// Binds the session's options as in HF_META_COLUMNS.
void bindOptions(Query &q, const TurnOptions &o);
// Binds the session's tools and tool approval as in HF_META_COLUMNS (NULL for the defaults).
void bindTools(Query &q, const SessionMeta &m);
// A message index, or NULL for -1 (no message: a first message's parent, an empty head).
void addIndex(Query &q, qint64 index);

} // namespace holdfast::sqlite
