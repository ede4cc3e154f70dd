// The window's translations (README "Language"): every translations/*.ts complete and up to date
// with the sources (lupdate run into a copy), the window built under the German translator
// speaking German, English plural forms, the settings dialog's language choice, and screenshots
// of the window in German (light and dark).
#include "darkpalette.h"
#include "windowfixture.h"

#include "gui/settingsdialog.h"
#include "gui/translations.h"

#include <QApplication>
#include <QComboBox>
#include <QDir>
#include <QFile>
#include <QLabel>
#include <QMenuBar>
#include <QProcess>
#include <QScopeGuard>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>
#include <QToolButton>
#include <QXmlStreamReader>

using namespace Qt::StringLiterals;
using holdfast::test::spinUntil;

namespace holdfast {

namespace {

QString sourceDir()
{
    return qEnvironmentVariable("HOLDFAST_SOURCE_DIR", QStringLiteral(HOLDFAST_SOURCE_DIR));
}

QString shotsDir()
{
    const QString dir =
        qEnvironmentVariable("HOLDFAST_SHOTS_DIR", QStringLiteral(HOLDFAST_TEST_OUTPUT_DIR));
    QDir().mkpath(dir);
    return dir;
}

// What is wrong with one .ts file: its messages not translated (unfinished, vanished, obsolete
// or empty), one line each; the message count in *messages.
QStringList problems(const QString &path, int *messages)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return {u"cannot read "_s + path};
    QStringList found;
    QXmlStreamReader xml(&file);
    QString context;
    QString source;
    QString type;
    QStringList forms;
    QString text;
    *messages = 0;
    while (!xml.atEnd()) {
        xml.readNext();
        if (xml.isStartElement()) {
            const auto name = xml.name();
            if (name == "name"_L1) {
                context = xml.readElementText();
            } else if (name == "message"_L1) {
                ++*messages;
                source.clear();
                forms.clear();
                text.clear();
                type.clear();
            } else if (name == "source"_L1) {
                source = xml.readElementText();
            } else if (name == "translation"_L1) {
                type = xml.attributes().value("type"_L1).toString();
                // Plain text, or <numerusform> children: read the children one by one.
                if (xml.readNext() == QXmlStreamReader::Characters)
                    text = xml.text().toString();
            } else if (name == "numerusform"_L1) {
                forms << xml.readElementText();
            }
        } else if (xml.isEndElement() && xml.name() == "message"_L1) {
            const bool empty =
                forms.isEmpty() ? text.trimmed().isEmpty() : forms.contains(QString());
            if (!type.isEmpty() || empty)
                found << u"%1: \"%2\" is %3"_s.arg(context, source,
                                                   type.isEmpty() ? u"empty"_s : type);
        }
    }
    if (xml.hasError())
        found << u"%1: %2"_s.arg(path, xml.errorString());
    return found;
}

// The sources lupdate reads (src/gui/CMakeLists.txt: holdfast_tr_sources).
QStringList translatedSources()
{
    QStringList files;
    const QString root = sourceDir();
    const QList<QPair<QString, QStringList>> dirs{
        {u"src/gui"_s, {u"*.cpp"_s, u"*.h"_s}},
        {u"src/app"_s, {u"*.cpp"_s}},
        {u"src/client"_s, {u"*.cpp"_s}},
        {u"ui"_s, {u"*.ui"_s}},
    };
    for (const auto &[dir, patterns] : dirs) {
        const QDir d(root + u'/' + dir);
        for (const QString &name : d.entryList(patterns, QDir::Files, QDir::Name))
            files << d.filePath(name);
    }
    return files;
}

} // namespace

class TestTranslations : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_home;

private Q_SLOTS:
    void initTestCase() { QVERIFY(test::isolateHome(m_home)); }
    void cleanup() { translations::install(u"en"_s); }

    void tsComplete_data();
    void tsComplete();
    void tsUpToDate_data();
    void tsUpToDate();
    void systemLanguage_data();
    void systemLanguage();
    void germanWindow();
    void plurals_data();
    void plurals();
    void languageSetting();
    void screenshots_data();
    void screenshots();
};

