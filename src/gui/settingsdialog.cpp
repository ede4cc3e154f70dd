#include "gui/settingsdialog.h"

#include "gui/icons.h"
#include "gui/providercontrol.h"
#include "gui/settingswriter.h"
#include "gui/translations.h"
#include "ui_settingsdialog.h"

#include <QAbstractItemView>
#include <QFileDialog>
#include <QKeyEvent>
#include <QLineEdit>
#include <QLocale>
#include <QPointer>
#include <QPushButton>
#include <QRandomGenerator>
#include <QRegularExpression>
#include <QStandardItemModel>
#include <QStandardPaths>
#include <QStyle>
#include <QUrl>

#include <utility>

namespace holdfast {

QString SettingsDialog::defaultMcpConfig()
{
    return QStandardPaths::writableLocation(QStandardPaths::GenericConfigLocation) +
           QStringLiteral("/holdfast/mcp.json");
}

namespace {

const QString kDemo = QStringLiteral("demo");
const QString kOpenAi = QStringLiteral("openai");
const QString kOllama = QStringLiteral("ollama");

QString defaultBaseUrl(const QString &kind)
{
    return kind == kOpenAi ? QStringLiteral("https://api.openai.com/v1")
                           : QStringLiteral("http://127.0.0.1:11434");
}

const SettingsDialog::Provider *findProvider(const QList<SettingsDialog::Provider> &list,
                                             const QString &name)
{
    for (const auto &p : list) {
        if (p.name == name)
            return &p;
    }
    return nullptr;
}

} // namespace

QString SettingsDialog::keychainKey(const QString &provider)
{
    return QStringLiteral("provider.%1.api-key").arg(provider);
}

QString SettingsDialog::themeName(const QString &value)
{
    const QString v = value.trimmed().toLower();
    return v == QLatin1String("light") || v == QLatin1String("dark") ? v : QStringLiteral("system");
}

// The theme and the tray, under the chat font (made here: the form file has the other fields).
void SettingsDialog::addDesktopFields(const Values &values)
{
    m_theme = new QComboBox(this);
    m_theme->setObjectName(QStringLiteral("theme"));
    m_theme->addItem(tr("As the desktop"), QStringLiteral("system"));
    m_theme->addItem(tr("Light"), QStringLiteral("light"));
    m_theme->addItem(tr("Dark"), QStringLiteral("dark"));
    m_theme->view()->setAccessibleName(tr("Themes"));
    m_theme->setCurrentIndex(std::max(0, m_theme->findData(themeName(values.theme))));
    m_theme->setAccessibleName(tr("Theme"));
    auto *themeLabel = new QLabel(tr("T&heme:"), this);
    themeLabel->setBuddy(m_theme);
    m_ui->appearanceForm->addRow(themeLabel, m_theme);
    m_tray = new QCheckBox(
        tr("Show an icon in the system tra&y; closing the window hides it there"), this);
    m_tray->setObjectName(QStringLiteral("tray"));
    m_tray->setChecked(values.tray);
    m_ui->appearanceForm->addRow(m_tray);
    setTabOrder(m_ui->autoTitle, m_theme);
    setTabOrder(m_theme, m_tray);
    setTabOrder(m_tray, m_ui->serverGroup);
}

SettingsDialog::SettingsDialog(const Values &values, QString configFile, QWidget *parent)
    : QDialog(parent), m_ui(std::make_unique<Ui::SettingsDialog>()),
      m_configFile(std::move(configFile)), m_initial(values)
{
    m_ui->setupUi(this);
    m_ui->errorBox->hide();
    // Names for screen readers where the form's labels do not give one.
    m_ui->providerList->setAccessibleName(tr("Providers"));
    m_ui->providerList->setAccessibleDescription(tr("Insert adds a provider, Delete removes it"));
    m_ui->kind->view()->setAccessibleName(tr("Kinds of provider"));
    m_ui->model->view()->setAccessibleName(tr("Models"));
    m_ui->language->view()->setAccessibleName(tr("Languages"));
    if (QLineEdit *modelField = m_ui->model->lineEdit())
        modelField->setAccessibleName(tr("Model"));
    // mcp.json has a dialog of its own: a JSON file, and the servers' state from the service.
    QPushButton *mcp = m_ui->buttons->addButton(tr("MCP Servers…"), QDialogButtonBox::ActionRole);
    mcp->setObjectName(QStringLiteral("mcpServersButton"));
    mcp->setToolTip(tr("The MCP servers whose tools chats may use (%1)").arg(values.mcpConfig));
    connect(mcp, &QPushButton::clicked, this, &SettingsDialog::mcpServersRequested);
    const int iconSize = style()->pixelMetric(QStyle::PM_SmallIconSize, nullptr, this);
    m_ui->errorIcon->setPixmap(
        style()->standardIcon(QStyle::SP_MessageBoxWarning, nullptr, this).pixmap(iconSize));
    m_ui->errorBox->setStyleSheet(
        QStringLiteral("#errorBox { border: 1px solid palette(highlight); border-radius: 6px; "
                       "background: palette(alternate-base); }"));
    m_ui->kind->addItems({kDemo, kOpenAi, kOllama});
    // "demo" is only ever shown for the built-in entry; nobody can pick it for another one.
    if (auto *model = qobject_cast<QStandardItemModel *>(m_ui->kind->model()))
        model->item(0)->setEnabled(false);
    m_ui->addProvider->setIcon(icons::icon(icons::Name::Add));
    m_ui->removeProvider->setIcon(icons::icon(icons::Name::Remove));

    // The global keys (--provider and friends) show as one more entry, "default".
    // (Not when a group has its name: providersetup merges the global keys into that group.)
    if (values.provider != kDemo && !findProvider(values.providers, defaultEntryName()) &&
        !findProvider(values.providers, values.provider)) {
        Provider global;
        global.name = defaultEntryName();
        global.kind = values.provider;
        global.baseUrl = values.baseUrl;
        global.model = values.model;
        global.apiKey = values.apiKey;
        global.isDefault = true;
        m_providers.append(global);
    }
    m_providers.append(values.providers);
    m_ui->providerList->addItem(tr("demo (built in)"));
    for (const Provider &p : std::as_const(m_providers))
        m_ui->providerList->addItem(p.name);

    const auto edited = [this] { storeProvider(); };
    connect(m_ui->name, &QLineEdit::textEdited, this, edited);
    connect(m_ui->baseUrl, &QLineEdit::textEdited, this, [this] {
        storeProvider();
        showServer();
    });
    connect(m_ui->model, &QComboBox::editTextChanged, this, edited);
    connect(m_ui->apiKey, &QLineEdit::textEdited, this, edited);
    connect(m_ui->kind, &QComboBox::currentTextChanged, this, [this](const QString &kind) {
        m_ui->baseUrl->setPlaceholderText(kind == kDemo ? QString() : defaultBaseUrl(kind));
        storeProvider();
        showServer();
    });
    connect(m_ui->providerList, &QListWidget::currentRowChanged, this,
            &SettingsDialog::showProvider);
    connect(m_ui->addProvider, &QToolButton::clicked, this, &SettingsDialog::addProvider);
    connect(m_ui->removeProvider, &QToolButton::clicked, this, &SettingsDialog::removeProvider);
    connect(m_ui->testConnection, &QPushButton::clicked, this, [this] { testConnection(); });
    m_ui->connectionStatus->hide();
    m_ui->providerList->installEventFilter(this); // Ins adds, Del removes
    m_ui->providerList->setCurrentRow(m_providers.isEmpty() ? 0 : 1);

    m_ui->store->setText(values.store);
    m_ui->serverGroup->setChecked(values.serve);
    m_ui->port->setValue(values.port);
    m_ui->allNetworks->setChecked(values.allNetworks);
    m_ui->token->setText(values.token);
    m_ui->fontSize->setValue(values.fontSize);
    m_ui->autoTitle->setChecked(values.autoTitle);
    // Each language in its own name, so that it can be found whatever the window speaks.
    m_ui->language->addItem(tr("System default"), QString());
    for (const QString &code : translations::available()) {
        QString name = code == QLatin1String("en") ? QStringLiteral("English")
                                                   : QLocale(code).nativeLanguageName();
        if (!name.isEmpty())
            name[0] = name[0].toUpper();
        m_ui->language->addItem(name, code);
    }
    if (m_ui->language->findData(values.language) < 0) // a code with no translation (yet): kept
        m_ui->language->addItem(values.language, values.language);
    m_ui->language->setCurrentIndex(m_ui->language->findData(values.language));
    addDesktopFields(values);
    connect(m_ui->browseStore, &QToolButton::clicked, this, &SettingsDialog::browseStore);
    connect(m_ui->generateToken, &QPushButton::clicked, this, [this] {
        QByteArray bytes(24, Qt::Uninitialized);
        for (char &c : bytes)
            c = char(QRandomGenerator::system()->bounded(256));
        m_ui->token->setText(QString::fromLatin1(
            bytes.toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals)));
    });
    m_ui->storeNote->setToolTip(m_configFile);
    m_ui->serverNote->setToolTip(m_configFile);
}

