#pragma once

#include <QHash>
#include <QProcessEnvironment>
#include <QString>
#include <QStringList>

namespace holdfast {

// Every setting Holdfast has, from three sources: the settings file < HOLDFAST_* environment
// variables < command-line flags. Each value remembers where it came from (--print-config).
class Settings
{
public:
    // List: repeatable on the command line, comma-separated in the environment and the file.
    enum class Type { Flag, String, Int, List };

    struct Option
    {
        QString name; // as on the command line, without "--"
        Type type;
        QString valueName;
        QString defaultValue;
        QString description;
        qint64 min = 0;
        qint64 max = 0;
    };

    static const QList<Option> &options();
    static QString envName(const QString &option); // "demo-delay-ms" -> "HOLDFAST_DEMO_DELAY_MS"
    static QString defaultConfigFile();
    static QString defaultStore();

    // Reads everything. Returns false with a message for a usage error (exit code 2).
    bool load(const QStringList &arguments, const QProcessEnvironment &environment, QString *error);

    QString value(const QString &name) const;
    qint64 integer(const QString &name) const { return value(name).toLongLong(); }
    bool flag(const QString &name) const;
    QStringList list(const QString &name) const; // the items of a List option, trimmed
    bool isSet(const QString &name) const { return m_values.contains(name); }
    QString source(const QString &name) const;
    void set(const QString &name, const QString &value, const QString &source);

    QString configFile() const { return m_configFile; }
    // Problems that are not fatal (unknown keys in the file), "FILE: key 'x': ..."
    QStringList warnings() const { return m_warnings; }
    // Provider groups of the settings file: [provider.NAME] kind=..., base-url=..., model=...
    struct ProviderEntry
    {
        QString name;
        QHash<QString, QString> values;
    };
    QList<ProviderEntry> providerEntries() const { return m_providers; }
    // Sets one key of a provider group (the window puts keychain API keys there); false when
    // no such group exists.
    bool setProviderValue(const QString &provider, const QString &key, const QString &value);
    // Replaces the provider groups (the settings dialog's, applied while Holdfast runs).
    void setProviderEntries(QList<ProviderEntry> entries) { m_providers = std::move(entries); }

    QString printConfig() const; // one line per setting: name = value (source); secrets masked
    static QString helpText();

private:
    bool validate(const Option &option, const QString &value, const QString &where,
                  QString *error) const;
    bool readFile(const QString &path, bool mustExist, QString *error);

    QHash<QString, QString> m_values;
    QHash<QString, QString> m_sources;
    QString m_configFile;
    QStringList m_warnings;
    QList<ProviderEntry> m_providers;
};

} // namespace holdfast
