#include "gui/liveturns.h"

#include "client/sessionclient.h"

#include <algorithm>

namespace holdfast {

LiveTurns::LiveTurns(SessionClient *client, QObject *parent) : QObject(parent), m_client(client)
{
    connect(client, &SessionClient::turnStarted, this, &LiveTurns::onStarted);
    connect(client, &SessionClient::chunkReady, this,
            [this](const QString &sid, int tid, int seq, const QString &text) {
                onChunk(sid, tid, Chunk(seq, text));
            });
    connect(client, &SessionClient::toolStepReady, this, &LiveTurns::onChunk);
    connect(client, &SessionClient::turnStateChanged, this, &LiveTurns::onState);
    connect(client, &SessionClient::turnFinished, this, &LiveTurns::onFinished);
    connect(client, &SessionClient::sessionDeleted, this, [this](const QString &sid) {
        if (m_live.remove(sid))
            Q_EMIT activeChanged(sid, false);
    });
}

const LiveTurns::Live *LiveTurns::live(const QString &sid) const
{
    const auto it = m_live.constFind(sid);
    return it == m_live.cend() ? nullptr : &*it;
}

LiveTurns::Live &LiveTurns::track(const QString &sid, int tid, const QString &model)
{
    auto it = m_live.find(sid);
    if (it == m_live.end() || it->turn != tid) {
        Live live;
        live.turn = tid;
        live.model = model;
        it = m_live.insert(sid, live);
        Q_EMIT activeChanged(sid, true);
    }
    return *it;
}

void LiveTurns::onStarted(const TurnRecord &turn)
{
    track(turn.session, turn.id, turn.model);
}

const ToolCall *LiveTurns::Live::openCall() const
{
    for (const ToolStepAt &step : steps) {
        if (!step.chunk.toolCall)
            continue;
        const QString &id = step.chunk.toolCall->id;
        const bool answered = std::any_of(steps.cbegin(), steps.cend(), [&id](const auto &s) {
            return s.chunk.toolResult && s.chunk.toolResult->id == id;
        });
        if (!answered)
            return &*step.chunk.toolCall;
    }
    return nullptr;
}

void LiveTurns::onChunk(const QString &sid, int tid, const Chunk &chunk)
{
    auto it = m_live.find(sid);
    if (it == m_live.end() || it->turn != tid)
        return; // not followed (yet): adopt() fetches from the start
    Live &live = *it;
    if (chunk.seq < live.next)
        return;
    if (chunk.seq > live.next) {
        live.pending.insert(chunk.seq, chunk);
        return;
    }
    // Text runs are joined into one signal; a tool step is announced after the text before it.
    QString appended;
    deliver(sid, live, chunk, &appended);
    while (!live.pending.isEmpty() && live.pending.firstKey() <= live.next) {
        if (live.pending.firstKey() == live.next)
            deliver(sid, live, live.pending.first(), &appended);
        live.pending.erase(live.pending.begin());
    }
    if (!appended.isEmpty()) {
        live.text += appended;
        Q_EMIT textAppended(sid, tid, appended);
    }
}

void LiveTurns::deliver(const QString &sid, Live &live, const Chunk &chunk, QString *text)
{
    ++live.next;
    if (!chunk.isToolStep()) {
        *text += chunk.text;
        return;
    }
    if (!text->isEmpty()) {
        live.text += *text;
        Q_EMIT textAppended(sid, live.turn, *text);
        text->clear();
    }
    live.steps.append({live.text.size(), chunk});
    const int tid = live.turn;
    Q_EMIT toolStep(sid, tid, chunk);
}

void LiveTurns::onState(const TurnRecord &turn)
{
    const auto it = m_live.find(turn.session);
    if (it == m_live.end() || it->turn != turn.id)
        return;
    const bool waiting = turn.state == TurnRecord::State::Waiting;
    if (it->waiting == waiting)
        return;
    it->waiting = waiting;
    Q_EMIT waitingChanged(turn.session, turn.id, waiting);
}

void LiveTurns::onFinished(const TurnRecord &turn)
{
    const auto it = m_live.constFind(turn.session);
    if (it != m_live.cend() && it->turn == turn.id) {
        m_live.remove(turn.session);
        Q_EMIT activeChanged(turn.session, false);
    }
    Q_EMIT finished(turn);
}

QCoro::Task<> LiveTurns::adopt(QString sid, int tid)
{
    if (m_live.contains(sid) && m_live.value(sid).turn == tid)
        co_return;
    QPointer<LiveTurns> self(this);
    QPointer<SessionClient> client = m_client;
    if (!client)
        co_return;
    const auto record = co_await client->turn(sid, tid);
    if (!self || !client || !record || record->ended())
        co_return;
    Live &live = track(sid, tid, record->model);
    live.pending.clear();
    if (record->state == TurnRecord::State::Waiting && !live.waiting) {
        live.waiting = true;
        Q_EMIT waitingChanged(sid, tid, true);
    }
    client->watchTurn(sid, tid, 0);
    // Chunks that arrive while these pages load land in `pending` and are merged in order.
    int from = 0;
    for (;;) {
        const auto page = co_await client->chunks(sid, tid, from);
        if (!self || !client || !page || !m_live.contains(sid))
            co_return;
        for (const Chunk &chunk : page->chunks)
            onChunk(sid, tid, chunk);
        if (page->chunks.isEmpty() || page->done)
            co_return;
        from = page->next;
    }
}

} // namespace holdfast
