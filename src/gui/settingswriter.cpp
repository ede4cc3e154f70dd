#include "gui/settingswriter.h"

#include "gui/guilog.h"
#include "gui/secretstore.h"

#include <QCoroFuture>
#include <QtConcurrent/QtConcurrentRun>

namespace holdfast {

namespace {

using Values = SettingsDialog::Values;
using Provider = SettingsDialog::Provider;

const QString kApiKey = QStringLiteral("api-key");

const Provider *findProvider(const QList<Provider> &list, const QString &name)
{
    for (const auto &p : list) {
        if (p.name == name)
            return &p;
    }
    return nullptr;
}

// Shared with the worker thread that writes: a writer installed meanwhile does not pull the
// one in use from under it.
std::shared_ptr<const SettingsFileWriter> &installedWriter()
{
    static std::shared_ptr<const SettingsFileWriter> writer;
    return writer;
}

} // namespace

void installSettingsFileWriter(std::shared_ptr<const SettingsFileWriter> writer)
{
    installedWriter() = std::move(writer);
}

QCoro::Task<QString> writeSettings(Values v, Values before, QString configFile)
{
    if (const QString error = SettingsDialog::validate(v); !error.isEmpty())
        co_return error;
    QStringList failed;
    if (v.apiKey != before.apiKey && !co_await secrets::write(kApiKey, v.apiKey))
        failed << SettingsDialog::defaultEntryName();
    // A group's key goes to the keychain when it changed or still sits in the file; the file
    // keeps a key line only when it was there and the keychain could not take it (or there is
    // no keychain in this build: then the file is where keys live).
    QStringList keepFileKey;
    for (const Provider &p : std::as_const(v.providers)) {
        const Provider *old = findProvider(before.providers, p.name);
        if (!v.keychain) {
            keepFileKey << p.name;
            continue;
        }
        if (p.apiKey == (old ? old->apiKey : QString()) && !p.keyInFile)
            continue;
        if (co_await secrets::write(SettingsDialog::keychainKey(p.name), p.apiKey))
            continue;
        failed << p.name;
        if (p.keyInFile)
            keepFileKey << p.name;
    }
    QStringList removed;
    for (const Provider &p : std::as_const(before.providers)) {
        if (!findProvider(v.providers, p.name))
            removed << p.name;
    }
    // Named before co_await: g++ 12 destroys a temporary lambda's captures twice there.
    const auto writeFile = [writer = installedWriter(), v, configFile, keepFileKey, removed] {
        return writer && writer->write(configFile, v, keepFileKey, removed);
    };
    const bool written = co_await QtConcurrent::run(writeFile);
    for (const QString &name : std::as_const(removed)) {
        if (v.keychain && !co_await secrets::write(SettingsDialog::keychainKey(name), QString()))
            qCWarning(lcGui).noquote()
                << "the keychain kept the API key of removed provider" << name;
    }
    const bool tokenStored =
        v.token == before.token || co_await secrets::write(QStringLiteral("token"), v.token);
    if (!written)
        co_return SettingsDialog::tr("The settings file %1 could not be written.").arg(configFile);
    if (!failed.isEmpty()) {
        co_return SettingsDialog::tr("The API key of %1 could not be stored in the keychain.")
            .arg(failed.join(QStringLiteral(", ")));
    }
    if (!tokenStored)
        co_return SettingsDialog::tr("The token could not be stored in the keychain.");
    co_return QString();
}

} // namespace holdfast
