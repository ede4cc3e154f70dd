#include "app/providersetup.h"

#include "app/settings.h"
#include "core/demoprovider.h"
#include "core/providerregistry.h"

namespace holdfast {

Status setupProviders(const Settings &settings, ProviderRegistry *registry)
{
    DemoProvider::Options demo;
    demo.chunks = int(settings.integer(QStringLiteral("demo-chunks")));
    demo.delayMs = int(settings.integer(QStringLiteral("demo-delay-ms")));
    registry->add(new DemoProvider(demo), {QStringLiteral("demo")});
    const QString provider = settings.value(QStringLiteral("provider"));
    if (provider != QLatin1String("demo")) {
        return makeError(ErrorCode::BadRequest,
                         QStringLiteral("provider '%1' is not available in this build").arg(provider));
    }
    if (const QString model = settings.value(QStringLiteral("model")); !model.isEmpty())
        registry->setDefaultModel(model);
    return Ok{};
}

} // namespace holdfast
