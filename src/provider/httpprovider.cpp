#include "provider/httpprovider.h"

#include <QJsonArray>

namespace holdfast {

HttpProvider::HttpProvider(UpstreamConfig config, QString modelsPath, QObject *parent)
    : Provider(parent), m_config(std::move(config)), m_modelsPath(std::move(modelsPath)),
      m_network(new UpstreamClient(this))
{}

HttpProvider::~HttpProvider() = default;

QJsonObject HttpProvider::chatBody(const ProviderRequest &request, MessageWriter message,
                                   const upstream::PdfTexts &pdfs)
{
    QJsonArray messages;
    for (const ChatMessage &m : request.messages)
        messages.append(message(m, pdfs));
    QJsonObject body{{QStringLiteral("model"), request.model},
                     {QStringLiteral("messages"), messages},
                     {QStringLiteral("stream"), true}};
    // No tools offered: no "tools" key at all (shared/API.md, Tools (MCP)); no tool_choice
    // either way (its default, "auto", is what Holdfast wants).
    if (!request.tools.isEmpty())
        body.insert(QStringLiteral("tools"), upstream::toolDefinitions(request.tools));
    return body;
}

QCoro::Task<Result<QStringList>> HttpProvider::models()
{
    const QPointer<HttpProvider> self(this); // a replaced provider may be deleted meanwhile
    const auto doc = co_await upstream::getJson(m_network, m_config, m_modelsPath);
    if (!self)
        co_return makeError(ErrorCode::Unavailable, QStringLiteral("the provider is gone"));
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
