#pragma once

#include "core/error.h"

namespace holdfast {

class ProviderRegistry;
class Settings;

// Builds the providers the settings name: demo always, plus --provider and [provider.*] groups.
Status setupProviders(const Settings &settings, ProviderRegistry *registry);

} // namespace holdfast
