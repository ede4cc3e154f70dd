#pragma once

#include "core/types.h"

#include <QByteArray>

namespace holdfast::sessionexport {

// A whole session as a Markdown document: the title, the system prompt, then each message.
QByteArray toMarkdown(const SessionMeta &meta, const QList<Message> &messages);
// The API's Session object, with every message as its history.
QByteArray toJson(const SessionMeta &meta, const QList<Message> &messages);

} // namespace holdfast::sessionexport
