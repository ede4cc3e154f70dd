#pragma once

#include "provider/httpprovider.h"

namespace holdfast {

// Ollama's own API: POST {base-url}/api/chat, streamed as newline-delimited JSON that ends with
// a line holding "done": true; GET {base-url}/api/tags for the model list.
class OllamaProvider final : public HttpProvider
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(OllamaProvider)
public:
    explicit OllamaProvider(UpstreamConfig config, QObject *parent = nullptr);
    ~OllamaProvider() override;

    std::unique_ptr<ProviderStream> start(const ProviderRequest &request) override;
    // The body of the chat request (exposed for tests).
    static QByteArray requestBody(const ProviderRequest &request,
                                  const upstream::PdfTexts &pdfs = {});

private:
    QStringList modelNames(const QJsonObject &answer) const override;
};

} // namespace holdfast
