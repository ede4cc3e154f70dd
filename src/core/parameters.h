#pragma once

#include "core/types.h"

#include <QString>

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
};

struct StartTurnParams
{
    QString prompt;
    std::optional<QString> model;
    TurnOptions options;
};

} // namespace holdfast
