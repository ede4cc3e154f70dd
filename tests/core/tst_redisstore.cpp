// The Redis store against a real redis-server: the Store contract, atomic claims, a lost or hung
// Redis, schema versions, and several SessionService instances sharing one Redis.
#include "core/providerregistry.h"
#include "core/sessionservice.h"
#include "fakes/redisserver.h"
#include "fakes/scriptedprovider.h"
#include "fakes/servicefixture.h"
#include "fakes/storedata.h"
#include "fakes/testutil.h"
#include "provider/demoprovider.h"
#include "store/redisstore.h"

#include <QJsonObject>
#include <QTest>
#include <QTimer>

using namespace holdfast;
using holdfast::test::spinUntil;

namespace {

using test::message;
using test::meta;
using test::ok;
using test::turnRecord;
using test::value;

// The error code of a call that must fail; empty when it succeeded (or gave no result in time).
template <typename T> std::optional<ErrorCode> failure(QCoro::Task<Result<T>> task)
{
    Result<T> got = Error{};
    if (!test::awaitInto(std::move(task), &got) || got.ok())
        return std::nullopt;
    return got.error().code;
}

std::unique_ptr<RedisStore> makeStore(const QString &url)
{
    auto options = RedisStore::parseUrl(url);
    if (!options)
        qFatal("bad url %s", qPrintable(url));
    return std::make_unique<RedisStore>(*options);
}

// A SessionService on its own RedisStore: one "instance" of Holdfast.
struct Instance : test::ServiceFixture
{
    explicit Instance(const QString &url, ServiceConfig config = {})
        : ServiceFixture(makeStore(url), config)
    {}

    Result<TurnRecord> startTurn(const QString &sid, const QString &prompt, const QString &model)
    {
        StartTurnParams p;
        p.prompt = prompt;
        p.model = model;
        return test::awaitResult(service->startTurn(sid, p));
    }
};

} // namespace

class TestRedisStore : public QObject
{
    Q_OBJECT

    std::unique_ptr<test::RedisServer> m_redis;

    QString url(const QString &options = {}) const { return m_redis->url(0, options); }

private Q_SLOTS:
    void initTestCase()
    {
        if (test::RedisServer::executable().isEmpty())
            QSKIP("redis-server is not installed");
        m_redis = std::make_unique<test::RedisServer>();
        QVERIFY(m_redis->start());
    }

    void init()
    {
        if (!m_redis->running())
            QVERIFY(m_redis->restart());
        QVERIFY(m_redis->command({QStringLiteral("FLUSHALL")}).startsWith("+OK"));
    }

    void urls_data()
    {
        QTest::addColumn<QString>("url");
        QTest::addColumn<bool>("valid");
        QTest::addColumn<QString>("described");
        QTest::newRow("plain") << "redis://10.0.0.5:6380/2" << true << "redis://10.0.0.5:6380/2";
        QTest::newRow("defaults") << "redis://cache" << true << "redis://cache:6379/0";
        QTest::newRow("password") << "redis://:s3cret@cache/1" << true << "redis://cache:6379/1";
        QTest::newRow("acl user") << "redis://app:s3cret@cache:7000/0?lease_ms=2000" << true
                                  << "redis://app@cache:7000/0";
        QTest::newRow("bad db") << "redis://:s3cret@cache/x" << false << "";
        QTest::newRow("negative db") << "redis://cache/-1" << false << "";
        QTest::newRow("no host") << "redis:///0" << false << "";
        QTest::newRow("unknown option") << "redis://cache/0?lease=5" << false << "";
        QTest::newRow("zero lease") << "redis://cache/0?lease_ms=0" << false << "";
    }
    void urls()
    {
        QFETCH(QString, url);
        QFETCH(bool, valid);
        QFETCH(QString, described);
        auto created = createStore(url);
        QCOMPARE(created.ok(), valid);
        if (!valid) {
            QCOMPARE(created.error().code, ErrorCode::BadRequest);
            QVERIFY2(!created.error().message.contains(QLatin1String("s3cret")),
                     qPrintable(created.error().message));
            return;
        }
        QCOMPARE((*created)->describe(), described);
        QVERIFY((*created)->isShared());
    }

