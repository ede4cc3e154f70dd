#pragma once

#include "core/provider.h"

namespace holdfast {

// The built-in offline model: deterministic Markdown derived from the prompt and the history,
// cut into `chunks` pieces emitted `delayMs` apart; it reports estimated token counts.
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

    // The whole answer the demo model gives to this conversation, before it is cut into chunks.
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
