// The settings dialog's providers through its real widgets: add, edit, remove, validation that
// keeps the dialog open, the file written as the [provider.NAME] groups Settings reads back, API
// keys kept out of that file, and keychain keys put back into the groups at start.
// Over 600 lines: one widget, driven through every path of its form (data-driven rows).
#include "app/liveproviders.h"
#include "app/providersetup.h"
#include "app/servicehost.h"
#include "app/settings.h"
#include "app/settingsfile.h"
#include "app/settingsvalues.h"
#include "client/localclient.h"
#include "core/providerregistry.h"
#include "core/sessionservice.h"
#include "fakes/fakemodelserver.h"
#include "fakes/testutil.h"
#include "gui/chatpane.h"
#include "gui/darkpalette.h"
#include "gui/mainwindow.h"
#include "gui/providercontrol.h"
#include "gui/secretstore.h"
#include "gui/sessionlistmodel.h"
#include "gui/sessionsidebar.h"
#include "gui/settingsdialog.h"

#include <QApplication>
#include <QCheckBox>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QProcess>
#include <QPushButton>
#include <QScopeGuard>
#include <QSettings>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTcpServer>
#include <QTemporaryDir>

#include "gui/mcpserversdialog.h"
#include <QTest>
#include <QThread>
#include <QTimer>
#include <QToolButton>

#include <sys/stat.h>

#include <atomic>

using namespace holdfast;
using holdfast::test::spinUntil;

namespace {

Settings load(const QString &file, QStringList flags = {})
{
    Settings s;
    QString error;
    flags.prepend(QStringLiteral("--config=") + file);
    flags.prepend(QStringLiteral("holdfast"));
    if (!s.load(flags, QProcessEnvironment(), &error))
        qWarning("settings: %s", qPrintable(error));
    return s;
}

// A coroutine's string, once it has finished.
QString result(QCoro::Task<QString> task)
{
    QString text = QStringLiteral("(timed out)");
    (void)test::awaitInto(std::move(task), &text); // a timeout shows as the text above
    return text;
}

QString fileText(const QString &file)
{
    QFile f(file);
    return f.open(QIODevice::ReadOnly) ? QString::fromUtf8(f.readAll()) : QString();
}

Settings::ProviderEntry entry(const Settings &s, const QString &name)
{
    for (const auto &e : s.providerEntries()) {
        if (e.name == name)
            return e;
    }
    return {};
}

// The dialog driven as a user would: clicks and typing.
struct Driver
{
    SettingsDialog *dialog;

    template <typename T> T *child(const char *name) const
    {
        auto *w = dialog->findChild<T *>(QString::fromLatin1(name));
        if (!w)
            qFatal("no widget %s", name);
        return w;
    }
    QListWidget *list() const { return child<QListWidget>("providerList"); }
    void type(const char *field, const QString &text) const
    {
        auto *combo = dialog->findChild<QComboBox *>(QString::fromLatin1(field));
        auto *edit = combo ? combo->lineEdit() : child<QLineEdit>(field);
        edit->selectAll();
        QTest::keyClick(edit, Qt::Key_Backspace);
        if (!text.isEmpty())
            QTest::keyClicks(edit, text);
    }
    void add(const QString &name, const QString &kind, const QString &url, const QString &model,
             const QString &key = {}) const
    {
        QTest::mouseClick(child<QToolButton>("addProvider"), Qt::LeftButton);
        type("name", name);
        child<QComboBox>("kind")->setCurrentText(kind);
        type("baseUrl", url);
        type("model", model);
        if (child<QLineEdit>("apiKey")->isEnabled())
            type("apiKey", key);
    }
    bool select(const QString &name) const
    {
        const auto items = list()->findItems(name, Qt::MatchExactly);
        if (items.isEmpty())
            return false;
        list()->setCurrentItem(items.first());
        return true;
    }
    void clickSave() const
    {
        child<QDialogButtonBox>("buttons")->button(QDialogButtonBox::Save)->click();
    }
};

} // namespace

class TestSettingsDialog : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void addTwoThenRemoveOne();
    void invalidValuesKeepTheDialogOpen_data();
    void invalidValuesKeepTheDialogOpen();
    void demoIsBuiltInAndReadOnly();
    void defaultEntryIsTheGlobalKeys();
    void groupOfTheGlobalProvider();
    void apiKeyNeverInTheFile();
    void noKeychainKeepsKeysInTheFile();
    void fileIsPrivate_data();
    void fileIsPrivate();
    void fileWrittenByAppOffTheGuiThread();
    void keysReadAfterStartReachTheDialog();
    void screenshot_data();
    void screenshot();
    void testConnectionFillsTheModels();
    void providerAddedAnswersWithoutRestart();
    void autoTitleSetting();
    void desktopSettings();
    void mcpServersSetting();

private:
    bool keychainWorks();

    QTemporaryDir m_dir;
    QProcess m_bus;
    QProcess m_keyring;
    int m_keychain = -1; // unknown, 0 no, 1 yes
};

// A private session bus with gnome-keyring's secret service on it, when both are installed, so
// the keychain path runs against a real keychain; without them the dialog's no-keychain path
// (keys refused by QtKeychain) is what gets tested.
void TestSettingsDialog::initTestCase()
{
    QStandardPaths::setTestModeEnabled(true);
    QVERIFY(m_dir.isValid());
    installSettingsFileWriter(std::make_shared<SettingsFile>()); // what the app installs
    // Never the developer's own keychain: no session bus unless the private one starts.
    qputenv("DBUS_SESSION_BUS_ADDRESS",
            "unix:path=" + QFile::encodeName(m_dir.filePath(QStringLiteral("no-bus"))));
    const QString dbus = QStandardPaths::findExecutable(QStringLiteral("dbus-daemon"));
    const QString keyring = QStandardPaths::findExecutable(QStringLiteral("gnome-keyring-daemon"));
    if (dbus.isEmpty() || keyring.isEmpty() || !secrets::available())
        return;
    m_bus.start(dbus, {QStringLiteral("--session"), QStringLiteral("--nofork"),
                       QStringLiteral("--print-address=1")});
    if (!m_bus.waitForStarted() || !spinUntil([&] { return m_bus.canReadLine(); }, 5000))
        return;
    const QByteArray address = m_bus.readLine().trimmed();
    qputenv("DBUS_SESSION_BUS_ADDRESS", address);
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("DBUS_SESSION_BUS_ADDRESS"), QString::fromLatin1(address));
    env.insert(QStringLiteral("HOME"), m_dir.path());
    env.insert(QStringLiteral("XDG_DATA_HOME"), m_dir.path() + QStringLiteral("/data"));
    env.insert(QStringLiteral("XDG_RUNTIME_DIR"), m_dir.path());
    m_keyring.setProcessEnvironment(env);
    m_keyring.start(keyring, {QStringLiteral("--foreground"), QStringLiteral("--unlock"),
                              QStringLiteral("--components=secrets")});
    if (!m_keyring.waitForStarted())
        return;
    m_keyring.write("test-password");
    m_keyring.closeWriteChannel();
}

