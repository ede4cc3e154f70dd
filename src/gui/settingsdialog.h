#pragma once

#include <QCoroTask>
#include <QDialog>

#include <memory>

namespace Ui {
class SettingsDialog;
}

namespace holdfast {

// Providers, storage, font size and the local API server. What the service uses goes to the
// settings file Holdfast reads at start (secrets to the keychain); the font applies at once.
class SettingsDialog final : public QDialog
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(SettingsDialog)
public:
    struct Values
    {
        QString provider = QStringLiteral("demo");
        QString baseUrl;
        QString model;
        QString apiKey;
        QString store;
        bool serve = false;
        int port = 8080;
        bool allNetworks = false;
        QString token;
        int fontSize = 11;
    };

    SettingsDialog(const Values &values, QString configFile, QWidget *parent = nullptr);
    ~SettingsDialog() override;

    Values values() const;
    // Writes the settings file (off the GUI thread) and the secrets; false with a message.
    static QCoro::Task<QString> save(Values values, Values before, QString configFile);

private:
    void browseStore();

    std::unique_ptr<Ui::SettingsDialog> m_ui;
    QString m_configFile;
};

} // namespace holdfast