    // The contract every store keeps (sessions, listing, search, a turn's life) is checked for
    // Redis too by tst_store's data-driven suite. Here: the key layout of shared/DESIGN.md.
    void keyLayout()
    {
        auto store = makeStore(url());
        QVERIFY(ok(store->open()));
        const QString sid = QStringLiteral("s1");
        SessionMeta m = meta(sid);
        QVERIFY(ok(store->createSession(m)));
        m.total = 1;
        m.lastTurn = 1;
        m.activeTurn = 1;
        TurnRecord t = turnRecord(sid, 1, 0);
        QVERIFY(ok(
            store->beginTurn(m, message(0, QStringLiteral("user"), QStringLiteral("hi"), 1), t)));
        QVERIFY(ok(store->appendChunks(sid, 1, {{0, QStringLiteral("Hello")}})));
        m.total = 2;
        m.activeTurn = 0;
        t.state = TurnRecord::State::Done;
        t.responseIndex = 1;
        t.chunks = 1;
        QVERIFY(ok(store->finishTurn(
            m, message(1, QStringLiteral("assistant"), QStringLiteral("Hello"), 1), t)));

        // One session in one cluster slot: every key of it carries {SID}.
        QVERIFY(m_redis
                    ->command({QStringLiteral("EXISTS"), QStringLiteral("hf:{s1}:sess"),
                               QStringLiteral("hf:{s1}:msg:1"), QStringLiteral("hf:{s1}:turn:1"),
                               QStringLiteral("hf:{s1}:chunks:1")})
                    .startsWith(":4"));
        QVERIFY(ok(store->deleteSession(sid)));
        // Only the schema key is left.
        QVERIFY(m_redis->command({QStringLiteral("DBSIZE")}).startsWith(":1"));
    }

    // Saves are incremental: a new turn writes its own keys, not the whole history again.
    void savesAreIncremental()
    {
        auto store = makeStore(url());
        QVERIFY(ok(store->open()));
        SessionMeta m = meta(QStringLiteral("inc"));
        QVERIFY(ok(store->createSession(m)));
        for (int turn = 1; turn <= 30; ++turn) {
            const qint64 index = m.total;
            m.total += 1;
            m.lastTurn = turn;
            m.activeTurn = turn;
            TurnRecord t = turnRecord(m.id, turn, index);
            QVERIFY(ok(store->beginTurn(
                m, message(index, QStringLiteral("user"), QStringLiteral("q%1").arg(turn), turn),
                t)));
            m.total += 1;
            m.activeTurn = 0;
            t.state = TurnRecord::State::Done;
            t.responseIndex = index + 1;
            QVERIFY(ok(store->finishTurn(m,
                                         message(index + 1, QStringLiteral("assistant"),
                                                 QStringLiteral("a%1").arg(turn), turn),
                                         t)));
        }
        const quint64 before = store->rowsWritten();
        m.total += 1;
        m.lastTurn = 31;
        QVERIFY(ok(store->beginTurn(m, message(60, QStringLiteral("user"), QStringLiteral("last")),
                                    turnRecord(m.id, 31, 60))));
        QVERIFY(store->rowsWritten() - before <= 3);
        const QList<Message> window = value(store->loadMessages(m.id, 51, 61));
        QCOMPARE(window.size(), 10);
        QCOMPARE(window.first().index, 51);
        QCOMPARE(window.last().content, QStringLiteral("last"));
    }

