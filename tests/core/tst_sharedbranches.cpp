// Branches with several instances on one Redis (shared/API.md, Branches): two SessionServices,
// each on its own RedisStore, agree on head; a PATCH head on one while a turn runs on the other
// is 409; an edit made on one is the branch the other reads. And a tool call that waits on one
// instance is answered through the other (shared/API.md, Tools (MCP)).
#include "fakes/branchpaths.h"
#include "fakes/faketoolhost.h"
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

    // A's turn waits for the approval of a call; B sees it waiting and answers it (202), A runs
    // the call. A call B does not know is 404; answered again (or once the turn ended) 409.
    void toolCallAnsweredThroughAnotherInstance()
    {
        Instance a(m_redis->url());
        Instance b(m_redis->url());
        HF_CHECK_FIXTURE(a);
        HF_CHECK_FIXTURE(b);
        test::FakeToolHost host;
        a.service->setToolHost(&host);
        const QString sid = QStringLiteral("tools");
        CreateSessionParams create;
        create.id = sid;
        create.model = QStringLiteral("scripted");
        HF_AWAIT_OK(a.service->createSession(create));
        PatchSessionParams patch;
        patch.tools = QStringList{QStringLiteral("t/echo")};
        HF_AWAIT_OK(a.service->patchSession(sid, patch));
        test::ScriptedProvider::Script call;
        call.toolCalls = {test::modelCall(QStringLiteral("c1"), QStringLiteral("t/echo"),
                                          QJsonObject{{QStringLiteral("v"), 1}})};
        test::ScriptedProvider::Script after;
        after.chunks = {QStringLiteral("done")};
        a.scripted->queue = {call, after};
        StartTurnParams p;
        p.prompt = QStringLiteral("go");
        const TurnRecord t = test::startedTurn(a.service.get(), sid, p);
        QVERIFY(t.id > 0);
        QVERIFY(test::spinUntil([&] {
            const auto seen = test::awaitResult(b.service->turn(sid, t.id));
            return seen.ok() && seen->state == TurnRecord::State::Waiting;
        }));
        HF_AWAIT(unknown, b.service->answerToolCall(sid, t.id, QStringLiteral("c9"), true));
        QCOMPARE(unknown->error().code, ErrorCode::NotFound);
        HF_AWAIT(answered, b.service->answerToolCall(sid, t.id, QStringLiteral("c1"), true));
        QVERIFY2(answered->ok(), answered->ok() ? "" : qPrintable(answered->error().message));
        QCOMPARE(answered->value().state, TurnRecord::State::Waiting);
        QCOMPARE(test::finishedTurn(a.service.get(), sid, t.id).state, TurnRecord::State::Done);
        QCOMPARE(host.calls.size(), 1);
        HF_AWAIT(ended, b.service->answerToolCall(sid, t.id, QStringLiteral("c1"), true));
        QCOMPARE(ended->error().code, ErrorCode::Conflict);
        HF_AWAIT(answer, b.service->session(sid));
        QCOMPARE(answer->value().history.last().toolCalls.size(), 1);
        QVERIFY(answer->value().history.last().toolCalls.at(0).approved);
    }
};

QTEST_GUILESS_MAIN(TestSharedBranches)
#include "tst_sharedbranches.moc"
