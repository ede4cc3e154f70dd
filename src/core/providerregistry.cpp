#include "core/providerregistry.h"

#include <utility>

namespace holdfast {

namespace {
ProviderRegistry::Resolved resolved(Provider *provider, const QString &model)
{
    ProviderRegistry::Resolved r;
    r.provider = ProviderUse(provider);
    r.model = model;
    return r;
}
} // namespace

ProviderRegistry::ProviderRegistry(QObject *parent) : QObject(parent) {}

void ProviderRegistry::add(Provider *provider, QStringList models)
{
    provider->setParent(this);
    if (models.isEmpty())
        models.append(provider->defaultModel());
    m_entries.append(Entry{provider, models});
}

void ProviderRegistry::replaceWith(ProviderRegistry *next)
{
    const QList<Entry> old = std::exchange(m_entries, {});
    for (const Entry &e : next->m_entries) {
        e.provider->setParent(this);
        m_entries.append(e);
    }
    next->m_entries.clear();
    m_defaultModel = next->m_defaultModel;
    for (const Entry &e : old)
        e.provider->retire(); // stays our child until deleted, so it never outlives us
}

std::unique_ptr<ProviderStream>
ProviderRegistry::Resolved::start(const ProviderRequest &request) const
{
    auto stream = provider->start(request);
    stream->keepProvider(provider);
    return stream;
}

Provider *ProviderRegistry::provider(const QString &name) const
{
    for (const Entry &e : m_entries) {
        if (e.provider->name() == name)
            return e.provider;
    }
    return nullptr;
}

QList<Provider *> ProviderRegistry::providers() const
{
    QList<Provider *> result;
    for (const Entry &e : m_entries)
        result.append(e.provider);
    return result;
}

Result<ProviderRegistry::Resolved> ProviderRegistry::resolve(const QString &model) const
{
    const QString name = model.isEmpty() ? m_defaultModel : model;
    const qsizetype slash = name.indexOf(QLatin1Char('/'));
    if (slash > 0) {
        if (Provider *p = provider(name.left(slash)))
            return resolved(p, name.mid(slash + 1));
    }
    Resolved found;
    int matches = 0;
    for (const Entry &e : m_entries) {
        if (e.provider->name() == name)
            return resolved(e.provider, e.provider->defaultModel());
        if (e.models.contains(name)) {
            found = resolved(e.provider, name);
            ++matches;
        }
    }
    if (matches == 1)
        return found;
    if (matches > 1) {
        return makeError(ErrorCode::Invalid,
                         QStringLiteral("model '%1' is served by several providers: "
                                        "name it as provider/model")
                             .arg(name));
    }
    return makeError(ErrorCode::Invalid, QStringLiteral("unknown model '%1'").arg(name));
}

QList<ModelInfo> ProviderRegistry::models() const
{
    QList<ModelInfo> result;
    for (const Entry &e : m_entries) {
        for (const QString &m : e.models) {
            const bool bare = e.provider->name() == m;
            result.append(ModelInfo{bare ? m : e.provider->name() + QLatin1Char('/') + m,
                                    e.provider->name()});
        }
    }
    return result;
}

} // namespace holdfast
