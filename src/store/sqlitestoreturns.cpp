// The SQLite store's calls on a running turn: its chunks (text, or a tool step in the nullable
// column `tool`), its state (streaming <-> waiting) and the turns a crash left unfinished.
#include "store/sqliteconnection.h"
#include "store/sqliteschema.h"

namespace holdfast {

using namespace sqlite;

QCoro::Task<Status> SqliteStore::appendChunks(QString sid, int tid, QList<Chunk> chunks)
{
    if (chunks.isEmpty())
        co_return Ok{};
    auto work = [sid, tid, chunks](Connection &c) -> Status {
        // The chunks must continue the turn's stream exactly (no gap, no repeat) and the
        // turn must still be running: checked and advanced by one conditional UPDATE.
        // The batch that holds chunk 0 also stores when it was written (first_chunk_at).
        Query upd =
            c.query("UPDATE turns SET chunks = ?, first_chunk_at = COALESCE(first_chunk_at, ?)"
                    " WHERE session = ? AND id = ? AND chunks = ?"
                    " AND state IN ('queued', 'streaming', 'waiting')");
        upd.add(chunks.constLast().seq + 1);
        upd.addIso(chunks.constFirst().seq == 0 ? QDateTime::currentDateTimeUtc() : QDateTime());
        upd.add(sid);
        upd.add(tid);
        upd.add(chunks.constFirst().seq);
        if (Status s = upd.exec(QStringLiteral("storing chunks")); !s)
            return s;
        if (upd.changes() == 0) {
            Query probe = c.query("SELECT chunks, state FROM turns WHERE session = ? AND id = ?");
            probe.add(sid);
            probe.add(tid);
            if (Status s = probe.exec(QStringLiteral("storing chunks")); !s)
                return s;
            if (!probe.next())
                return makeError(
                    ErrorCode::NotFound,
                    QStringLiteral("turn %1 of '%2' does not exist").arg(tid).arg(sid));
            const QString detail =
                QStringLiteral("chunk %1 does not follow the %2 stored chunks of turn %3 "
                               "of '%4' (state %5)")
                    .arg(chunks.constFirst().seq)
                    .arg(probe.integer(0))
                    .arg(tid)
                    .arg(sid, probe.text(1));
            return makeError(ErrorCode::Conflict, detail);
        }
        // A text chunk's tool is NULL: it costs what it did before tools.
        Query ins = c.query("INSERT INTO chunks (session, turn, seq, text, tool)"
                            " VALUES (?, ?, ?, ?, ?)");
        int expected = chunks.constFirst().seq;
        for (const Chunk &chunk : chunks) {
            if (chunk.seq != expected++)
                return makeError(ErrorCode::Conflict,
                                 QStringLiteral("chunks of turn %1 of '%2' are not "
                                                "consecutive")
                                     .arg(tid)
                                     .arg(sid));
            ins.add(sid);
            ins.add(tid);
            ins.add(chunk.seq);
            // A tool step's text is empty, maybe a null QString: NULL would break NOT NULL.
            ins.add(chunk.text.isNull() ? QStringLiteral("") : chunk.text);
            bindToolStep(ins, chunk);
            if (Status s = ins.exec(QStringLiteral("storing chunks")); !s)
                return s;
        }
        return Ok{};
    };
    auto r = co_await write(std::move(work), true);
    co_return std::move(*r);
}

QCoro::Task<Status> SqliteStore::saveTurnState(QString sid, int tid, TurnRecord::State state)
{
    if (Status s = checkRunningState(state); !s)
        co_return s;
    auto work = [sid, tid, state](Connection &c) -> Status {
        // Only a turn still running changes: an end is final.
        Query upd = c.query("UPDATE turns SET state = ? WHERE session = ? AND id = ?"
                            " AND state IN ('queued', 'streaming', 'waiting')");
        upd.add(turnStateName(state));
        upd.add(sid);
        upd.add(tid);
        if (Status s = upd.exec(QStringLiteral("storing the turn's state")); !s)
            return s;
        if (upd.changes() > 0)
            return Ok{};
        Query probe = c.query("SELECT 1 FROM turns WHERE session = ? AND id = ?");
        probe.add(sid);
        probe.add(tid);
        if (Status s = probe.exec(QStringLiteral("storing the turn's state")); !s)
            return s;
        if (!probe.next())
            return makeError(ErrorCode::NotFound,
                             QStringLiteral("turn %1 of '%2' does not exist").arg(tid).arg(sid));
        return Ok{};
    };
    auto r = co_await write(std::move(work));
    co_return std::move(*r);
}

QCoro::Task<Result<QList<Chunk>>> SqliteStore::loadChunks(QString sid, int tid, int from, int limit)
{
    using R = Result<QList<Chunk>>;
    auto work = [sid, tid, from, limit](Connection &c) -> R {
        Query q = c.query("SELECT seq, text, tool FROM chunks WHERE session = ? AND turn = ?"
                          " AND seq >= ? ORDER BY seq LIMIT ?");
        q.add(sid);
        q.add(tid);
        q.add(from);
        q.add(limit);
        if (Status s = q.exec(QStringLiteral("loading chunks")); !s)
            return s.error();
        QList<Chunk> chunks;
        while (q.next())
            chunks.append(readChunk(q));
        return chunks;
    };
    auto r = co_await run<R>(std::move(work));
    co_return std::move(*r);
}

QCoro::Task<Result<QList<TurnRecord>>> SqliteStore::unfinishedTurns()
{
    using R = Result<QList<TurnRecord>>;
    auto work = [](Connection &c) -> R {
        Query q = c.query("SELECT " HF_TURN_COLUMNS " FROM turns"
                          " WHERE state IN ('queued', 'streaming', 'waiting')"
                          " ORDER BY session, id");
        if (Status s = q.exec(QStringLiteral("finding unfinished turns")); !s)
            return s.error();
        QList<TurnRecord> turns;
        while (q.next())
            turns.append(readTurn(q));
        return turns;
    };
    auto r = co_await run<R>(std::move(work));
    co_return std::move(*r);
}

} // namespace holdfast