    // Two instances claim the same session at once: exactly one turn gets it.
    void claimingATurnIsAtomic()
    {
        auto a = makeStore(url());
        auto b = makeStore(url());
        QVERIFY(ok(a->open()));
        QVERIFY(ok(b->open()));
        SessionMeta m = meta(QStringLiteral("race"));
        QVERIFY(ok(a->createSession(m)));
        m.total = 1;
        m.lastTurn = 1;
        m.activeTurn = 1;
        std::optional<Status> first, second;
        a->beginTurn(m, message(0, QStringLiteral("user"), QStringLiteral("from a"), 1),
                     turnRecord(m.id, 1, 0))
            .then([&](Status s) { first = s; });
        b->beginTurn(m, message(0, QStringLiteral("user"), QStringLiteral("from b"), 1),
                     turnRecord(m.id, 1, 0))
            .then([&](Status s) { second = s; });
        QVERIFY(spinUntil([&] { return first && second; }));
        QCOMPARE(int(first->ok()) + int(second->ok()), 1);
        const Status &loser = first->ok() ? *second : *first;
        QCOMPARE(loser.error().code, ErrorCode::Conflict);
        const QList<Message> stored = value(a->loadMessages(m.id, 0, 10));
        QCOMPARE(stored.size(), 1);
        QCOMPARE(stored.first().content,
                 first->ok() ? QStringLiteral("from a") : QStringLiteral("from b"));

        // While turn 1 is active, a second turn is refused whatever the caller believes.
        SessionMeta next = m;
        next.total = 2;
        next.lastTurn = 2;
        next.activeTurn = 2;
        QCOMPARE(failure(b->beginTurn(
                     next, message(1, QStringLiteral("user"), QStringLiteral("again"), 2),
                     turnRecord(m.id, 2, 1))),
                 ErrorCode::Conflict);
        QCOMPARE(value(b->loadSession(m.id))->total, 1);
        QVERIFY(!value(b->loadTurn(m.id, 2)));
    }

    void newerSchemaIsRefused_data()
    {
        QTest::addColumn<QString>("schema");
        QTest::addColumn<QString>("expected");
        QTest::newRow("newer holdfast") << "99"
                                        << "newer Holdfast";
        QTest::newRow("not ours") << "banana"
                                  << "did not write";
    }
    void newerSchemaIsRefused()
    {
        QFETCH(QString, schema);
        QFETCH(QString, expected);
        QVERIFY(m_redis->command({QStringLiteral("SET"), QStringLiteral("hf:schema"), schema})
                    .startsWith("+OK"));
        auto store = makeStore(url());
        HF_AWAIT(opened, store->open());
        QVERIFY(opened && !opened->ok());
        QVERIFY2(opened->error().message.contains(expected), qPrintable(opened->error().message));
        QCOMPARE(opened->error().code, ErrorCode::Unavailable);
        // Refused means untouched, and calls afterwards fail cleanly.
        QVERIFY(m_redis->command({QStringLiteral("GET"), QStringLiteral("hf:schema")})
                    .contains(schema.toUtf8()));
        QCOMPARE(failure(store->loadSession(QStringLiteral("x"))), ErrorCode::Unavailable);

        QVERIFY(
            m_redis
                ->command({QStringLiteral("SET"), QStringLiteral("hf:schema"), QStringLiteral("1")})
                .startsWith("+OK"));
        auto current = makeStore(url());
        QVERIFY(ok(current->open()));
    }

    void passwordAndDatabase()
    {
        test::RedisServer guarded(QStringLiteral("pa55-word"));
        QVERIFY(guarded.start());
        auto store = makeStore(guarded.url(3));
        QVERIFY(!store->describe().contains(QLatin1String("pa55")));
        QVERIFY(ok(store->open()));
        QVERIFY(ok(store->createSession(meta(QStringLiteral("in-db-3")))));
        QVERIFY(guarded.command({QStringLiteral("EXISTS"), QStringLiteral("hf:{in-db-3}:sess")}, 3)
                    .startsWith(":1"));
        QVERIFY(guarded.command({QStringLiteral("DBSIZE")}, 0).startsWith(":0"));

        const QString wrong =
            guarded.url(3).replace(QLatin1String("pa55-word"), QLatin1String("wrong-pa55"));
        auto intruder = makeStore(wrong);
        HF_AWAIT(refused, intruder->open());
        QVERIFY(refused && !refused->ok());
        QCOMPARE(refused->error().code, ErrorCode::Unavailable);
        QVERIFY2(!refused->error().message.contains(QLatin1String("pa55")),
                 qPrintable(refused->error().message));
    }

