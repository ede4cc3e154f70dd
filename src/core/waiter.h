#pragma once

#include <QObject>
#include <QPointer>

#include <chrono>

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

} // namespace holdfast