void TestTranslations::tsComplete_data()
{
    QTest::addColumn<QString>("file");
    const QDir dir(sourceDir() + u"/translations"_s);
    const QStringList files = dir.entryList({u"holdfast_*.ts"_s}, QDir::Files);
    QVERIFY(files.contains(u"holdfast_de.ts"_s));
    for (const QString &name : files)
        QTest::addRow("%s", qPrintable(name)) << dir.filePath(name);
}

// Every entry translated: none unfinished, vanished, obsolete or empty.
void TestTranslations::tsComplete()
{
    QFETCH(QString, file);
    int messages = 0;
    const QStringList found = problems(file, &messages);
    QVERIFY2(found.isEmpty(), qPrintable(found.join(u'\n')));
    QVERIFY(messages > 0);
}

void TestTranslations::tsUpToDate_data()
{
    tsComplete_data();
}

// lupdate into a copy: a string the sources have and the file lacks comes in unfinished; one the
// file has and the sources lost goes (-no-obsolete), so the count changes.
void TestTranslations::tsUpToDate()
{
    QFETCH(QString, file);
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString copy = dir.filePath(QFileInfo(file).fileName());
    QVERIFY(QFile::copy(file, copy));
    QFile::setPermissions(copy, QFile::ReadOwner | QFile::WriteOwner);
    QStringList args{u"-silent"_s,      u"-locations"_s, u"none"_s,
                     u"-no-obsolete"_s, u"-I"_s,         sourceDir() + u"/src"_s};
    if (file.endsWith(u"_en.ts"_s))
        args << u"-pluralonly"_s;
    args << translatedSources() << u"-ts"_s << copy;
    QProcess lupdate;
    lupdate.start(QStringLiteral(HOLDFAST_LUPDATE), args);
    QVERIFY2(lupdate.waitForFinished(60000), "lupdate did not finish");
    QVERIFY2(lupdate.exitCode() == 0, lupdate.readAllStandardError().constData());
    int before = 0;
    int after = 0;
    QVERIFY(problems(file, &before).isEmpty());
    const QStringList found = problems(copy, &after);
    QVERIFY2(found.isEmpty(), qPrintable(u"not in the .ts yet (cmake --build BUILD --target "
                                         "update_translations):\n"_s +
                                         found.join(u'\n')));
    QCOMPARE(after, before);
}

void TestTranslations::systemLanguage_data()
{
    QTest::addColumn<QString>("language");
    QTest::addColumn<QStringList>("system");
    QTest::addColumn<QString>("expected");
    QTest::addRow("system de") << QString() << QStringList{u"de-DE"_s, u"en"_s} << u"de"_s;
    QTest::addRow("system fr, then de") << QString() << QStringList{u"fr"_s, u"de"_s} << u"de"_s;
    QTest::addRow("system en first") << QString() << QStringList{u"en-GB"_s, u"de"_s} << u"en"_s;
    QTest::addRow("no translation") << QString() << QStringList{u"ja"_s} << u"en"_s;
    QTest::addRow("C locale") << QString() << QStringList{u"C"_s} << u"en"_s;
    QTest::addRow("the setting wins") << u"en"_s << QStringList{u"de"_s} << u"en"_s;
    QTest::addRow("setting de_AT") << u"de_AT"_s << QStringList{u"en"_s} << u"de"_s;
    QTest::addRow("setting without translation") << u"fr"_s << QStringList{u"de"_s} << u"en"_s;
}

// Without the setting, the system's preferred languages (LANGUAGE, LC_ALL, ...) pick it.
void TestTranslations::systemLanguage()
{
    QFETCH(QString, language);
    QFETCH(QStringList, system);
    QFETCH(QString, expected);
    QCOMPARE(translations::pick(language, system), expected);
}

// The window built under the German translator: its menus, title and buttons in German.
void TestTranslations::germanWindow()
{
    QCOMPARE(translations::install(u"de"_s), u"de"_s);
    QCOMPARE(QLocale().language(), QLocale::German);
    test::Fixture f;
    HF_CHECK_FIXTURE(f);
    const QList<QAction *> menus = f.window->menuBar()->actions();
    QVERIFY(!menus.isEmpty());
    QCOMPARE(menus.first()->text(), u"&Datei"_s);
    auto *title = f.window->findChild<QLabel *>(u"chatTitle"_s);
    QVERIFY(title);
    QCOMPARE(title->text(), u"Neuer Chat"_s);
    auto *send = f.window->findChild<QToolButton *>(u"sendButton"_s);
    QVERIFY(send);
    QCOMPARE(send->toolTip(), u"Senden (Eingabe)"_s);
    // And back: English again for a window built afterwards.
    QCOMPARE(translations::install(u"en"_s), u"en"_s);
    test::Fixture english;
    HF_CHECK_FIXTURE(english);
    QCOMPARE(english.window->menuBar()->actions().first()->text(), u"&File"_s);
}

