#pragma once

#include "core/store.h"

namespace holdfast {

// Redis store for several headless instances sharing sessions (hiredis on the Qt event loop).
class RedisStore final : public Store
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(RedisStore)
public:
    static Result<std::unique_ptr<Store>> fromUrl(const QString &url);
};

} // namespace holdfast
