#pragma once

#include "runtime/waiter.h"

#include <QTimer>

namespace holdfast::mcp {

// What a coroutine here waits on: a one-shot wake-up that signals may fire any number of times,
// or a timeout. QCoro 0.8's signal awaiter resumes once per queued emission, so a signal emitted
// twice before the coroutine runs (an answer, then a cancel) would resume a frame that moved on;
// a Wakeup resumes it once. Lives in the waiting coroutine's frame.
class Alarm
{
public:
    explicit Alarm(int timeoutMs)
    {
        if (timeoutMs <= 0)
            return; // no timeout
        m_timer.setSingleShot(true);
        QObject::connect(&m_timer, &QTimer::timeout, &m_timer, [this] {
            m_timedOut = true;
            m_wakeup.fire();
        });
        m_timer.start(timeoutMs);
    }
    Q_DISABLE_COPY_MOVE(Alarm)

    void fire() const { m_wakeup.fire(); }
    // co_await alarm.wakeup();
    const Wakeup &wakeup() const { return m_wakeup; }
    bool timedOut() const { return m_timedOut; }
    // The receiver of connections that must end with the wait.
    QObject *context() { return &m_timer; }

private:
    QTimer m_timer;
    Wakeup m_wakeup;
    bool m_timedOut = false;
};

} // namespace holdfast::mcp
