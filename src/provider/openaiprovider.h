#pragma once

#include "provider/httpmodelstream.h"

namespace holdfast {

// Any OpenAI-compatible server (OpenAI, llama.cpp's server, vLLM, LM Studio, Ollama's /v1):
// POST {base-url}/chat/completions with "stream": true, read as Server-Sent Events;
// GET {base-url}/models for the model list.
class OpenAiProvider final : public Provider
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(OpenAiProvider)
public:
    explicit OpenAiProvider(UpstreamConfig config, QObject *parent = nullptr);
    ~OpenAiProvider() override;

    QString name() const override { return m_config.name; }
    QString defaultModel() const override { return m_config.defaultModel; }
    QCoro::Task<Result<QStringList>> models() override;
    std::unique_ptr<ProviderStream> start(const ProviderRequest &request) override;

    const UpstreamConfig &config() const { return m_config; }
    // The body of the chat request (exposed for tests).
    static QByteArray requestBody(const ProviderRequest &request);

private:
    UpstreamConfig m_config;
    UpstreamClient *m_network;
};

} // namespace holdfast
