#pragma once

#include <QString>
#include <QStringList>

namespace holdfast {

// The window's languages: translations/holdfast_LANG.ts, compiled into :/i18n/holdfast_LANG.qm.
namespace translations {

// Installs the translators of the window for `language` ("de", "en", …; empty: the system's
// preferred languages, QLocale::system().uiLanguages()), Qt's own qtbase strings when Debian's
// qt6-translations-l10n is installed, and sets the default QLocale to match, so dates and numbers
// follow the language. Replaces the translators a previous call installed. Returns the language
// picked ("en" when none of the wanted ones has a translation).
QString install(const QString &language = {});

// The language install() picks: `language` when set, else the first of `uiLanguages` (BCP 47
// tags, "de-AT") with a translation, stopping at English; "en" when none has one.
QString pick(const QString &language, const QStringList &uiLanguages);

// The languages with a translation, "en" first.
QStringList available();

} // namespace translations
} // namespace holdfast
