#include "app/settingsvalues.h"

#include "app/settings.h"
#include "gui/mcpserversdialog.h"
#include "gui/secretstore.h"
#include "mcp/mcpconfig.h"

#include <QSettings>

namespace holdfast {

namespace {
const QString kApiKey = QStringLiteral("api-key");
const QStringList kEdited{QStringLiteral("kind"), QStringLiteral("base-url"),
                          QStringLiteral("model"), kApiKey};
} // namespace

SettingsDialog::Values dialogValues(const Settings &settings)
{
    SettingsDialog::Values v;
    v.provider = settings.value(QStringLiteral("provider"));
    v.baseUrl = settings.value(QStringLiteral("base-url"));
    v.model = settings.value(QStringLiteral("model"));
    v.apiKey = settings.value(kApiKey);
    for (const Settings::ProviderEntry &entry : settings.providerEntries()) {
        SettingsDialog::Provider p;
        p.name = entry.name;
        p.kind = entry.values.value(QStringLiteral("kind"), entry.name).trimmed();
        p.baseUrl = entry.values.value(QStringLiteral("base-url")).trimmed();
        p.model = entry.values.value(QStringLiteral("model")).trimmed();
        p.apiKey = entry.values.value(kApiKey);
        p.keyInFile = entry.values.contains(kApiKey);
        for (auto it = entry.values.cbegin(); it != entry.values.cend(); ++it) {
            if (!kEdited.contains(it.key()))
                p.extra.insert(it.key(), it.value());
        }
        v.providers.append(p);
    }
    if (const QString mcp = settings.value(QStringLiteral("mcp-config")); !mcp.isEmpty())
        v.mcpConfig = mcp;
    // The MCP servers dialog checks mcp.json with the parser the service reads it with.
    McpServersDialog::setExtraCheck([](const QByteArray &json) {
        const auto servers = mcp::parseConfig(json);
        return servers.ok() ? QString() : servers.error().message;
    });
    v.store = settings.value(QStringLiteral("store"));
    if (v.store.isEmpty())
        v.store = Settings::defaultStore();
    const QString listen = settings.value(QStringLiteral("listen"));
    v.serve = !listen.isEmpty();
    if (v.serve) {
        v.port = listen.section(u':', -1).toInt();
        const QString host = listen.section(u':', 0, -2);
        v.allNetworks = host == QLatin1String("0.0.0.0") || host == QLatin1String("*");
    }
    v.token = settings.value(QStringLiteral("token"));
    v.autoTitle = settings.flag(QStringLiteral("auto-title"));
    v.language = settings.value(QStringLiteral("language"));
    v.tray = settings.flag(QStringLiteral("tray"));
    v.theme = SettingsDialog::themeName(settings.value(QStringLiteral("theme")));
    v.keychain = secrets::available(); // until secrets::reachable() says otherwise
    return v;
}

QCoro::Task<> readSecrets(Settings *settings)
{
    QSettings window(QSettings::IniFormat, QSettings::UserScope, QStringLiteral("holdfast"),
                     QStringLiteral("window"));
    if (!secrets::available() || !window.value(QStringLiteral("useKeychain")).toBool())
        co_return;
    for (const QString &name : {kApiKey, QStringLiteral("token")}) {
        if (settings->isSet(name))
            continue;
        const QString secret = co_await secrets::read(name);
        if (!secret.isEmpty())
            settings->set(name, secret, QStringLiteral("keychain"));
    }
    const QString chosen = settings->value(QStringLiteral("provider"));
    for (const Settings::ProviderEntry &entry : settings->providerEntries()) {
        // The chosen provider's group also gets the global --api-key / HOLDFAST_API_KEY.
        if (entry.values.contains(kApiKey) || (entry.name == chosen && settings->isSet(kApiKey)))
            continue;
        const QString secret = co_await secrets::read(SettingsDialog::keychainKey(entry.name));
        if (!secret.isEmpty())
            settings->setProviderValue(entry.name, kApiKey, secret);
    }
}

} // namespace holdfast
