#pragma once

#include "provider/httpmodelstream.h"

namespace holdfast {

// Ollama's own API: POST {base-url}/api/chat, streamed as newline-delimited JSON that ends with
// a line holding "done": true; GET {base-url}/api/tags for the model list.
class OllamaProvider final : public Provider
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(OllamaProvider)
public:
    explicit OllamaProvider(UpstreamConfig config, QObject *parent = nullptr);
    ~OllamaProvider() override;

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
