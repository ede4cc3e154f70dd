#pragma once

#include "core/provider.h"

namespace holdfast {

// The built-in offline model: deterministic Markdown derived from the prompt and the history,
// cut into `chunks` pieces emitted `delayMs` apart; it reports estimated token counts. It calls a
// tool when the prompt says `use SERVER/TOOL with {JSON arguments}` and that tool is offered, and
// answers a tool's result by quoting it (shared/API.md, Tools (MCP)).
class DemoProvider final : public Provider
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(DemoProvider)
public:
    struct Options
    {
        int chunks = 12;
        int delayMs = 40;
    };

    explicit DemoProvider(Options options, QObject *parent = nullptr);

    QString name() const override { return QStringLiteral("demo"); }
    QString defaultModel() const override { return QStringLiteral("demo"); }
    QCoro::Task<Result<QStringList>> models() override;
    std::unique_ptr<ProviderStream> start(const ProviderRequest &request) override;

    struct Answer
    {
        QString text;
        QList<ProviderToolCall> toolCalls; // asked for after the text
    };
    // The whole answer the demo model gives to this request, before it is cut into chunks:
    //  - the last message is a tool's result (role "tool", and any before it since the last
    //    other message): "SERVER/TOOL answered: «RESULT»" for each;
    //  - the prompt (the last user message) holds `use SERVER/TOOL with {…}`: a short text and a
    //    call of that tool (its wireName, the arguments, an id) when request.tools offers it;
    //    else a text saying the tool is not available in this chat, or that the arguments are not
    //    a JSON object, and no call;
    //  - else Markdown derived from the prompt and the shape of the conversation.
    // The prompt's attachments are named at the end whenever the last message is the prompt.
    static Answer answer(const ProviderRequest &request);
    // answer()'s text for these messages with no tools offered.
    static QString answerFor(const QList<ChatMessage> &messages);
    // The counts the demo model reports (it has no tokenizer: core/tokens.h's estimate of what it
    // was given and of its answer).
    static TokenUsage usageOf(const QList<ChatMessage> &messages, const QString &answer);
    // The answer cut into `count` pieces (fewer if the text is shorter).
    static QStringList split(const QString &text, int count);

private:
    Options m_options;
};

} // namespace holdfast
