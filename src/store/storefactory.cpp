#include "core/redact.h"
#include "core/store.h"
#include "store/memorystore.h"
#include "store/redisstore.h"
#include "store/sqlitestore.h"

namespace holdfast {

Result<std::unique_ptr<Store>> createStore(const QString &spec)
{
    if (spec == QLatin1String("memory:") || spec == QLatin1String("memory"))
        return std::unique_ptr<Store>(std::make_unique<MemoryStore>());
    if (spec.startsWith(QLatin1String("sqlite:"))) {
        const QString path = spec.mid(7);
        if (path.isEmpty())
            return makeError(ErrorCode::BadRequest, QStringLiteral("--store sqlite: needs a path"));
        return std::unique_ptr<Store>(std::make_unique<SqliteStore>(path));
    }
    if (spec.startsWith(QLatin1String("redis://")))
        return RedisStore::fromUrl(spec);
    return makeError(ErrorCode::BadRequest,
                     QStringLiteral("unknown store '%1': use memory:, sqlite:PATH or "
                                    "redis://HOST:PORT/DB")
                         .arg(redactPassword(spec)));
}

} // namespace holdfast
