#pragma once

// The SQLite store's chunk log: one row of table chunk_log per stored batch of a turn's chunks,
// the batch's chunks packed in one blob. A group commit then appends its bytes at the tail of
// the table instead of rewriting a B-tree page per chunk row.
//
// A batch is its chunks' records, one after another, each
//   u32 LE text bytes | u32 LE tool step bytes (0: a text chunk) | text UTF-8 | step JSON UTF-8
// (the tool step as json.h storedToolStep writes it, never empty for a step).

#include "core/types.h"

#include <sqlite3.h>

#include <QByteArray>
#include <QByteArrayView>
#include <QList>

namespace holdfast::sqlite {

// The batch of `chunks`: each one's record, in order.
QByteArray packChunks(const QList<Chunk> &chunks);

// Appends to `out` the chunks of a batch whose first chunk is `firstSeq`, from seq `from` on,
// until `out` holds `limit`. False (and a warning) on a damaged batch: what came before stays.
bool unpackChunks(QByteArrayView batch, int firstSeq, int from, qsizetype limit, QList<Chunk> &out);

// hf_chunk_record(text, tool): the record of one chunk (tool: the step's JSON, NULL for a text
// chunk), for the migration of version 5's chunk rows.
void chunkRecordFunction(sqlite3_context *context, int argc, sqlite3_value **argv);

} // namespace holdfast::sqlite