void TestSettingsDialog::cleanupTestCase()
{
    for (QProcess *p : {&m_keyring, &m_bus}) {
        if (p->state() != QProcess::NotRunning) {
            p->terminate();
            if (!p->waitForFinished(3000))
                p->kill();
            p->waitForFinished(3000);
        }
    }
}

// Whether a keychain service answers here (secrets::reachable(), asked once).
bool TestSettingsDialog::keychainWorks()
{
    if (m_keychain < 0) {
        bool reachable = false;
        // The secret service may take a moment to claim its name on the bus.
        for (int attempt = 0; attempt < 10 && !reachable; ++attempt) {
            if (!test::awaitInto(secrets::reachable(), &reachable))
                reachable = false;
            if (reachable || m_keyring.state() != QProcess::Running)
                break;
            QTest::qWait(200);
        }
        m_keychain = reachable ? 1 : 0;
        qInfo("keychain: %s", reachable ? "gnome-keyring on a private session bus"
                                        : "none at run time (QtKeychain refuses to store keys)");
    }
    return m_keychain == 1;
}

void TestSettingsDialog::addTwoThenRemoveOne()
{
    const QString file = m_dir.filePath(QStringLiteral("two.conf"));
    QVERIFY(QFile(file).open(QIODevice::WriteOnly));
    const SettingsDialog::Values before = dialogValues(load(file));
    {
        SettingsDialog dialog(before, file);
        dialog.show();
        Driver d{&dialog};
        d.add(QStringLiteral("lab"), QStringLiteral("openai"),
              QStringLiteral("http://10.0.0.7:8000/v1"), QStringLiteral("qwen2.5"));
        d.add(QStringLiteral("home"), QStringLiteral("ollama"),
              QStringLiteral("http://127.0.0.1:11434"), QStringLiteral("llama3.2"));
        QCOMPARE(d.list()->count(), 3); // demo, lab, home
        QCOMPARE(d.list()->item(1)->text(), QStringLiteral("lab"));
        d.clickSave();
        QCOMPARE(dialog.result(), int(QDialog::Accepted));
        QCOMPARE(result(SettingsDialog::save(dialog.values(), before, file)), QString());
    }
    const QString text = fileText(file);
    QVERIFY2(text.contains(QLatin1String("[provider.lab]")), qPrintable(text));
    QVERIFY2(text.contains(QLatin1String("[provider.home]")), qPrintable(text));
    Settings read = load(file);
    QCOMPARE(read.providerEntries().size(), 2);
    const auto lab = entry(read, QStringLiteral("lab"));
    QCOMPARE(lab.values.value(QStringLiteral("kind")), QStringLiteral("openai"));
    QCOMPARE(lab.values.value(QStringLiteral("base-url")),
             QStringLiteral("http://10.0.0.7:8000/v1"));
    QCOMPARE(lab.values.value(QStringLiteral("model")), QStringLiteral("qwen2.5"));
    const auto home = entry(read, QStringLiteral("home"));
    QCOMPARE(home.values.value(QStringLiteral("kind")), QStringLiteral("ollama"));
    QCOMPARE(home.values.value(QStringLiteral("base-url")),
             QStringLiteral("http://127.0.0.1:11434"));
    QCOMPARE(home.values.value(QStringLiteral("model")), QStringLiteral("llama3.2"));
    // The service builds its providers from what was written.
    ProviderRegistry registry;
    const Status made = setupProviders(read, &registry);
    QVERIFY2(made, made ? "" : qPrintable(made.error().message));
    QVERIFY(registry.provider(QStringLiteral("lab")));
    QVERIFY(registry.provider(QStringLiteral("home")));

    // Remove "lab" from the keyboard: select it, Del on the list.
    const SettingsDialog::Values second = dialogValues(read);
    {
        SettingsDialog dialog(second, file);
        dialog.show();
        Driver d{&dialog};
        QVERIFY(d.select(QStringLiteral("lab")));
        d.list()->setFocus();
        QTest::keyClick(d.list(), Qt::Key_Delete);
        QCOMPARE(d.list()->count(), 2);
        QVERIFY(d.list()->findItems(QStringLiteral("lab"), Qt::MatchExactly).isEmpty());
        d.clickSave();
        QCOMPARE(dialog.result(), int(QDialog::Accepted));
        QCOMPARE(result(SettingsDialog::save(dialog.values(), second, file)), QString());
    }
    QVERIFY(!fileText(file).contains(QLatin1String("provider.lab")));
    read = load(file);
    QCOMPARE(read.providerEntries().size(), 1);
    QCOMPARE(read.providerEntries().first().name, QStringLiteral("home"));
    QCOMPARE(entry(read, QStringLiteral("home")).values.value(QStringLiteral("model")),
             QStringLiteral("llama3.2"));
    // Where readSecrets puts a keychain key: the named group only.
    QVERIFY(read.setProviderValue(QStringLiteral("home"), QStringLiteral("api-key"),
                                  QStringLiteral("k")));
    QVERIFY(!read.setProviderValue(QStringLiteral("lab"), QStringLiteral("api-key"),
                                   QStringLiteral("k")));
    QCOMPARE(entry(read, QStringLiteral("home")).values.value(QStringLiteral("api-key")),
             QStringLiteral("k"));
    QCOMPARE(read.providerEntries().size(), 1);
}

