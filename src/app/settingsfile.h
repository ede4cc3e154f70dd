#pragma once

#include "gui/settingswriter.h"

namespace holdfast {

// The writer of the settings file, beside its reader (Settings): what the settings dialog saves,
// as the keys and `[provider.NAME]` groups Settings::load reads back.
class SettingsFile final : public SettingsFileWriter
{
public:
    bool write(const QString &configFile, const SettingsDialog::Values &values,
               const QStringList &keepFileKey, const QStringList &removed) const override;
};

} // namespace holdfast
