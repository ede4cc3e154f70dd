#pragma once

#include "gui/settingsdialog.h"

#include <QCoroTask>
#include <QStringList>

#include <memory>

namespace holdfast {

// The running service's providers belong to app (app/providersetup.h), which the window does not
// link; the settings dialog reaches them through this interface, installed at start.
class ProviderControl
{
public:
    virtual ~ProviderControl() = default;

    struct Models
    {
        QStringList names;
        QString error; // "" when the server listed its models
    };
    // Asks the server of `provider` for the models it serves ("Test connection"); the caller
    // never waits on the network.
    virtual QCoro::Task<Models> listModels(SettingsDialog::Provider provider) = 0;
    // Makes the providers (and the titles setting) of `values` the ones new turns use, at once;
    // running turns keep theirs. "" or what is wrong.
    virtual QString apply(const SettingsDialog::Values &values) = 0;
};

// The control the settings dialog and the window use (app installs its own; none: "Test
// connection" says so and saved providers wait for the next start).
void installProviderControl(std::shared_ptr<ProviderControl> control);
std::shared_ptr<ProviderControl> providerControl();

} // namespace holdfast
