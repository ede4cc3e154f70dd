#include "client/turneventstream.h"

#include "core/json.h"

#include <QJsonDocument>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QTimer>

namespace holdfast {

QString redirectMessage(const QNetworkReply *reply)
{
    const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    const QUrl target = reply->url().resolved(QUrl::fromEncoded(reply->rawHeader("Location")));
    QString where = target.toDisplayString(QUrl::RemoveUserInfo | QUrl::RemoveQuery);
    for (QChar &c : where) {
        if (!c.isPrint())
            c = u'?';
    }
    return QObject::tr("the server redirected to %1 (HTTP %2), which Holdfast does not follow; "
                       "connect to the final address")
        .arg(where.left(200))
        .arg(status);
}

TurnEventStream::TurnEventStream(QNetworkAccessManager *nam, QNetworkRequest request, QString sid,
                                 int tid, int fromSeq, QObject *parent)
    : QObject(parent), m_nam(nam), m_request(std::move(request)), m_sid(std::move(sid)), m_tid(tid),
      m_next(fromSeq), m_retry(new QTimer(this))
{
    m_retry->setSingleShot(true);
    connect(m_retry, &QTimer::timeout, this, &TurnEventStream::open);
}

TurnEventStream::~TurnEventStream()
{
    if (m_reply) {
        m_reply->disconnect(this);
        m_reply->abort();
        m_reply->deleteLater();
    }
}

void TurnEventStream::open()
{
    if (m_ended)
        return;
    QNetworkRequest request = m_request;
    request.setRawHeader("Accept", "text/event-stream");
    m_parser.restart(); // an event the last connection cut off is sent again in full
    if (!m_parser.lastEventId().isEmpty())
        request.setRawHeader("Last-Event-ID", m_parser.lastEventId().toUtf8());
    else if (m_next > 0)
        request.setRawHeader("Last-Event-ID", QByteArray::number(m_next - 1));
    m_reply = m_nam->get(request);
    connect(m_reply, &QNetworkReply::readyRead, this, &TurnEventStream::readEvents);
    connect(m_reply, &QNetworkReply::finished, this, &TurnEventStream::onFinished);
}

void TurnEventStream::readEvents()
{
    if (!m_reply)
        return;
    if (m_lost && m_reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt() == 200) {
        m_lost = false;
        m_retryMs = 250;
        Q_EMIT connectionRestored();
    }
    const auto events = m_parser.feed(m_reply->readAll());
    for (const auto &event : events) {
        const QJsonObject data = QJsonDocument::fromJson(event.data.toUtf8()).object();
        if (event.type == QLatin1String("chunk")) {
            const int seq = data.value(QStringLiteral("seq")).toInt(-1);
            if (seq < m_next)
                continue; // already seen before a reconnect
            m_next = seq + 1;
            Q_EMIT chunkReady(m_sid, m_tid, seq, data.value(QStringLiteral("text")).toString());
        } else if (event.type == QLatin1String("tool_call") ||
                   event.type == QLatin1String("tool_result")) {
            const auto chunk = json::chunkFromJson(data);
            if (!chunk || chunk->seq < m_next)
                continue;
            m_next = chunk->seq + 1;
            Q_EMIT toolStepReady(m_sid, m_tid, *chunk);
        } else if (event.type == QLatin1String("done") || event.type == QLatin1String("error")) {
            m_ended = true;
            Q_EMIT ended(m_sid, m_tid, data);
            return;
        }
    }
}

void TurnEventStream::onFinished()
{
    QNetworkReply *reply = m_reply;
    if (!reply)
        return;
    readEvents();
    const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    const QString why = reply->errorString();
    reply->deleteLater();
    m_reply = nullptr;
    if (m_ended)
        return;
    if (status >= 300 && status < 400) { // retrying would only be redirected again
        m_ended = true;
        Q_EMIT ended(
            m_sid, m_tid,
            QJsonObject{{QStringLiteral("state"), QStringLiteral("error")},
                        {QStringLiteral("error"),
                         QJsonObject{{QStringLiteral("code"), QStringLiteral("upstream_error")},
                                     {QStringLiteral("message"), redirectMessage(reply)}}}});
        return;
    }
    if (status == 404) { // the session was deleted: nothing more will come
        m_ended = true;
        Q_EMIT ended(m_sid, m_tid, QJsonObject{{QStringLiteral("state"), QStringLiteral("gone")}});
        return;
    }
    if (!m_lost) {
        m_lost = true;
        Q_EMIT connectionLost(why);
    }
    m_retry->start(m_retryMs);
    m_retryMs = std::min(m_retryMs * 2, 5000);
}

} // namespace holdfast