SettingsDialog::~SettingsDialog() = default;

bool SettingsDialog::eventFilter(QObject *watched, QEvent *event)
{
    if (watched == m_ui->providerList && event->type() == QEvent::KeyPress) {
        const int key = static_cast<QKeyEvent *>(event)->key();
        if (key == Qt::Key_Insert) {
            addProvider();
            return true;
        }
        if (key == Qt::Key_Delete) {
            removeProvider();
            return true;
        }
    }
    return QDialog::eventFilter(watched, event);
}

void SettingsDialog::showProvider(int row)
{
    m_loading = true;
    m_current = row - 1;
    const bool builtIn = m_current < 0 || m_current >= m_providers.size();
    Provider p;
    if (builtIn)
        p.name = p.kind = kDemo;
    else
        p = m_providers.at(m_current);
    m_ui->name->setText(p.name);
    m_ui->kind->setCurrentText(p.kind);
    m_ui->baseUrl->setText(p.baseUrl);
    m_ui->baseUrl->setPlaceholderText(builtIn ? QString() : defaultBaseUrl(p.kind));
    m_ui->model->setEditText(p.model);
    showServer();
    m_ui->apiKey->setText(p.apiKey);
    m_ui->name->setReadOnly(builtIn || p.isDefault);
    m_ui->name->setEnabled(!builtIn);
    m_ui->kind->setEnabled(!builtIn);
    m_ui->baseUrl->setEnabled(!builtIn);
    m_ui->model->setEnabled(!builtIn);
    m_ui->testConnection->setEnabled(!builtIn && !m_testing);
    m_ui->apiKey->setEnabled(!builtIn && m_initial.keychain);
    m_ui->removeProvider->setEnabled(!builtIn);
    if (builtIn) {
        m_ui->apiKey->setPlaceholderText(QString());
        m_ui->providerNote->setText(
            tr("The offline demo model is built in and always there; it cannot be changed."));
    } else {
        m_ui->apiKey->setPlaceholderText(m_initial.keychain
                                             ? tr("kept in the system keychain")
                                             : tr("no keychain: use the settings file"));
        QString note = p.isDefault ? tr("The provider of --provider, --base-url and --model "
                                        "(the global keys of the settings file). ")
                                   : QString();
        note += tr("Saved changes apply at once; answers being written finish with the provider "
                   "they began with. ");
        note += m_initial.keychain
                    ? tr("The API key goes to the system keychain, never to the settings file.")
                    : tr("No keychain here: put api-key = KEY in this provider's group of the "
                         "settings file, or use HOLDFAST_API_KEY.");
        m_ui->providerNote->setText(note);
    }
    m_loading = false;
}

