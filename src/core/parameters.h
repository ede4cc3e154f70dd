#pragma once

#include "core/types.h"

#include <QByteArray>
#include <QString>
#include <QStringList>

#include <optional>

namespace holdfast {

// The parameters of the service's calls, shared by SessionService and SessionClient (so that a
// client's users need not see the service).

struct CreateSessionParams
{
    QString id; // empty: generate one
    std::optional<QString> title;
    std::optional<QString> system;
    std::optional<QString> model;
};

// For each field: nullopt leaves it, a null QString clears it (title, system).
struct PatchSessionParams
{
    std::optional<QString> title;
    std::optional<QString> system;
    std::optional<QString> model;
    std::optional<qint64> head;         // switch the active branch (shared/API.md, Branches)
    std::optional<TurnOptions> options; // replaces the session's default options
    std::optional<QStringList> tools;   // shared/API.md, Tools (MCP)
    std::optional<ToolApproval> toolApproval;
};

struct StartTurnParams
{
    QString prompt;
    std::optional<QString> model;
    TurnOptions options;
    // Where the prompt goes (shared/API.md, Branches). parent: nullopt follows head; -1 starts a
    // new first message ("parent": null); K appends after assistant message K.
    std::optional<qint64> parent;
    // A user message to answer again (a new version); no prompt is appended. -1: not set.
    qint64 regenerate = -1;
    // Ids of this session's attachments for the new user message, in order (shared/API.md,
    // Attachments: at most 10).
    QStringList attachments;
    // The tools the model may call in this turn (shared/API.md, Tools (MCP)); nullopt: the
    // session's.
    std::optional<QStringList> tools;
};

// One upload (shared/API.md: POST /v1/sessions/{sid}/attachments).
struct UploadParams
{
    QString name; // empty: "attachment"
    QString type; // the Content-Type as sent (parameters may follow a ';')
    QByteArray bytes;
};

} // namespace holdfast
