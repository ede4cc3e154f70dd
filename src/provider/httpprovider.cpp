#include "provider/httpprovider.h"

#include <QJsonArray>

namespace holdfast {

HttpProvider::HttpProvider(UpstreamConfig config, QString modelsPath, QObject *parent)
    : Provider(parent), m_config(std::move(config)), m_modelsPath(std::move(modelsPath)),
      m_network(new UpstreamClient(this))
{}

HttpProvider::~HttpProvider() = default;

QJsonObject HttpProvider::chatBody(const ProviderRequest &request)
{
    QJsonArray messages;
    for (const ChatMessage &m : request.messages) {
        messages.append(
            QJsonObject{{QStringLiteral("role"), m.role}, {QStringLiteral("content"), m.content}});
    }
    return QJsonObject{{QStringLiteral("model"), request.model},
                       {QStringLiteral("messages"), messages},
                       {QStringLiteral("stream"), true}};
}

QCoro::Task<Result<QStringList>> HttpProvider::models()
{
    const auto doc = co_await upstream::getJson(m_network, m_config, m_modelsPath);
    if (!doc)
        co_return doc.error();
    co_return modelNames(doc->object());
}

QCoro::Task<std::optional<int>> HttpProvider::contextTokens(QString model)
{
    Q_UNUSED(model);
    co_return m_config.contextTokens;
}

} // namespace holdfast