void SettingsDialog::storeProvider()
{
    if (m_loading || m_current < 0 || m_current >= m_providers.size())
        return;
    Provider &p = m_providers[m_current];
    if (!p.isDefault)
        p.name = m_ui->name->text().trimmed();
    p.kind = m_ui->kind->currentText();
    p.baseUrl = m_ui->baseUrl->text().trimmed();
    p.model = m_ui->model->currentText().trimmed();
    p.apiKey = m_ui->apiKey->text();
    if (QListWidgetItem *item = m_ui->providerList->item(m_current + 1))
        item->setText(p.name.isEmpty() ? tr("(no name)") : p.name);
}

void SettingsDialog::addProvider()
{
    m_providers.append(Provider{});
    m_ui->providerList->addItem(tr("(no name)"));
    m_ui->providerList->setCurrentRow(int(m_providers.size()));
    m_ui->name->setFocus();
}

void SettingsDialog::removeProvider()
{
    if (m_current < 0 || m_current >= m_providers.size())
        return;
    const int row = m_current + 1;
    m_providers.removeAt(m_current);
    m_current = -1; // the row about to go must not be written back
    delete m_ui->providerList->takeItem(row);
    m_ui->providerList->setCurrentRow(std::min(row, int(m_providers.size())));
    m_ui->providerList->setFocus();
}

