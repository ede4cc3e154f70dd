#pragma once

#include "provider/httpprovider.h"

namespace holdfast {

// Any OpenAI-compatible server (OpenAI, llama.cpp's server, vLLM, LM Studio, Ollama's /v1):
// POST {base-url}/chat/completions with "stream": true, read as Server-Sent Events;
// GET {base-url}/models for the model list.
class OpenAiProvider final : public HttpProvider
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(OpenAiProvider)
public:
    explicit OpenAiProvider(UpstreamConfig config, QObject *parent = nullptr);
    ~OpenAiProvider() override;

    std::unique_ptr<ProviderStream> start(const ProviderRequest &request) override;
    // The body of the chat request (exposed for tests).
    static QByteArray requestBody(const ProviderRequest &request,
                                  const upstream::PdfTexts &pdfs = {});

private:
    QStringList modelNames(const QJsonObject &answer) const override;
};

} // namespace holdfast
