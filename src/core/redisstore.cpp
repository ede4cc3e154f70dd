#include "core/redisstore.h"

namespace holdfast {
// STUB: being replaced by the real implementation.
Result<std::unique_ptr<Store>> RedisStore::fromUrl(const QString &url)
{
    return makeError(ErrorCode::BadRequest, QStringLiteral("redis store not available yet: %1").arg(url));
}
}
