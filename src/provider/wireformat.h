#pragma once

#include "core/types.h"
#include "runtime/sseparser.h"

#include "core/provider.h"

#include <QByteArray>
#include <QHash>
#include <QJsonArray>
#include <QJsonObject>
#include <QString>

#include <optional>

// The meaning of one unit of a model server's stream, apart from the network code, so that it
// can be tested and fuzzed on bytes alone (tests/fuzz).
namespace holdfast::upstream {

// A piece of a tool call in a stream. OpenAI sends a call in pieces keyed by `index` (the first
// with the id and the function's name, the next ones each a piece of the arguments' JSON text);
// Ollama sends each call whole, its arguments an object (here as JSON text).
struct ToolCallPiece
{
    std::optional<int> index; // OpenAI's; none: a whole call, or a server that leaves it out
    bool whole = false;       // a complete call (Ollama's): no later piece continues it
    QString id;               // empty: none given (a made-up one is used)
    QString name;             // the function's name, as offered (ToolSpec::wireName)
    QString arguments;        // JSON text, or a piece of it
};

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
    QList<ToolCallPiece> toolCalls; // pieces of the calls the model asks for
    QString finishReason;           // OpenAI's finish_reason, when this chunk has one
};

// The tool calls of one generation, assembled from their pieces as they arrive.
class ToolCallAssembler
{
public:
    void add(const ToolCallPiece &piece);
    bool isEmpty() const { return m_calls.isEmpty(); }
    // The calls in the model's order (OpenAI's index, else arrival), each with its arguments
    // parsed ("" is {}), and an id (made up where the server gave none, or gave one twice).
    // An upstream_error (naming the call) when a call has no function name or its arguments are not
    // a JSON object, and when `finishReason` is "tool_calls" but no call came: the turn fails
    // rather than run a tool with arguments the model did not mean (or drop the call silently).
    Result<QList<ProviderToolCall>> calls(const QString &finishReason) const;

private:
    struct Pending
    {
        std::optional<int> index;
        QString id;
        QString name;
        bool whole = false;
        QString arguments;
    };
    QList<Pending> m_calls;
    QHash<int, qsizetype> m_byIndex; // OpenAI's index -> position in m_calls
};

// A made-up tool call id ("call_" and 24 letters and digits), for servers that give none.
QString newToolCallId();

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
// The assistant's calls and the role "tool" messages are each format's own:
//   OpenAI  {"role":"assistant","content":TEXT or null,"tool_calls":[{"id","type":"function",
//            "function":{"name","arguments":JSON TEXT}}]}, {"role":"tool","tool_call_id","content"}
//   Ollama  {"role":"assistant","content","tool_calls":[{"function":{"name","arguments":{…}}}]},
//           {"role":"tool","content","tool_name"}

// The tools of a request, in the shape both formats share: [{"type":"function","function":
// {"name": wireName, "description", "parameters": the input schema}}].
QJsonArray toolDefinitions(const QList<ToolSpec> &tools);

} // namespace holdfast::upstream
