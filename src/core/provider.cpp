#include "core/provider.h"

#include "core/waiter.h"

#include <QCoroSignal>

namespace holdfast {

QCoro::Task<QStringList> ProviderStream::next()
{
    while (m_queue.isEmpty() && !m_ended) {
        // A Waiter per wait, fired at most once: QCoro 0.8's signal awaiter uses a queued
        // connection, so awaiting a signal that is emitted twice in a row would resume a
        // coroutine frame that has already moved on.
        Waiter waiter;
        m_waiter = &waiter;
        co_await qCoro(&waiter, &Waiter::fired);
    }
    QStringList chunks;
    chunks.swap(m_queue);
    co_return chunks;
}

void ProviderStream::cancel()
{
    if (m_ended)
        return;
    m_cancelled = true;
    m_ended = true;
    abort();
    notify();
}

void ProviderStream::push(const QString &text)
{
    if (m_ended || text.isEmpty())
        return;
    m_queue.append(text);
    notify();
}

void ProviderStream::finish()
{
    if (m_ended)
        return;
    m_ended = true;
    notify();
}

void ProviderStream::fail(Error error)
{
    if (m_ended)
        return;
    m_error = std::move(error);
    m_ended = true;
    notify();
}

void ProviderStream::notify()
{
    if (Waiter *waiter = std::exchange(m_waiter, nullptr))
        waiter->fire();
    Q_EMIT changed();
}

} // namespace holdfast
