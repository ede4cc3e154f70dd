#pragma once

// Every Store implementation for the data-driven store suites (tst_store, tst_storetree): memory,
// SQLite in a temporary folder, Redis on a real redis-server (its rows left out when it is not
// installed). Header-only: the suites that use it link the store library, the fakes library does
// not.

#include "fakes/redisserver.h"
#include "store/memorystore.h"
#include "store/redisstore.h"
#include "store/sqlitestore.h"

#include <QTemporaryDir>
#include <QTest>

#include <memory>

namespace holdfast::test {

class StoreKinds
{
public:
    // For initTestCase: false when the folder cannot be made or redis-server does not start.
    bool start()
    {
        if (!m_dir.isValid())
            return false;
        if (RedisServer::executable().isEmpty())
            return true;
        m_redis = std::make_unique<RedisServer>();
        return m_redis->start();
    }

    // The `kind` column of a _data() function, a row for each store.
    void addRows() const
    {
        QTest::addColumn<QString>("kind");
        QTest::newRow("memory") << QStringLiteral("memory");
        QTest::newRow("sqlite") << QStringLiteral("sqlite");
        if (m_redis)
            QTest::newRow("redis") << QStringLiteral("redis");
        else
            qWarning("redis-server is not installed: the Redis rows are left out");
    }

    // A new, empty store of that kind; with `fresh` false, another store on the data of the last
    // one made (the same SQLite file, Redis not flushed; a memory store is always new).
    std::unique_ptr<Store> make(const QString &kind, bool fresh = true)
    {
        if (kind == QLatin1String("memory"))
            return std::make_unique<MemoryStore>();
        if (kind == QLatin1String("redis")) {
            if (fresh && !m_redis->command({QStringLiteral("FLUSHALL")}).startsWith("+OK"))
                qFatal("redis-server did not flush");
            const auto options = RedisStore::parseUrl(m_redis->url());
            if (!options)
                qFatal("bad redis url");
            return std::make_unique<RedisStore>(*options);
        }
        if (fresh)
            m_lastFile = newFile();
        return std::make_unique<SqliteStore>(m_lastFile);
    }

    // A path in the temporary folder.
    QString filePath(const QString &name) const { return m_dir.filePath(name); }
    // A path no store was made on yet.
    QString newFile() { return m_dir.filePath(QStringLiteral("s%1.db").arg(++m_files)); }
    // Null when redis-server is not installed.
    RedisServer *redis() const { return m_redis.get(); }

private:
    QTemporaryDir m_dir;
    int m_files = 0;
    QString m_lastFile;
    std::unique_ptr<RedisServer> m_redis;
};

} // namespace holdfast::test
