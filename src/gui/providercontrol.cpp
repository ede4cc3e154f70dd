#include "gui/providercontrol.h"

namespace holdfast {

namespace {
std::shared_ptr<ProviderControl> &installed()
{
    static std::shared_ptr<ProviderControl> control;
    return control;
}
} // namespace

void installProviderControl(std::shared_ptr<ProviderControl> control)
{
    installed() = std::move(control);
}

std::shared_ptr<ProviderControl> providerControl()
{
    return installed();
}

} // namespace holdfast
