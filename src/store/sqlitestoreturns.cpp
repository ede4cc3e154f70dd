// The SQLite store's calls on a running turn: its chunks (a row of the chunk log per batch,
// sqlitechunklog.h), its state (streaming <-> waiting) and the turns a crash left unfinished.
#include "store/sqlitechunklog.h"
#include "store/sqliteconnection.h"
#include "store/sqliteschema.h"

namespace holdfast {

using namespace sqlite;

namespace {

using LiveTurn = SqliteStore::Connection::LiveTurn;

// The running turn `tid` of `sid` as the chunk log sees it: from memory, else (its first batch
// since the start) from the file. NotFound for no such turn, Conflict for one that has ended.
Result<LiveTurn *> liveTurn(SqliteStore::Connection &c, const QString &sid, int tid, int first)
{
    const std::pair<QString, int> id(sid, tid);
    if (auto it = c.liveTurns.find(id); it != c.liveTurns.end())
        return &*it;
    Query q = c.query("SELECT turn_key, state, chunks FROM turns WHERE session = ? AND id = ?");
    q.add(sid);
    q.add(tid);
    if (Status s = q.exec(QStringLiteral("storing chunks")); !s)
        return s.error();
    if (!q.next())
        return makeError(ErrorCode::NotFound,
                         QStringLiteral("turn %1 of '%2' does not exist").arg(tid).arg(sid));
    const QString state = q.text(1);
    TurnRecord probe;
    probe.state = turnStateFromName(state).value_or(TurnRecord::State::Error);
    if (q.isNull(0) || probe.ended()) {
        const QString detail = QStringLiteral("chunk %1 does not follow the %2 stored chunks of "
                                              "turn %3 of '%4' (state %5)")
                                   .arg(first)
                                   .arg(q.integer(2))
                                   .arg(tid)
                                   .arg(sid, state);
        return makeError(ErrorCode::Conflict, detail);
    }
    LiveTurn live;
    live.key = q.integer(0);
    q.reset();
    Query last = c.query("SELECT first_seq + count FROM chunk_log WHERE turn_key = ?"
                         " ORDER BY first_seq DESC LIMIT 1");
    last.add(live.key);
    if (Status s = last.exec(QStringLiteral("storing chunks")); !s)
        return s.error();
    if (last.next())
        live.next = int(last.integer(0));
    last.reset();
    return &*c.liveTurns.insert(id, live);
}

} // namespace

QCoro::Task<Status> SqliteStore::appendChunks(QString sid, int tid, QList<Chunk> chunks)
{
    if (chunks.isEmpty())
        co_return Ok{};
    for (qsizetype i = 1; i < chunks.size(); ++i) {
        if (chunks.at(i).seq != chunks.constFirst().seq + i)
            co_return makeError(
                ErrorCode::Conflict,
                QStringLiteral("chunks of turn %1 of '%2' are not consecutive").arg(tid).arg(sid));
    }
    // Packed here, on the caller's thread: the worker only writes.
    auto work = [sid, tid, first = chunks.constFirst().seq, count = int(chunks.size()),
                 batch = packChunks(chunks)](Connection &c) -> Status {
        // The chunks must continue the turn's stream exactly (no gap, no repeat) and the turn
        // must still be running.
        auto live = liveTurn(c, sid, tid, first);
        if (!live)
            return live.error();
        if ((*live)->next != first)
            return makeError(ErrorCode::Conflict,
                             QStringLiteral("chunk %1 does not follow the %2 stored chunks of "
                                            "turn %3 of '%4'")
                                 .arg(first)
                                 .arg((*live)->next)
                                 .arg(tid)
                                 .arg(sid));
        Query ins = c.query("INSERT INTO chunk_log (turn_key, first_seq, count, data)"
                            " VALUES (?, ?, ?, ?)");
        ins.add((*live)->key);
        ins.add(first);
        ins.add(count);
        ins.addBlob(batch);
        if (Status s = ins.exec(QStringLiteral("storing chunks")); !s)
            return s;
        // The batch that holds chunk 0 also stores when it was written: the only batch that
        // writes the turns row.
        if (first == 0) {
            Query upd = c.query("UPDATE turns SET first_chunk_at = COALESCE(first_chunk_at, ?)"
                                " WHERE session = ? AND id = ?");
            upd.addIso(QDateTime::currentDateTimeUtc());
            upd.add(sid);
            upd.add(tid);
            if (Status s = upd.exec(QStringLiteral("storing chunks")); !s)
                return s;
        }
        (*live)->next = first + count; // last: a write that failed has not advanced it
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
        QList<Chunk> chunks;
        if (limit <= 0)
            return chunks;
        qint64 key = 0;
        {
            Query q = c.query("SELECT turn_key FROM turns WHERE session = ? AND id = ?");
            q.add(sid);
            q.add(tid);
            if (Status s = q.exec(QStringLiteral("loading chunks")); !s)
                return s.error();
            if (!q.next() || q.isNull(0))
                return chunks;
            key = q.integer(0);
            q.reset();
        }
        // From the batch that holds `from` (the last one that starts at or before it) forward,
        // through the (turn_key, first_seq) index: what is read is what was asked, give or take
        // the rest of the first and last batch.
        Query q = c.query("SELECT first_seq, data FROM chunk_log WHERE turn_key = ?1"
                          " AND first_seq >= coalesce((SELECT first_seq FROM chunk_log"
                          " WHERE turn_key = ?1 AND first_seq <= ?2"
                          " ORDER BY first_seq DESC LIMIT 1), 0) ORDER BY first_seq");
        q.add(key);
        q.add(from);
        if (Status s = q.exec(QStringLiteral("loading chunks")); !s)
            return s.error();
        while (chunks.size() < limit && q.next()) {
            if (!unpackChunks(q.blobView(1), int(q.integer(0)), from, limit, chunks))
                break;
        }
        q.reset();
        return chunks;
    };
    auto r = co_await run<R>(std::move(work));
    co_return std::move(*r);
}

QCoro::Task<Result<QList<TurnRecord>>> SqliteStore::unfinishedTurns()
{
    using R = Result<QList<TurnRecord>>;
    auto work = [](Connection &c) -> R {
        // The chunk count of each comes from its chunk log (HF_TURN_SELECT): what recovery
        // puts in the interrupted answer.
        Query q = c.query("SELECT " HF_TURN_SELECT " FROM turns"
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
