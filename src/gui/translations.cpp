#include "gui/translations.h"

#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QLibraryInfo>
#include <QLocale>
#include <QTranslator>

#include <memory>

namespace holdfast::translations {

namespace {
// The translators installed: removed again when the language changes.
std::unique_ptr<QTranslator> g_app;
std::unique_ptr<QTranslator> g_qt;

QString prefix()
{
    return QStringLiteral(":/i18n/holdfast_");
}

// Qt's names of the standard dialog buttons (QDialogButtonBox: Save, Cancel, ...), in our own
// .ts: Debian ships Qt's translations only in qt6-translations-l10n (13 MB, every Qt module), so
// the window carries the few it shows. lupdate reads this list; nothing calls it.
[[maybe_unused]] constexpr const char *kQtButtons[] = {
    QT_TRANSLATE_NOOP("QPlatformTheme", "OK"),
    QT_TRANSLATE_NOOP("QPlatformTheme", "Save"),
    QT_TRANSLATE_NOOP("QPlatformTheme", "Open"),
    QT_TRANSLATE_NOOP("QPlatformTheme", "Cancel"),
    QT_TRANSLATE_NOOP("QPlatformTheme", "Close"),
    QT_TRANSLATE_NOOP("QPlatformTheme", "Apply"),
    QT_TRANSLATE_NOOP("QPlatformTheme", "&Yes"),
    QT_TRANSLATE_NOOP("QPlatformTheme", "&No"),
    QT_TRANSLATE_NOOP("QPlatformTheme", "Discard"),
    QT_TRANSLATE_NOOP("QPlatformTheme", "Help"),
    QT_TRANSLATE_NOOP("QPlatformTheme", "Reset"),
    QT_TRANSLATE_NOOP("QPlatformTheme", "Restore Defaults"),
};
} // namespace

QStringList available()
{
    QStringList languages{QStringLiteral("en")};
    const QStringList files =
        QDir(QStringLiteral(":/i18n")).entryList({QStringLiteral("holdfast_*.qm")}, QDir::Files);
    for (const QString &file : files) {
        const QString code = file.mid(9, file.size() - 9 - 3); // holdfast_CODE.qm
        if (!languages.contains(code))
            languages.append(code);
    }
    return languages;
}

QString pick(const QString &language, const QStringList &uiLanguages)
{
    // "de_AT", "de-DE" or "de": the translations are per language, not per region.
    const QStringList wanted =
        language.trimmed().isEmpty() ? uiLanguages : QStringList{language.trimmed()};
    for (const QString &tag : wanted) {
        const QString code = QLocale(tag).name().section(QLatin1Char('_'), 0, 0);
        if (code == QLatin1String("en") || code == QLatin1String("C"))
            break;
        if (QFile::exists(prefix() + code + QStringLiteral(".qm")))
            return code;
    }
    return QStringLiteral("en");
}

QString install(const QString &language)
{
    for (auto *translator : {&g_app, &g_qt}) {
        if (*translator)
            QCoreApplication::removeTranslator(translator->get());
        translator->reset();
    }
    const QString picked = pick(language, QLocale::system().uiLanguages());
    // English too has a translation: the singular forms of the %n plurals.
    g_app = std::make_unique<QTranslator>();
    if (g_app->load(prefix() + picked + QStringLiteral(".qm")))
        QCoreApplication::installTranslator(g_app.get());
    else
        g_app.reset();
    if (picked != QLatin1String("en")) {
        g_qt = std::make_unique<QTranslator>();
        if (g_qt->load(QLocale(picked), QStringLiteral("qtbase"), QStringLiteral("_"),
                       QLibraryInfo::path(QLibraryInfo::TranslationsPath)))
            QCoreApplication::installTranslator(g_qt.get());
        else
            g_qt.reset();
    }
    // Dates and numbers (QLocale()) in the language of the words; the system's own locale when it
    // speaks that language (de_AT keeps its region).
    const QLocale system = QLocale::system();
    if (system.name().section(QLatin1Char('_'), 0, 0) != picked)
        QLocale::setDefault(QLocale(picked));
    return picked;
}

} // namespace holdfast::translations
