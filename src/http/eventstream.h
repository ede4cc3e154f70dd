#pragma once

#include "core/types.h"
#include "http/httpmessage.h"

#include <QCoroTask>
#include <QHash>
#include <QObject>
#include <QTimer>

#include <optional>

namespace holdfast {

class SessionService;
class EventStreams;

// One open Server-Sent Events response for a turn: replays the stored chunks from `from`, then
// follows the live ones as the service announces them, then sends the terminal event and ends.
// It only reads: when the client leaves, this object goes away and the turn runs on untouched.
class EventStream final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(EventStream)
public:
    EventStream(SessionService *service, QString sid, int tid, int from, HttpResponder responder,
                int keepAliveMs, EventStreams *parent);
    ~EventStream() override;

    void start();
    const QString &session() const { return m_sid; }
    int turnId() const { return m_tid; }
    // Called by EventStreams, which routes the service's signals to the streams of their turn.
    void onChunk(int seq, const QString &text);
    void onToolStep(const Chunk &chunk); // a tool_call or tool_result, in seq order with chunks
    void onChunkBatchEnded() { flush(); }
    void onTurnFinished(const TurnRecord &turn);

Q_SIGNALS:
    void ended();

private:
    void writeChunk(int seq, const QString &text);
    void writeChunk(const Chunk &chunk); // a text chunk or a tool step
    void flush();
    bool backedUp() const;
    QCoro::Task<> pump();
    QCoro::Task<> finish(std::optional<TurnRecord> ended);
    void stop();

    SessionService *m_service;
    QString m_sid;
    int m_tid;
    int m_next; // the seq the client needs next
    HttpResponder m_responder;
    QByteArray m_out; // chunk events not written yet: a batch goes out in one write
    EventStreams *m_streams;
    std::optional<TurnRecord> m_ended; // the turn's final record, when it ended on this instance
    QTimer m_keepAlive;
    QTimer m_poll;
    bool m_pumping = false;
    bool m_dirty = false;
    bool m_finishing = false;
    bool m_stopped = false;
    bool m_wroteSinceTick = false;
};

// The open event streams of a server: the per-client bound, and the wait at shutdown.
class EventStreams final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(EventStreams)
public:
    EventStreams(SessionService *service, int keepAliveMs, int maxPerClient, QObject *parent);
    ~EventStreams() override;

    // Answers 429 when this client has too many streams open, else starts streaming.
    void open(const QString &sid, int tid, int from, HttpResponder responder);
    int count() const { return m_count; }
    // Shutdown: open streams end once their turns have ended (interrupted); waits for that.
    QCoro::Task<> waitForAll(int timeoutMs);

private:
    friend class EventStream;
    using TurnKey = std::pair<QString, int>;
    // One connection to the service's signals for all streams, routed by turn: a chunk costs
    // the streams of its own turn, not every open stream.
    void route(EventStream *stream);
    void unroute(EventStream *stream);

    SessionService *m_service;
    QHash<TurnKey, QList<EventStream *>> m_byTurn;
    int m_keepAliveMs;
    int m_maxPerClient;
    int m_count = 0;
    QHash<QString, int> m_perClient;
};

} // namespace holdfast
