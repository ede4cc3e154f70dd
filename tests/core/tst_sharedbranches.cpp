// Branches with several instances on one Redis (shared/API.md, Branches): two SessionServices,
// each on its own RedisStore, agree on head; a PATCH head on one while a turn runs on the other
// is 409; an edit made on one is the branch the other reads.
#include "fakes/branchpaths.h"
#include "fakes/redisserver.h"
#include "fakes/servicefixture.h"
#include "fakes/testutil.h"
#include "store/redisstore.h"

#include <QTest>

using namespace holdfast;
using holdfast::test::indexes;

namespace {

std::unique_ptr<Store> redisStore(const QString &url)
{
    const auto options = RedisStore::parseUrl(url);
    if (!options)
        qFatal("bad url %s", qPrintable(url));
    return std::make_unique<RedisStore>(*options);
}

// A SessionService on its own RedisStore: one "instance" of Holdfast.
struct Instance : test::ServiceFixture
{
    explicit Instance(const QString &url) : ServiceFixture(redisStore(url)) {}

    Result<TurnRecord> start(const QString &prompt, std::optional<qint64> parent = {})
    {
        StartTurnParams p;
        p.prompt = prompt;
        p.parent = parent;
        return test::awaitResult(service->startTurn(QStringLiteral("s"), p));
    }
    TurnRecord finish(int tid)
    {
        return test::finishedTurn(service.get(), QStringLiteral("s"), tid);
    }
    Result<SessionSnapshot> patchHead(qint64 head)
    {
        PatchSessionParams p;
        p.head = head;
        return test::awaitResult(service->patchSession(QStringLiteral("s"), p));
    }
    SessionSnapshot snapshot()
    {
        const auto s = test::awaitResult(service->session(QStringLiteral("s"), 30));
        return s.ok() ? s.value() : SessionSnapshot{};
    }
};

} // namespace

class TestSharedBranches : public QObject
{
    Q_OBJECT

    std::unique_ptr<test::RedisServer> m_redis;

private Q_SLOTS:
    void initTestCase()
    {
        if (test::RedisServer::executable().isEmpty())
            QSKIP("redis-server is not installed");
        m_redis = std::make_unique<test::RedisServer>();
        QVERIFY(m_redis->start());
    }

    void instancesAgreeOnHead()
    {
        Instance a(m_redis->url());
        Instance b(m_redis->url());
        HF_CHECK_FIXTURE(a);
        HF_CHECK_FIXTURE(b);
        CreateSessionParams create;
        create.id = QStringLiteral("s");
        create.model = QStringLiteral("scripted");
        HF_AWAIT_OK(a.service->createSession(create));
        a.scripted->script.chunks = {QStringLiteral("A")};
        for (const QString &q : {QStringLiteral("Q0"), QStringLiteral("Q2")}) {
            const auto t = a.start(q);
            QVERIFY(t.ok());
            QCOMPARE(a.finish(t->id).state, TurnRecord::State::Done);
        }
        QCOMPARE(b.snapshot().meta.head, 3);

        // An edit on A is the branch B reads.
        const auto edited = a.start(QStringLiteral("Q2 edited"), 1);
        QVERIFY(edited.ok());
        QCOMPARE(a.finish(edited->id).state, TurnRecord::State::Done);
        QCOMPARE(b.snapshot().meta.head, 5);
        QCOMPARE(indexes(b.snapshot().history), QList<qint64>({0, 1, 4, 5}));

        // A turn runs on A: B's PATCH head is 409, and head stays where A's turn put it.
        a.scripted->script.chunks = {QStringLiteral("x"), QStringLiteral("y")};
        a.scripted->script.delayMs = 300;
        const auto running = a.start(QStringLiteral("Q6"));
        QVERIFY(running.ok());
        const auto refused = b.patchHead(2);
        QVERIFY(!refused.ok());
        QCOMPARE(refused.error().code, ErrorCode::Conflict);
        QCOMPARE(a.finish(running->id).state, TurnRecord::State::Done);
        QCOMPARE(b.snapshot().meta.head, 7);

        // Once it ended, B switches the branch and A sees it.
        const auto switched = b.patchHead(2);
        QVERIFY(switched.ok());
        QCOMPARE(switched->meta.head, 3);
        QCOMPARE(a.snapshot().meta.head, 3);
        QCOMPARE(indexes(a.snapshot().history), QList<qint64>({0, 1, 2, 3}));
    }
};

QTEST_GUILESS_MAIN(TestSharedBranches)
#include "tst_sharedbranches.moc"
