#pragma once

#include "core/types.h"
#include "http/httpmessage.h"

#include <QCoroTask>
#include <QHash>
#include <QObject>
#include <QTimer>

namespace holdfast {

class SessionService;

// One open Server-Sent Events response for a turn: replays the stored chunks from `from`, then
// follows the live ones as the service announces them, then sends the terminal event and ends.
// It only reads: when the client leaves, this object goes away and the turn runs on untouched.
class EventStream final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(EventStream)
public:
    EventStream(SessionService *service, QString sid, int tid, int from, HttpResponder responder,
                int keepAliveMs, QObject *parent);
    ~EventStream() override;

    void start();

Q_SIGNALS:
    void ended();

private:
    void onChunk(const QString &sid, int tid, int seq, const QString &text);
    void writeChunk(int seq, const QString &text);
    QCoro::Task<> pump();
    QCoro::Task<> finish();
    void stop();

    SessionService *m_service;
    QString m_sid;
    int m_tid;
    int m_next; // the seq the client needs next
    HttpResponder m_responder;
    QTimer m_keepAlive;
    QTimer m_poll;
    bool m_pumping = false;
    bool m_dirty = false;
    bool m_finishing = false;
    bool m_stopped = false;
};

// The open event streams of a server: the per-client bound, and the wait at shutdown.
class EventStreams final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(EventStreams)
public:
    EventStreams(SessionService *service, int keepAliveMs, int maxPerClient, QObject *parent);

    // Answers 429 when this client has too many streams open, else starts streaming.
    void open(const QString &sid, int tid, int from, HttpResponder responder);
    int count() const { return m_count; }
    // Shutdown: open streams end once their turns have ended (interrupted); waits for that.
    QCoro::Task<> waitForAll(int timeoutMs);

private:
    SessionService *m_service;
    int m_keepAliveMs;
    int m_maxPerClient;
    int m_count = 0;
    QHash<QString, int> m_perClient;
};

} // namespace holdfast