void TestSettingsDialog::invalidValuesKeepTheDialogOpen_data()
{
    QTest::addColumn<QString>("name");
    QTest::addColumn<QString>("url");
    QTest::addColumn<QString>("model");
    QTest::addColumn<QString>("message");
    const QString url = QStringLiteral("http://127.0.0.1:11434");
    const QString model = QStringLiteral("llama3.2");
    QTest::addRow("empty name") << QString() << url << model << QStringLiteral("needs a name");
    QTest::addRow("space") << QStringLiteral("my lab") << url << model << QStringLiteral("letters");
    QTest::addRow("dot") << QStringLiteral("a.b") << url << model << QStringLiteral("letters");
    QTest::addRow("slash") << QStringLiteral("a/b") << url << model << QStringLiteral("letters");
    QTest::addRow("demo") << QStringLiteral("demo") << url << model << QStringLiteral("already");
    QTest::addRow("duplicate") << QStringLiteral("home") << url << model
                               << QStringLiteral("already");
    QTest::addRow("ftp") << QStringLiteral("lab") << QStringLiteral("ftp://10.0.0.7/v1") << model
                         << QStringLiteral("URL");
    QTest::addRow("no scheme") << QStringLiteral("lab") << QStringLiteral("localhost:8080") << model
                               << QStringLiteral("URL");
    QTest::addRow("no host") << QStringLiteral("lab") << QStringLiteral("http://") << model
                             << QStringLiteral("URL");
    QTest::addRow("spaces in url")
        << QStringLiteral("lab") << QStringLiteral("http://a b/") << model << QStringLiteral("URL");
    QTest::addRow("no model") << QStringLiteral("lab") << url << QString()
                              << QStringLiteral("model");
}

void TestSettingsDialog::invalidValuesKeepTheDialogOpen()
{
    QFETCH(QString, name);
    QFETCH(QString, url);
    QFETCH(QString, model);
    QFETCH(QString, message);
    SettingsDialog::Values values;
    SettingsDialog::Provider home;
    home.name = QStringLiteral("home");
    home.kind = QStringLiteral("ollama");
    home.model = QStringLiteral("llama3.2");
    values.providers = {home};
    SettingsDialog dialog(values, m_dir.filePath(QStringLiteral("never.conf")));
    dialog.show();
    Driver d{&dialog};
    d.add(name, QStringLiteral("openai"), url, model);
    d.clickSave();
    QVERIFY(dialog.isVisible());
    QCOMPARE(dialog.result(), int(QDialog::Rejected));
    QVERIFY2(dialog.errorText().contains(message), qPrintable(dialog.errorText()));
    QVERIFY(d.child<QLabel>("errorLabel")->isVisible());
    QVERIFY(!SettingsDialog::validate(dialog.values()).isEmpty());
    // The entry at fault is the one shown, and fixing it lets the dialog close.
    QCOMPARE(d.list()->currentRow(), 2);
    d.type("name", QStringLiteral("lab"));
    d.type("baseUrl", QStringLiteral("http://10.0.0.7:8000/v1"));
    d.type("model", QStringLiteral("qwen2.5"));
    d.clickSave();
    QCOMPARE(dialog.result(), int(QDialog::Accepted));
    QVERIFY(!dialog.isVisible());
    QCOMPARE(dialog.errorText(), QString());
    QVERIFY(!QFile::exists(m_dir.filePath(QStringLiteral("never.conf"))));
}

void TestSettingsDialog::demoIsBuiltInAndReadOnly()
{
    SettingsDialog dialog(SettingsDialog::Values{}, m_dir.filePath(QStringLiteral("x.conf")));
    dialog.show();
    dialog.activateWindow();
    QVERIFY(QTest::qWaitForWindowActive(&dialog));
    Driver d{&dialog};
    QCOMPARE(d.list()->count(), 1);
    QCOMPARE(d.list()->currentRow(), 0);
    QVERIFY(!d.child<QToolButton>("removeProvider")->isEnabled());
    QVERIFY(!d.child<QLineEdit>("name")->isEnabled());
    QVERIFY(!d.child<QLineEdit>("baseUrl")->isEnabled());
    QCOMPARE(d.child<QComboBox>("kind")->currentText(), QStringLiteral("demo"));
    QTest::keyClick(d.list(), Qt::Key_Delete);
    QCOMPARE(d.list()->count(), 1);
    // Icon-only buttons say what they do.
    QVERIFY(!d.child<QToolButton>("addProvider")->toolTip().isEmpty());
    QVERIFY(!d.child<QToolButton>("removeProvider")->toolTip().isEmpty());
    QVERIFY(!d.child<QToolButton>("addProvider")->icon().isNull());
    // Ins on the list adds one, named by typing.
    d.list()->setFocus();
    QTest::keyClick(d.list(), Qt::Key_Insert);
    QCOMPARE(d.list()->count(), 2);
    QVERIFY(d.child<QLineEdit>("name")->hasFocus());
}

