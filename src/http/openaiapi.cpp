#include "http/openaiapi.h"

namespace holdfast {

// Placeholder until the providers issue adds the OpenAI-compatible routes (see openaiapi.h).
void registerOpenAiRoutes(Router &, SessionService *, const HttpOptions &, QObject *) {}

} // namespace holdfast