    // Redis dies and comes back: calls fail with `unavailable` meanwhile, then work again without
    // a new store; what was acknowledged before is still there.
    void lostRedisThenRecovery()
    {
        auto store = makeStore(url());
        QVERIFY(ok(store->open()));
        QVERIFY(ok(store->createSession(meta(QStringLiteral("kept")))));
        m_redis->kill();
        QCOMPARE(failure(store->loadSession(QStringLiteral("kept"))), ErrorCode::Unavailable);
        QCOMPARE(failure(store->createSession(meta(QStringLiteral("lost")))),
                 ErrorCode::Unavailable);
        QCOMPARE(failure(store->listSessions({}, 10, 0)), ErrorCode::Unavailable);
        QVERIFY(m_redis->restart());
        std::optional<SessionMeta> back;
        QVERIFY(spinUntil([&] {
            const auto r = test::awaitResult(store->loadSession(QStringLiteral("kept")));
            if (r.ok())
                back = r.value();
            return r.ok();
        }));
        QVERIFY(back);
        QCOMPARE(back->id, QStringLiteral("kept"));
        QVERIFY(ok(store->createSession(meta(QStringLiteral("after")))));
    }

    // A Redis that hangs does not hang the caller's thread: the event loop keeps running while a
    // call waits, and the call ends with `unavailable`.
    void hungRedisDoesNotBlock()
    {
        auto store = makeStore(url(QStringLiteral("timeout_ms=300")));
        QVERIFY(ok(store->open()));
        m_redis->pause();
        std::optional<Result<std::optional<SessionMeta>>> result;
        store->loadSession(QStringLiteral("x")).then([&](Result<std::optional<SessionMeta>> r) {
            result = r;
        });
        QVERIFY(!result); // nothing was answered on this thread's stack
        bool ticked = false;
        QTimer::singleShot(0, [&] { ticked = true; });
        QVERIFY(spinUntil([&] { return result.has_value(); }));
        QVERIFY(ticked);
        QVERIFY(!result->ok());
        QCOMPARE(result->error().code, ErrorCode::Unavailable);
        m_redis->resume();
        QVERIFY(spinUntil(
            [&] { return test::awaitResult(store->loadSession(QStringLiteral("x"))).ok(); }));
    }

