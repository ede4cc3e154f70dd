#pragma once

#include "app/settings.h"
#include "gui/providercontrol.h"

#include <QPointer>

namespace holdfast {

class SessionService;

// The settings dialog's way to the running service's providers: "Test connection" and a saved
// dialog applied without a restart (app/providersetup.h does the work).
class LiveProviders final : public ProviderControl
{
public:
    // `base`: the settings Holdfast started with (timeouts, demo options, ...); the dialog's
    // values go over them.
    explicit LiveProviders(Settings base);

    // The service whose providers apply() replaces (none yet, or a remote window: nothing to do).
    void setService(SessionService *service) { m_service = service; }

    QCoro::Task<Models> listModels(SettingsDialog::Provider provider) override;
    QString apply(const SettingsDialog::Values &values) override;

    // `base` with the providers (global keys and groups) and the titles setting of `values`.
    static Settings withValues(Settings base, const SettingsDialog::Values &values);

private:
    Settings m_base;
    QPointer<SessionService> m_service;
};

} // namespace holdfast
