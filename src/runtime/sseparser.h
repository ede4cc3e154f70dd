#pragma once

#include <QByteArray>
#include <QList>
#include <QString>

// The one parser of event streams: the providers read model servers' streams with it, the remote
// client reads our own /events with it.
namespace holdfast {

// Cuts a byte stream into lines as the bytes arrive, whatever the pieces: a line ends at "\n",
// "\r\n" or "\r" (a "\r" at the end of a piece waits for the next one to know which). Lines are
// decoded only once complete, so a UTF-8 sequence split between pieces is never cut.
class LineSplitter
{
public:
    // Appends `bytes` and returns the lines completed by them, without their terminators.
    QList<QByteArray> feed(QByteArrayView bytes);
    // The end of the stream: the unterminated rest, if any, as a last line.
    QList<QByteArray> finish();
    qsizetype pending() const { return m_buffer.size(); }

private:
    QByteArray m_buffer;
    qsizetype m_scanned = 0; // bytes of m_buffer known to hold no terminator
    bool m_skipLf = false;   // the last line ended with "\r": a "\n" right after belongs to it
};

// An incremental parser of Server-Sent Events (the WHATWG event-stream format): "data:" lines are
// joined with "\n", "event:" and "id:" are kept, comments (":") and unknown fields are ignored,
// and an event is dispatched at its blank line.
class SseParser
{
public:
    struct Event
    {
        QString type = QStringLiteral("message");
        QString data;
        QString id;
    };

    QList<Event> feed(QByteArrayView bytes);
    // The end of the stream. Lenient where the standard drops it: an event that has data but no
    // blank line after it yet is dispatched too.
    QList<Event> finish();
    // A new connection of the same source (EventSource's reconnect): what was cut off is dropped,
    // the last event id stays, and is what a reconnect sends as Last-Event-ID.
    void restart();
    // The id of the last event dispatched (set by its "id:" line or inherited), "" before any.
    const QString &lastEventId() const { return m_lastEventId; }
    // The reconnection time the stream asked for with a "retry:" line (digits only), -1 before.
    qint64 retryMs() const { return m_retryMs; }

private:
    void takeLine(const QByteArray &line, QList<Event> *events);

    LineSplitter m_lines;
    Event m_event;
    QString m_lastEventId;
    qint64 m_retryMs = -1;
    bool m_hasData = false;
    bool m_started = false; // a byte-order mark is skipped at the very start only
};

} // namespace holdfast
