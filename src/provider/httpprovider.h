#pragma once

#include "provider/httpmodelstream.h"
#include "provider/wireformat.h"

#include <QJsonObject>

namespace holdfast {

// What the OpenAI and Ollama providers share: their upstream configuration and network pool, the
// chat request's common fields, and a model list read with one GET.
class HttpProvider : public Provider
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(HttpProvider)
public:
    ~HttpProvider() override;

    QString name() const override { return m_config.name; }
    QString defaultModel() const override { return m_config.defaultModel; }
    QCoro::Task<Result<QStringList>> models() override;
    // The setting context-tokens, if set.
    QCoro::Task<std::optional<int>> contextTokens(QString model) override;

    const UpstreamConfig &config() const { return m_config; }

protected:
    // `modelsPath`: where GET lists the models, under the base URL.
    HttpProvider(UpstreamConfig config, QString modelsPath, QObject *parent);

    UpstreamClient *network() const { return m_network; }
    // {"model", "messages": [...], "stream": true} and the tools offered, if any: the rest is the
    // format's, and so is each message (with its attachments and tool calls), written by
    // `message`.
    using MessageWriter = QJsonObject (*)(const ChatMessage &, const upstream::PdfTexts &);
    static QJsonObject chatBody(const ProviderRequest &request, MessageWriter message,
                                const upstream::PdfTexts &pdfs);
    // The model names in the answer to GET modelsPath.
    virtual QStringList modelNames(const QJsonObject &answer) const = 0;

private:
    UpstreamConfig m_config;
    QString m_modelsPath;
    UpstreamClient *m_network;
};

} // namespace holdfast
