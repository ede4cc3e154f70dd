#include "runtime/sseparser.h"

namespace holdfast {

QList<QByteArray> LineSplitter::feed(QByteArrayView bytes)
{
    QList<QByteArray> lines;
    if (bytes.isEmpty())
        return lines;
    if (m_skipLf) {
        m_skipLf = false;
        if (bytes.front() == '\n')
            bytes = bytes.sliced(1);
    }
    m_buffer.append(bytes);
    qsizetype start = 0;
    for (qsizetype i = m_scanned; i < m_buffer.size(); ++i) {
        const char c = m_buffer.at(i);
        if (c != '\n' && c != '\r')
            continue;
        lines.append(m_buffer.sliced(start, i - start));
        if (c == '\r') {
            if (i + 1 < m_buffer.size()) {
                if (m_buffer.at(i + 1) == '\n')
                    ++i;
            } else {
                m_skipLf = true; // the "\n" of a "\r\n" may come with the next piece
            }
        }
        start = i + 1;
    }
    m_buffer.remove(0, start);
    m_scanned = m_buffer.size();
    return lines;
}

QList<QByteArray> LineSplitter::finish()
{
    QList<QByteArray> lines;
    if (!m_buffer.isEmpty())
        lines.append(std::exchange(m_buffer, {}));
    m_scanned = 0;
    m_skipLf = false;
    return lines;
}

QList<SseParser::Event> SseParser::feed(QByteArrayView bytes)
{
    QList<Event> events;
    const QList<QByteArray> lines = m_lines.feed(bytes);
    for (const QByteArray &line : lines)
        takeLine(line, &events);
    return events;
}

QList<SseParser::Event> SseParser::finish()
{
    QList<Event> events;
    const QList<QByteArray> lines = m_lines.finish();
    for (const QByteArray &line : lines)
        takeLine(line, &events);
    if (m_hasData)
        takeLine(QByteArray(), &events);
    return events;
}

void SseParser::restart()
{
    m_lines = LineSplitter{};
    m_event = Event{};
    m_event.id = m_lastEventId;
    m_hasData = false;
    m_started = false;
}

void SseParser::takeLine(const QByteArray &raw, QList<Event> *events)
{
    QByteArrayView line(raw);
    if (!m_started) {
        m_started = true;
        if (line.startsWith("\xEF\xBB\xBF"))
            line = line.sliced(3);
    }
    if (line.isEmpty()) {
        m_lastEventId = m_event.id; // the standard sets it at every blank line, data or not
        if (m_hasData) {
            if (m_event.data.endsWith(QLatin1Char('\n')))
                m_event.data.chop(1);
            events->append(std::exchange(m_event, {}));
            m_event.id = events->last().id; // the last event id persists
        } else {
            m_event.type = QStringLiteral("message");
        }
        m_hasData = false;
        return;
    }
    if (line.front() == ':')
        return; // a comment, e.g. ": keep-alive"
    QByteArrayView field = line;
    QByteArrayView value;
    if (const qsizetype colon = line.indexOf(':'); colon >= 0) {
        field = line.first(colon);
        value = line.sliced(colon + 1);
        if (value.startsWith(' '))
            value = value.sliced(1);
    }
    if (field == "data") {
        m_event.data += QString::fromUtf8(value);
        m_event.data += QLatin1Char('\n');
        m_hasData = true;
    } else if (field == "event") {
        m_event.type = QString::fromUtf8(value);
    } else if (field == "id") {
        if (!value.contains('\0'))
            m_event.id = QString::fromUtf8(value);
    } else if (field == "retry") {
        bool digits = !value.isEmpty() && value.size() <= 12;
        for (const char c : value)
            digits = digits && c >= '0' && c <= '9';
        if (digits)
            m_retryMs = QByteArray(value.data(), value.size()).toLongLong();
    }
}

} // namespace holdfast
