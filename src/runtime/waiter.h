#pragma once

#include <QAbstractEventDispatcher>
#include <QList>
#include <QObject>
#include <QPointer>

#include <chrono>
#include <coroutine>
#include <memory>

namespace holdfast {

// Something a coroutine can sleep on until another part of the program fires it, or a timeout.
// Lives in the waiting coroutine's frame, so it outlives whatever fires it.
class Waiter final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(Waiter)
public:
    explicit Waiter(QObject *parent = nullptr) : QObject(parent) {}
    void fire() { Q_EMIT fired(); }

Q_SIGNALS:
    void fired();
};

// A list of waiters to fire together; waiters that died meanwhile are skipped.
class WaiterList
{
public:
    void add(Waiter *waiter) { m_waiters.append(waiter); }
    void fireAll()
    {
        const auto waiters = std::exchange(m_waiters, {});
        for (const QPointer<Waiter> &w : waiters) {
            if (w)
                w->fire();
        }
    }

private:
    QList<QPointer<Waiter>> m_waiters;
};

// A one-shot wake-up of one coroutine on this thread, with no QObject and no connection behind
// it. fire() schedules the waiting coroutine to resume from the event loop, together with every
// other wake-up fired on this thread before the loop gets there: one queued call per batch.
// Firing before the coroutine awaits makes the await return at once. disarm() (its owner is
// going away) cancels a resumption that was scheduled and not run yet.
class Wakeup
{
public:
    Wakeup() : m_state(std::make_shared<State>()) {}

    void fire() const
    {
        if (std::exchange(m_state->fired, true) || !m_state->waiter)
            return;
        Queue &q = queue();
        q.ready.append(m_state);
        if (!q.scheduled || !q.postedTo) {
            q.postedTo = QAbstractEventDispatcher::instance();
            Q_ASSERT(q.postedTo); // a thread that waits on wake-ups runs an event loop
            q.scheduled = true;
            QMetaObject::invokeMethod(
                q.postedTo.data(), [] { resumeReady(); }, Qt::QueuedConnection);
        }
    }
    void disarm() const { m_state->disarmed = true; }

    bool await_ready() const noexcept { return m_state->fired; }
    void await_suspend(std::coroutine_handle<> waiter) const noexcept { m_state->waiter = waiter; }
    void await_resume() const noexcept {}

private:
    struct State
    {
        bool fired = false;
        bool disarmed = false;
        std::coroutine_handle<> waiter;
    };
    struct Queue
    {
        QList<std::shared_ptr<State>> ready;
        bool scheduled = false;
        QPointer<QAbstractEventDispatcher> postedTo; // the queued call dies with its dispatcher
    };

    static Queue &queue()
    {
        thread_local Queue q;
        return q;
    }

    static void resumeReady()
    {
        Queue &q = queue();
        q.scheduled = false;
        const QList<std::shared_ptr<State>> ready = std::exchange(q.ready, {});
        for (const std::shared_ptr<State> &state : ready) {
            if (!state->disarmed)
                std::exchange(state->waiter, {}).resume();
        }
    }

    std::shared_ptr<State> m_state;
};

} // namespace holdfast
