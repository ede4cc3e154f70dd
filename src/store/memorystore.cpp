#include "store/memorystore.h"

#include <algorithm>

namespace holdfast {

MemoryStore::MemoryStore(QObject *parent) : Store(parent) {}

QCoro::Task<Status> MemoryStore::open()
{
    co_return Ok{};
}

QCoro::Task<Status> MemoryStore::createSession(SessionMeta meta)
{
    if (m_sessions.contains(meta.id))
        co_return makeError(ErrorCode::Conflict,
                            QStringLiteral("session '%1' already exists").arg(meta.id));
    Data d;
    d.meta = meta;
    m_sessions.insert(meta.id, d);
    countRows(1);
    co_return Ok{};
}

QCoro::Task<Result<std::optional<SessionMeta>>> MemoryStore::loadSession(QString id)
{
    auto it = m_sessions.constFind(id);
    if (it == m_sessions.constEnd())
        co_return std::optional<SessionMeta>{};
    co_return std::optional<SessionMeta>{it->meta};
}

QCoro::Task<Status> MemoryStore::saveSessionMeta(SessionMeta meta)
{
    auto it = m_sessions.find(meta.id);
    if (it == m_sessions.end())
        co_return makeError(ErrorCode::NotFound,
                            QStringLiteral("session '%1' does not exist").arg(meta.id));
    it->meta = meta;
    countRows(1);
    co_return Ok{};
}

QCoro::Task<Status> MemoryStore::deleteSession(QString id)
{
    m_sessions.remove(id);
    countRows(1);
    co_return Ok{};
}

QCoro::Task<Result<SessionPage>> MemoryStore::listSessions(QString query, int limit, int offset)
{
    QList<SessionMeta> matches;
    for (const Data &d : std::as_const(m_sessions)) {
        bool match = query.isEmpty() || d.meta.title.contains(query, Qt::CaseInsensitive);
        for (qsizetype i = 0; !match && i < d.messages.size(); ++i)
            match = d.messages.at(i).content.contains(query, Qt::CaseInsensitive);
        if (match)
            matches.append(d.meta);
    }
    std::sort(matches.begin(), matches.end(), [](const SessionMeta &a, const SessionMeta &b) {
        if (a.updatedAt != b.updatedAt)
            return a.updatedAt > b.updatedAt;
        return a.id < b.id;
    });
    SessionPage page;
    page.total = matches.size();
    page.sessions = matches.mid(offset, limit);
    co_return page;
}

QCoro::Task<Result<QList<Message>>> MemoryStore::loadMessages(QString id, qint64 from, qint64 to)
{
    auto it = m_sessions.constFind(id);
    if (it == m_sessions.constEnd())
        co_return QList<Message>{};
    from = std::max<qint64>(0, from);
    to = std::min<qint64>(to, it->messages.size());
    QList<Message> out;
    for (qint64 i = from; i < to; ++i)
        out.append(withSiblings(*it, it->messages.at(i)));
    co_return out;
}

QCoro::Task<Result<QList<Message>>> MemoryStore::loadBranch(QString id, qint64 last, int limit)
{
    QList<Message> out;
    auto it = m_sessions.constFind(id);
    if (it == m_sessions.constEnd())
        co_return out;
    for (qint64 i = last; i >= 0 && i < it->messages.size() && out.size() < limit;
         i = it->messages.at(i).parent)
        out.append(withSiblings(*it, it->messages.at(i)));
    std::reverse(out.begin(), out.end());
    co_return out;
}

QCoro::Task<Result<qint64>> MemoryStore::latestLeaf(QString id, qint64 from)
{
    auto it = m_sessions.constFind(id);
    if (it == m_sessions.constEnd() || from < 0 || from >= it->messages.size())
        co_return makeError(ErrorCode::NotFound,
                            QStringLiteral("message %1 of '%2' does not exist").arg(from).arg(id));
    qint64 at = from;
    for (auto c = it->children.constFind(at); c != it->children.constEnd() && !c->isEmpty();
         c = it->children.constFind(at))
        at = c->last();
    co_return at;
}

void MemoryStore::put(Data &d, const Message &m)
{
    if (m.index < d.messages.size()) {
        d.messages[m.index] = m; // the same message saved again: already linked
        return;
    }
    d.messages.append(m);
    d.children[m.parent].append(m.index);
}

Message MemoryStore::withSiblings(const Data &d, Message m)
{
    m.siblings = d.children.value(m.parent);
    return m;
}

Message MemoryStore::withAttachments(const Data &d, Message m)
{
    for (Attachment &a : m.attachments)
        a = d.attachments.value(a.id, a);
    return m;
}

QCoro::Task<Status> MemoryStore::beginTurn(SessionMeta meta, std::optional<Message> prompt,
                                           TurnRecord turn)
{
    auto it = m_sessions.find(meta.id);
    if (it == m_sessions.end())
        co_return makeError(ErrorCode::NotFound,
                            QStringLiteral("session '%1' does not exist").arg(meta.id));
    // Checked before anything is written: an unknown attachment stores nothing (as in the
    // other stores' transactions).
    for (const Attachment &a : prompt ? prompt->attachments : QList<Attachment>()) {
        if (!it->attachments.contains(a.id))
            co_return makeError(
                ErrorCode::NotFound,
                QStringLiteral("attachment '%1' of '%2' does not exist").arg(a.id, meta.id));
    }
    it->meta = meta;
    if (prompt) {
        put(*it, withAttachments(*it, *prompt));
        for (const Attachment &a : std::as_const(prompt->attachments))
            it->linked.insert(a.id);
    }
    it->turns.insert(turn.id, turn);
    countRows(3);
    co_return Ok{};
}

QCoro::Task<Status> MemoryStore::appendChunks(QString sid, int tid, QList<Chunk> chunks)
{
    auto it = m_sessions.find(sid);
    if (it == m_sessions.end() || !it->turns.contains(tid))
        co_return makeError(ErrorCode::NotFound,
                            QStringLiteral("turn %1 of '%2' does not exist").arg(tid).arg(sid));
    QList<Chunk> &stored = it->chunks[tid];
    const TurnRecord &turn = it->turns[tid];
    if (turn.ended())
        co_return makeError(ErrorCode::Conflict,
                            QStringLiteral("turn %1 of '%2' has ended").arg(tid).arg(sid));
    for (qsizetype i = 0; i < chunks.size(); ++i) {
        if (chunks.at(i).seq != stored.size() + i)
            co_return makeError(
                ErrorCode::Conflict,
                QStringLiteral("chunk %1 does not follow the %2 stored chunks of turn %3 of '%4'")
                    .arg(chunks.at(i).seq)
                    .arg(stored.size() + i)
                    .arg(tid)
                    .arg(sid));
    }
    if (stored.isEmpty() && !chunks.isEmpty())
        it->turns[tid].firstChunkAt = QDateTime::currentDateTimeUtc();
    stored.append(chunks);
    it->turns[tid].chunks = stored.size();
    countRows(chunks.size() + 1);
    co_return Ok{};
}

QCoro::Task<Status> MemoryStore::finishTurn(SessionMeta meta, std::optional<Message> answer,
                                            TurnRecord turn)
{
    auto it = m_sessions.find(meta.id);
    if (it == m_sessions.end())
        co_return makeError(ErrorCode::NotFound,
                            QStringLiteral("session '%1' does not exist").arg(meta.id));
    it->meta = meta;
    // A retried final save (its first outcome unknown) replaces instead of appending twice.
    if (answer)
        put(*it, *answer);
    // The stored first_chunk_at wins: it is when the chunk was written.
    if (const TurnRecord stored = it->turns.value(turn.id); stored.firstChunkAt.isValid())
        turn.firstChunkAt = stored.firstChunkAt;
    it->turns.insert(turn.id, turn);
    countRows(answer ? 3 : 2);
    co_return Ok{};
}

QCoro::Task<Status> MemoryStore::saveTurnState(QString sid, int tid, TurnRecord::State state)
{
    if (Status s = checkRunningState(state); !s)
        co_return s;
    auto it = m_sessions.find(sid);
    if (it == m_sessions.end() || !it->turns.contains(tid))
        co_return makeError(ErrorCode::NotFound,
                            QStringLiteral("turn %1 of '%2' does not exist").arg(tid).arg(sid));
    TurnRecord &turn = it->turns[tid];
    if (turn.ended())
        co_return Ok{}; // an end is final
    turn.state = state;
    countRows(1);
    co_return Ok{};
}

QCoro::Task<Result<std::optional<TurnRecord>>> MemoryStore::loadTurn(QString sid, int tid)
{
    auto it = m_sessions.constFind(sid);
    if (it == m_sessions.constEnd() || !it->turns.contains(tid))
        co_return std::optional<TurnRecord>{};
    co_return std::optional<TurnRecord>{it->turns.value(tid)};
}

QCoro::Task<Result<QList<Chunk>>> MemoryStore::loadChunks(QString sid, int tid, int from, int limit)
{
    auto it = m_sessions.constFind(sid);
    if (it == m_sessions.constEnd())
        co_return QList<Chunk>{};
    const QList<Chunk> stored = it->chunks.value(tid);
    co_return stored.mid(std::max(0, from), limit);
}

QCoro::Task<Result<QList<TurnRecord>>> MemoryStore::unfinishedTurns()
{
    QList<TurnRecord> result;
    for (const Data &d : std::as_const(m_sessions)) {
        for (const TurnRecord &t : d.turns) {
            if (!t.ended())
                result.append(t);
        }
    }
    co_return result;
}

QCoro::Task<Status> MemoryStore::putAttachment(QString sid, Attachment meta, QByteArray bytes)
{
    auto it = m_sessions.find(sid);
    if (it == m_sessions.end())
        co_return makeError(ErrorCode::NotFound,
                            QStringLiteral("session '%1' does not exist").arg(sid));
    if (it->attachments.contains(meta.id))
        co_return makeError(ErrorCode::Conflict,
                            QStringLiteral("attachment '%1' already exists").arg(meta.id));
    it->attachments.insert(meta.id, meta);
    it->attachmentBytes.insert(meta.id, bytes);
    countRows(2);
    co_return Ok{};
}

QCoro::Task<Result<std::optional<Attachment>>> MemoryStore::loadAttachment(QString sid, QString aid)
{
    auto it = m_sessions.constFind(sid);
    if (it == m_sessions.constEnd() || !it->attachments.contains(aid))
        co_return std::optional<Attachment>{};
    co_return std::optional<Attachment>{it->attachments.value(aid)};
}

QCoro::Task<Result<std::optional<QByteArray>>> MemoryStore::loadAttachmentBytes(QString sid,
                                                                                QString aid)
{
    auto it = m_sessions.constFind(sid);
    if (it == m_sessions.constEnd() || !it->attachmentBytes.contains(aid))
        co_return std::optional<QByteArray>{};
    co_return std::optional<QByteArray>{it->attachmentBytes.value(aid)};
}

QCoro::Task<Result<qint64>> MemoryStore::deleteUnlinkedAttachments(QDateTime olderThan)
{
    qint64 deleted = 0;
    for (Data &d : m_sessions) {
        for (auto it = d.attachments.begin(); it != d.attachments.end();) {
            if (d.linked.contains(it.key()) || it->createdAt >= olderThan) {
                ++it;
                continue;
            }
            d.attachmentBytes.remove(it.key());
            it = d.attachments.erase(it);
            ++deleted;
        }
    }
    countRows(quint64(deleted) * 2);
    co_return deleted;
}

} // namespace holdfast
