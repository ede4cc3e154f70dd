#pragma once

#include "gui/settingsdialog.h"

#include <QCoroTask>

namespace holdfast {

// Writes what the settings dialog edits: the settings file (on a worker thread, as the
// `[provider.NAME]` groups Settings reads) and the keychain (API keys, the token). A group's
// API key never goes into the file when there is a keychain. "" or what went wrong.
QCoro::Task<QString> writeSettings(SettingsDialog::Values values, SettingsDialog::Values before,
                                   QString configFile);

} // namespace holdfast
