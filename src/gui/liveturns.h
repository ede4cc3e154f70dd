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
//
// Tool steps (shared/API.md, Tools (MCP)) take their seqs like text: they come out in the same
// order (toolStep), each remembered with where in the text it happened, and a call without a
// result yet is open; while the turn is `waiting` the first open call is the one to approve.
class LiveTurns final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(LiveTurns)
public:
    explicit LiveTurns(SessionClient *client, QObject *parent = nullptr);

    // A tool step and how much of the answer's text came before it.
    struct ToolStepAt
    {
        qsizetype offset = 0;
        Chunk chunk;
    };
    struct Live
    {
        int turn = 0;
        QString model;
        QString text;
        int next = 0;             // the next seq expected
        QMap<int, Chunk> pending; // chunks that arrived ahead of a gap
        QList<ToolStepAt> steps;  // the tool steps so far, in order
        bool waiting = false;     // the turn waits for the user's answer to a call
        // The first call without a result (nullptr: none): the one a waiting turn waits for.
        const ToolCall *openCall() const;
    };

    bool isActive(const QString &sid) const { return m_live.contains(sid); }
    const Live *live(const QString &sid) const;
    QStringList activeSessions() const { return m_live.keys(); }

    // Follows a turn the window did not see start (from a session's active_turn).
    QCoro::Task<> adopt(QString sid, int tid);

Q_SIGNALS:
    void textAppended(const QString &sid, int tid, const QString &text);
    // A tool call or result of the live turn, after the text that came before it.
    void toolStep(const QString &sid, int tid, const holdfast::Chunk &chunk);
    // The turn started or stopped waiting for the answer to a call (Live::waiting).
    void waitingChanged(const QString &sid, int tid, bool waiting);
    void activeChanged(const QString &sid, bool active);
    void finished(const holdfast::TurnRecord &turn);

private:
    void onStarted(const TurnRecord &turn);
    void onChunk(const QString &sid, int tid, const Chunk &chunk);
    void onState(const TurnRecord &turn);
    void deliver(const QString &sid, Live &live, const Chunk &chunk, QString *text);
    void onFinished(const TurnRecord &turn);
    Live &track(const QString &sid, int tid, const QString &model);

    QPointer<SessionClient> m_client;
    QHash<QString, Live> m_live;
};

} // namespace holdfast