void TestSettingsDialog::defaultEntryIsTheGlobalKeys()
{
    const QString file = m_dir.filePath(QStringLiteral("global.conf"));
    QVERIFY(QFile(file).open(QIODevice::WriteOnly));
    const SettingsDialog::Values before =
        dialogValues(load(file, {QStringLiteral("--provider=openai"),
                                 QStringLiteral("--base-url=http://127.0.0.1:8081/v1"),
                                 QStringLiteral("--model=qwen2.5")}));
    {
        SettingsDialog dialog(before, file);
        dialog.show();
        Driver d{&dialog};
        QCOMPARE(d.list()->count(), 2);
        QCOMPARE(d.list()->item(1)->text(), SettingsDialog::defaultEntryName());
        QCOMPARE(d.list()->currentRow(), 1);
        QVERIFY(d.child<QLineEdit>("name")->isReadOnly());
        QCOMPARE(d.child<QLineEdit>("baseUrl")->text(), QStringLiteral("http://127.0.0.1:8081/v1"));
        d.type("model", QStringLiteral("qwen3"));
        // A group cannot take the name the global provider is registered under.
        d.add(QStringLiteral("openai"), QStringLiteral("openai"), QString(),
              QStringLiteral("gpt-4o"));
        d.clickSave();
        QVERIFY(dialog.isVisible());
        QVERIFY(dialog.errorText().contains(QLatin1String("already")));
        d.type("name", QStringLiteral("cloud"));
        d.clickSave();
        QCOMPARE(dialog.result(), int(QDialog::Accepted));
        QCOMPARE(result(SettingsDialog::save(dialog.values(), before, file)), QString());
    }
    Settings read = load(file);
    QCOMPARE(read.value(QStringLiteral("provider")), QStringLiteral("openai"));
    QCOMPARE(read.value(QStringLiteral("base-url")), QStringLiteral("http://127.0.0.1:8081/v1"));
    QCOMPARE(read.value(QStringLiteral("model")), QStringLiteral("qwen3"));
    QCOMPARE(entry(read, QStringLiteral("cloud")).values.value(QStringLiteral("model")),
             QStringLiteral("gpt-4o"));
    QVERIFY(!entry(read, QStringLiteral("cloud")).values.contains(QStringLiteral("base-url")));
    ProviderRegistry registry;
    QVERIFY(setupProviders(read, &registry));
    QVERIFY(registry.provider(QStringLiteral("openai")));
    QVERIFY(registry.provider(QStringLiteral("cloud")));

    // Removing "default" goes back to the demo model.
    const SettingsDialog::Values second = dialogValues(read);
    {
        SettingsDialog dialog(second, file);
        dialog.show();
        Driver d{&dialog};
        QVERIFY(d.select(SettingsDialog::defaultEntryName()));
        QTest::mouseClick(d.child<QToolButton>("removeProvider"), Qt::LeftButton);
        d.clickSave();
        QCOMPARE(dialog.result(), int(QDialog::Accepted));
        QCOMPARE(result(SettingsDialog::save(dialog.values(), second, file)), QString());
    }
    read = load(file);
    QVERIFY(!read.isSet(QStringLiteral("provider")));
    QVERIFY(!read.isSet(QStringLiteral("base-url")));
    QVERIFY(!read.isSet(QStringLiteral("model")));
    QCOMPARE(read.providerEntries().size(), 1);
}

// `provider = openai` with an [provider.openai] group: one provider (the global keys merge into
// the group at start), shown once, and both kept on save.
void TestSettingsDialog::groupOfTheGlobalProvider()
{
    const QString file = m_dir.filePath(QStringLiteral("merged.conf"));
    {
        QFile f(file);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("provider = openai\n[provider.openai]\nbase-url = http://10.0.0.9:8000/v1\n"
                "model = qwen2.5\n");
    }
    const SettingsDialog::Values before = dialogValues(load(file));
    SettingsDialog dialog(before, file);
    dialog.show();
    Driver d{&dialog};
    QCOMPARE(d.list()->count(), 2);
    QCOMPARE(d.list()->item(1)->text(), QStringLiteral("openai"));
    d.clickSave();
    QCOMPARE(dialog.result(), int(QDialog::Accepted));
    QCOMPARE(result(SettingsDialog::save(dialog.values(), before, file)), QString());
    const Settings read = load(file);
    QCOMPARE(read.value(QStringLiteral("provider")), QStringLiteral("openai"));
    QCOMPARE(entry(read, QStringLiteral("openai")).values.value(QStringLiteral("base-url")),
             QStringLiteral("http://10.0.0.9:8000/v1"));
    ProviderRegistry registry;
    QVERIFY(setupProviders(read, &registry));
    QVERIFY(registry.provider(QStringLiteral("openai")));
}

// With a keychain, a typed key goes there and a key found in the file moves there; the file
// never holds one. Without one (QtKeychain refuses), the save says so, a typed key is dropped,
// and a key the user wrote in the file stays where it was.
void TestSettingsDialog::apiKeyNeverInTheFile()
{
    const QString file = m_dir.filePath(QStringLiteral("keys.conf"));
    {
        QFile f(file);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("[provider.mine]\nkind = ollama\nmodel = llama3.2\napi-key = sk-file-typed\n");
    }
    const QString typed = QStringLiteral("sk-lab-9f8e7d6c5b4a");
    const SettingsDialog::Values before = dialogValues(load(file));
    QCOMPARE(before.providers.size(), 1);
    QVERIFY(before.providers.first().keyInFile);
    QString error;
    {
        SettingsDialog dialog(before, file);
        dialog.show();
        Driver d{&dialog};
        QVERIFY(d.child<QLineEdit>("apiKey")->echoMode() == QLineEdit::Password);
        d.add(QStringLiteral("lab"), QStringLiteral("openai"),
              QStringLiteral("http://10.0.0.7:8000/v1"), QStringLiteral("qwen2.5"), typed);
        d.clickSave();
        QCOMPARE(dialog.result(), int(QDialog::Accepted));
        QCOMPARE(dialog.values().providers.last().apiKey, secrets::available() ? typed : QString());
        error = result(SettingsDialog::save(dialog.values(), before, file));
    }
    const QString text = fileText(file);
    QVERIFY2(!text.contains(typed), qPrintable(text));
    QVERIFY(text.contains(QLatin1String("[provider.lab]")));
    if (!before.keychain) {
        qInfo("path tested: no QtKeychain in this build (key field disabled, file key kept)");
        QCOMPARE(error, QString());
        QVERIFY(text.contains(QLatin1String("sk-file-typed")));
        return;
    }
    if (!keychainWorks()) {
        qInfo("path tested: QtKeychain built in, no keychain service at run time");
        QVERIFY2(error.contains(QLatin1String("lab")) && error.contains(QLatin1String("mine")),
                 qPrintable(error));
        QVERIFY(text.contains(QLatin1String("sk-file-typed")));
        return;
    }
    qInfo("path tested: a real keychain (gnome-keyring)");
    QCOMPARE(error, QString());
    QVERIFY2(!text.contains(QLatin1String("sk-file-typed")), qPrintable(text));
    QCOMPARE(result(secrets::read(SettingsDialog::keychainKey(QStringLiteral("lab")))), typed);
    // At start, the keys go back into their groups (once the window has used the keychain).
    QSettings(QSettings::IniFormat, QSettings::UserScope, QStringLiteral("holdfast"),
              QStringLiteral("window"))
        .setValue(QStringLiteral("useKeychain"), true);
    Settings read = load(file);
    QVERIFY(!entry(read, QStringLiteral("lab")).values.contains(QStringLiteral("api-key")));
    QVERIFY(test::awaitVoid(readSecrets(&read)));
    QCOMPARE(entry(read, QStringLiteral("lab")).values.value(QStringLiteral("api-key")), typed);
    QCOMPARE(entry(read, QStringLiteral("mine")).values.value(QStringLiteral("api-key")),
             QStringLiteral("sk-file-typed"));
    // The window opens before the keychain answers; the keys it reads then reach the dialog's
    // values, so renaming a provider moves its key instead of dropping it.
    MainWindow window;
    window.setSettingsValues(dialogValues(load(file)), file);
    window.mergeSecrets(dialogValues(read));
    const SettingsDialog::Values shown = window.settingsValues();
    SettingsDialog::Values renamed = shown;
    for (SettingsDialog::Provider &p : renamed.providers) {
        if (p.name == QLatin1String("lab"))
            p.name = QStringLiteral("lab2");
    }
    QCOMPARE(result(SettingsDialog::save(renamed, shown, file)), QString());
    QCOMPARE(result(secrets::read(SettingsDialog::keychainKey(QStringLiteral("lab2")))), typed);
    QCOMPARE(result(secrets::read(SettingsDialog::keychainKey(QStringLiteral("lab")))), QString());
    QCOMPARE(result(SettingsDialog::save(shown, renamed, file)), QString()); // and back
    QCOMPARE(result(secrets::read(SettingsDialog::keychainKey(QStringLiteral("lab")))), typed);

    // Removing a provider removes its key from the keychain.
    const SettingsDialog::Values second = dialogValues(load(file));
    SettingsDialog::Values after = second;
    after.providers.removeIf([](const auto &p) { return p.name == QLatin1String("lab"); });
    QCOMPARE(result(SettingsDialog::save(after, second, file)), QString());
    QCOMPARE(result(secrets::read(SettingsDialog::keychainKey(QStringLiteral("lab")))), QString());
}

