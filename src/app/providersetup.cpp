#include "app/providersetup.h"

#include "app/settings.h"
#include "core/providerregistry.h"
#include "provider/demoprovider.h"
#include "provider/ollamaprovider.h"
#include "provider/openaiprovider.h"

#include <QHash>
#include <QRegularExpression>
#include <QUrl>

namespace holdfast {

namespace {

const QString kOpenAi = QStringLiteral("openai");
const QString kOllama = QStringLiteral("ollama");

QString defaultBaseUrl(const QString &kind)
{
    return kind == kOpenAi ? QStringLiteral("https://api.openai.com/v1")
                           : QStringLiteral("http://127.0.0.1:11434");
}

// A model's context size, as the setting context-tokens gives it (API.md's context_tokens range).
constexpr qint64 kMinContextTokens = 256;
constexpr qint64 kMaxContextTokens = 1 << 30;

Error usage(const QString &message)
{
    return makeError(ErrorCode::BadRequest, message);
}

Result<qint64> integerValue(const QHash<QString, QString> &values, const QString &key,
                            qint64 fallback, qint64 min, qint64 max, const QString &where)
{
    if (!values.contains(key))
        return fallback;
    bool ok = false;
    const qint64 n = values.value(key).trimmed().toLongLong(&ok);
    if (!ok || n < min || n > max) {
        return usage(QStringLiteral("%1: invalid value '%2' for %3: expected an integer from %4 "
                                    "to %5")
                         .arg(where, values.value(key), key)
                         .arg(min)
                         .arg(max));
    }
    return n;
}

struct Made
{
    Provider *provider = nullptr;
    QStringList models;
};

// One upstream provider from its values (group keys, or the global options).
Result<Made> makeProvider(const QString &name, const QHash<QString, QString> &values,
                          const Settings &settings, const QString &where)
{
    static const QStringList known{QStringLiteral("kind"),
                                   QStringLiteral("base-url"),
                                   QStringLiteral("model"),
                                   QStringLiteral("models"),
                                   QStringLiteral("api-key"),
                                   QStringLiteral("connect-timeout-ms"),
                                   QStringLiteral("idle-timeout-ms"),
                                   QStringLiteral("max-response-bytes"),
                                   QStringLiteral("context-tokens")};
    for (auto it = values.cbegin(); it != values.cend(); ++it) {
        if (!known.contains(it.key())) {
            return usage(QStringLiteral("%1: unknown key '%2' (known: %3)")
                             .arg(where, it.key(), known.join(QStringLiteral(", "))));
        }
    }

    static const QRegularExpression validName(
        QRegularExpression::anchoredPattern(QStringLiteral("[A-Za-z0-9_.-]{1,64}")));
    if (!validName.match(name).hasMatch() || name == QLatin1String("demo")) {
        return usage(QStringLiteral("%1: '%2' cannot name a provider (letters, digits, '_', '.', "
                                    "'-'; not 'demo')")
                         .arg(where, name));
    }
    QString kind = values.value(QStringLiteral("kind")).trimmed();
    if (kind.isEmpty() && (name == kOpenAi || name == kOllama))
        kind = name;
    if (kind != kOpenAi && kind != kOllama) {
        return usage(
            QStringLiteral("%1: kind must be openai or ollama, not '%2'").arg(where, kind));
    }

    UpstreamConfig config;
    config.name = name;
    const QString base = values.value(QStringLiteral("base-url"), defaultBaseUrl(kind)).trimmed();
    config.baseUrl = QUrl(base, QUrl::StrictMode);
    if (!config.baseUrl.isValid() || config.baseUrl.host().isEmpty() ||
        (config.baseUrl.scheme() != QLatin1String("http") &&
         config.baseUrl.scheme() != QLatin1String("https"))) {
        return usage(
            QStringLiteral("%1: base-url '%2' is not an http:// or https:// URL").arg(where, base));
    }
    config.apiKey = values.value(QStringLiteral("api-key")).trimmed();
    for (const QString &m : values.value(QStringLiteral("models")).split(QLatin1Char(','))) {
        if (const QString t = m.trimmed(); !t.isEmpty() && !config.models.contains(t))
            config.models.append(t);
    }
    config.defaultModel = values.value(QStringLiteral("model")).trimmed();
    if (config.defaultModel.isEmpty() && !config.models.isEmpty())
        config.defaultModel = config.models.first();
    if (config.defaultModel.isEmpty()) {
        return usage(QStringLiteral("%1: a model is needed (--model, or model = in the settings "
                                    "file)")
                         .arg(where));
    }
    if (!config.models.contains(config.defaultModel))
        config.models.prepend(config.defaultModel);

    const auto connect =
        integerValue(values, QStringLiteral("connect-timeout-ms"),
                     settings.integer(QStringLiteral("connect-timeout-ms")), 1, 3600000, where);
    const auto idle =
        integerValue(values, QStringLiteral("idle-timeout-ms"),
                     settings.integer(QStringLiteral("idle-timeout-ms")), 1, 3600000, where);
    const auto cap =
        integerValue(values, QStringLiteral("max-response-bytes"),
                     settings.integer(QStringLiteral("max-response-bytes")), 1, 1LL << 34, where);
    for (const auto *r : {&connect, &idle, &cap}) {
        if (!*r)
            return r->error();
    }
    config.connectTimeoutMs = int(*connect);
    config.idleTimeoutMs = int(*idle);
    config.maxResponseBytes = *cap;
    if (values.contains(QStringLiteral("context-tokens"))) {
        const auto context = integerValue(values, QStringLiteral("context-tokens"), 0,
                                          kMinContextTokens, kMaxContextTokens, where);
        if (!context)
            return context.error();
        config.contextTokens = int(*context);
    }

    if (kind == kOpenAi)
        return Made{new OpenAiProvider(config), config.models};
    return Made{new OllamaProvider(config), config.models};
}

} // namespace

Status setupProviders(const Settings &settings, ProviderRegistry *registry)
{
    DemoProvider::Options demo;
    demo.chunks = int(settings.integer(QStringLiteral("demo-chunks")));
    demo.delayMs = int(settings.integer(QStringLiteral("demo-delay-ms")));
    registry->add(new DemoProvider(demo), {QStringLiteral("demo")});

    // The provider of --provider (flags, environment or the file's general keys) gets the
    // global base-url, model, api-key and context-tokens; set explicitly, they win over its
    // group's keys.
    const QString chosen = settings.value(QStringLiteral("provider"));
    auto globals = [&](QHash<QString, QString> values) {
        for (const char *key : {"base-url", "model", "api-key", "context-tokens"}) {
            const QString k = QString::fromLatin1(key);
            if (settings.isSet(k) && !settings.value(k).isEmpty())
                values.insert(k, settings.value(k));
        }
        return values;
    };

    bool chosenConfigured = chosen == QLatin1String("demo");
    for (const Settings::ProviderEntry &entry : settings.providerEntries()) {
        const QString where =
            QStringLiteral("%1: [provider.%2]").arg(settings.configFile(), entry.name);
        if (registry->provider(entry.name))
            return usage(QStringLiteral("%1: the provider is configured twice").arg(where));
        QHash<QString, QString> values = entry.values;
        if (entry.name == chosen) {
            values = globals(values);
            chosenConfigured = true;
        }
        auto made = makeProvider(entry.name, values, settings, where);
        if (!made)
            return made.error();
        registry->add(made->provider, made->models);
    }
    if (!chosenConfigured) {
        QHash<QString, QString> values = globals({});
        values.insert(QStringLiteral("kind"), chosen);
        auto made =
            makeProvider(chosen, values, settings, QStringLiteral("--provider %1").arg(chosen));
        if (!made)
            return made.error();
        registry->add(made->provider, made->models);
    }

    // New sessions get --model: of the chosen provider when it is an upstream one.
    const QString model = settings.value(QStringLiteral("model"));
    if (chosen != QLatin1String("demo")) {
        Provider *provider = registry->provider(chosen);
        registry->setDefaultModel(chosen + QLatin1Char('/') + provider->defaultModel());
    } else if (!model.isEmpty()) {
        registry->setDefaultModel(model);
    }
    return Ok{};
}

} // namespace holdfast
