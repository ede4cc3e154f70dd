#include "provider/ollamaprovider.h"

#include "core/logging.h"
#include "provider/wireformat.h"
#include "runtime/sseparser.h"

#include <QJsonArray>
#include <QJsonObject>
#include <QPointer>

#include <limits>

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
              OllamaProvider::requestBody(request, this->config().contextTokens));
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
                                       std::optional<int> contextTokens)
{
    QJsonObject body = chatBody(request);
    QJsonObject options;
    if (request.options.temperature)
        options.insert(QStringLiteral("temperature"), *request.options.temperature);
    if (request.options.topP)
        options.insert(QStringLiteral("top_p"), *request.options.topP);
    if (request.options.maxTokens)
        options.insert(QStringLiteral("num_predict"), *request.options.maxTokens);
    // The context Ollama allocates: what the budget counted on (its default is much smaller
    // than most models' own, and it cuts a longer prompt without a word).
    if (const auto numCtx =
            request.options.contextTokens ? request.options.contextTokens : contextTokens)
        options.insert(QStringLiteral("num_ctx"), *numCtx);
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

std::optional<int> OllamaProvider::contextLength(const QJsonObject &show)
{
    const QJsonObject info = show.value(QStringLiteral("model_info")).toObject();
    const QString architecture = info.value(QStringLiteral("general.architecture")).toString();
    if (architecture.isEmpty())
        return std::nullopt;
    const QJsonValue length = info.value(architecture + QStringLiteral(".context_length"));
    const double n = length.toDouble();
    if (!length.isDouble() || n < 1 || n > std::numeric_limits<int>::max())
        return std::nullopt;
    return int(n);
}

QCoro::Task<std::optional<int>> OllamaProvider::contextTokens(QString model)
{
    if (config().contextTokens)
        co_return config().contextTokens;
    if (const auto known = m_contextLengths.constFind(model); known != m_contextLengths.constEnd())
        co_return *known;
    QPointer<OllamaProvider> self(this);
    const QByteArray body =
        QJsonDocument(QJsonObject{{QStringLiteral("model"), model}}).toJson(QJsonDocument::Compact);
    const auto shown =
        co_await upstream::postJson(network(), config(), QStringLiteral("api/show"), body);
    if (!self)
        co_return std::nullopt;
    if (!shown) {
        // An error answer (an unknown model, an old server) is final; a server that cannot be
        // reached now may answer for the next turn.
        if (shown.error().code == ErrorCode::UpstreamError)
            m_contextLengths.insert(model, std::nullopt);
        qCInfo(lcProvider).noquote() << name() << ": the context length of" << model
                                     << "is unknown:" << shown.error().message;
        co_return std::nullopt;
    }
    const std::optional<int> length = contextLength(shown->object());
    m_contextLengths.insert(model, length);
    co_return length;
}

std::unique_ptr<ProviderStream> OllamaProvider::start(const ProviderRequest &request)
{
    return std::make_unique<OllamaStream>(config(), network(), request);
}

} // namespace holdfast
