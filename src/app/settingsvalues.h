#pragma once

#include "gui/settingsdialog.h"

#include <QCoroTask>

namespace holdfast {

class Settings;

// What the settings dialog shows, from the effective settings: the global keys, the provider
// groups of the settings file (their keys from the file only), storage and the local server.
SettingsDialog::Values dialogValues(const Settings &settings);

// Secrets the settings dialog saved in the keychain, put where the service looks for them: the
// global api-key and token, and each provider group's api-key. A key the file, the environment
// or a flag already gave wins. Only once the window has ever stored a secret (useKeychain).
QCoro::Task<> readSecrets(Settings *settings);

} // namespace holdfast
