#pragma once

#include "core/types.h"

#include <QCoroTask>
#include <QHash>
#include <QMap>
#include <QObject>
#include <QPointer>

namespace holdfast {

class SessionClient;

// The text of every answer generating now, by session, in chunk order without gaps or
// repeats, whichever session the window shows. Turns started elsewhere (another client, or
// before the window connected) are adopted: their earlier chunks are fetched once.
class LiveTurns final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(LiveTurns)
public:
    explicit LiveTurns(SessionClient *client, QObject *parent = nullptr);

    struct Live
    {
        int turn = 0;
        QString model;
        QString text;
        int next = 0;               // the next seq expected
        QMap<int, QString> pending; // chunks that arrived ahead of a gap
    };

    bool isActive(const QString &sid) const { return m_live.contains(sid); }
    const Live *live(const QString &sid) const;
    QStringList activeSessions() const { return m_live.keys(); }

    // Follows a turn the window did not see start (from a session's active_turn).
    QCoro::Task<> adopt(QString sid, int tid);

Q_SIGNALS:
    void textAppended(const QString &sid, int tid, const QString &text);
    void activeChanged(const QString &sid, bool active);
    void finished(const holdfast::TurnRecord &turn);

private:
    void onStarted(const TurnRecord &turn);
    void onChunk(const QString &sid, int tid, int seq, const QString &text);
    void onFinished(const TurnRecord &turn);
    Live &track(const QString &sid, int tid, const QString &model);

    QPointer<SessionClient> m_client;
    QHash<QString, Live> m_live;
};

} // namespace holdfast
