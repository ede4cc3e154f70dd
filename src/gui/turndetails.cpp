#include "gui/turndetails.h"

#include "client/sessionclient.h"

namespace holdfast {

void TurnDetails::setClient(SessionClient *client)
{
    m_client = client;
}

TurnDetails::TurnDetails(QObject *parent) : QObject(parent) {}

const TurnRecord *TurnDetails::cached(const QString &sid, int tid) const
{
    const auto it = m_cache.constFind(Key{sid, tid});
    return it == m_cache.cend() ? nullptr : &*it;
}

void TurnDetails::request(const QString &sid, const QList<int> &turns)
{
    // What was queued for another chat is not wanted any more: ask again if it is shown again.
    for (const Key &key : std::as_const(m_queue)) {
        if (key.sid != sid)
            m_asked.remove(key);
    }
    m_queue.removeIf([&sid](const Key &key) { return key.sid != sid; });
    for (const int tid : turns) {
        const Key key{sid, tid};
        if (tid <= 0 || m_cache.contains(key) || m_asked.contains(key))
            continue;
        m_asked.insert(key);
        m_queue.append(key); // `turns` is oldest first: the newest is fetched first
    }
    pump();
}

void TurnDetails::remember(const TurnRecord &turn)
{
    if (!turn.ended() || turn.id <= 0)
        return;
    if (m_cache.size() >= kMaxCached)
        m_cache.clear();
    m_cache.insert(Key{turn.session, turn.id}, turn);
}

void TurnDetails::pump()
{
    while (m_inFlight < kParallel && !m_queue.isEmpty() && m_client) {
        ++m_inFlight;
        fetch(m_queue.takeLast());
    }
}

QCoro::Task<> TurnDetails::fetch(Key key)
{
    QPointer<TurnDetails> self(this);
    const auto turn = co_await m_client->turn(key.sid, key.tid);
    if (!self)
        co_return;
    --m_inFlight;
    // A failure stays in m_asked: the footer is a nicety, not worth asking again and again.
    if (turn && turn->ended()) {
        remember(*turn);
        Q_EMIT known(*turn);
    } else if (turn) {
        m_asked.remove(key); // still running: its end comes with turnFinished
    }
    pump();
}

} // namespace holdfast
