#pragma once

#include "core/types.h"
#include "runtime/sseparser.h"

#include "core/provider.h"

#include <QByteArray>
#include <QHash>
#include <QJsonObject>
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

// What goes to a model server: the messages of a request with their attachments
// (shared/API.md, Attachments: "To the model"), shared by the OpenAI and Ollama formats.

// The text of each PDF attachment of a request, by attachment id (provider/pdftext.h reads it).
using PdfTexts = QHash<QString, QString>;
// A message's text as the model gets it: each text attachment, and each PDF's text, as its
// name on a line of its own followed by its content in a fenced code block, then the message's
// own text. Images are the formats' own (not in the text).
QString messageText(const ChatMessage &message, const PdfTexts &pdfs);
// A fence longer than any run of backticks in `content` (at least three).
QString fenceFor(QStringView content);
// OpenAI: a message with images has a content array (the text part, then one image_url part
// with a data: URL per image); any other message's content is its text.
QJsonObject openAiMessage(const ChatMessage &message, const PdfTexts &pdfs);
// Ollama: the text as content, and the images as base64 strings in `images`.
QJsonObject ollamaMessage(const ChatMessage &message, const PdfTexts &pdfs);

} // namespace holdfast::upstream
