#include "provider/openaiprovider.h"

#include "provider/wireformat.h"
#include "runtime/sseparser.h"

#include <QJsonArray>
#include <QJsonObject>

namespace holdfast {

namespace {

class OpenAiStream final : public HttpModelStream
{
public:
    OpenAiStream(UpstreamConfig config, UpstreamClient *network, const ProviderRequest &request)
        : HttpModelStream(std::move(config))
    {
        begin(network,
              upstream::request(this->config(), QStringLiteral("chat/completions"),
                                QByteArrayLiteral("text/event-stream")),
              OpenAiProvider::requestBody(request));
    }

protected:
    void consume(QByteArrayView bytes) override { take(m_parser.feed(bytes)); }
    void bodyEnded() override { take(m_parser.finish()); }

private:
    void take(const QList<SseParser::Event> &events)
    {
        for (const SseParser::Event &event : events) {
            if (ended())
                return;
            apply(upstream::readOpenAiEvent(event), event.data.toUtf8());
        }
    }

    SseParser m_parser;
};

} // namespace

OpenAiProvider::OpenAiProvider(UpstreamConfig config, QObject *parent)
    : HttpProvider(std::move(config), QStringLiteral("models"), parent)
{}

OpenAiProvider::~OpenAiProvider() = default;

QByteArray OpenAiProvider::requestBody(const ProviderRequest &request)
{
    QJsonObject body = chatBody(request);
    if (request.options.temperature)
        body.insert(QStringLiteral("temperature"), *request.options.temperature);
    if (request.options.topP)
        body.insert(QStringLiteral("top_p"), *request.options.topP);
    if (request.options.maxTokens)
        body.insert(QStringLiteral("max_tokens"), *request.options.maxTokens);
    // The usage of the generation comes in a last chunk, without choices, before [DONE].
    body.insert(QStringLiteral("stream_options"),
                QJsonObject{{QStringLiteral("include_usage"), true}});
    return QJsonDocument(body).toJson(QJsonDocument::Compact);
}

QStringList OpenAiProvider::modelNames(const QJsonObject &answer) const
{
    QStringList names;
    const QJsonArray data = answer.value(QStringLiteral("data")).toArray();
    for (const QJsonValue &entry : data) {
        const QString id = entry.toObject().value(QStringLiteral("id")).toString();
        if (!id.isEmpty())
            names.append(id);
    }
    return names;
}

std::unique_ptr<ProviderStream> OpenAiProvider::start(const ProviderRequest &request)
{
    return std::make_unique<OpenAiStream>(config(), network(), request);
}

} // namespace holdfast
