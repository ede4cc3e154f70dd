#pragma once

#include "core/error.h"
#include "core/types.h"
#include "runtime/waiter.h"

#include <QCoroTask>
#include <QJsonObject>
#include <QObject>
#include <QPointer>
#include <QStringList>

#include <memory>
#include <optional>

namespace holdfast {

// An attachment with its bytes, as it goes to a model.
struct AttachmentContent
{
    Attachment meta;
    QByteArray bytes;
};

class Provider;

// Keeps a provider alive while it is used (a starting turn, a running stream): the registry deletes
// a replaced provider only once no ProviderUse of it is left. Holds a QPointer, so a provider its
// registry deleted at exit is simply gone.
class ProviderUse
{
public:
    ProviderUse() = default;
    explicit ProviderUse(Provider *provider);
    ProviderUse(const ProviderUse &other);
    ProviderUse &operator=(const ProviderUse &other);
    ProviderUse(ProviderUse &&other) noexcept;
    ProviderUse &operator=(ProviderUse &&other) noexcept;
    ~ProviderUse();

    Provider *get() const { return m_provider.data(); }
    Provider *operator->() const { return m_provider.data(); }
    explicit operator bool() const { return !m_provider.isNull(); }

private:
    void release();

    QPointer<Provider> m_provider;
};

// A tool offered to the model (shared/API.md, Tools (MCP): "Function names on the wire").
struct ToolSpec
{
    QString name;     // "SERVER/TOOL", as the API names it (the demo model matches on it)
    QString wireName; // the function name the model sees (core/tools.h: toolWireNames)
    QString description;
    QJsonObject parameters; // the MCP tool's input schema
};

// A call the model asked for, or one that goes back to it with an earlier message.
struct ProviderToolCall
{
    QString id;       // the model server's id; a provider without ids (Ollama) makes one up
    QString wireName; // the function name, as offered in ProviderRequest::tools
    QJsonObject arguments;
};

struct ChatMessage
{
    ChatMessage() = default;
    ChatMessage(QString role, QString content, QList<AttachmentContent> attachments = {})
        : role(std::move(role)), content(std::move(content)), attachments(std::move(attachments))
    {}

    QString role; // "system" | "user" | "assistant"
    QString content;
    // A user message's files (shared/API.md, Attachments: "To the model"); each provider puts
    // images in its own wire format and text (and a PDF's text) before the content.
    QList<AttachmentContent> attachments;
    // role "assistant": the calls it asked for after `content` (each answered by a following
    // role "tool" message).
    QList<ProviderToolCall> toolCalls;
    // role "tool": the result of call `toolCallId` of function `toolName`; `content` is the result.
    QString toolCallId;
    QString toolName;
};

// What goes to a model: the system prompt first (if any), then the conversation oldest first,
// the new prompt last.
struct ProviderRequest
{
    QString model; // the provider's own model name (without "provider/")
    QList<ChatMessage> messages;
    TurnOptions options;
    // The tools the model may call; empty: the request carries no tools at all.
    QList<ToolSpec> tools;
};

// One generation. Subclasses push() chunks and finish()/fail() as the model answers;
// consumers co_await next(). Destroying or cancelling the stream stops the generation.
class ProviderStream : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ProviderStream)
public:
    explicit ProviderStream(QObject *parent = nullptr) : QObject(parent) {}
    ~ProviderStream() override;

    // Waits for at least one chunk and returns every chunk available now;
    // an empty list means the stream has ended (see error()).
    QCoro::Task<QStringList> next();

    // Stops the generation at once (aborts the upstream request); next() then returns {}.
    void cancel();

    bool ended() const { return m_ended; }
    // The provider this stream keeps alive until it is destroyed (set by whoever started it).
    void keepProvider(ProviderUse use) { m_provider = std::move(use); }
    bool cancelled() const { return m_cancelled; }
    const std::optional<Error> &error() const { return m_error; }
    // The tokens the model server reported for this generation, once it has ended (nullopt:
    // it reported none).
    const std::optional<TokenUsage> &usage() const { return m_usage; }
    // The calls the model asked for in this generation, in its order, once it ended without an
    // error (OpenAI's tool_calls deltas assembled; Ollama's tool_calls). Empty: none.
    const QList<ProviderToolCall> &toolCalls() const { return m_toolCalls; }

Q_SIGNALS:
    void changed(); // a chunk arrived or the stream ended

protected:
    void push(const QString &text);
    void finish();
    void fail(Error error);
    void setUsage(TokenUsage usage) { m_usage = usage; } // before finish()
    void setToolCalls(QList<ProviderToolCall> calls) { m_toolCalls = std::move(calls); } // ditto
    virtual void abort() {} // called once by cancel(): stop upstream work

private:
    void notify();

    QStringList m_queue;
    std::optional<Wakeup> m_wakeup; // the consumer waiting in next(), if any
    bool m_ended = false;
    bool m_cancelled = false;
    std::optional<Error> m_error;
    std::optional<TokenUsage> m_usage;
    QList<ProviderToolCall> m_toolCalls;
    ProviderUse m_provider;
};

struct ModelInfo
{
    QString id;      // as clients name it: "demo", "ollama/llama3", ...
    QString ownedBy; // the provider's name
};

class Provider : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(Provider)
public:
    explicit Provider(QObject *parent = nullptr) : QObject(parent) {}
    ~Provider() override = default;

    // "demo", "openai", "ollama" or a configured name.
    virtual QString name() const = 0;
    // The model used when a session names the provider only.
    virtual QString defaultModel() const = 0;
    virtual QCoro::Task<Result<QStringList>> models() = 0;
    // The context size of `model` in tokens, the budget of a turn without `context_tokens`
    // (shared/API.md, Usage and context budget): the provider setting `context-tokens`, or what
    // the server says of the model (Ollama); nullopt when unknown (no budget applies).
    virtual QCoro::Task<std::optional<int>> contextTokens(QString model)
    {
        Q_UNUSED(model);
        co_return std::nullopt;
    }
    // Starts a generation; the stream is owned by the caller.
    virtual std::unique_ptr<ProviderStream> start(const ProviderRequest &request) = 0;

    // Replaced in its registry: deleted (later) once no ProviderUse of it is left.
    void retire();
    bool retired() const { return m_retired; }

private:
    friend class ProviderUse;
    int m_uses = 0;
    bool m_retired = false;
};

} // namespace holdfast
