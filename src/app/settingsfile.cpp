#include "app/settingsfile.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QSettings>

namespace holdfast {

namespace {

const QString kApiKey = QStringLiteral("api-key");

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

bool SettingsFile::write(const QString &configFile, const SettingsDialog::Values &v,
                         const QStringList &keepFileKey, const QStringList &removed) const
{
    if (!makePrivate(configFile))
        return false;
    QSettings file(configFile, QSettings::IniFormat);
    const auto put = [&file](const QString &key, const QString &value) {
        if (value.isEmpty())
            file.remove(key);
        else
            file.setValue(key, value);
    };
    put(QStringLiteral("provider"), v.provider == QLatin1String("demo") ? QString() : v.provider);
    put(QStringLiteral("base-url"), v.baseUrl);
    put(QStringLiteral("model"), v.model);
    put(QStringLiteral("store"), v.store);
    put(QStringLiteral("auto-title"), v.autoTitle ? QString() : QStringLiteral("false"));
    put(QStringLiteral("language"), v.language);
    put(QStringLiteral("tray"), v.tray ? QStringLiteral("true") : QString());
    put(QStringLiteral("theme"), v.theme == QLatin1String("system") ? QString() : v.theme);
    put(QStringLiteral("listen"),
        v.serve ? QStringLiteral("%1:%2")
                      .arg(v.allNetworks ? QStringLiteral("0.0.0.0") : QStringLiteral("127.0.0.1"))
                      .arg(v.port)
                : QString());
    // QSettings writes the group "provider.NAME" as the section [provider.NAME]: a name has
    // only [A-Za-z0-9_-], none of which it escapes, and '.' it keeps as it is.
    for (const QString &name : removed)
        file.remove(QStringLiteral("provider.") + name);
    for (const SettingsDialog::Provider &p : v.providers) {
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
}

} // namespace holdfast