// The window opens with the settings file's values; the keys read from the keychain come later
// and fill only what is still empty (a key typed meanwhile stays).
void TestSettingsDialog::fileIsPrivate_data()
{
    QTest::addColumn<int>("before"); // the file's mode before the save; -1: no file, no folder
    QTest::addRow("new file in a new folder") << -1;
    QTest::addRow("file 0644") << 0644;
    QTest::addRow("file 0666") << 0666;
    QTest::addRow("file 0600") << 0600;
}

// The file may hold the Redis password (in `store`) and, without a keychain, API keys: it is
// written 0600 whatever the umask, in a 0700 folder when the writer makes the folder.
void TestSettingsDialog::fileIsPrivate()
{
    QFETCH(int, before);
    const mode_t oldMask = ::umask(022); // the usual umask, which leaves files world-readable
    const auto restore = qScopeGuard([oldMask] { ::umask(oldMask); });
    const QString folder = m_dir.filePath(
        QStringLiteral("private-%1/holdfast").arg(QString::fromLatin1(QTest::currentDataTag())));
    const QString file = folder + QStringLiteral("/holdfast.conf");
    if (before >= 0) {
        QVERIFY(QDir().mkpath(folder));
        QFile f(file);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("store = redis://:old-secret@127.0.0.1:6379\n");
        f.close();
        QCOMPARE(::chmod(QFile::encodeName(file).constData(), mode_t(before)), 0);
    }
    SettingsDialog::Values v = dialogValues(load(file));
    v.keychain = false;
    v.store = QStringLiteral("redis://:s3cret@127.0.0.1:6379");
    QCOMPARE(result(SettingsDialog::save(v, v, file)), QString());
    QVERIFY(fileText(file).contains(QLatin1String("s3cret")));
    struct stat st
    {};
    QCOMPARE(::stat(QFile::encodeName(file).constData(), &st), 0);
    QCOMPARE(st.st_mode & 07777, mode_t(0600));
    if (before < 0) {
        QCOMPARE(::stat(QFile::encodeName(folder).constData(), &st), 0);
        QCOMPARE(st.st_mode & 07777, mode_t(0700));
    }
    // A second save keeps it so (QSettings replaces the file with a new one).
    v.model = QStringLiteral("other");
    QCOMPARE(result(SettingsDialog::save(v, v, file)), QString());
    QCOMPARE(::stat(QFile::encodeName(file).constData(), &st), 0);
    QCOMPARE(st.st_mode & 07777, mode_t(0600));
}

// The dialog does not know the file's format: it saves through the writer app installed
// (app/settingsfile), called on a worker thread, never the GUI's; none installed, Save says so.
void TestSettingsDialog::fileWrittenByAppOffTheGuiThread()
{
    struct Recorder final : SettingsFileWriter
    {
        mutable std::atomic<QThread *> thread = nullptr;
        bool write(const QString &configFile, const SettingsDialog::Values &values,
                   const QStringList &keepFileKey, const QStringList &removed) const override
        {
            thread = QThread::currentThread();
            return SettingsFile().write(configFile, values, keepFileKey, removed);
        }
    };
    const auto reinstall =
        qScopeGuard([] { installSettingsFileWriter(std::make_shared<SettingsFile>()); });
    const auto recorder = std::make_shared<Recorder>();
    installSettingsFileWriter(recorder);
    const QString file = m_dir.filePath(QStringLiteral("through-app/holdfast.conf"));
    SettingsDialog::Values v;
    v.keychain = false;
    v.model = QStringLiteral("from-the-dialog");
    QCOMPARE(result(SettingsDialog::save(v, v, file)), QString());
    QVERIFY(recorder->thread.load() != nullptr);
    QVERIFY(recorder->thread.load() != QThread::currentThread());
    QCOMPARE(load(file).value(QStringLiteral("model")), QStringLiteral("from-the-dialog"));

    installSettingsFileWriter(nullptr);
    QVERIFY(result(SettingsDialog::save(v, v, file)).contains(file));
}

