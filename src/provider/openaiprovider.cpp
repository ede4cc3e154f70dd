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
            handle(event);
        }
    }

    void handle(const SseParser::Event &event)
    {
        apply(upstream::readOpenAiEvent(event), event.data.toUtf8());
    }

    SseParser m_parser;
};

} // namespace

OpenAiProvider::OpenAiProvider(UpstreamConfig config, QObject *parent)
    : Provider(parent), m_config(std::move(config)), m_network(new UpstreamClient(this))
{}

OpenAiProvider::~OpenAiProvider() = default;

QByteArray OpenAiProvider::requestBody(const ProviderRequest &request)
{
    QJsonArray messages;
    for (const ChatMessage &m : request.messages) {
        messages.append(
            QJsonObject{{QStringLiteral("role"), m.role}, {QStringLiteral("content"), m.content}});
    }
    QJsonObject body{{QStringLiteral("model"), request.model},
                     {QStringLiteral("messages"), messages},
                     {QStringLiteral("stream"), true}};
    if (request.options.temperature)
        body.insert(QStringLiteral("temperature"), *request.options.temperature);
    if (request.options.maxTokens)
        body.insert(QStringLiteral("max_tokens"), *request.options.maxTokens);
    return QJsonDocument(body).toJson(QJsonDocument::Compact);
}

QCoro::Task<Result<QStringList>> OpenAiProvider::models()
{
    const auto doc = co_await upstream::getJson(m_network, m_config, QStringLiteral("models"));
    if (!doc)
        co_return doc.error();
    QStringList names;
    const QJsonArray data = doc->object().value(QStringLiteral("data")).toArray();
    for (const QJsonValue &entry : data) {
        const QString id = entry.toObject().value(QStringLiteral("id")).toString();
        if (!id.isEmpty())
            names.append(id);
    }
    co_return names;
}

std::unique_ptr<ProviderStream> OpenAiProvider::start(const ProviderRequest &request)
{
    return std::make_unique<OpenAiStream>(m_config, m_network, request);
}

} // namespace holdfast
