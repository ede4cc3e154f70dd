#pragma once

#include "client/sessionclient.h"

#include <QHash>
#include <QJsonDocument>
#include <QNetworkRequest>
#include <QUrl>
#include <QUrlQuery>

#include <optional>

class QNetworkAccessManager;
class QTimer;

namespace holdfast {

class TurnEventStream;

// Another Holdfast over HTTP (shared/API.md): calls as requests, a turn's chunks from its
// Server-Sent Events. While the service is unreachable it says so and checks back until it is.
class RemoteClient final : public SessionClient
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(RemoteClient)
public:
    RemoteClient(QUrl baseUrl, QString token, QObject *parent = nullptr);
    ~RemoteClient() override;

    QString description() const override { return m_base.toDisplayString(); }
    bool isOnline() const override { return m_online; }

    QCoro::Task<Result<SessionPage>> listSessions(QString query, int limit, int offset) override;
    QCoro::Task<Result<SessionSnapshot>> createSession(CreateSessionParams params) override;
    QCoro::Task<Result<SessionSnapshot>> session(QString sid, int window) override;
    QCoro::Task<Result<SessionSnapshot>> patchSession(QString sid,
                                                      PatchSessionParams params) override;
    QCoro::Task<Status> deleteSession(QString sid) override;
    QCoro::Task<Result<MessagePage>> messages(QString sid, qint64 before, int limit) override;
    QCoro::Task<Result<TurnRecord>> startTurn(QString sid, StartTurnParams params) override;
    QCoro::Task<Result<TurnRecord>> turn(QString sid, int tid) override;
    QCoro::Task<Result<ChunkPage>> chunks(QString sid, int tid, int from) override;
    QCoro::Task<Result<TurnRecord>> cancelTurn(QString sid, int tid) override;
    QCoro::Task<Result<QList<ModelInfo>>> models() override;
    QCoro::Task<Result<Attachment>> uploadAttachment(QString sid, UploadParams params) override;
    QCoro::Task<Result<QByteArray>> attachmentBytes(QString sid, QString aid) override;
    QCoro::Task<Result<ToolList>> tools() override;
    QCoro::Task<Result<TurnRecord>> answerToolCall(QString sid, int tid, QString cid,
                                                   bool approve) override;
    void watchTurn(const QString &sid, int tid, int fromSeq) override;

private:
    QNetworkRequest request(const QString &path, const QUrlQuery &query = {}) const;
    // One API call; the JSON body of a 2xx answer, or the error the service (or network) gave.
    QCoro::Task<Result<QJsonDocument>> call(QByteArray verb, QString path, QUrlQuery query,
                                            std::optional<QJsonObject> body);
    // One request with a body of any type (none when `contentType` is empty); the raw body of a
    // 2xx answer, or the error.
    QCoro::Task<Result<QByteArray>> exchange(QByteArray verb, QString path, QUrlQuery query,
                                             QByteArray contentType, QByteArray body);
    QCoro::Task<> finishTurn(QString sid, int tid, QJsonObject data);
    // After a tool step on a turn's stream: the event stream does not carry the turn's state,
    // so the turn is read to tell turnStateChanged (waiting after a call that asks, streaming
    // again once it was answered).
    QCoro::Task<> followToolStep(QString sid, int tid, Chunk chunk);
    // Emits turnStateChanged when a running turn's state differs from the one last told.
    void noteTurnState(const TurnRecord &turn);
    // Loads the session and tells sessionChanged.
    QCoro::Task<> refreshSession(QString sid);
    QCoro::Task<> checkHealth();
    void setOnline(bool online, const QString &message);
    static QString path(const QString &sid);

    QUrl m_base;
    QByteArray m_auth;
    QNetworkAccessManager *m_nam;
    QHash<QString, TurnEventStream *> m_streams; // "sid/tid"
    // Per running turn ("sid/tid"): the state last told through turnStateChanged, and how many
    // tool steps its stream has brought (a later step makes an earlier step's check moot).
    struct TurnWatch
    {
        TurnRecord::State state = TurnRecord::State::Streaming;
        int steps = 0;
    };
    QHash<QString, TurnWatch> m_watches;
    QTimer *m_health;
    bool m_online = true;
};

} // namespace holdfast
