#pragma once

#include "core/error.h"

namespace holdfast {

// The one table from core errors to HTTP statuses (shared/API.md); the code's wire name
// ("not_found", ...) stays in core, which stores it with failed turns and the client parses back.
int httpStatus(ErrorCode code);

} // namespace holdfast
