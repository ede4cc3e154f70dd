#pragma once

#include "core/error.h"

namespace holdfast {

class ProviderRegistry;
class Settings;

// Builds the providers the settings name: `demo` always; the one of --provider (openai or
// ollama, with --base-url, --model, --api-key, --context-tokens); and one per [provider.NAME]
// group of the settings file:
//   [provider.local]
//   kind = openai                 (or ollama; may be left out when NAME is openai or ollama)
//   base-url = http://127.0.0.1:8081/v1
//   model = qwen2.5               (its default model)
//   models = qwen2.5, llama3.1    (more model names it serves, optional)
//   api-key = …                   (optional)
//   connect-timeout-ms, idle-timeout-ms, max-response-bytes (optional; else the global ones)
//   context-tokens = 8192         (optional: its models' context size, the budget of a turn
//                                  without context_tokens; Ollama: also its num_ctx; unset,
//                                  Ollama asks the model's own)
// A session names a model as NAME/model, NAME alone, or a model name only one provider lists.
// Errors are usage errors (a bad group, an unknown kind, a missing model).
Status setupProviders(const Settings &settings, ProviderRegistry *registry);

} // namespace holdfast
