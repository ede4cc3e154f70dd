#include "app/liveproviders.h"

#include "app/providersetup.h"
#include "core/sessionservice.h"

namespace holdfast {

namespace {

const QString kSource = QStringLiteral("settings dialog");

// A provider of the dialog as the keys of its [provider.NAME] group.
QHash<QString, QString> groupValues(const SettingsDialog::Provider &p)
{
    QHash<QString, QString> values = p.extra;
    values.insert(QStringLiteral("kind"), p.kind);
    const auto put = [&values](const char *key, const QString &value) {
        if (!value.trimmed().isEmpty())
            values.insert(QString::fromLatin1(key), value.trimmed());
    };
    put("base-url", p.baseUrl);
    put("model", p.model);
    put("api-key", p.apiKey);
    return values;
}

} // namespace

LiveProviders::LiveProviders(Settings base) : m_base(std::move(base)) {}

Settings LiveProviders::withValues(Settings s, const SettingsDialog::Values &v)
{
    s.set(QStringLiteral("provider"), v.provider.isEmpty() ? QStringLiteral("demo") : v.provider,
          kSource);
    s.set(QStringLiteral("base-url"), v.baseUrl, kSource);
    s.set(QStringLiteral("model"), v.model, kSource);
    s.set(QStringLiteral("api-key"), v.apiKey, kSource);
    s.set(QStringLiteral("auto-title"),
          v.autoTitle ? QStringLiteral("true") : QStringLiteral("false"), kSource);
    QList<Settings::ProviderEntry> entries;
    for (const SettingsDialog::Provider &p : v.providers)
        entries.append(Settings::ProviderEntry{p.name, groupValues(p)});
    s.setProviderEntries(entries);
    return s;
}

QCoro::Task<ProviderControl::Models> LiveProviders::listModels(SettingsDialog::Provider provider)
{
    QHash<QString, QString> values = groupValues(provider);
    if (provider.isDefault && provider.apiKey.isEmpty())
        values.insert(QStringLiteral("api-key"), m_base.value(QStringLiteral("api-key")));
    const auto models = co_await probeModels(m_base, provider.name, values);
    Models result;
    if (models)
        result.names = *models;
    else
        result.error = models.error().message;
    co_return result;
}

QString LiveProviders::apply(const SettingsDialog::Values &values)
{
    if (!m_service)
        return QString();
    const Settings next = withValues(m_base, values);
    if (const Status s = reloadProviders(next, m_service->providers()); !s)
        return s.error().message;
    m_service->setAutoTitle(next.flag(QStringLiteral("auto-title")));
    m_base = next;
    return QString();
}

} // namespace holdfast