void TestTranslations::plurals_data()
{
    QTest::addColumn<QString>("language");
    QTest::addColumn<int>("n");
    QTest::addColumn<QString>("expected");
    QTest::addRow("en 1") << u"en"_s << 1 << u"⚙ 1 tool"_s;
    QTest::addRow("en 3") << u"en"_s << 3 << u"⚙ 3 tools"_s;
    QTest::addRow("de 1") << u"de"_s << 1 << u"⚙ 1 Werkzeug"_s;
    QTest::addRow("de 3") << u"de"_s << 3 << u"⚙ 3 Werkzeuge"_s;
    // %Ln: the count in the language's digit grouping.
    QTest::addRow("de 1200") << u"de"_s << 1200 << u"⚙ 1.200 Werkzeuge"_s;
}

void TestTranslations::plurals()
{
    QFETCH(QString, language);
    QFETCH(int, n);
    QFETCH(QString, expected);
    translations::install(language);
    QCOMPARE(QCoreApplication::translate("holdfast::ToolsButton", "⚙ %Ln tools", nullptr, n),
             expected);
}

// The settings dialog offers the system's language, English and German, each in its own name,
// and hands back the code.
void TestTranslations::languageSetting()
{
    QCOMPARE(translations::available(), QStringList({u"en"_s, u"de"_s}));
    SettingsDialog::Values values;
    values.language = u"de"_s;
    SettingsDialog dialog(values, m_home.filePath(u"holdfast.conf"_s));
    auto *combo = dialog.findChild<QComboBox *>(u"language"_s);
    QVERIFY(combo);
    QStringList items;
    for (int i = 0; i < combo->count(); ++i)
        items << combo->itemText(i);
    QCOMPARE(items, QStringList({u"System default"_s, u"English"_s, u"Deutsch"_s}));
    QCOMPARE(combo->currentText(), u"Deutsch"_s);
    QCOMPARE(dialog.values().language, u"de"_s);
    combo->setCurrentIndex(0);
    QCOMPARE(dialog.values().language, QString());
}

void TestTranslations::screenshots_data()
{
    QTest::addColumn<bool>("dark");
    QTest::addRow("light") << false;
    QTest::addRow("dark") << true;
}

// The window in German with a chat answered, for a person to read (and look for cut-off words).
void TestTranslations::screenshots()
{
    QFETCH(bool, dark);
    const QPalette original = QApplication::palette();
    if (dark)
        QApplication::setPalette(test::darkPalette());
    const auto restore = qScopeGuard([&] { QApplication::setPalette(original); });
    translations::install(u"de"_s);
    test::Fixture f(4, 1);
    HF_CHECK_FIXTURE(f);
    QSignalSpy finished(f.client, &SessionClient::turnFinished);
    f.type(u"Wie sage ich das auf Deutsch?"_s);
    QVERIFY(spinUntil([&] { return finished.count() == 1; }));
    QVERIFY(spinUntil([&] { return f.list()->rowCount() == 1; }));
    QTest::qWait(50);
    const QString shot = shotsDir() + (dark ? u"/window-de-dark.png"_s : u"/window-de-light.png"_s);
    QVERIFY(f.window->grab().save(shot));
    qInfo("screenshot: %s", qPrintable(shot));
    // The settings dialog: the form with the longest German labels.
    SettingsDialog dialog(SettingsDialog::Values{}, m_home.filePath(u"holdfast.conf"_s));
    dialog.show();
    QVERIFY(QTest::qWaitForWindowExposed(&dialog));
    const QString settings =
        shotsDir() + (dark ? u"/settings-de-dark.png"_s : u"/settings-de-light.png"_s);
    QVERIFY(dialog.grab().save(settings));
    qInfo("screenshot: %s", qPrintable(settings));
}

} // namespace holdfast

QTEST_MAIN(holdfast::TestTranslations)
#include "tst_translations.moc"
