#pragma once

#include "core/error.h"
#include "core/types.h"

#include <QByteArray>
#include <QCoroTask>
#include <QHash>

namespace holdfast {
class SessionClient;
}

namespace holdfast::sessionexport {

// Attachment bytes by id.
using Files = QHash<QString, QByteArray>;

// The active branch as a Markdown document: the title, the system prompt, then each message. A
// prompt's files are linked (pictures shown) from `filesFolder`, a folder beside the document
// (exportFileNames names them there): Markdown has no place for the bytes themselves.
QByteArray toMarkdown(const SessionMeta &meta, const QList<Message> &messages,
                      const QString &filesFolder = {});
// The API's Session object with `messages` (every branch: each message with its parent and
// siblings) as its history, by index. Each attachment carries its bytes as base64 ("data"), so
// the one file holds the whole chat.
QByteArray toJson(const SessionMeta &meta, const QList<Message> &messages, const Files &files = {});
// The name each attachment gets in the Markdown export's folder, by id (unique per folder).
QHash<QString, QString> exportFileNames(const QList<Message> &messages);
// "chat.md" -> "chat_files": the folder of the Markdown export's attachments.
QString filesFolderFor(const QString &markdownPath);
// Writes the Markdown document and its files (into filesFolderFor(path)); runs on a worker thread.
bool writeMarkdown(const QString &path, const QByteArray &markdown, const QList<Message> &messages,
                   const Files &files);

// The bytes of every attachment of `messages`.
QCoro::Task<Result<Files>> readFiles(SessionClient *client, QString sid, QList<Message> messages);

// Every message of the active branch, oldest first, page by page from the newest.
QCoro::Task<Result<QList<Message>>> readBranch(SessionClient *client, QString sid);
// Every message of every branch, by index. The API reads one branch at a time, so this makes
// each other version active in turn (PATCH head) and the active branch active again at the end;
// while a turn runs that is 409.
QCoro::Task<Result<QList<Message>>> readTree(SessionClient *client, QString sid);

} // namespace holdfast::sessionexport
