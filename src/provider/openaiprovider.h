#pragma once

#include "provider/httpprovider.h"

namespace holdfast {

// Any OpenAI-compatible server (OpenAI, llama.cpp's server, vLLM, LM Studio, Ollama's /v1):
// POST {base-url}/chat/completions with "stream": true and stream_options.include_usage (the
// usage arrives in a last chunk), read as Server-Sent Events; GET {base-url}/models for the model
// list. Its context size is the setting context-tokens (the API has no way to ask).
class OpenAiProvider final : public HttpProvider
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(OpenAiProvider)
public:
    explicit OpenAiProvider(UpstreamConfig config, QObject *parent = nullptr);
    ~OpenAiProvider() override;

    std::unique_ptr<ProviderStream> start(const ProviderRequest &request) override;
    // The body of the chat request (exposed for tests).
    static QByteArray requestBody(const ProviderRequest &request);

private:
    QStringList modelNames(const QJsonObject &answer) const override;
};

} // namespace holdfast
