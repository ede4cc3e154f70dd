// The SQLite store: each Store call as work for its worker thread, in SQL over the schema of
// sqliteschema.h (a running turn's calls are in sqlitestoreturns.cpp). One short function per
// Store call, and the helpers they share.
#include "store/sqlitestore.h"

#include "core/logging.h"
#include "store/sqliteconnection.h"
#include "store/sqliteschema.h"

#include <algorithm>

namespace holdfast {

using namespace sqlite;

namespace {

// Each message's siblings: its parent's children, read once per parent through the
// (session, parent) index.
Status fillSiblings(SqliteStore::Connection &c, const QString &sid, QList<Message> &messages)
{
    QHash<qint64, QList<qint64>> children;
    Query q = c.query("SELECT idx FROM messages WHERE session = ? AND parent IS ? ORDER BY idx");
    for (Message &m : messages) {
        auto it = children.find(m.parent);
        if (it == children.end()) {
            q.add(sid);
            addIndex(q, m.parent);
            if (Status s = q.exec(QStringLiteral("loading siblings")); !s)
                return s;
            QList<qint64> found;
            while (q.next())
                found.append(q.integer(0));
            q.reset();
            it = children.insert(m.parent, found);
        }
        m.siblings = *it;
    }
    return Ok{};
}

// Each message's attachments (metadata only: the bytes are in another table), with one query
// through the link rows' primary key: the range of the messages' indexes when they follow one
// another (a page, an unbranched window), else the indexes themselves as one JSON array (a
// branch's scattered indexes cost what its messages do, not the range between them).
Status fillAttachments(SqliteStore::Connection &c, const QString &sid, QList<Message> &messages)
{
    if (messages.isEmpty())
        return Ok{};
    QHash<qint64, Message *> byIndex;
    QByteArray indexes = "[";
    qint64 low = messages.constFirst().index;
    qint64 high = low;
    for (Message &m : messages) {
        byIndex.insert(m.index, &m);
        indexes += QByteArray::number(m.index) + ',';
        low = std::min(low, m.index);
        high = std::max(high, m.index);
    }
    indexes.back() = ']';
    const bool range = high - low + 1 == qint64(byIndex.size());
    Query q = range ? c.query("SELECT l.idx, a.id, a.name, a.type, a.size, a.created_at"
                              " FROM message_attachments l JOIN attachments a"
                              " ON a.session = l.session AND a.id = l.attachment"
                              " WHERE l.session = ? AND l.idx BETWEEN ? AND ?"
                              " ORDER BY l.idx, l.position")
                    : c.query("SELECT l.idx, a.id, a.name, a.type, a.size, a.created_at"
                              " FROM message_attachments l JOIN attachments a"
                              " ON a.session = l.session AND a.id = l.attachment"
                              " WHERE l.session = ? AND l.idx IN (SELECT value FROM json_each(?))"
                              " ORDER BY l.idx, l.position");
    q.add(sid);
    if (range) {
        q.add(low);
        q.add(high);
    } else {
        q.add(QString::fromLatin1(indexes));
    }
    if (Status s = q.exec(QStringLiteral("loading attachments")); !s)
        return s;
    while (q.next()) {
        if (Message *m = byIndex.value(q.integer(0)))
            m->attachments.append(readAttachment(q, 1));
    }
    return Ok{};
}

// Siblings and attachments: what a load adds to the message rows.
Status completeMessages(SqliteStore::Connection &c, const QString &sid, QList<Message> &messages)
{
    if (Status s = fillSiblings(c, sid, messages); !s)
        return s;
    return fillAttachments(c, sid, messages);
}

// Links a prompt's attachments to it, in order, and marks them used (never deleted as unlinked).
Status linkAttachments(SqliteStore::Connection &c, const QString &sid, const Message &prompt)
{
    Query mark = c.query("UPDATE attachments SET linked = 1 WHERE session = ? AND id = ?");
    Query link = c.query("INSERT INTO message_attachments (session, idx, position, attachment)"
                         " VALUES (?, ?, ?, ?)");
    for (qsizetype i = 0; i < prompt.attachments.size(); ++i) {
        const QString &aid = prompt.attachments.at(i).id;
        mark.add(sid);
        mark.add(aid);
        if (Status s = mark.exec(QStringLiteral("linking attachments")); !s)
            return s;
        if (mark.changes() == 0)
            return makeError(
                ErrorCode::NotFound,
                QStringLiteral("attachment '%1' of '%2' does not exist").arg(aid, sid));
        link.add(sid);
        link.add(prompt.index);
        link.add(qint64(i));
        link.add(aid);
        if (Status s = link.exec(QStringLiteral("linking attachments")); !s)
            return s;
    }
    return Ok{};
}

} // namespace

struct SqliteStore::PendingWrite
{
    WriteBody body;
    bool chunkBatch = false;
    Handoff::Result<std::optional<Status>> result;
};

SqliteStore::SqliteStore(QString path, QObject *parent) : Store(parent), m_path(std::move(path))
{
    // One thread owns the connection for the store's whole life: SQLite connections must not
    // move between threads, and one writer is what SQLite wants anyway.
    m_pool.setMaxThreadCount(1);
    m_pool.setExpiryTimeout(-1);
    m_pool.setObjectName(QStringLiteral("holdfast-sqlite"));
    m_connection = std::make_unique<Connection>(m_path);
}

SqliteStore::~SqliteStore()
{
    m_pool.start([this] { m_connection->close(); });
    m_pool.waitForDone();
}

Handoff::Result<std::optional<Status>> SqliteStore::write(WriteBody body, bool chunkBatch)
{
    auto pending = std::make_shared<PendingWrite>(
        PendingWrite{std::move(body), chunkBatch, m_handoff.expect<std::optional<Status>>()});
    const auto done = pending->result;
    bool schedule = false;
    {
        QMutexLocker lock(&m_pendingMutex);
        m_pending.append(std::move(pending));
        schedule = !std::exchange(m_flushScheduled, true);
    }
    if (schedule)
        m_pool.start([this] { flushWrites(); });
    return done;
}

// Worker thread: writes everything queued so far, in order, in one transaction. Each write has
// its own savepoint, so one that fails (a conflict, an unknown turn) fails alone with its own
// error. When the transaction fails (the commit on a full disk), nothing of it was stored and
// every write in it reports that error.
void SqliteStore::flushWrites()
{
    QList<std::shared_ptr<PendingWrite>> writes;
    {
        QMutexLocker lock(&m_pendingMutex);
        writes.swap(m_pending);
        m_flushScheduled = false;
    }
    if (writes.isEmpty())
        return;
    Connection &c = *m_connection;
    QList<std::optional<Status>> failures(writes.size());
    const Status all = c.transaction([&]() -> Status {
        for (qsizetype i = 0; i < writes.size(); ++i) {
            if (Status s = c.command("SAVEPOINT write"); !s)
                return s;
            const quint64 rowsBefore = c.rows.load();
            Status s = writes.at(i)->body(c);
            if (!s) {
                if (!c.inTransaction())
                    return s; // SQLite rolled back everything: every write failed
                c.command("ROLLBACK TO write");
                c.rows = rowsBefore;
                failures[i] = std::move(s);
            }
            if (Status r = c.command("RELEASE write"); !r)
                return r;
        }
        return Ok{};
    });
    const auto chunkBatches = quint64(
        std::count_if(writes.cbegin(), writes.cend(),
                      [](const std::shared_ptr<PendingWrite> &w) { return w->chunkBatch; }));
    m_writeTransactions += 1;
    m_writes += quint64(writes.size());
    m_chunkTransactions += chunkBatches > 0 ? 1 : 0;
    m_chunkBatches += chunkBatches;
    if (!all) { // their counts may have advanced past what was stored
        c.liveTurns.clear();
        c.lastTurnKey = -1;
    }
    const quint64 rows = c.rows.exchange(0);
    if (rows && all)
        countRows(rows);
    // Every caller of this batch is resumed by one wake-up of its thread.
    for (qsizetype i = 0; i < writes.size(); ++i)
        writes.at(i)->result.complete(all ? failures.at(i).value_or(Status(Ok{})) : all);
}

QCoro::Task<Status> SqliteStore::open()
{
    auto opened = m_handoff.expect<std::optional<Status>>();
    m_pool.start([this, opened] { opened.complete(std::optional<Status>(m_connection->open())); });
    const std::optional<Status> result = co_await opened;
    if (*result)
        qCInfo(lcStore) << "opened" << describe() << "schema version" << kSchemaVersion;
    co_return *result;
}

QCoro::Task<Status> SqliteStore::createSession(SessionMeta meta)
{
    auto work = [meta](Connection &c) -> Status {
        Query q = c.query("INSERT INTO sessions (" HF_META_COLUMNS ") VALUES (" HF_META_VALUES ")");
        bindMeta(q, meta);
        Status s = q.exec(QStringLiteral("creating session"));
        if (!s && s.error().code == ErrorCode::Conflict)
            return makeError(ErrorCode::Conflict,
                             QStringLiteral("session '%1' already exists").arg(meta.id));
        return s;
    };
    auto r = co_await write(std::move(work));
    co_return std::move(*r);
}

QCoro::Task<Result<std::optional<SessionMeta>>> SqliteStore::loadSession(QString id)
{
    using R = Result<std::optional<SessionMeta>>;
    auto work = [id](Connection &c) -> R {
        Query q = c.query("SELECT " HF_META_COLUMNS " FROM sessions WHERE id = ?");
        q.add(id);
        if (Status s = q.exec(QStringLiteral("loading session")); !s)
            return s.error();
        std::optional<SessionMeta> meta;
        if (q.next())
            meta = readMeta(q);
        return meta;
    };
    auto r = co_await run<R>(std::move(work));
    co_return std::move(*r);
}

QCoro::Task<Status> SqliteStore::saveSessionMeta(SessionMeta meta)
{
    auto work = [meta](Connection &c) -> Status { return c.updateMeta(meta); };
    auto r = co_await write(std::move(work));
    co_return std::move(*r);
}

QCoro::Task<Status> SqliteStore::deleteSession(QString id)
{
    auto work = [id](Connection &c) -> Status {
        for (auto it = c.liveTurns.begin(); it != c.liveTurns.end();)
            it = it.key().first == id ? c.liveTurns.erase(it) : std::next(it);
        for (const char *sql :
             {"DELETE FROM chunk_log WHERE turn_key IN"
              " (SELECT turn_key FROM turns WHERE session = ?)",
              "DELETE FROM turns WHERE session = ?",
              "DELETE FROM message_attachments WHERE session = ?",
              "DELETE FROM attachment_bytes WHERE session = ?",
              "DELETE FROM attachments WHERE session = ?", "DELETE FROM messages WHERE session = ?",
              "DELETE FROM sessions WHERE id = ?"}) {
            Query q = c.query(sql);
            q.add(id);
            if (Status s = q.exec(QStringLiteral("deleting session")); !s)
                return s;
        }
        return Ok{};
    };
    auto r = co_await write(std::move(work));
    co_return std::move(*r);
}

QCoro::Task<Result<SessionPage>> SqliteStore::listSessions(QString query, int limit, int offset)
{
    using R = Result<SessionPage>;
    auto work = [query, limit, offset](Connection &c) -> R {
        SessionPage page;
        const bool filtered = !query.isEmpty();
        const QString pattern = query;
        {
            Query count =
                c.query(filtered ? "SELECT count(*) FROM sessions s WHERE hf_contains(s.title, ?)"
                                   " OR EXISTS (SELECT 1 FROM messages m WHERE m.session = s.id AND"
                                   " hf_contains(m.content, ?))"
                                 : "SELECT count(*) FROM sessions");
            if (filtered) {
                count.add(pattern);
                count.add(pattern);
            }
            if (Status s = count.exec(QStringLiteral("listing sessions")); !s)
                return s.error();
            if (count.next())
                page.total = count.integer(0);
        }

        Query q = c.query(filtered ? "SELECT " HF_META_COLUMNS " FROM sessions s WHERE"
                                     " hf_contains(s.title, ?) OR EXISTS (SELECT 1 FROM messages m"
                                     " WHERE m.session = s.id AND hf_contains(m.content, ?))"
                                     " ORDER BY updated_at DESC, id LIMIT ? OFFSET ?"
                                   : "SELECT " HF_META_COLUMNS " FROM sessions"
                                     " ORDER BY updated_at DESC, id LIMIT ? OFFSET ?");
        if (filtered) {
            q.add(pattern);
            q.add(pattern);
        }
        q.add(limit);
        q.add(offset);
        if (Status s = q.exec(QStringLiteral("listing sessions")); !s)
            return s.error();
        while (q.next())
            page.sessions.append(readMeta(q));
        return page;
    };
    auto r = co_await run<R>(std::move(work));
    co_return std::move(*r);
}

QCoro::Task<Result<QList<Message>>> SqliteStore::loadMessages(QString id, qint64 from, qint64 to)
{
    using R = Result<QList<Message>>;
    auto work = [id, from, to](Connection &c) -> R {
        QList<Message> messages;
        {
            Query q = c.query("SELECT " HF_MESSAGE_COLUMNS " FROM messages"
                              " WHERE session = ? AND idx >= ? AND idx < ? ORDER BY idx");
            q.add(id);
            q.add(from);
            q.add(to);
            if (Status s = q.exec(QStringLiteral("loading messages")); !s)
                return s.error();
            while (q.next())
                messages.append(readMessage(q));
        }
        if (Status s = completeMessages(c, id, messages); !s)
            return s.error();
        return messages;
    };
    auto r = co_await run<R>(std::move(work));
    co_return std::move(*r);
}

QCoro::Task<Result<QList<Message>>> SqliteStore::loadBranch(QString id, qint64 last, int limit)
{
    using R = Result<QList<Message>>;
    auto work = [id, last, limit](Connection &c) -> R {
        // One primary-key lookup per message, following parent links: O(limit), whatever the
        // size of the history and the number of branches.
        QList<Message> messages;
        Query q = c.query("SELECT " HF_MESSAGE_COLUMNS " FROM messages"
                          " WHERE session = ? AND idx = ?");
        for (qint64 at = last; at >= 0 && messages.size() < limit;) {
            q.add(id);
            q.add(at);
            if (Status s = q.exec(QStringLiteral("loading the branch")); !s)
                return s.error();
            if (!q.next())
                break;
            messages.append(readMessage(q));
            q.reset();
            // A parent always has a lower index: anything else would loop.
            const qint64 parent = messages.constLast().parent;
            at = parent < at ? parent : -1;
        }
        std::reverse(messages.begin(), messages.end());
        if (Status s = completeMessages(c, id, messages); !s)
            return s.error();
        return messages;
    };
    auto r = co_await run<R>(std::move(work));
    co_return std::move(*r);
}

QCoro::Task<Result<qint64>> SqliteStore::latestLeaf(QString id, qint64 from)
{
    using R = Result<qint64>;
    auto work = [id, from](Connection &c) -> R {
        {
            Query q = c.query("SELECT 1 FROM messages WHERE session = ? AND idx = ?");
            q.add(id);
            q.add(from);
            if (Status s = q.exec(QStringLiteral("finding the branch's end")); !s)
                return s.error();
            if (!q.next())
                return makeError(
                    ErrorCode::NotFound,
                    QStringLiteral("message %1 of '%2' does not exist").arg(from).arg(id));
        }
        // The newest child, again and again: one step down the (session, parent) index each.
        Query q = c.query("SELECT idx FROM messages WHERE session = ? AND parent = ?"
                          " ORDER BY idx DESC LIMIT 1");
        qint64 at = from;
        for (;;) {
            q.add(id);
            q.add(at);
            if (Status s = q.exec(QStringLiteral("finding the branch's end")); !s)
                return s.error();
            if (!q.next())
                return at;
            const qint64 child = q.integer(0);
            q.reset();
            if (child <= at)
                return at; // a parent always has a lower index: anything else would loop
            at = child;
        }
    };
    auto r = co_await run<R>(std::move(work));
    co_return std::move(*r);
}

QCoro::Task<Status> SqliteStore::beginTurn(SessionMeta meta, std::optional<Message> prompt,
                                           TurnRecord turn)
{
    auto work = [meta, prompt, turn](Connection &c) -> Status {
        if (prompt) {
            Query m = c.query("INSERT INTO messages (session, " HF_MESSAGE_COLUMNS
                              ") VALUES (" HF_MESSAGE_VALUES ")");
            bindMessage(m, meta.id, *prompt);
            if (Status s = m.exec(QStringLiteral("storing the prompt")); !s)
                return s;
            if (Status s = linkAttachments(c, meta.id, *prompt); !s)
                return s;
        }
        // The next key in the chunk log: the largest so far (read through its index once per
        // start), plus one.
        if (c.lastTurnKey < 0) {
            Query k = c.query("SELECT coalesce(max(turn_key), 0) FROM turns");
            if (Status s = k.exec(QStringLiteral("storing the turn")); !s)
                return s;
            c.lastTurnKey = k.next() ? k.integer(0) : 0;
            k.reset();
        }
        const qint64 key = c.lastTurnKey + 1;
        Query t = c.query("INSERT INTO turns (" HF_TURN_COLUMNS
                          ", turn_key) VALUES (" HF_TURN_VALUES ", ?)");
        bindTurn(t, turn);
        t.add(key);
        if (Status s = t.exec(QStringLiteral("storing the turn")); !s)
            return s;
        if (Status s = c.updateMeta(meta); !s)
            return s;
        // Known running with no chunk yet: its first batch needs no read of the file. Counted
        // only once the whole write succeeded (a failed transaction drops every live turn).
        c.lastTurnKey = key;
        if (!turn.ended())
            c.liveTurns.insert(std::pair(meta.id, turn.id), {key, 0});
        return Status(Ok{});
    };
    auto r = co_await write(std::move(work));
    co_return std::move(*r);
}

QCoro::Task<Status> SqliteStore::finishTurn(SessionMeta meta, std::optional<Message> answer,
                                            TurnRecord turn)
{
    auto work = [meta, answer, turn](Connection &c) mutable -> Status {
        // An ended turn takes no chunk: the next batch reads its state from the file.
        c.liveTurns.remove(std::pair(turn.session, turn.id));
        std::optional<qint64> key;
        {
            // The stored first_chunk_at wins: it is when chunk 0 was written. The key stays
            // the turn's: its chunks are found through it.
            Query q =
                c.query("SELECT first_chunk_at, turn_key FROM turns WHERE session = ? AND id = ?");
            q.add(turn.session);
            q.add(turn.id);
            if (Status s = q.exec(QStringLiteral("storing the turn")); !s)
                return s;
            if (q.next()) {
                if (!q.isNull(0))
                    turn.firstChunkAt = fromIso(q.text(0));
                key = q.optionalInteger(1);
            }
            q.reset();
        }
        if (answer) {
            // INSERT OR REPLACE: a retried save after an unknown outcome stays exactly-once.
            Query m = c.query("INSERT OR REPLACE INTO messages (session, " HF_MESSAGE_COLUMNS
                              ") VALUES (" HF_MESSAGE_VALUES ")");
            bindMessage(m, meta.id, *answer);
            if (Status s = m.exec(QStringLiteral("storing the answer")); !s)
                return s;
        }
        Query t = c.query("INSERT OR REPLACE INTO turns (" HF_TURN_COLUMNS
                          ", turn_key) VALUES (" HF_TURN_VALUES ", ?)");
        bindTurn(t, turn);
        t.addOptional(key);
        if (Status s = t.exec(QStringLiteral("storing the turn")); !s)
            return s;
        return c.updateMeta(meta);
    };
    auto r = co_await write(std::move(work));
    co_return std::move(*r);
}

QCoro::Task<Result<std::optional<TurnRecord>>> SqliteStore::loadTurn(QString sid, int tid)
{
    using R = Result<std::optional<TurnRecord>>;
    auto work = [sid, tid](Connection &c) -> R {
        Query q = c.query("SELECT " HF_TURN_SELECT " FROM turns WHERE session = ? AND id = ?");
        q.add(sid);
        q.add(tid);
        if (Status s = q.exec(QStringLiteral("loading turn")); !s)
            return s.error();
        std::optional<TurnRecord> turn;
        if (q.next())
            turn = readTurn(q);
        return turn;
    };
    auto r = co_await run<R>(std::move(work));
    co_return std::move(*r);
}

QCoro::Task<Status> SqliteStore::putAttachment(QString sid, Attachment meta, QByteArray bytes)
{
    auto work = [sid, meta, bytes](Connection &c) -> Status {
        {
            Query q = c.query("SELECT 1 FROM sessions WHERE id = ?");
            q.add(sid);
            if (Status s = q.exec(QStringLiteral("storing an attachment")); !s)
                return s;
            if (!q.next())
                return makeError(ErrorCode::NotFound,
                                 QStringLiteral("session '%1' does not exist").arg(sid));
        }
        Query m = c.query("INSERT INTO attachments (session, " HF_ATTACHMENT_COLUMNS
                          ") VALUES (?, ?, ?, ?, ?, ?)");
        m.add(sid);
        m.add(meta.id);
        m.add(meta.name);
        m.add(meta.type);
        m.add(meta.size);
        m.addIso(meta.createdAt);
        Status s = m.exec(QStringLiteral("storing an attachment"));
        if (!s && s.error().code == ErrorCode::Conflict)
            return makeError(ErrorCode::Conflict,
                             QStringLiteral("attachment '%1' already exists").arg(meta.id));
        if (!s)
            return s;
        // The bytes are written once, here, and read only by loadAttachmentBytes.
        Query b = c.query("INSERT INTO attachment_bytes (session, id, bytes) VALUES (?, ?, ?)");
        b.add(sid);
        b.add(meta.id);
        b.addBlob(bytes);
        return b.exec(QStringLiteral("storing an attachment"));
    };
    auto r = co_await write(std::move(work));
    co_return std::move(*r);
}

QCoro::Task<Result<std::optional<Attachment>>> SqliteStore::loadAttachment(QString sid, QString aid)
{
    using R = Result<std::optional<Attachment>>;
    auto work = [sid, aid](Connection &c) -> R {
        Query q = c.query("SELECT " HF_ATTACHMENT_COLUMNS " FROM attachments"
                          " WHERE session = ? AND id = ?");
        q.add(sid);
        q.add(aid);
        if (Status s = q.exec(QStringLiteral("loading an attachment")); !s)
            return s.error();
        std::optional<Attachment> found;
        if (q.next())
            found = readAttachment(q);
        return found;
    };
    auto r = co_await run<R>(std::move(work));
    co_return std::move(*r);
}

QCoro::Task<Result<std::optional<QByteArray>>> SqliteStore::loadAttachmentBytes(QString sid,
                                                                                QString aid)
{
    using R = Result<std::optional<QByteArray>>;
    auto work = [sid, aid](Connection &c) -> R {
        Query q = c.query("SELECT bytes FROM attachment_bytes WHERE session = ? AND id = ?");
        q.add(sid);
        q.add(aid);
        if (Status s = q.exec(QStringLiteral("loading an attachment's bytes")); !s)
            return s.error();
        std::optional<QByteArray> bytes;
        if (q.next())
            bytes = q.blob(0);
        return bytes;
    };
    auto r = co_await run<R>(std::move(work));
    co_return std::move(*r);
}

QCoro::Task<Result<qint64>> SqliteStore::deleteUnlinkedAttachments(QDateTime olderThan)
{
    // A write (it deletes), but with a count to answer: the count travels out through `deleted`.
    auto deleted = std::make_shared<std::atomic<qint64>>(0);
    auto work = [olderThan, deleted](Connection &c) -> Status {
        Query bytes = c.query("DELETE FROM attachment_bytes WHERE (session, id) IN"
                              " (SELECT session, id FROM attachments"
                              " WHERE linked = 0 AND created_at < ?)");
        bytes.addIso(olderThan);
        if (Status s = bytes.exec(QStringLiteral("deleting unlinked attachments")); !s)
            return s;
        Query meta = c.query("DELETE FROM attachments WHERE linked = 0 AND created_at < ?");
        meta.addIso(olderThan);
        if (Status s = meta.exec(QStringLiteral("deleting unlinked attachments")); !s)
            return s;
        *deleted = meta.changes();
        return Ok{};
    };
    auto r = co_await write(std::move(work));
    if (!*r)
        co_return r->error();
    co_return deleted->load();
}

} // namespace holdfast
