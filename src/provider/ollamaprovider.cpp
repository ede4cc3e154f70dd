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
        begin(network,
              upstream::request(this->config(), QStringLiteral("api/chat"),
                                QByteArrayLiteral("application/x-ndjson")),
              OllamaProvider::requestBody(request));
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
            handle(line);
        }
    }

    void handle(const QByteArray &line) { apply(upstream::readOllamaLine(line), line); }

    LineSplitter m_lines;
};

} // namespace

OllamaProvider::OllamaProvider(UpstreamConfig config, QObject *parent)
    : Provider(parent), m_config(std::move(config)), m_network(new UpstreamClient(this))
{}

OllamaProvider::~OllamaProvider() = default;

QByteArray OllamaProvider::requestBody(const ProviderRequest &request)
{
    QJsonArray messages;
    for (const ChatMessage &m : request.messages) {
        messages.append(
            QJsonObject{{QStringLiteral("role"), m.role}, {QStringLiteral("content"), m.content}});
    }
    QJsonObject body{{QStringLiteral("model"), request.model},
                     {QStringLiteral("messages"), messages},
                     {QStringLiteral("stream"), true}};
    QJsonObject options;
    if (request.options.temperature)
        options.insert(QStringLiteral("temperature"), *request.options.temperature);
    if (request.options.maxTokens)
        options.insert(QStringLiteral("num_predict"), *request.options.maxTokens);
    if (!options.isEmpty())
        body.insert(QStringLiteral("options"), options);
    return QJsonDocument(body).toJson(QJsonDocument::Compact);
}

QCoro::Task<Result<QStringList>> OllamaProvider::models()
{
    const auto doc = co_await upstream::getJson(m_network, m_config, QStringLiteral("api/tags"));
    if (!doc)
        co_return doc.error();
    QStringList names;
    const QJsonArray list = doc->object().value(QStringLiteral("models")).toArray();
    for (const QJsonValue &entry : list) {
        const QJsonObject model = entry.toObject();
        QString name = model.value(QStringLiteral("name")).toString();
        if (name.isEmpty())
            name = model.value(QStringLiteral("model")).toString();
        if (!name.isEmpty())
            names.append(name);
    }
    co_return names;
}

std::unique_ptr<ProviderStream> OllamaProvider::start(const ProviderRequest &request)
{
    return std::make_unique<OllamaStream>(m_config, m_network, request);
}

} // namespace holdfast
