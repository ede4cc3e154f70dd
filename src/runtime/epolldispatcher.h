#pragma once

#include <QAbstractEventDispatcher>
#include <QHash>

#include <atomic>
#include <set>
#include <unordered_map>

class QSocketNotifier;

namespace holdfast {

// An event dispatcher on Linux's epoll, for the headless server. Qt's own dispatchers (GLib's and
// the UNIX one) hand poll() every socket notifier on every loop iteration, so each iteration
// costs in proportion to the open connections: with a thousand event streams open, most of them
// quiet, that was a tenth of the server's CPU. Here the kernel keeps the interest list and a
// wait returns only the sockets that are ready: an iteration costs what happened, not what is
// open.
//
// Same contract as Qt's dispatchers: level-triggered socket notifiers (Read, Write, Exception),
// timers that never fire early (all kept to the millisecond, whatever their type), posted events
// first on each pass, wakeUp() and interrupt() from any thread. A socket that reports a hang-up
// or an error nobody listens for is set aside until its notifiers change, so it cannot spin the
// loop.
class EpollEventDispatcher final : public QAbstractEventDispatcher
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(EpollEventDispatcher)
public:
    explicit EpollEventDispatcher(QObject *parent = nullptr);
    ~EpollEventDispatcher() override;

    // False when the kernel refused an epoll instance or an eventfd (then use Qt's dispatcher).
    bool isValid() const { return m_epoll >= 0 && m_wakeFd >= 0; }

    bool processEvents(QEventLoop::ProcessEventsFlags flags) override;

    void registerSocketNotifier(QSocketNotifier *notifier) override;
    void unregisterSocketNotifier(QSocketNotifier *notifier) override;

    void registerTimer(int timerId, qint64 interval, Qt::TimerType timerType,
                       QObject *object) override;
    bool unregisterTimer(int timerId) override;
    bool unregisterTimers(QObject *object) override;
    QList<TimerInfo> registeredTimers(QObject *object) const override;
    int remainingTime(int timerId) override;

    void wakeUp() override;
    void interrupt() override;

private:
    struct Watch
    {
        QSocketNotifier *read = nullptr;
        QSocketNotifier *write = nullptr;
        QSocketNotifier *exception = nullptr;
        quint32 events = 0;  // what epoll watches for now (0: not in the interest list)
        bool parked = false; // reported a hang-up nobody listens for: out until notifiers change
    };
    struct Timer
    {
        QObject *object = nullptr;
        qint64 interval = 0;
        Qt::TimerType type = Qt::CoarseTimer;
        qint64 due = 0;          // steady clock, ms
        bool delivering = false; // its event is being delivered (a nested loop must not redo it)
    };

    void updateWatch(int fd);
    int activateSockets(const void *events, int count, QEventLoop::ProcessEventsFlags flags);
    int activateTimers();
    int waitTimeout() const;

    int m_epoll = -1;
    int m_wakeFd = -1;
    std::atomic<bool> m_woken{false};
    std::atomic<bool> m_interrupted{false};
    QHash<int, Watch> m_watches;
    std::unordered_map<int, Timer> m_timers;
    std::set<std::pair<qint64, int>> m_timerQueue; // (due, id), soonest first
};

} // namespace holdfast
