#include "gui/settingswriter.h"

#include "gui/guilog.h"
#include "gui/secretstore.h"

#include <QCoroFuture>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QSettings>
#include <QtConcurrent/QtConcurrentRun>

namespace holdfast {

namespace {

using Values = SettingsDialog::Values;
using Provider = SettingsDialog::Provider;

const QString kDemo = QStringLiteral("demo");
const QString kApiKey = QStringLiteral("api-key");

const Provider *findProvider(const QList<Provider> &list, const QString &name)
{
    for (const auto &p : list) {
        if (p.name == name)
            return &p;
    }
    return nullptr;
}

// The file may hold the Redis password and, without a keychain, API keys: only its owner may
// read it. Made 0600 before QSettings writes, since QSaveFile gives the new file the old one's
// mode (a new file would get the umask's); a folder made here is 0700.
bool makePrivate(const QString &configFile)
{
    constexpr QFile::Permissions ownerOnly = QFile::ReadOwner | QFile::WriteOwner;
    const QFileInfo info(configFile);
    const QString folder = info.absolutePath();
    if (!QFileInfo::exists(folder)) {
        QDir parent = QFileInfo(folder).absoluteDir();
        if (!parent.mkpath(QStringLiteral(".")) ||
            !parent.mkdir(QFileInfo(folder).fileName(), ownerOnly | QFile::ExeOwner))
            return false;
    }
    QFile file(configFile);
    if (!file.exists() && !file.open(QIODevice::WriteOnly, ownerOnly))
        return false;
    file.close();
    constexpr QFile::Permissions others = QFile::ReadGroup | QFile::WriteGroup | QFile::ExeGroup |
                                          QFile::ReadOther | QFile::WriteOther | QFile::ExeOther;
    return !(file.permissions() & others) || file.setPermissions(ownerOnly);
}

} // namespace

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
    const auto writeFile = [v, configFile, keepFileKey, removed] {
        if (!makePrivate(configFile))
            return false;
        QSettings file(configFile, QSettings::IniFormat);
        const auto put = [&file](const QString &key, const QString &value) {
            if (value.isEmpty())
                file.remove(key);
            else
                file.setValue(key, value);
        };
        put(QStringLiteral("provider"), v.provider == kDemo ? QString() : v.provider);
        put(QStringLiteral("base-url"), v.baseUrl);
        put(QStringLiteral("model"), v.model);
        put(QStringLiteral("store"), v.store);
        put(QStringLiteral("listen"),
            v.serve
                ? QStringLiteral("%1:%2")
                      .arg(v.allNetworks ? QStringLiteral("0.0.0.0") : QStringLiteral("127.0.0.1"))
                      .arg(v.port)
                : QString());
        // QSettings writes the group "provider.NAME" as the section [provider.NAME]: a name
        // has only [A-Za-z0-9_-], none of which it escapes, and '.' it keeps as it is.
        for (const QString &name : removed)
            file.remove(QStringLiteral("provider.") + name);
        for (const Provider &p : v.providers) {
            const QString group = QStringLiteral("provider.") + p.name;
            const QVariant fileKey = file.value(group + QLatin1Char('/') + kApiKey);
            file.remove(group);
            file.beginGroup(group);
            file.setValue(QStringLiteral("kind"), p.kind);
            if (!p.baseUrl.isEmpty())
                file.setValue(QStringLiteral("base-url"), p.baseUrl);
            if (!p.model.isEmpty())
                file.setValue(QStringLiteral("model"), p.model);
            for (auto it = p.extra.cbegin(); it != p.extra.cend(); ++it) {
                if (it.key() != kApiKey)
                    file.setValue(it.key(), it.value());
            }
            if (keepFileKey.contains(p.name) && fileKey.isValid())
                file.setValue(kApiKey, fileKey);
            file.endGroup();
        }
        file.sync();
        return file.status() == QSettings::NoError;
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