void SettingsDialog::showServer()
{
    const bool builtIn = m_current < 0 || m_current >= m_providers.size();
    const QString key = builtIn ? QString() : serverKey(m_providers.at(m_current));
    const bool loading = std::exchange(m_loading, true);
    const QString typed = m_ui->model->currentText();
    m_ui->model->clear();
    m_ui->model->addItems(m_found.value(key));
    m_ui->model->setEditText(typed);
    m_loading = loading;
    m_ui->connectionStatus->setText(m_status.value(key));
    m_ui->connectionStatus->setVisible(!builtIn && !m_ui->connectionStatus->text().isEmpty());
}

QString SettingsDialog::serverKey(const Provider &p)
{
    return p.kind + QLatin1Char(' ') + (p.baseUrl.isEmpty() ? defaultBaseUrl(p.kind) : p.baseUrl);
}

QCoro::Task<> SettingsDialog::testConnection()
{
    storeProvider();
    if (m_testing || m_current < 0 || m_current >= m_providers.size())
        co_return;
    const Provider p = m_providers.at(m_current);
    const QString key = serverKey(p);
    const std::shared_ptr<ProviderControl> control = providerControl();
    if (!control) {
        m_status.insert(key, tr("Holdfast cannot test connections here."));
        showServer();
        Q_EMIT connectionTested(false);
        co_return;
    }
    QPointer<SettingsDialog> self(this);
    m_testing = true;
    m_ui->testConnection->setEnabled(false);
    m_status.insert(key, tr("Asking %1 for its models…").arg(key.section(u' ', 1)));
    showServer();
    const ProviderControl::Models models = co_await control->listModels(p);
    if (!self)
        co_return;
    m_testing = false;
    const bool editable = m_current >= 0 && m_current < m_providers.size();
    m_ui->testConnection->setEnabled(editable);
    if (!models.error.isEmpty()) {
        m_status.insert(key, tr("Could not list the models: %1").arg(models.error));
    } else {
        m_found.insert(key, models.names);
        m_status.insert(key, models.names.size() == 1
                                 ? tr("Connected: the server serves one model.")
                                 : tr("Connected: the server serves %Ln models.", nullptr,
                                      int(models.names.size())));
    }
    showServer(); // when the user moved on to another server meanwhile, that one's
    if (editable && models.error.isEmpty() && serverKey(m_providers.at(m_current)) == key &&
        m_ui->model->currentText().trimmed().isEmpty()) {
        m_ui->model->setCurrentIndex(0); // an empty field gets the first model
        storeProvider();
    }
    Q_EMIT connectionTested(models.error.isEmpty());
}

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
    Values v = m_initial;
    v.providers.clear();
    bool defaultShown = false;
    for (const Provider &p : m_providers) {
        if (!p.isDefault) {
            v.providers.append(p);
            continue;
        }
        defaultShown = true;
        v.provider = p.kind;
        v.baseUrl = p.baseUrl;
        v.model = p.model;
        v.apiKey = p.apiKey;
    }
    if (!defaultShown && m_initial.provider != kDemo &&
        !findProvider(m_initial.providers, defaultEntryName()) &&
        !findProvider(m_initial.providers, m_initial.provider)) {
        // The "default" entry was removed: back to the demo model.
        v.provider = kDemo;
        v.baseUrl.clear();
        v.model.clear();
        v.apiKey.clear();
    }
    v.store = m_ui->store->text().trimmed();
    v.serve = m_ui->serverGroup->isChecked();
    v.port = m_ui->port->value();
    v.allNetworks = m_ui->allNetworks->isChecked();
    v.token = m_ui->token->text();
    v.fontSize = m_ui->fontSize->value();
    v.autoTitle = m_ui->autoTitle->isChecked();
    v.language = m_ui->language->currentData().toString();
    v.tray = m_tray->isChecked();
    v.theme = m_theme->currentData().toString();
    return v;
}