    // Two instances: a turn running on A is seen, followed and cancelled through B; B cannot
    // start a second turn in the same session.
    void twoInstancesShareSessionsAndTurns()
    {
        Instance a(url());
        HF_CHECK_FIXTURE(a);
        Instance b(url());
        HF_CHECK_FIXTURE(b);
        a.scripted->script.chunks = QStringList(200, QStringLiteral("tick "));
        a.scripted->script.delayMs = 20;
        CreateSessionParams params;
        params.id = QStringLiteral("shared");
        params.title = QStringLiteral("Made on A");
        QVERIFY(value(a.service->createSession(params)).meta.id == params.id);
        const SessionPage listed = value(b.service->listSessions({}, 10, 0));
        QCOMPARE(listed.total, 1);
        QCOMPARE(listed.sessions.first().title, QStringLiteral("Made on A"));

        const auto started =
            a.startTurn(params.id, QStringLiteral("count"), QStringLiteral("scripted"));
        QVERIFY(started.ok());
        const int tid = started->id;

        const TurnRecord seen = value(b.service->turn(params.id, tid));
        QCOMPARE(seen.state, TurnRecord::State::Streaming);
        QVERIFY(!b.service->liveTurn(params.id, tid));

        // B follows the chunks A writes, waiting for them.
        int next = 0;
        QVERIFY(spinUntil([&] {
            const ChunkPage page = value(b.service->chunks(params.id, tid, next, 2000));
            next = page.next;
            return next >= 5;
        }));

        const auto conflict =
            b.startTurn(params.id, QStringLiteral("me too"), QStringLiteral("scripted"));
        QVERIFY(!conflict.ok());
        QCOMPARE(conflict.error().code, ErrorCode::Conflict);

        const TurnRecord cancelled = value(b.service->cancelTurn(params.id, tid));
        QCOMPARE(cancelled.state, TurnRecord::State::Cancelled);
        QCOMPARE(a.scripted->cancelled, 1);
        QVERIFY(cancelled.chunks < 200);

        const SessionSnapshot snapshot = value(b.service->session(params.id, 10));
        QCOMPARE(snapshot.meta.total, 2);
        QCOMPARE(snapshot.meta.activeTurn, 0);
        QCOMPARE(snapshot.history.size(), 2);
        QCOMPARE(snapshot.history.at(1).state, Message::State::Interrupted);
        QCOMPARE(snapshot.history.at(1).content,
                 QStringLiteral("tick ").repeated(cancelled.chunks));
        const ChunkPage rest = value(b.service->chunks(params.id, tid, 0, 0));
        QVERIFY(rest.done);
        QCOMPARE(rest.chunks.size(), cancelled.chunks);

        // Now B may run the next turn, and A sees it.
        const auto second = b.startTurn(params.id, QStringLiteral("again"), QStringLiteral("demo"));
        QVERIFY(second.ok());
        QCOMPARE(second->id, tid + 1);
        const TurnRecord done = value(a.service->waitForTurn(params.id, second->id, 20000));
        QCOMPARE(done.state, TurnRecord::State::Done);
        QCOMPARE(value(a.service->session(params.id, 10)).meta.total, 4);

        // Deleting through A removes it for B too.
        QVERIFY(ok(a.service->deleteSession(params.id)));
        QCOMPARE(failure(b.service->session(params.id, 10)), ErrorCode::NotFound);
    }

    // The answer to a tool call goes to the instance that runs the turn (shared/API.md, Tools
    // (MCP)), once: through pub/sub at once, and through the lease renewal when the message was
    // missed. Others never see it; a turn that has ended takes none; an unknown turn is 404.
    void toolDecisionReachesTheRunningInstance()
    {
        const QString shortLease = url(QStringLiteral("lease_ms=300"));
        auto running = makeStore(shortLease);
        auto other = makeStore(shortLease);
        QVERIFY(ok(running->open()));
        QVERIFY(ok(other->open()));
        const QString sid = QStringLiteral("ask");
        SessionMeta m = meta(sid);
        QVERIFY(ok(running->createSession(m)));
        m.total = 1;
        m.head = 0;
        m.length = 1;
        m.lastTurn = 1;
        m.activeTurn = 1;
        QVERIFY(
            ok(running->beginTurn(m, message(0, QStringLiteral("user"), QStringLiteral("go"), 1),
                                  turnRecord(sid, 1, 0))));
        QVERIFY(ok(running->saveTurnState(sid, 1, TurnRecord::State::Waiting)));
        using Decision = std::tuple<QString, int, QString, bool>;
        QList<Decision> atRunning;
        QList<Decision> atOther;
        connect(running.get(), &Store::toolDecisionRequested, this,
                [&](const QString &s, int t, const QString &c, bool a) {
                    atRunning << Decision{s, t, c, a};
                });
        connect(other.get(), &Store::toolDecisionRequested, this,
                [&](const QString &s, int t, const QString &c, bool a) {
                    atOther << Decision{s, t, c, a};
                });

        QVERIFY(ok(other->requestToolDecision(sid, 1, QStringLiteral("call/1 ✓"), true)));
        QVERIFY(spinUntil([&] { return !atRunning.isEmpty(); }));
        QCOMPARE(atRunning, QList<Decision>{Decision(sid, 1, QStringLiteral("call/1 ✓"), true)});
        QVERIFY(ok(other->requestToolDecision(sid, 1, QStringLiteral("call_2"), false)));
        QVERIFY(spinUntil([&] { return atRunning.size() == 2; }));
        QCOMPARE(atRunning.at(1), Decision(sid, 1, QStringLiteral("call_2"), false));

        // A request whose message nobody heard (written as the script writes it): the running
        // instance's next lease renewal finds it.
        QVERIFY(m_redis
                    ->command({QStringLiteral("HSET"), QStringLiteral("hf:{ask}:decide:1"),
                               QStringLiteral("call_3"), QStringLiteral("1")})
                    .startsWith(':'));
        QVERIFY(spinUntil([&] { return atRunning.size() == 3; }));
        QCOMPARE(atRunning.at(2), Decision(sid, 1, QStringLiteral("call_3"), true));
        // Each once, and nowhere else.
        QTest::qWait(300);
        QCOMPARE(atRunning.size(), 3);
        QVERIFY(atOther.isEmpty());
        QCOMPARE(m_redis->command({QStringLiteral("EXISTS"), QStringLiteral("hf:{ask}:decide:1")}),
                 QByteArray(":0\r\n"));

        // Ended: nothing to decide any more.
        TurnRecord t = turnRecord(sid, 1, 0);
        t.state = TurnRecord::State::Done;
        t.responseIndex = 1;
        m.total = 2;
        m.head = 1;
        m.length = 2;
        m.activeTurn = 0;
        QVERIFY(ok(running->finishTurn(
            m, message(1, QStringLiteral("assistant"), QStringLiteral("ok"), 1), t)));
        QVERIFY(ok(other->requestToolDecision(sid, 1, QStringLiteral("late"), true)));
        QTest::qWait(300);
        QCOMPARE(atRunning.size(), 3);
        HF_AWAIT(unknown, other->requestToolDecision(sid, 9, QStringLiteral("x"), true));
        QVERIFY(!unknown->ok());
        QCOMPARE(unknown->error().code, ErrorCode::NotFound);
    }

