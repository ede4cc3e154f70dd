#pragma once

#include "provider/httpprovider.h"

#include <QHash>

namespace holdfast {

// Ollama's own API: POST {base-url}/api/chat, streamed as newline-delimited JSON that ends with
// a line holding "done": true and the token counts; GET {base-url}/api/tags for the model list;
// POST {base-url}/api/show for a model's context length.
class OllamaProvider final : public HttpProvider
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(OllamaProvider)
public:
    explicit OllamaProvider(UpstreamConfig config, QObject *parent = nullptr);
    ~OllamaProvider() override;

    std::unique_ptr<ProviderStream> start(const ProviderRequest &request) override;
    // The setting context-tokens; else the model's own ("<architecture>.context_length" of
    // /api/show's model_info), asked once per model; nullopt when neither is known.
    QCoro::Task<std::optional<int>> contextTokens(QString model) override;
    // The body of the chat request (exposed for tests). num_ctx is the request's context_tokens,
    // else `contextTokens` (the setting): never the model's own length, which would make Ollama
    // allocate its whole context (128k tokens for many models) instead of its default.
    static QByteArray requestBody(const ProviderRequest &request,
                                  std::optional<int> contextTokens = std::nullopt);
    // The context length in an answer of /api/show (exposed for tests).
    static std::optional<int> contextLength(const QJsonObject &show);

private:
    QStringList modelNames(const QJsonObject &answer) const override;

    // Models whose context length the server answered (nullopt: it has none to tell).
    QHash<QString, std::optional<int>> m_contextLengths;
};

} // namespace holdfast
