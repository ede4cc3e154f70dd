#pragma once

#include "core/error.h"
#include "core/types.h"

#include <QByteArray>
#include <QCoroTask>

namespace holdfast {
class SessionClient;
}

namespace holdfast::sessionexport {

// The active branch as a Markdown document: the title, the system prompt, then each message.
QByteArray toMarkdown(const SessionMeta &meta, const QList<Message> &messages);
// The API's Session object with `messages` (every branch: each message with its parent and
// siblings) as its history, by index.
QByteArray toJson(const SessionMeta &meta, const QList<Message> &messages);

// Every message of the active branch, oldest first, page by page from the newest.
QCoro::Task<Result<QList<Message>>> readBranch(SessionClient *client, QString sid);
// Every message of every branch, by index. The API reads one branch at a time, so this makes
// each other version active in turn (PATCH head) and the active branch active again at the end;
// while a turn runs that is 409.
QCoro::Task<Result<QList<Message>>> readTree(SessionClient *client, QString sid);

} // namespace holdfast::sessionexport
