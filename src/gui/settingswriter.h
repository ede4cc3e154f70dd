#pragma once

#include "gui/settingsdialog.h"

#include <QCoroTask>

#include <memory>

namespace holdfast {

// The settings file belongs to app, which reads it (app/settings.h) and writes it
// (app/settingsfile.h); the window reaches the writer through this interface, installed at start.
class SettingsFileWriter
{
public:
    virtual ~SettingsFileWriter() = default;
    // Runs on a worker thread, never the GUI's. Writes the global keys and the provider groups
    // of `values`, drops the groups in `removed`; a group keeps its api-key line only when it is
    // in `keepFileKey`. The file is the owner's only (0600, a new folder 0700). False on failure.
    virtual bool write(const QString &configFile, const SettingsDialog::Values &values,
                       const QStringList &keepFileKey, const QStringList &removed) const = 0;
};

// The writer writeSettings() uses (app installs its own; a test may install another).
void installSettingsFileWriter(std::shared_ptr<const SettingsFileWriter> writer);

// Writes what the settings dialog edits: the settings file (through the installed writer, on a
// worker thread) and the keychain (API keys, the token). A group's API key never goes into the
// file when there is a keychain. "" or what went wrong.
QCoro::Task<QString> writeSettings(SettingsDialog::Values values, SettingsDialog::Values before,
                                   QString configFile);

} // namespace holdfast
