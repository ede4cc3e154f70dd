#pragma once

#include "core/store.h"
#include "fakes/testutil.h"

#include <QString>

namespace holdfast::test {

// Stores a session `sid` with `messages` messages (prompt/answer pairs, each answer a few
// lines of Markdown), through the store's own turn calls, for long-chat tests and benchmarks.
inline bool fillLongChat(Store *store, const QString &sid, int messages)
{
    SessionMeta meta;
    meta.id = sid;
    meta.title = QStringLiteral("A long chat");
    meta.model = QStringLiteral("demo");
    meta.createdAt = QDateTime::currentDateTimeUtc();
    meta.updatedAt = meta.createdAt;
    const auto created = awaitResult(store->createSession(meta));
    if (!created.ok())
        return false;
    for (int i = 0; i < messages; i += 2) {
        const int tid = i / 2 + 1;
        Message prompt;
        prompt.index = i;
        prompt.role = QStringLiteral("user");
        prompt.content = QStringLiteral("Question %1: what comes next?").arg(i);
        prompt.turn = tid;
        prompt.createdAt = meta.createdAt;
        prompt.parent = i - 1; // one branch: each message follows the one before
        prompt.depth = i;
        TurnRecord turn;
        turn.id = tid;
        turn.session = sid;
        turn.state = TurnRecord::State::Streaming;
        turn.promptIndex = i;
        meta.total = i + 1;
        meta.head = i;
        meta.length = i + 1;
        meta.lastTurn = tid;
        const auto begun = awaitResult(store->beginTurn(meta, prompt, turn));
        if (!begun.ok())
            return false;
        if (i + 1 >= messages)
            break;
        Message answer;
        answer.index = i + 1;
        answer.role = QStringLiteral("assistant");
        answer.content = QStringLiteral("Answer **%1**, with `code` and a list:\n\n- one\n- two\n\n"
                                        "And a closing line.")
                             .arg(i + 1);
        answer.turn = tid;
        answer.createdAt = meta.createdAt;
        answer.parent = i;
        answer.depth = i + 1;
        turn.state = TurnRecord::State::Done;
        turn.responseIndex = i + 1;
        meta.total = i + 2;
        meta.head = i + 1;
        meta.length = i + 2;
        const auto finished = awaitResult(store->finishTurn(meta, answer, turn));
        if (!finished.ok())
            return false;
    }
    return true;
}

} // namespace holdfast::test