void TestSettingsDialog::keysReadAfterStartReachTheDialog()
{
    SettingsDialog::Values atStart;
    atStart.provider = QStringLiteral("openai");
    SettingsDialog::Provider a;
    a.name = QStringLiteral("a");
    a.kind = QStringLiteral("openai");
    SettingsDialog::Provider b = a;
    b.name = QStringLiteral("b");
    b.apiKey = QStringLiteral("typed-meanwhile");
    atStart.providers = {a, b};
    SettingsDialog::Values read = atStart;
    read.apiKey = QStringLiteral("global-key");
    read.token = QStringLiteral("token-from-keychain");
    read.providers[0].apiKey = QStringLiteral("key-a");
    read.providers[1].apiKey = QStringLiteral("key-b");
    MainWindow window;
    window.setSettingsValues(atStart, m_dir.filePath(QStringLiteral("merge.conf")));
    window.mergeSecrets(read);
    const SettingsDialog::Values v = window.settingsValues();
    QCOMPARE(v.apiKey, QStringLiteral("global-key"));
    QCOMPARE(v.token, QStringLiteral("token-from-keychain"));
    QCOMPARE(v.providers.size(), 2);
    QCOMPARE(v.providers.at(0).apiKey, QStringLiteral("key-a"));
    QCOMPARE(v.providers.at(1).apiKey, QStringLiteral("typed-meanwhile"));
}

// No keychain answering (told by secrets::reachable() at start): the key field is off and says
// where keys go instead; a key the user wrote in the file stays there; nothing is stored.
void TestSettingsDialog::noKeychainKeepsKeysInTheFile()
{
    const QString file = m_dir.filePath(QStringLiteral("nokeychain.conf"));
    {
        QFile f(file);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("[provider.mine]\nkind = ollama\nmodel = llama3.2\napi-key = sk-by-hand\n");
    }
    SettingsDialog::Values before = dialogValues(load(file));
    before.keychain = false;
    SettingsDialog dialog(before, file);
    dialog.show();
    Driver d{&dialog};
    QVERIFY(d.select(QStringLiteral("mine")));
    QVERIFY(!d.child<QLineEdit>("apiKey")->isEnabled());
    QVERIFY(d.child<QLabel>("providerNote")->text().contains(QLatin1String("No keychain")));
    d.add(QStringLiteral("lab"), QStringLiteral("openai"),
          QStringLiteral("http://10.0.0.7:8000/v1"), QStringLiteral("qwen2.5"),
          QStringLiteral("never-typed"));
    d.clickSave();
    QCOMPARE(dialog.result(), int(QDialog::Accepted));
    QCOMPARE(dialog.values().providers.last().apiKey, QString());
    QCOMPARE(result(SettingsDialog::save(dialog.values(), before, file)), QString());
    const Settings read = load(file);
    QCOMPARE(entry(read, QStringLiteral("mine")).values.value(QStringLiteral("api-key")),
             QStringLiteral("sk-by-hand"));
    QVERIFY(!entry(read, QStringLiteral("lab")).values.contains(QStringLiteral("api-key")));
    QCOMPARE(entry(read, QStringLiteral("lab")).values.value(QStringLiteral("model")),
             QStringLiteral("qwen2.5"));
}

void TestSettingsDialog::screenshot_data()
{
    QTest::addColumn<bool>("dark");
    QTest::addRow("light") << false;
    QTest::addRow("dark") << true;
}

void TestSettingsDialog::screenshot()
{
    QFETCH(bool, dark);
    const QPalette original = QApplication::palette();
    if (dark)
        QApplication::setPalette(test::darkPalette());
    const auto restore = qScopeGuard([&] { QApplication::setPalette(original); });
    SettingsDialog::Values values;
    values.provider = QStringLiteral("openai");
    values.baseUrl = QStringLiteral("http://127.0.0.1:8081/v1");
    values.model = QStringLiteral("qwen2.5");
    SettingsDialog::Provider lab;
    lab.name = QStringLiteral("lab");
    lab.baseUrl = QStringLiteral("http://10.0.0.7:8000/v1");
    lab.model = QStringLiteral("qwen2.5-coder");
    lab.apiKey = QStringLiteral("sk-123456");
    values.providers = {lab};
    values.store = QStringLiteral("sqlite:/home/me/.local/share/holdfast/holdfast.db");
    values.keychain = true;
    SettingsDialog dialog(values, m_dir.filePath(QStringLiteral("shot.conf")));
    dialog.show();
    QVERIFY(QTest::qWaitForWindowExposed(&dialog));
    Driver d{&dialog};
    d.add(QStringLiteral("home"), QStringLiteral("ollama"), QStringLiteral("not a url"),
          QStringLiteral("llama3.2"));
    d.clickSave(); // refused: the message shows
    QVERIFY(dialog.isVisible());
    QTest::qWait(50);
    const QString path = QStringLiteral(HOLDFAST_TEST_OUTPUT_DIR "/settingsdialog%1.png")
                             .arg(dark ? QStringLiteral("-dark") : QString());
    QVERIFY(dialog.grab().save(path));
    qInfo("screenshot: %s", qPrintable(path));
}

