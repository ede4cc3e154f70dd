#pragma once

// Records for store tests (tst_store, tst_redisstore), and unwrapping of store results.

#include "core/error.h"
#include "core/types.h"
#include "fakes/testutil.h"

#include <QDebug>

#include <optional>

namespace holdfast::test {

inline SessionMeta meta(const QString &id,
                        const QString &updated = QStringLiteral("2026-03-01T10:00:00Z"))
{
    SessionMeta m;
    m.id = id;
    m.model = QStringLiteral("demo");
    m.createdAt = fromIso(QStringLiteral("2026-03-01T09:00:00Z"));
    m.updatedAt = fromIso(updated);
    return m;
}

// On one branch, as a session nobody branched: each message follows the one before it.
inline Message message(qint64 index, const QString &role, const QString &content, int turn = 0)
{
    Message m;
    m.index = index;
    m.parent = index - 1;
    m.depth = index;
    m.role = role;
    m.content = content;
    m.turn = turn;
    m.createdAt = fromIso(QStringLiteral("2026-03-01T09:30:00.123Z"));
    return m;
}

inline TurnRecord turnRecord(const QString &sid, int id, qint64 promptIndex)
{
    TurnRecord t;
    t.id = id;
    t.session = sid;
    t.state = TurnRecord::State::Streaming;
    t.promptIndex = promptIndex;
    t.model = QStringLiteral("demo");
    t.createdAt = fromIso(QStringLiteral("2026-03-01T09:30:00Z"));
    return t;
}

// The value of a store call that must succeed (the test stops with the error otherwise, or
// when the call does not finish in time).
template <typename T> T value(QCoro::Task<Result<T>> task)
{
    std::optional<Result<T>> r = detail::awaitOptional(std::move(task), kAwaitTimeoutMs);
    if (!r)
        qFatal("store call did not finish");
    if (!r->ok())
        qFatal("store call failed: %s", qPrintable(r->error().message));
    return r->value();
}

// True when a status got otherwise (e.g. tasks awaited together) is there and succeeded.
inline bool ok(const std::optional<Status> &s)
{
    if (s && !s->ok())
        qWarning() << "store error:" << s->error().message;
    return s && s->ok();
}

// True when the call finished in time and succeeded.
inline bool ok(QCoro::Task<Status> task)
{
    const std::optional<Status> s = detail::awaitOptional(std::move(task), kAwaitTimeoutMs);
    if (!s)
        qWarning() << "store call did not finish";
    else if (!s->ok())
        qWarning() << "store error:" << s->error().message;
    return s && s->ok();
}

} // namespace holdfast::test
