#include "core/provider.h"

#include <QCoroSignal>

namespace holdfast {

QCoro::Task<QStringList> ProviderStream::next()
{
    while (m_queue.isEmpty() && !m_ended)
        co_await qCoro(this, &ProviderStream::changed);
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
    Q_EMIT changed();
}

void ProviderStream::push(const QString &text)
{
    if (m_ended || text.isEmpty())
        return;
    m_queue.append(text);
    Q_EMIT changed();
}

void ProviderStream::finish()
{
    if (m_ended)
        return;
    m_ended = true;
    Q_EMIT changed();
}

void ProviderStream::fail(Error error)
{
    if (m_ended)
        return;
    m_error = std::move(error);
    m_ended = true;
    Q_EMIT changed();
}

} // namespace holdfast
