#pragma once

// The SQLite store's schema: its versions and the steps from each to the next, the columns of
// each record and the mapping between rows and records.

#include "core/types.h"
#include "store/sqlitestatement.h"

namespace holdfast::sqlite {

// Version 1 was the first release; version 2 added the indexes for listing and recovery;
// version 3 the conversation tree.
constexpr int kSchemaVersion = 3;

// 'HFDB' in PRAGMA application_id: marks a file as a Holdfast database.
extern const int kApplicationId;
// kMigrations[N] takes a file from version N to N + 1 (statements separated by ';').
extern const char *const kMigrations[kSchemaVersion];

// The columns read by readMeta, readMessage and readTurn, in their order; written by bindMeta,
// bindMessage and bindTurn in the same order.
#define HF_META_COLUMNS                                                                            \
    "id, title, system, model, created_at, updated_at, total, active_turn, last_turn, head, "      \
    "length"
#define HF_MESSAGE_COLUMNS "idx, role, content, turn, state, created_at, parent, depth"
#define HF_TURN_COLUMNS                                                                            \
    "session, id, state, prompt_index, response_index, chunks, model, created_at, finished_at, "   \
    "error_code, error_message"

SessionMeta readMeta(const Query &q);
Message readMessage(const Query &q);
TurnRecord readTurn(const Query &q);
void bindMeta(Query &q, const SessionMeta &m);
// Binds (session, then HF_MESSAGE_COLUMNS).
void bindMessage(Query &q, const QString &sid, const Message &m);
void bindTurn(Query &q, const TurnRecord &t);
// A message index, or NULL for -1 (no message: a first message's parent, an empty head).
void addIndex(Query &q, qint64 index);

} // namespace holdfast::sqlite