// "Test connection" asks the server (through the app's ProviderControl, as the program installs
// it) and puts the models it lists into the model field; an unreachable port says so.
void TestSettingsDialog::testConnectionFillsTheModels()
{
    test::FakeModelServer server;
    QVERIFY(server.listen());
    const QString file = m_dir.filePath(QStringLiteral("probe.conf"));
    QVERIFY(QFile(file).open(QIODevice::WriteOnly));
    const Settings settings = load(file);
    installProviderControl(std::make_shared<LiveProviders>(settings));
    const auto uninstall = qScopeGuard([] { installProviderControl(nullptr); });
    SettingsDialog::Values values = dialogValues(settings);
    values.keychain = true; // the screenshot shows the keychain's wording
    SettingsDialog dialog(values, file);
    dialog.show();
    QVERIFY(QTest::qWaitForWindowExposed(&dialog));
    Driver d{&dialog};
    d.add(QStringLiteral("lab"), QStringLiteral("openai"), server.openAiBaseUrl(), QString());
    auto *models = d.child<QComboBox>("model");
    auto *status = d.child<QLabel>("connectionStatus");
    QSignalSpy tested(&dialog, &SettingsDialog::connectionTested);
    QTest::mouseClick(d.child<QPushButton>("testConnection"), Qt::LeftButton);
    QVERIFY(tested.wait(10000));
    QCOMPARE(tested.first().first().toBool(), true);
    QCOMPARE(models->count(), 2);
    QCOMPARE(models->itemText(0), QStringLiteral("fake-model"));
    QCOMPARE(models->itemText(1), QStringLiteral("other-model"));
    QCOMPARE(models->currentText(), QStringLiteral("fake-model")); // the field was empty
    QVERIFY2(status->isVisible() && status->text().contains(QLatin1String("2 models")),
             qPrintable(status->text()));
    QVERIFY(server.requests.last().path.endsWith("/v1/models"));
    models->setCurrentIndex(1); // picked from the list
    QTest::qWait(50);
    const QString shot = QStringLiteral(HOLDFAST_TEST_OUTPUT_DIR "/settings-test-connection.png");
    QVERIFY(dialog.grab().save(shot));
    qInfo("screenshot: %s", qPrintable(shot));
    // Another server: its own list (none yet); back to the first: its models again.
    d.type("baseUrl", QStringLiteral("http://127.0.0.1:1/v1"));
    QCOMPARE(models->count(), 0);
    QVERIFY(status->isHidden());
    d.type("baseUrl", server.openAiBaseUrl());
    QCOMPARE(models->count(), 2);
    QCOMPARE(models->currentText(), QStringLiteral("other-model"));
    d.clickSave();
    QCOMPARE(dialog.result(), int(QDialog::Accepted));
    QCOMPARE(dialog.values().providers.value(0).model, QStringLiteral("other-model"));

    // Nobody listens there: the message says so, the field keeps what it had.
    quint16 closed = 0;
    {
        QTcpServer probe;
        QVERIFY(probe.listen(QHostAddress::LocalHost, 0));
        closed = probe.serverPort();
    }
    SettingsDialog second(values, file);
    second.show();
    Driver e{&second};
    e.add(QStringLiteral("gone"), QStringLiteral("ollama"),
          QStringLiteral("http://127.0.0.1:%1").arg(closed), QStringLiteral("llama3.2"));
    QSignalSpy failed(&second, &SettingsDialog::connectionTested);
    QTest::mouseClick(e.child<QPushButton>("testConnection"), Qt::LeftButton);
    QVERIFY(failed.wait(10000));
    QCOMPARE(failed.first().first().toBool(), false);
    const QString said = e.child<QLabel>("connectionStatus")->text();
    QVERIFY2(said.contains(QLatin1String("cannot reach the model server")), qPrintable(said));
    QCOMPARE(e.child<QComboBox>("model")->currentText(), QStringLiteral("llama3.2"));
    QVERIFY(e.child<QPushButton>("testConnection")->isEnabled());
}

