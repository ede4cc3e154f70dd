#pragma once

#include <QList>
#include <QMutex>
#include <QObject>

#include <atomic>
#include <coroutine>
#include <functional>
#include <memory>
#include <optional>

namespace holdfast {

// Hands results computed on a worker thread to the coroutines that wait for them on the thread
// the Handoff lives in. A worker queues its completions; the first one of a batch schedules one
// queued call, which resumes every coroutine queued by then. So a worker that finishes fifty
// writes at once wakes the waiting thread once, not fifty times, and no QFuture, watcher or
// event is made per result.
//
// Only coroutines running on the Handoff's thread may await a HandoffResult.
class Handoff final : public QObject
{
    Q_DISABLE_COPY_MOVE(Handoff)
public:
    template <typename T> class Result;

    explicit Handoff(QObject *parent = nullptr) : QObject(parent) {}

    // A result to fill on the worker thread with complete().
    template <typename T> Result<T> expect() { return Result<T>(this); }

    // How many times the waiting thread was woken to resume a batch (for tests and benchmarks).
    quint64 wakeups() const { return m_wakeups.load(); }

private:
    // Any thread: runs `completion` on the Handoff's thread, with the others of its batch.
    void post(std::function<void()> completion)
    {
        bool schedule = false;
        {
            QMutexLocker lock(&m_mutex);
            m_queue.append(std::move(completion));
            schedule = !std::exchange(m_scheduled, true);
        }
        if (schedule)
            QMetaObject::invokeMethod(
                this, [this] { drain(); }, Qt::QueuedConnection);
    }

    void drain()
    {
        QList<std::function<void()>> batch;
        {
            QMutexLocker lock(&m_mutex);
            batch.swap(m_queue);
            m_scheduled = false;
        }
        ++m_wakeups;
        for (std::function<void()> &completion : batch)
            completion();
    }

    QMutex m_mutex;
    QList<std::function<void()>> m_queue;
    bool m_scheduled = false;
    std::atomic<quint64> m_wakeups{0};
};

// One result of type T: awaited (once) on the Handoff's thread, completed (once) on any thread.
// Copies share the same result.
template <typename T> class Handoff::Result
{
public:
    // Worker thread: stores the value and resumes the waiting coroutine on the Handoff's thread.
    void complete(T value) const
    {
        m_handoff->post([state = m_state, value = std::move(value)]() mutable {
            state->value.emplace(std::move(value));
            if (const auto waiter = std::exchange(state->waiter, {}))
                waiter.resume();
        });
    }

    bool await_ready() const noexcept { return m_state->value.has_value(); }
    void await_suspend(std::coroutine_handle<> waiter) noexcept { m_state->waiter = waiter; }
    T await_resume() { return std::move(*m_state->value); }

private:
    friend class Handoff;
    struct State
    {
        std::optional<T> value;         // set and read on the Handoff's thread only
        std::coroutine_handle<> waiter; // likewise
    };

    explicit Result(Handoff *handoff) : m_handoff(handoff), m_state(std::make_shared<State>()) {}

    Handoff *m_handoff;
    std::shared_ptr<State> m_state;
};

} // namespace holdfast
