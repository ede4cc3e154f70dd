#pragma once

#include "core/types.h"

#include <QCoroTask>
#include <QHash>
#include <QList>
#include <QObject>
#include <QPointer>
#include <QSet>

namespace holdfast {

class SessionClient;

// The turn records of the answers the chat shows (their usage, timing and context), fetched in
// the background a few at a time and kept per (session, turn): an ended turn never changes, so
// each is asked for once. Nothing waits: a record is announced (known) when it arrives.
class TurnDetails final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(TurnDetails)
public:
    explicit TurnDetails(QObject *parent = nullptr);

    void setClient(SessionClient *client);
    // The record if it is here already (nullptr: not yet).
    const TurnRecord *cached(const QString &sid, int tid) const;
    // Asks for the records of `turns` (newest last) not known yet; requests queued for other
    // sessions are dropped, as their chat is no longer shown.
    void request(const QString &sid, const QList<int> &turns);
    // A record that came another way (a turn that ended while shown).
    void remember(const TurnRecord &turn);
    int inFlight() const { return m_inFlight; }

    static constexpr int kParallel = 3;     // requests at once
    static constexpr int kMaxCached = 4096; // records kept (the cache starts over beyond)

Q_SIGNALS:
    void known(const holdfast::TurnRecord &turn);

private:
    struct Key
    {
        QString sid;
        int tid = 0;
        bool operator==(const Key &) const = default;
    };
    friend size_t qHash(const Key &key, size_t seed = 0)
    {
        return qHashMulti(seed, key.sid, key.tid);
    }

    void pump();
    QCoro::Task<> fetch(Key key);

    QPointer<SessionClient> m_client;
    QHash<Key, TurnRecord> m_cache;
    QSet<Key> m_asked;  // queued, in flight, or failed: not asked again
    QList<Key> m_queue; // the next to fetch is at the back (the newest answers first)
    int m_inFlight = 0;
};

} // namespace holdfast