QString SettingsDialog::errorText() const
{
    return m_ui->errorBox->isHidden() ? QString() : m_ui->errorLabel->text();
}

QString SettingsDialog::validate(const Values &v, int *badProvider)
{
    static const QRegularExpression validName(
        QRegularExpression::anchoredPattern(QStringLiteral("[A-Za-z0-9_-]{1,64}")));
    const QStringList taken{kDemo};
    const auto checkUrl = [](const QString &text) {
        if (text.isEmpty())
            return true; // the kind's default
        const QUrl url(text, QUrl::StrictMode);
        return url.isValid() && !url.host().isEmpty() &&
               (url.scheme() == QLatin1String("http") || url.scheme() == QLatin1String("https"));
    };
    const auto fail = [badProvider](int index, const QString &message) {
        if (badProvider)
            *badProvider = index;
        return message;
    };
    if (v.provider != kDemo && !checkUrl(v.baseUrl))
        return fail(-2, tr("Provider “default”: the base URL must be an http:// or https:// URL."));
    QStringList seen;
    for (int i = 0; i < v.providers.size(); ++i) {
        const Provider &p = v.providers.at(i);
        if (p.name.isEmpty())
            return fail(i, tr("Every provider needs a name."));
        if (!validName.match(p.name).hasMatch()) {
            return fail(
                i, tr("Provider “%1”: a name has only letters, digits, '-' and '_'.").arg(p.name));
        }
        if (taken.contains(p.name) || seen.contains(p.name))
            return fail(i, tr("There is already a provider named “%1”.").arg(p.name));
        seen << p.name;
        if (p.kind != kOpenAi && p.kind != kOllama)
            return fail(i, tr("Provider “%1”: the kind is openai or ollama.").arg(p.name));
        if (!checkUrl(p.baseUrl)) {
            return fail(
                i,
                tr("Provider “%1”: the base URL must be an http:// or https:// URL.").arg(p.name));
        }
        if (p.model.isEmpty() && p.extra.value(QStringLiteral("models")).trimmed().isEmpty())
            return fail(i, tr("Provider “%1”: a default model is needed.").arg(p.name));
    }
    if (v.allNetworks && v.serve && v.token.isEmpty())
        return fail(-1, tr("Serving other computers needs a token."));
    return QString();
}

void SettingsDialog::showError(const QString &message)
{
    m_ui->errorLabel->setText(message);
    m_ui->errorBox->setVisible(!message.isEmpty());
}

void SettingsDialog::accept()
{
    storeProvider();
    const Values v = values();
    int bad = -1;
    QString error = validate(v, &bad);
    // The "default" entry is registered under its kind's name: no group can take that one.
    const auto shown = std::find_if(m_providers.cbegin(), m_providers.cend(),
                                    [](const Provider &p) { return p.isDefault; });
    for (int i = 0; error.isEmpty() && shown != m_providers.cend() && i < v.providers.size(); ++i) {
        const QString &name = v.providers.at(i).name;
        if (name == defaultEntryName() || name == shown->kind) {
            error = tr("There is already a provider named “%1”.").arg(name);
            bad = i;
        }
    }
    if (error.isEmpty()) {
        showError(QString());
        QDialog::accept();
        return;
    }
    showError(error);
    // Show the provider at fault: v.providers is m_providers without the "default" entry.
    for (int i = 0, group = 0; bad != -1 && i < m_providers.size(); ++i) {
        const bool isDefault = m_providers.at(i).isDefault;
        if (bad == -2 ? isDefault : (!isDefault && group == bad)) {
            m_ui->providerList->setCurrentRow(i + 1);
            m_ui->name->setFocus();
            break;
        }
        if (!isDefault)
            ++group;
    }
}

QCoro::Task<QString> SettingsDialog::save(Values values, Values before, QString configFile)
{
    return writeSettings(std::move(values), std::move(before), std::move(configFile));
}

} // namespace holdfast
