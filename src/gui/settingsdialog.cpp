#include "gui/settingsdialog.h"

#include "gui/secretstore.h"
#include "ui_settingsdialog.h"

#include <QCoroFuture>
#include <QFileDialog>
#include <QRandomGenerator>
#include <QSettings>
#include <QtConcurrent/QtConcurrentRun>

namespace holdfast {

SettingsDialog::SettingsDialog(const Values &values, QString configFile, QWidget *parent)
    : QDialog(parent), m_ui(std::make_unique<Ui::SettingsDialog>()),
      m_configFile(std::move(configFile))
{
    m_ui->setupUi(this);
    m_ui->kind->addItems(
        {QStringLiteral("demo"), QStringLiteral("openai"), QStringLiteral("ollama")});
    m_ui->kind->setCurrentText(values.provider);
    m_ui->baseUrl->setText(values.baseUrl);
    m_ui->model->setText(values.model);
    m_ui->apiKey->setText(values.apiKey);
    m_ui->store->setText(values.store);
    m_ui->serverGroup->setChecked(values.serve);
    m_ui->port->setValue(values.port);
    m_ui->allNetworks->setChecked(values.allNetworks);
    m_ui->token->setText(values.token);
    m_ui->fontSize->setValue(values.fontSize);
    if (!secrets::available()) {
        m_ui->apiKey->setEnabled(false);
        m_ui->apiKey->setPlaceholderText(tr("no keychain in this build: use HOLDFAST_API_KEY"));
    }
    const auto updateKind = [this] {
        const bool remote = m_ui->kind->currentText() != QLatin1String("demo");
        m_ui->baseUrl->setEnabled(remote);
        m_ui->apiKey->setEnabled(remote && secrets::available());
    };
    connect(m_ui->kind, &QComboBox::currentTextChanged, this, updateKind);
    updateKind();
    connect(m_ui->browseStore, &QToolButton::clicked, this, &SettingsDialog::browseStore);
    connect(m_ui->generateToken, &QPushButton::clicked, this, [this] {
        QByteArray bytes(24, Qt::Uninitialized);
        for (char &c : bytes)
            c = char(QRandomGenerator::system()->bounded(256));
        m_ui->token->setText(QString::fromLatin1(
            bytes.toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals)));
    });
    m_ui->restartNote->setToolTip(m_configFile);
}

SettingsDialog::~SettingsDialog() = default;

void SettingsDialog::browseStore()
{
    const QString file = QFileDialog::getSaveFileName(
        this, tr("Database File"), m_ui->store->text().section(u':', 1),
        tr("SQLite databases (*.db *.sqlite)"), nullptr, QFileDialog::DontConfirmOverwrite);
    if (!file.isEmpty())
        m_ui->store->setText(QStringLiteral("sqlite:") + file);
}

SettingsDialog::Values SettingsDialog::values() const
{
    Values v;
    v.provider = m_ui->kind->currentText();
    v.baseUrl = m_ui->baseUrl->text().trimmed();
    v.model = m_ui->model->text().trimmed();
    v.apiKey = m_ui->apiKey->text();
    v.store = m_ui->store->text().trimmed();
    v.serve = m_ui->serverGroup->isChecked();
    v.port = m_ui->port->value();
    v.allNetworks = m_ui->allNetworks->isChecked();
    v.token = m_ui->token->text();
    v.fontSize = m_ui->fontSize->value();
    return v;
}

QCoro::Task<QString> SettingsDialog::save(Values v, Values before, QString configFile)
{
    if (v.allNetworks && v.serve && v.token.isEmpty())
        co_return tr("Serving other computers needs a token.");
    co_await QtConcurrent::run([v, configFile] {
        QSettings file(configFile, QSettings::IniFormat);
        const auto put = [&file](const QString &key, const QString &value) {
            if (value.isEmpty())
                file.remove(key);
            else
                file.setValue(key, value);
        };
        put(QStringLiteral("provider"), v.provider);
        put(QStringLiteral("base-url"), v.baseUrl);
        put(QStringLiteral("model"), v.model);
        put(QStringLiteral("store"), v.store);
        put(QStringLiteral("listen"),
            v.serve
                ? QStringLiteral("%1:%2")
                      .arg(v.allNetworks ? QStringLiteral("0.0.0.0") : QStringLiteral("127.0.0.1"))
                      .arg(v.port)
                : QString());
        file.sync();
    });
    if (v.apiKey != before.apiKey && !co_await secrets::write(QStringLiteral("api-key"), v.apiKey))
        co_return tr("The API key could not be stored in the keychain.");
    if (v.token != before.token && !co_await secrets::write(QStringLiteral("token"), v.token))
        co_return tr("The token could not be stored in the keychain.");
    co_return QString();
}

} // namespace holdfast