    // An instance dies mid-turn (its store goes away without ending the turn): once its lease
    // expires, the survivors save the turn as interrupted with its chunks, exactly once. So too
    // when it died while the turn waited for a tool call's approval: its call stays readable.
    void crashedInstanceIsSweptOnce_data()
    {
        QTest::addColumn<bool>("waiting");
        QTest::newRow("streaming") << false;
        QTest::newRow("waiting for an approval") << true;
    }
    void crashedInstanceIsSweptOnce()
    {
        QFETCH(bool, waiting);
        Chunk step(2, QString());
        step.toolCall = ToolCall{QStringLiteral("c1"), QStringLiteral("files/write_file"),
                                 QJsonObject{{QStringLiteral("path"), QStringLiteral("x")}}};
        const int chunks = waiting ? 3 : 2;
        const QString shortLease = url(QStringLiteral("lease_ms=300"));
        const QString sid = QStringLiteral("orphan");
        {
            auto dying = makeStore(shortLease);
            QVERIFY(ok(dying->open()));
            SessionMeta m = meta(sid);
            QVERIFY(ok(dying->createSession(m)));
            m.total = 1;
            m.lastTurn = 1;
            m.activeTurn = 1;
            QVERIFY(
                ok(dying->beginTurn(m, message(0, QStringLiteral("user"), QStringLiteral("go"), 1),
                                    turnRecord(sid, 1, 0))));
            QVERIFY(ok(dying->appendChunks(
                sid, 1, {{0, QStringLiteral("par")}, {1, QStringLiteral("tial")}})));
            if (waiting) {
                QVERIFY(ok(dying->appendChunks(sid, 1, {step})));
                QVERIFY(ok(dying->saveTurnState(sid, 1, TurnRecord::State::Waiting)));
            }
        }
        if (waiting) { // found by its expired lease, as it was
            auto finder = makeStore(shortLease);
            QVERIFY(ok(finder->open()));
            QVERIFY(spinUntil([&] { return !value(finder->unfinishedTurns()).isEmpty(); }));
            QCOMPARE(value(finder->unfinishedTurns()).at(0).state, TurnRecord::State::Waiting);
        }
        ServiceConfig config;
        config.sweepIntervalMs = 50;
        Instance b(shortLease, config);
        HF_CHECK_FIXTURE(b);
        Instance c(shortLease, config);
        HF_CHECK_FIXTURE(c);
        QVERIFY(spinUntil([&] {
            const auto t = test::awaitResult(b.service->turn(sid, 1));
            return t.ok() && t->state == TurnRecord::State::Interrupted;
        }));
        // Let both keep sweeping for a while: nothing more is written.
        QTest::qWait(300);
        const TurnRecord t = value(c.service->turn(sid, 1));
        QCOMPARE(t.chunks, chunks);
        if (waiting)
            QCOMPARE(value(c.store->loadChunks(sid, 1, 2, 10)), QList<Chunk>{step});
        QCOMPARE(t.responseIndex, 1);
        const QList<Message> messages = value(b.store->loadMessages(sid, 0, 10));
        QCOMPARE(messages.size(), 2);
        QCOMPARE(messages.at(1).content, QStringLiteral("partial"));
        QCOMPARE(messages.at(1).state, Message::State::Interrupted);
        const SessionMeta m = *value(c.store->loadSession(sid));
        QCOMPARE(m.total, 2);
        QCOMPARE(m.activeTurn, 0);
        QVERIFY(value(b.store->unfinishedTurns()).isEmpty());
    }

