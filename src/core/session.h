#pragma once

#include "core/types.h"

#include <QHash>
#include <QObject>

#include <list>
#include <optional>

namespace holdfast {

class SessionService;
class Turn;

// A loaded session: its metadata and a window of the newest messages of its active branch (the
// path that ends at `head`). Owned by SessionService. The window is the newest `cacheLimit` ones;
// once a turn has read the model's context from the store, it grows to the context (at most
// `contextLimit` messages and `contextBytes` of text, never fewer than `cacheLimit`), so the next
// turns of a long chat do not read it again. While it has a Turn child, or is pinned by an
// operation in flight (a save, a load), it is never unloaded: that is how an answer always reaches
// the store.
class Session final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(Session)
public:
    struct CacheLimits
    {
        int messages = 30;        // kept from the start
        int contextMessages = 30; // kept once the context was read
        qint64 contextBytes = 0;  // bound on the text once more than `messages` are kept (UTF-16)
    };

    Session(SessionMeta meta, QList<Message> window, CacheLimits limits, QObject *parent);
    ~Session() override;

    const QString &id() const { return m_meta.id; }
    const SessionMeta &meta() const { return m_meta; }
    void setMeta(const SessionMeta &meta) { m_meta = meta; }

    // The newest cached messages of the active branch, oldest first, the last one `head` (at most
    // the cache limit, unless a turn runs).
    const QList<Message> &cachedHistory() const { return m_history; }
    // True when the cache holds the branch's newest `count` messages (or all of the branch).
    bool cacheCovers(qint64 count) const;
    void replaceCache(QList<Message> window);
    // The model's context, just read from the store: kept as the cache from now on (as much of
    // it as the context limits allow).
    void keepContext(QList<Message> context);
    // A message that follows the cached branch (its parent is the last one; else the cache
    // restarts with it), with its siblings filled.
    void appendMessage(const Message &message);

    // Messages handed to the store whose save has not completed yet (the gist's `uncached`).
    int uncached() const { return m_uncached; }
    void beginSave(int messages)
    {
        m_uncached += messages;
        pin();
    }
    void endSave(int messages);

    Turn *activeTurn() const { return m_turn; }
    void setActiveTurn(Turn *turn);
    bool starting() const { return m_starting; }
    void setStarting(bool starting);

    // The completion tokens the model server reported for the answers of recent turns (turn id to
    // count), for the context budget: an answer whose count is here is counted exactly.
    void rememberCompletionTokens(int turn, qint64 tokens);
    std::optional<qint64> completionTokens(int turn) const;

    void pin()
    {
        if (m_pins++ == 0 && !m_turn && !m_starting)
            Q_EMIT becameBusy(this);
    }
    void unpin();
    // A busy session holds work that is not saved yet: it must stay in memory.
    bool busy() const { return m_turn != nullptr || m_pins > 0 || m_starting; }

    // Position in the service's LRU list of idle sessions, valid while inLru.
    std::list<Session *>::iterator lruPosition;
    bool inLru = false;

Q_SIGNALS:
    // Emitted on each change of busy(), so that the service keeps busy sessions out of its LRU.
    void becameBusy(Session *session);
    void becameIdle(Session *session);

private:
    void trimCache();
    void emitBusyChange(bool wasBusy);

    SessionMeta m_meta;
    QList<Message> m_history;
    qint64 m_historyBytes = 0; // text in m_history, UTF-16 bytes
    CacheLimits m_limits;
    bool m_keepContext = false;
    int m_uncached = 0;
    int m_pins = 0;
    bool m_starting = false;
    Turn *m_turn = nullptr;
    QHash<int, qint64> m_completionTokens;
};

// Keeps a session in memory for the scope of an operation that awaits.
class SessionPin
{
public:
    explicit SessionPin(Session *session) : m_session(session) { m_session->pin(); }
    ~SessionPin() { m_session->unpin(); }
    SessionPin(const SessionPin &) = delete;
    SessionPin &operator=(const SessionPin &) = delete;

private:
    Session *m_session;
};

} // namespace holdfast
