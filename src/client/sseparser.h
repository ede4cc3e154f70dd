#pragma once

#include <QByteArray>
#include <QList>
#include <QString>

namespace holdfast {

// Incremental parser of a text/event-stream body: feed it bytes as they arrive, take the
// complete events out. Comment lines (": keep-alive") are skipped.
class SseParser
{
public:
    struct Event
    {
        QString id; // empty when the event had no id: line
        QString name = QStringLiteral("message");
        QByteArray data;
    };

    QList<Event> feed(const QByteArray &bytes);

private:
    void takeLine(QByteArray line, QList<Event> *out);

    QByteArray m_buffer;
    Event m_event;
    bool m_hasData = false;
};

} // namespace holdfast