    // Redis is lost mid-turn: service calls answer `unavailable`, the turn stays live while its
    // answer cannot be saved, and once Redis is back it ends in error (unavailable) with its
    // answer saved, and the service resumes.
    void redisLostMidTurn()
    {
        ServiceConfig config;
        Instance a(url(QStringLiteral("timeout_ms=500")), config);
        HF_CHECK_FIXTURE(a);
        a.scripted->script.chunks = QStringList(400, QStringLiteral("x"));
        a.scripted->script.delayMs = 10;
        CreateSessionParams params;
        params.id = QStringLiteral("outage");
        QVERIFY(value(a.service->createSession(params)).meta.id == params.id);
        const auto started =
            a.startTurn(params.id, QStringLiteral("go"), QStringLiteral("scripted"));
        QVERIFY(started.ok());
        QVERIFY(spinUntil([&] {
            Turn *t = a.service->liveTurn(params.id, started->id);
            return t && value(a.service->turn(params.id, started->id)).chunks >= 3;
        }));
        m_redis->kill();
        // The turn's next chunk write fails: it stops the model and ends in error.
        QVERIFY(spinUntil([&] { return a.scripted->cancelled > 0; }));
        QCOMPARE(failure(a.service->listSessions({}, 10, 0)), ErrorCode::Unavailable);
        // Its answer cannot be stored: the turn does not read as ended, it keeps saving.
        const auto during = test::awaitResult(a.service->turn(params.id, started->id));
        QVERIFY(during.ok() && !during->ended());
        QVERIFY(a.service->liveTurn(params.id, started->id));
        QVERIFY(m_redis->restart());
        const TurnRecord ended = value(a.service->waitForTurn(params.id, started->id, 30000));
        QCOMPARE(ended.state, TurnRecord::State::Error);
        QCOMPARE(ended.errorCode, QStringLiteral("unavailable"));
        QVERIFY(!a.service->liveTurn(params.id, started->id));
        const TurnRecord stored = *value(a.store->loadTurn(params.id, started->id));
        QCOMPARE(stored.state, TurnRecord::State::Error);
        const QList<Message> messages = value(a.store->loadMessages(params.id, 0, 10));
        QCOMPARE(messages.size(), 2);
        QCOMPARE(messages.at(1).state, Message::State::Error);
        QCOMPARE(messages.at(1).content.size(), stored.chunks);
        // And the service works again, without a restart.
        const auto next = a.startTurn(params.id, QStringLiteral("again"), QStringLiteral("demo"));
        QVERIFY(next.ok());
        QCOMPARE(value(a.service->waitForTurn(params.id, next->id, 20000)).state,
                 TurnRecord::State::Done);
    }
};

QTEST_GUILESS_MAIN(TestRedisStore)
#include "tst_redisstore.moc"
