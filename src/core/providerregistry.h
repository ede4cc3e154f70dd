#pragma once

#include "core/provider.h"

#include <QList>

namespace holdfast {

// The configured providers, and which one a session's `model` names:
// "provider/model", a provider's name alone (its default model), or a model name that only one
// provider lists.
class ProviderRegistry final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ProviderRegistry)
public:
    explicit ProviderRegistry(QObject *parent = nullptr);

    // Takes ownership. `models` are the model names this provider is known to serve.
    void add(Provider *provider, QStringList models);
    Provider *provider(const QString &name) const;
    QList<Provider *> providers() const;

    QString defaultModel() const { return m_defaultModel; }
    void setDefaultModel(const QString &model) { m_defaultModel = model; }

    // Replaces every provider and the default model with those of `next` (left empty). A
    // replaced provider is retired: what still uses it (running turns) keeps it until it ends.
    void replaceWith(ProviderRegistry *next);

    struct Resolved
    {
        ProviderUse provider; // alive while this (or a stream started from it) lives
        QString model;        // the provider's own model name
        // Starts a generation that keeps the provider alive until the stream is destroyed.
        std::unique_ptr<ProviderStream> start(const ProviderRequest &request) const;
    };
    Result<Resolved> resolve(const QString &model) const;

    // Every model, as clients name them ("demo", "openai/gpt-4o-mini", ...).
    QList<ModelInfo> models() const;

private:
    struct Entry
    {
        Provider *provider;
        QStringList models;
    };
    QList<Entry> m_entries;
    QString m_defaultModel = QStringLiteral("demo");
};

} // namespace holdfast
