#pragma once

#include "core/types.h"
#include "runtime/sseparser.h"

#include <QJsonObject>
#include <QNetworkRequest>
#include <QObject>
#include <QPointer>

class QNetworkAccessManager;
class QNetworkReply;
class QTimer;

namespace holdfast {

// The requests of a remote client follow no redirect (ManualRedirectPolicy): the token and the
// prompt never go to another origin. A 3xx answer is this error message, naming where it points.
QString redirectMessage(const QNetworkReply *reply);

// Follows one turn's /events stream to its terminal event. When the connection drops it
// reconnects with Last-Event-ID (the id of the last event seen), so no chunk is seen twice or
// missed.
class TurnEventStream final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(TurnEventStream)
public:
    TurnEventStream(QNetworkAccessManager *nam, QNetworkRequest request, QString sid, int tid,
                    int fromSeq, QObject *parent);
    ~TurnEventStream() override;

    void open();
    const QString &sid() const { return m_sid; }
    int tid() const { return m_tid; }

Q_SIGNALS:
    void chunkReady(const QString &sid, int tid, int seq, const QString &text);
    // A `tool_call` or `tool_result` event (shared/API.md, Tools (MCP)), in seq order with chunks.
    void toolStepReady(const QString &sid, int tid, const holdfast::Chunk &chunk);
    // The terminal event: {"state": ..., "error"?: {...}}. The stream is done after this.
    void ended(const QString &sid, int tid, const QJsonObject &data);
    void connectionLost(const QString &message);
    void connectionRestored();

private:
    void readEvents();
    void onFinished();

    QNetworkAccessManager *m_nam;
    QNetworkRequest m_request;
    QString m_sid;
    int m_tid;
    int m_next; // the next seq expected
    QPointer<QNetworkReply> m_reply;
    SseParser m_parser; // lives across reconnects: it keeps the last event id

    QTimer *m_retry;
    int m_retryMs = 250;
    bool m_ended = false;
    bool m_lost = false;
};

} // namespace holdfast