// A provider added in the settings dialog of a running window answers a turn at once: no restart.
void TestSettingsDialog::providerAddedAnswersWithoutRestart()
{
    test::FakeModelServer server;
    QVERIFY(server.listen());
    server.script.chunks = {QStringLiteral("answered "), QStringLiteral("at once")};
    const QString file = m_dir.filePath(QStringLiteral("live.conf"));
    {
        QFile f(file);
        QVERIFY(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
        f.write("store = memory:\n");
    }
    const Settings settings = load(file);
    ServiceHost host;
    HF_AWAIT(started, host.start(settings, false));
    QVERIFY(started->ok());
    const auto providers = std::make_shared<LiveProviders>(settings);
    providers->setService(host.service());
    installProviderControl(providers);
    const auto uninstall = qScopeGuard([] { installProviderControl(nullptr); });
    {
        MainWindow window;
        window.setSettingsValues(dialogValues(settings), file);
        window.setClient(new LocalClient(host.service(), &window));
        window.show();
        QVERIFY(!host.service()->providers()->resolve(QStringLiteral("lab/fake-model")).ok());
        bool driven = false;
        QTimer::singleShot(0, &window, [&] {
            auto *dialog = qobject_cast<SettingsDialog *>(QApplication::activeModalWidget());
            if (!dialog)
                return;
            Driver d{dialog};
            d.add(QStringLiteral("lab"), QStringLiteral("openai"), server.openAiBaseUrl(),
                  QStringLiteral("fake-model"));
            d.clickSave();
            driven = true;
        });
        window.openSettings();
        QVERIFY(driven);
        QVERIFY(QTest::qWaitFor(
            [&] {
                return host.service()->providers()->resolve(QStringLiteral("lab/fake-model")).ok();
            },
            10000));
        // The chat's model list has it too.
        QComboBox *models = nullptr;
        for (auto *combo : window.chatPane()->findChildren<QComboBox *>()) {
            if (combo->accessibleName() == QLatin1String("Model"))
                models = combo;
        }
        QVERIFY(models);
        QVERIFY(QTest::qWaitFor(
            [&] { return models->findText(QStringLiteral("lab/fake-model")) >= 0; }, 10000));

        SessionService *service = host.service();
        CreateSessionParams create;
        create.model = QStringLiteral("lab/fake-model");
        HF_AWAIT(created, service->createSession(create));
        QVERIFY(created->ok());
        const QString sid = (**created).meta.id;
        StartTurnParams params;
        params.prompt = QStringLiteral("hello");
        HF_AWAIT(turn, service->startTurn(sid, params));
        QVERIFY(turn->ok());
        HF_AWAIT(ended, service->waitForTurn(sid, (**turn).id, 20000));
        QVERIFY(ended->ok());
        QCOMPARE((**ended).state, TurnRecord::State::Done);
        HF_AWAIT(page, service->messages(sid, -1, 10));
        QVERIFY(page->ok());
        QCOMPARE((**page).messages.last().content, QStringLiteral("answered at once"));
        QVERIFY(server.chatRequests().size() >= 1);
        QCOMPARE(server.chatRequests()
                     .first()
                     .json()
                     .value(QStringLiteral("messages"))
                     .toArray()
                     .last()
                     .toObject()
                     .value(QStringLiteral("content"))
                     .toString(),
                 QStringLiteral("hello"));
        // Titles are on by default: the model's answer names the chat, in the sidebar too.
        const auto sidebarTitle = [&] {
            const SessionListModel *list = window.sidebar()->model();
            for (int row = 0; row < list->rowCount(); ++row) {
                if (list->at(row).id == sid)
                    return list->at(row).title;
            }
            return QString();
        };
        QVERIFY(QTest::qWaitFor([&] { return sidebarTitle() == QLatin1String("answered at once"); },
                                10000));
    }
    HF_AWAIT_VOID(host.shutdown());
}

// The titles setting: shown in the dialog, written to the file only when off, read back.
void TestSettingsDialog::autoTitleSetting()
{
    const QString file = m_dir.filePath(QStringLiteral("titles.conf"));
    QVERIFY(QFile(file).open(QIODevice::WriteOnly));
    const SettingsDialog::Values before = dialogValues(load(file));
    QVERIFY(before.autoTitle); // on by default
    SettingsDialog dialog(before, file);
    dialog.show();
    Driver d{&dialog};
    auto *box = d.child<QCheckBox>("autoTitle");
    QVERIFY(box->isChecked());
    box->click();
    d.clickSave();
    QCOMPARE(dialog.result(), int(QDialog::Accepted));
    QVERIFY(!dialog.values().autoTitle);
    QCOMPARE(result(SettingsDialog::save(dialog.values(), before, file)), QString());
    QVERIFY2(fileText(file).contains(QLatin1String("auto-title=false")),
             qPrintable(fileText(file)));
    const Settings read = load(file);
    QVERIFY(!read.flag(QStringLiteral("auto-title")));
    QVERIFY(!dialogValues(read).autoTitle);
    QVERIFY(!LiveProviders::withValues(load(file), dialogValues(read))
                 .flag(QStringLiteral("auto-title")));
}

// The tray and the theme: off and "system" by default (nothing in the file), shown in the dialog,
// written as tray=true and theme=dark, read back; the option of the file's value is case blind.
void TestSettingsDialog::desktopSettings()
{
    const QString file = m_dir.filePath(QStringLiteral("desktop.conf"));
    QVERIFY(QFile(file).open(QIODevice::WriteOnly));
    const SettingsDialog::Values before = dialogValues(load(file));
    QVERIFY(!before.tray);
    QCOMPARE(before.theme, QStringLiteral("system"));
    SettingsDialog dialog(before, file);
    dialog.show();
    Driver d{&dialog};
    auto *tray = d.child<QCheckBox>("tray");
    auto *theme = d.child<QComboBox>("theme");
    QVERIFY(!tray->isChecked());
    QCOMPARE(theme->currentData().toString(), QStringLiteral("system"));
    QVERIFY(!theme->accessibleName().isEmpty());
    tray->click();
    theme->setCurrentIndex(theme->findData(QStringLiteral("dark")));
    d.clickSave();
    QCOMPARE(dialog.result(), int(QDialog::Accepted));
    QVERIFY(dialog.values().tray);
    QCOMPARE(dialog.values().theme, QStringLiteral("dark"));
    QCOMPARE(result(SettingsDialog::save(dialog.values(), before, file)), QString());
    const QString text = fileText(file);
    QVERIFY2(text.contains(QLatin1String("tray=true")), qPrintable(text));
    QVERIFY2(text.contains(QLatin1String("theme=dark")), qPrintable(text));
    const SettingsDialog::Values read = dialogValues(load(file));
    QVERIFY(read.tray);
    QCOMPARE(read.theme, QStringLiteral("dark"));
    SettingsDialog again(read, file);
    QVERIFY(Driver{&again}.child<QCheckBox>("tray")->isChecked());
    QCOMPARE(Driver{&again}.child<QComboBox>("theme")->currentData().toString(),
             QStringLiteral("dark"));
    QCOMPARE(SettingsDialog::themeName(QStringLiteral(" Light ")), QStringLiteral("light"));
    QCOMPARE(SettingsDialog::themeName(QStringLiteral("purple")), QStringLiteral("system"));
    // A theme that is none of the three is a usage error, named.
    Settings wrong;
    QString error;
    QVERIFY(!wrong.load({QStringLiteral("holdfast"), QStringLiteral("--config=") + file,
                         QStringLiteral("--theme=purple")},
                        QProcessEnvironment(), &error));
    QVERIFY2(error.contains(QLatin1String("theme")), qPrintable(error));

    // Back to the defaults: the keys leave the file.
    SettingsDialog::Values off = read;
    off.tray = false;
    off.theme = QStringLiteral("system");
    QCOMPARE(result(SettingsDialog::save(off, read, file)), QString());
    QVERIFY(!fileText(file).contains(QLatin1String("tray")));
    QVERIFY(!fileText(file).contains(QLatin1String("theme")));
}

// mcp-config names mcp.json (the default under the config folder); the MCP servers dialog checks
// the file with src/mcp's parser once the values were read, and the settings dialog opens it.
void TestSettingsDialog::mcpServersSetting()
{
    const QString file = m_dir.filePath(QStringLiteral("mcp.conf"));
    QVERIFY(QFile(file).open(QIODevice::WriteOnly));
    QVERIFY(dialogValues(load(file)).mcpConfig.endsWith(QLatin1String("/holdfast/mcp.json")));
    const SettingsDialog::Values values =
        dialogValues(load(file, {QStringLiteral("--mcp-config=/srv/tools/mcp.json")}));
    QCOMPARE(values.mcpConfig, QStringLiteral("/srv/tools/mcp.json"));
    // The shape is right, but "type" contradicts "command": src/mcp's parser says so.
    const QByteArray contradicting =
        R"({"mcpServers": {"fs": {"command": "npx", "type": "http"}}})";
    const QString said = McpServersDialog::check(contradicting);
    QVERIFY2(said.contains(QLatin1String("fs")), qPrintable(said));
    QVERIFY(McpServersDialog::check(R"({"mcpServers": {"fs": {"command": "npx"}}})").isEmpty());
    SettingsDialog dialog(values, file);
    QSignalSpy asked(&dialog, &SettingsDialog::mcpServersRequested);
    auto *button = dialog.findChild<QPushButton *>(QStringLiteral("mcpServersButton"));
    QVERIFY(button);
    button->click();
    QCOMPARE(asked.size(), 1);
}

QTEST_MAIN(TestSettingsDialog)
#include "tst_settingsdialog.moc"
