#include "client/sseparser.h"

namespace holdfast {

QList<SseParser::Event> SseParser::feed(const QByteArray &bytes)
{
    QList<Event> out;
    m_buffer += bytes;
    qsizetype start = 0;
    for (;;) {
        const qsizetype end = m_buffer.indexOf('\n', start);
        if (end < 0)
            break;
        QByteArray line = m_buffer.mid(start, end - start);
        if (line.endsWith('\r'))
            line.chop(1);
        takeLine(std::move(line), &out);
        start = end + 1;
    }
    m_buffer.remove(0, start);
    return out;
}

void SseParser::takeLine(QByteArray line, QList<Event> *out)
{
    if (line.isEmpty()) {
        if (m_hasData || m_event.name != QLatin1String("message"))
            out->append(m_event);
        m_event = Event{};
        m_hasData = false;
        return;
    }
    if (line.startsWith(':'))
        return;
    const qsizetype colon = line.indexOf(':');
    const QByteArray field = colon < 0 ? line : line.left(colon);
    QByteArray value = colon < 0 ? QByteArray() : line.mid(colon + 1);
    if (value.startsWith(' '))
        value.remove(0, 1);
    if (field == "data") {
        if (m_hasData)
            m_event.data += '\n';
        m_event.data += value;
        m_hasData = true;
    } else if (field == "event") {
        m_event.name = QString::fromUtf8(value);
    } else if (field == "id") {
        m_event.id = QString::fromUtf8(value);
    }
}

} // namespace holdfast
