// The Redis store's calls on a running turn: its chunks (a stream; a tool step's JSON in an
// extra field of its entry), its state, the turns a crashed instance left, and what one instance
// asks of the instance that runs a turn (cancel, answers to tool calls) with the lease renewal
// that also picks up a request whose pub/sub message was missed.
#include "store/redisstore.h"

#include "core/json.h"
#include "core/logging.h"
#include "store/rediscodec.h"
#include "store/redisscripts.h"

#include <QJsonDocument>
#include <QPointer>

namespace holdfast {

namespace {

// How long a cancel request or an unanswered tool decision waits for the running instance.
constexpr int kRequestTtlMs = 10 * 60 * 1000;

} // namespace

using namespace rediscodec;

QCoro::Task<Status> RedisStore::appendChunks(QString sid, int tid, QList<Chunk> chunks)
{
    if (chunks.isEmpty())
        co_return Ok{};
    // The script numbers the entries from the first seq: a batch with a gap would be renumbered.
    for (qsizetype i = 1; i < chunks.size(); ++i) {
        if (chunks.at(i).seq != chunks.constFirst().seq + i)
            co_return makeError(
                ErrorCode::Conflict,
                QStringLiteral("chunks of turn %1 of '%2' are not consecutive").arg(tid).arg(sid));
    }
    QList<QByteArray> args{num(chunks.constFirst().seq),
                           num(m_options.leaseMs),
                           m_instance.toUtf8(),
                           member(sid, tid),
                           m_turnsChannel,
                           iso(QDateTime::currentDateTimeUtc())};
    // The tool steps as (position, JSON) pairs before the texts: nothing more for a text chunk.
    QList<QByteArray> steps;
    for (qsizetype i = 0; i < chunks.size(); ++i) {
        if (chunks.at(i).isToolStep())
            steps
                << num(i)
                << QJsonDocument(json::storedToolStep(chunks.at(i))).toJson(QJsonDocument::Compact);
    }
    args << num(steps.size() / 2) << steps;
    for (const Chunk &c : std::as_const(chunks))
        args << c.text.toUtf8();
    QPointer<RedisStore> self(this);
    const auto r = co_await eval(redisscripts::kAppendChunks,
                                 cmd(turnKey(sid, tid, "turn:"), turnKey(sid, tid, "chunks:"),
                                     turnKey(sid, tid, "lease:"), turnKey(sid, tid, "cancel:")),
                                 args);
    if (!r) {
        if (r.error().code == ErrorCode::NotFound)
            co_return makeError(ErrorCode::NotFound,
                                QStringLiteral("turn %1 of '%2' does not exist").arg(tid).arg(sid));
        co_return r.error();
    }
    countRows(chunks.size() + 1);
    if (r->integer == 1 && self) // a cancel whose message this instance may have missed
        Q_EMIT cancelRequested(sid, tid);
    co_return Ok{};
}

QCoro::Task<Status> RedisStore::saveTurnState(QString sid, int tid, TurnRecord::State state)
{
    if (Status s = checkRunningState(state); !s)
        co_return s;
    const auto r =
        co_await eval(redisscripts::kSaveTurnState, cmd(turnKey(sid, tid, "turn:")),
                      cmd(turnStateName(state).toUtf8(), member(sid, tid), m_turnsChannel));
    if (!r) {
        if (r.error().code == ErrorCode::NotFound)
            co_return makeError(ErrorCode::NotFound,
                                QStringLiteral("turn %1 of '%2' does not exist").arg(tid).arg(sid));
        co_return r.error();
    }
    if (r->integer == 1)
        countRows(1);
    co_return Ok{};
}

QCoro::Task<Result<QList<Chunk>>> RedisStore::loadChunks(QString sid, int tid, int from, int limit)
{
    QList<Chunk> out;
    if (limit <= 0)
        co_return out;
    const auto r = co_await call(cmd("XRANGE", turnKey(sid, tid, "chunks:"),
                                     num(std::max(0, from)) + "-0", "+", "COUNT", num(limit)));
    if (!r)
        co_return r.error();
    for (const RedisReply &entry : r->elements) {
        if (entry.elements.size() != 2 || entry.elements.at(1).elements.size() < 2)
            continue;
        Chunk chunk;
        chunk.seq = entry.elements.at(0).string.split('-').constFirst().toInt();
        // Field t, then tool for a tool step (written before tools: t only).
        const QList<RedisReply> &f = entry.elements.at(1).elements;
        for (qsizetype i = 0; i + 1 < f.size(); i += 2) {
            if (f.at(i).string == "t") {
                chunk.text = f.at(i + 1).text();
            } else if (f.at(i).string == "tool") {
                const QJsonObject step = QJsonDocument::fromJson(f.at(i + 1).string).object();
                if (!json::readStoredToolStep(step, chunk))
                    qCWarning(lcStore) << "chunk" << chunk.seq << "of turn" << tid << "of" << sid
                                       << "has a damaged tool step";
            }
        }
        out.append(chunk);
    }
    co_return out;
}

QCoro::Task<Result<QList<TurnRecord>>> RedisStore::unfinishedTurns()
{
    const auto r =
        co_await eval(redisscripts::kOrphanedTurns, cmd(kUnfinishedKey), QList<QByteArray>());
    if (!r)
        co_return r.error();
    QList<TurnRecord> out;
    for (const RedisReply &hash : r->elements) {
        if (auto t = turnFrom(hash); t && !m_owned.contains({t->session, t->id}))
            out.append(*t);
    }
    co_return out;
}

QCoro::Task<Status> RedisStore::requestCancel(QString sid, int tid)
{
    const auto r = co_await eval(redisscripts::kRequestCancel,
                                 cmd(turnKey(sid, tid, "turn:"), turnKey(sid, tid, "cancel:")),
                                 cmd(member(sid, tid), num(kRequestTtlMs), m_cancelChannel));
    if (!r) {
        if (r.error().code == ErrorCode::NotFound)
            co_return makeError(ErrorCode::NotFound, QStringLiteral("turn %1 of session '%2' does "
                                                                    "not exist")
                                                         .arg(tid)
                                                         .arg(sid));
        co_return r.error();
    }
    co_return Ok{};
}

QCoro::Task<Status> RedisStore::requestToolDecision(QString sid, int tid, QString cid, bool approve)
{
    const auto r = co_await eval(redisscripts::kRequestToolDecision,
                                 cmd(turnKey(sid, tid, "turn:"), turnKey(sid, tid, "decide:")),
                                 cmd(member(sid, tid), cid.toUtf8(), approve ? "1" : "0",
                                     num(kRequestTtlMs), m_toolsChannel));
    if (!r) {
        if (r.error().code == ErrorCode::NotFound)
            co_return makeError(ErrorCode::NotFound, QStringLiteral("turn %1 of session '%2' does "
                                                                    "not exist")
                                                         .arg(tid)
                                                         .arg(sid));
        co_return r.error();
    }
    co_return Ok{};
}

QCoro::Task<> RedisStore::takeToolDecisions(QString sid, int tid)
{
    QPointer<RedisStore> self(this);
    const auto r = co_await eval(redisscripts::kTakeToolDecisions,
                                 cmd(turnKey(sid, tid, "decide:")), QList<QByteArray>());
    if (!self)
        co_return;
    if (!r) {
        // Still in Redis: the next lease renewal takes them.
        qCWarning(lcStore).noquote() << "cannot take the answers to tool calls of turn" << tid
                                     << "of" << sid << ":" << r.error().message;
        co_return;
    }
    for (qsizetype i = 0; i + 1 < r->elements.size(); i += 2) {
        if (!self)
            co_return;
        Q_EMIT toolDecisionRequested(sid, tid, QString::fromUtf8(r->elements.at(i).string),
                                     r->elements.at(i + 1).string == "1");
    }
}

QCoro::Task<> RedisStore::renewLeases()
{
    if (m_renewing)
        co_return;
    m_renewing = true;
    QPointer<RedisStore> self(this);
    const auto owned = m_owned;
    for (const auto &[sid, tid] : owned) {
        const auto r =
            co_await eval(redisscripts::kRenewLease,
                          cmd(turnKey(sid, tid, "turn:"), turnKey(sid, tid, "lease:"),
                              turnKey(sid, tid, "cancel:"), turnKey(sid, tid, "decide:")),
                          cmd(m_instance.toUtf8(), num(m_options.leaseMs)));
        if (!self)
            co_return;
        if (!r) // Redis is away: the next tick tries again
            continue;
        if (r->integer < 0) {
            m_owned.remove({sid, tid}); // ended (a sweeper took it, or the session was deleted)
            continue;
        }
        // Requests whose pub/sub message this instance may have missed.
        if (r->integer & 2)
            takeToolDecisions(sid, tid);
        if (r->integer & 1)
            Q_EMIT cancelRequested(sid, tid);
    }
    m_renewing = false;
}

void RedisStore::onMessage(const QByteArray &channel, const QByteArray &payload)
{
    QString sid;
    int tid = 0;
    if (!parseMember(payload, &sid, &tid))
        return;
    if (channel == m_cancelChannel)
        Q_EMIT cancelRequested(sid, tid);
    else if (channel == m_toolsChannel && m_owned.contains({sid, tid}))
        takeToolDecisions(sid, tid);
    else if (channel == m_turnsChannel)
        Q_EMIT turnUpdated(sid, tid);
}

} // namespace holdfast
