#pragma once

#include <QCoroTask>
#include <QDialog>
#include <QHash>

#include <memory>

namespace Ui {
class SettingsDialog;
}
class QCheckBox;
class QComboBox;

namespace holdfast {

// Providers, storage, font size and the local API server. What the service uses goes to the
// settings file Holdfast reads at start (secrets to the keychain); the font applies at once.
class SettingsDialog final : public QDialog
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(SettingsDialog)
public:
    // One upstream provider: a `[provider.NAME]` group of the settings file, or the global
    // provider/base-url/model/api-key keys of the flags, shown as the entry "default".
    struct Provider
    {
        QString name;
        QString kind = QStringLiteral("openai");
        QString baseUrl;
        QString model;
        QString apiKey;
        QHash<QString, QString> extra; // keys the dialog does not edit (models, timeouts, ...)
        bool keyInFile = false;        // the settings file has this group's api-key
        bool isDefault = false;
    };

    struct Values
    {
        QString provider = QStringLiteral("demo"); // the global keys
        QString baseUrl;
        QString model;
        QString apiKey;
        QList<Provider> providers;
        QString store;
        bool serve = false;
        int port = 8080;
        bool allNetworks = false;
        QString token;
        int fontSize = 11;
        bool autoTitle = true; // ask a chat's model for its title after the first answer
        QString language;      // the setting language: "" (the system's), "en", "de", ...
        bool tray = false;     // an icon in the system tray; closing the window hides it there
        QString theme = QStringLiteral("system"); // "system" (the desktop's), "light", "dark"
        bool keychain = false; // keys go to the keychain (built in and answering)
        // mcp.json, from the setting mcp-config (shown and edited by McpServersDialog).
        QString mcpConfig = defaultMcpConfig();
    };

    static QString defaultEntryName() { return QStringLiteral("default"); }
    // "light" or "dark" as written (any case), else "system".
    static QString themeName(const QString &value);
    // ~/.config/holdfast/mcp.json: where mcp.json is when the setting mcp-config is not set.
    static QString defaultMcpConfig();
    // The keychain entry of a provider group's API key.
    static QString keychainKey(const QString &provider);

    SettingsDialog(const Values &values, QString configFile, QWidget *parent = nullptr);
    ~SettingsDialog() override;

    Values values() const;
    QString errorText() const; // what the last refused Save said, "" when none

    // "" when the values can be saved, else what is wrong (names, URLs, models, the token).
    static QString validate(const Values &values, int *badProvider = nullptr);
    // Writes the settings file (off the GUI thread) and the secrets; "" or a message.
    static QCoro::Task<QString> save(Values values, Values before, QString configFile);

public Q_SLOTS:
    void accept() override; // refuses (and says why) while the values are not valid

Q_SIGNALS:
    // "Test connection" has an answer: the models are in the model field, or the error shows.
    void connectionTested(bool ok);
    // "MCP Servers…": mcp.json and the servers' state (McpServersDialog, opened by the window).
    void mcpServersRequested();

protected:
    bool eventFilter(QObject *watched, QEvent *event) override;

private:
    void addDesktopFields(const Values &values);
    void browseStore();
    void addProvider();
    void removeProvider();
    void showProvider(int row);
    void storeProvider();
    void showError(const QString &message);
    // Asks the shown provider's server for its models (through the installed ProviderControl).
    QCoro::Task<> testConnection();
    // The models and the last test's message of the shown provider's server.
    void showServer();
    // Which server a provider reaches: what "Test connection" found is kept per server.
    static QString serverKey(const Provider &p);

    std::unique_ptr<Ui::SettingsDialog> m_ui;
    QComboBox *m_theme = nullptr;
    QCheckBox *m_tray = nullptr;
    QString m_configFile;
    Values m_initial;
    QList<Provider> m_providers; // the list's rows after "demo"
    int m_current = -1;          // index into m_providers shown in the form
    bool m_loading = false;
    bool m_testing = false;
    QHash<QString, QStringList> m_found; // server -> the models it listed
    QHash<QString, QString> m_status;    // server -> what the last test said
};

} // namespace holdfast
