#pragma once

#include "core/types.h"
#include "runtime/sseparser.h"

#include <QByteArray>
#include <QString>

#include <optional>

// The meaning of one unit of a model server's stream, apart from the network code, so that it
// can be tested and fuzzed on bytes alone (tests/fuzz).
namespace holdfast::upstream {

struct StreamItem
{
    enum class Fault { None, Malformed, Reported };

    Fault fault = Fault::None;
    QString reported; // the server's own error text (Fault::Reported)
    bool hasText = false;
    QString text;     // a piece of the answer (when hasText)
    bool end = false; // the stream's end marker
    // The tokens the server reported (OpenAI's usage chunk; Ollama's final line's counts).
    std::optional<TokenUsage> usage;
};

// One event of an OpenAI-compatible stream: {"choices":[{"delta":{"content":…}}]} or [DONE]; the
// chunk that stream_options.include_usage asks for carries "usage":{"prompt_tokens",…}.
StreamItem readOpenAiEvent(const SseParser::Event &event);
// One line of Ollama's NDJSON: {"message":{"content":…},"done":bool}; a blank line is nothing.
// The last line ("done": true) carries prompt_eval_count and eval_count.
StreamItem readOllamaLine(const QByteArray &line);

} // namespace holdfast::upstream
