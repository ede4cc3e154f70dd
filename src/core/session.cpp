#include "core/session.h"

#include "core/turn.h"

namespace holdfast {

Session::Session(SessionMeta meta, QList<Message> window, int cacheLimit, QObject *parent)
    : QObject(parent), m_meta(std::move(meta)), m_history(std::move(window)),
      m_cacheLimit(cacheLimit)
{
    trimCache();
}

Session::~Session()
{
    Q_ASSERT(!busy());
}

bool Session::cacheCovers(qint64 count) const
{
    return m_history.size() >= count || m_history.size() >= m_meta.total;
}

void Session::replaceCache(QList<Message> window)
{
    m_history = std::move(window);
    trimCache();
}

void Session::appendMessage(const Message &message)
{
    // Only keep the cache contiguous with the end of the session.
    if (!m_history.isEmpty() && m_history.last().index + 1 != message.index)
        m_history.clear();
    m_history.append(message);
    if (!m_turn)
        trimCache();
}

void Session::endSave(int messages)
{
    m_uncached -= messages;
    unpin();
}

void Session::setActiveTurn(Turn *turn)
{
    m_turn = turn;
    if (!m_turn) {
        trimCache();
        if (!busy())
            Q_EMIT becameIdle(this);
    }
}

void Session::unpin()
{
    Q_ASSERT(m_pins > 0);
    --m_pins;
    if (!busy())
        Q_EMIT becameIdle(this);
}

void Session::trimCache()
{
    if (m_history.size() > m_cacheLimit)
        m_history.remove(0, m_history.size() - m_cacheLimit);
}

} // namespace holdfast
