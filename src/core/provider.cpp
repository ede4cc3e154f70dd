#include "core/provider.h"

#include "runtime/waiter.h"

namespace holdfast {

ProviderUse::ProviderUse(Provider *provider) : m_provider(provider)
{
    if (provider)
        ++provider->m_uses;
}

ProviderUse::ProviderUse(const ProviderUse &other) : ProviderUse(other.m_provider.data()) {}

ProviderUse &ProviderUse::operator=(const ProviderUse &other)
{
    if (this != &other) {
        ProviderUse copy(other);
        *this = std::move(copy);
    }
    return *this;
}

ProviderUse::ProviderUse(ProviderUse &&other) noexcept : m_provider(std::move(other.m_provider))
{
    other.m_provider.clear();
}

ProviderUse &ProviderUse::operator=(ProviderUse &&other) noexcept
{
    if (this != &other) {
        release();
        m_provider = std::move(other.m_provider);
        other.m_provider.clear();
    }
    return *this;
}

ProviderUse::~ProviderUse()
{
    release();
}

void ProviderUse::release()
{
    Provider *p = m_provider.data();
    m_provider.clear();
    // deleteLater: the last use may end inside the provider's own call stack (a stream's
    // callback from its network client).
    if (p && --p->m_uses == 0 && p->m_retired)
        p->deleteLater();
}

void Provider::retire()
{
    if (m_retired)
        return;
    m_retired = true;
    if (m_uses == 0)
        deleteLater();
}

QCoro::Task<QStringList> ProviderStream::next()
{
    while (m_queue.isEmpty() && !m_ended) {
        // A Wakeup per wait, fired at most once; its resumption is queued, so the producer
        // (which may be inside push()) is never re-entered by the consumer.
        const Wakeup wakeup;
        m_wakeup = wakeup;
        co_await wakeup;
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

ProviderStream::~ProviderStream()
{
    if (m_wakeup)
        m_wakeup->disarm(); // the consumer, if it waits, must not come back into this stream
}

void ProviderStream::notify()
{
    if (const auto wakeup = std::exchange(m_wakeup, std::nullopt))
        wakeup->fire();
    Q_EMIT changed();
}

} // namespace holdfast
