#include "core/session.h"

#include "core/turn.h"

#include <algorithm>

namespace holdfast {

namespace {

qint64 textBytes(const Message &message)
{
    return qint64(message.content.size()) * qint64(sizeof(QChar));
}

qint64 textBytes(const QList<Message> &messages)
{
    qint64 bytes = 0;
    for (const Message &m : messages)
        bytes += textBytes(m);
    return bytes;
}

} // namespace

Session::Session(SessionMeta meta, QList<Message> window, CacheLimits limits, QObject *parent)
    : QObject(parent), m_meta(std::move(meta)), m_limits(limits)
{
    replaceCache(std::move(window));
}

Session::~Session()
{
    Q_ASSERT(!busy());
}

bool Session::cacheCovers(qint64 count) const
{
    return m_history.size() >= count || m_history.size() >= m_meta.length;
}

void Session::replaceCache(QList<Message> window)
{
    m_history = std::move(window);
    m_historyBytes = textBytes(m_history);
    trimCache();
}

void Session::keepContext(QList<Message> context)
{
    m_keepContext = true;
    replaceCache(std::move(context));
}

void Session::appendMessage(const Message &message)
{
    // Only keep the cache a contiguous end of the active branch: the message must follow the last.
    if (!m_history.isEmpty() && m_history.last().index != message.parent) {
        m_history.clear();
        m_historyBytes = 0;
    }
    m_history.append(message);
    m_historyBytes += textBytes(message);
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
    const bool wasBusy = busy();
    m_turn = turn;
    if (!m_turn)
        trimCache();
    emitBusyChange(wasBusy);
}

void Session::setStarting(bool starting)
{
    const bool wasBusy = busy();
    m_starting = starting;
    emitBusyChange(wasBusy);
}

void Session::emitBusyChange(bool wasBusy)
{
    if (wasBusy && !busy())
        Q_EMIT becameIdle(this);
    else if (!wasBusy && busy())
        Q_EMIT becameBusy(this);
}

void Session::rememberCompletionTokens(int turn, qint64 tokens)
{
    // Enough for the newest answers of a long chat; the oldest turn goes first.
    constexpr qsizetype kKept = 512;
    if (m_completionTokens.size() >= kKept && !m_completionTokens.contains(turn)) {
        const auto oldest =
            std::min_element(m_completionTokens.keyBegin(), m_completionTokens.keyEnd());
        m_completionTokens.remove(*oldest);
    }
    m_completionTokens.insert(turn, tokens);
}

std::optional<qint64> Session::completionTokens(int turn) const
{
    const auto it = m_completionTokens.constFind(turn);
    if (it == m_completionTokens.constEnd())
        return std::nullopt;
    return *it;
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
    const int limit =
        m_keepContext ? std::max(m_limits.messages, m_limits.contextMessages) : m_limits.messages;
    qsizetype drop = std::max<qsizetype>(0, m_history.size() - limit);
    qint64 bytes = m_historyBytes;
    for (qsizetype i = 0; i < drop; ++i)
        bytes -= textBytes(m_history.at(i));
    // Beyond the plain window, the context is kept only while its text fits the budget.
    while (m_history.size() - drop > m_limits.messages && bytes > m_limits.contextBytes)
        bytes -= textBytes(m_history.at(drop++));
    if (drop > 0) {
        m_history.remove(0, drop);
        m_historyBytes = bytes;
    }
}

} // namespace holdfast
