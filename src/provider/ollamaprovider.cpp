#include "provider/ollamaprovider.h"

#include "provider/wireformat.h"
#include "runtime/sseparser.h"

#include <QJsonArray>
#include <QJsonObject>

namespace holdfast {

namespace {

class OllamaStream final : public HttpModelStream
{
public:
    OllamaStream(UpstreamConfig config, UpstreamClient *network, const ProviderRequest &request)
        : HttpModelStream(std::move(config))
    {
        beginChat(network,
                  upstream::request(this->config(), QStringLiteral("api/chat"),
                                    QByteArrayLiteral("application/x-ndjson")),
                  request, &OllamaProvider::requestBody);
    }

protected:
    void consume(QByteArrayView bytes) override { take(m_lines.feed(bytes)); }
    void bodyEnded() override { take(m_lines.finish()); }

private:
    void take(const QList<QByteArray> &lines)
    {
        for (const QByteArray &line : lines) {
            if (ended())
                return;
            apply(upstream::readOllamaLine(line), line);
        }
    }

    LineSplitter m_lines;
};

} // namespace

OllamaProvider::OllamaProvider(UpstreamConfig config, QObject *parent)
    : HttpProvider(std::move(config), QStringLiteral("api/tags"), parent)
{}

OllamaProvider::~OllamaProvider() = default;

QByteArray OllamaProvider::requestBody(const ProviderRequest &request,
                                       const upstream::PdfTexts &pdfs)
{
    QJsonObject body = chatBody(request, &upstream::ollamaMessage, pdfs);
    QJsonObject options;
    if (request.options.temperature)
        options.insert(QStringLiteral("temperature"), *request.options.temperature);
    if (request.options.maxTokens)
        options.insert(QStringLiteral("num_predict"), *request.options.maxTokens);
    if (!options.isEmpty())
        body.insert(QStringLiteral("options"), options);
    return QJsonDocument(body).toJson(QJsonDocument::Compact);
}

QStringList OllamaProvider::modelNames(const QJsonObject &answer) const
{
    QStringList names;
    const QJsonArray list = answer.value(QStringLiteral("models")).toArray();
    for (const QJsonValue &entry : list) {
        const QJsonObject model = entry.toObject();
        QString name = model.value(QStringLiteral("name")).toString();
        if (name.isEmpty())
            name = model.value(QStringLiteral("model")).toString();
        if (!name.isEmpty())
            names.append(name);
    }
    return names;
}

std::unique_ptr<ProviderStream> OllamaProvider::start(const ProviderRequest &request)
{
    return std::make_unique<OllamaStream>(config(), network(), request);
}

} // namespace holdfast
