// The conversation tree in every store (memory, SQLite, Redis on a real redis-server): parent
// links and depth kept with each message, siblings filled on every load, the active branch read
// from any message, the latest leaf below a message, head and length kept with the session and
// written with the turn's messages. One data-driven suite so that the stores cannot drift apart.
#include "fakes/branchpaths.h"
#include "fakes/sqlitecheck.h"
#include "fakes/storedata.h"
#include "fakes/storekinds.h"
#include "fakes/testutil.h"
#include "store/memorystore.h"
#include "store/redisstore.h"
#include "store/sqlitestore.h"

#include <QFile>
#include <QTest>

using namespace holdfast;
using holdfast::test::indexes;

namespace {

using test::meta;
using test::ok;
using test::turnRecord;
using test::userVersion;
using test::value;

Message node(qint64 index, const QString &role, const QString &content, qint64 parent, qint64 depth,
             int turn)
{
    Message m = test::message(index, role, content, turn);
    m.parent = parent;
    m.depth = depth;
    return m;
}

} // namespace

class TestStoreTree : public QObject
{
    Q_OBJECT

    test::StoreKinds m_stores;

    // One turn, saved as the service saves it: the prompt (none when the turn regenerates an
    // answer) with head on it, then the answer with head on the answer.
    static bool turn(Store *store, SessionMeta &m, int tid, std::optional<Message> prompt,
                     qint64 promptIndex, const Message &answer)
    {
        m.lastTurn = tid;
        m.activeTurn = tid;
        if (prompt) {
            m.total = prompt->index + 1;
            m.head = prompt->index;
            m.length = prompt->depth + 1;
        } else {
            m.head = promptIndex;
        }
        TurnRecord t = turnRecord(m.id, tid, promptIndex);
        if (!ok(store->beginTurn(m, prompt, t)))
            return false;
        m.total = answer.index + 1;
        m.head = answer.index;
        m.length = answer.depth + 1;
        m.activeTurn = 0;
        t.state = TurnRecord::State::Done;
        t.responseIndex = answer.index;
        t.finishedAt = fromIso(QStringLiteral("2026-03-01T09:31:00Z"));
        return ok(store->finishTurn(m, answer, t));
    }

    // The tree of the tests below (U: user, A: assistant; index:parent):
    //   0:U ── 1:A ─┬─ 2:U ── 3:A          (the first version of the second prompt)
    //               └─ 4:U ─┬─ 5:A         (the prompt edited)
    //                       └─ 6:A         (its answer regenerated)
    //   7:U ── 8:A                         (a new first message)
    // Head ends on 8; then the active branch is switched back to 6 (as PATCH head does).
    static bool buildTree(Store *store, SessionMeta &m)
    {
        const auto U = QStringLiteral("user");
        const auto A = QStringLiteral("assistant");
        return ok(store->createSession(m)) &&
               turn(store, m, 1, node(0, U, QStringLiteral("hi"), -1, 0, 1), 0,
                    node(1, A, QStringLiteral("hello"), 0, 1, 1)) &&
               turn(store, m, 2, node(2, U, QStringLiteral("wheather?"), 1, 2, 2), 2,
                    node(3, A, QStringLiteral("sunny"), 2, 3, 2)) &&
               turn(store, m, 3, node(4, U, QStringLiteral("weather?"), 1, 2, 3), 4,
                    node(5, A, QStringLiteral("rain"), 4, 3, 3)) &&
               turn(store, m, 4, std::nullopt, 4, node(6, A, QStringLiteral("snow"), 4, 3, 4)) &&
               turn(store, m, 5, node(7, U, QStringLiteral("again"), -1, 0, 5), 7,
                    node(8, A, QStringLiteral("anew"), 7, 1, 5));
    }

private Q_SLOTS:
    void initTestCase() { QVERIFY(m_stores.start()); }

    // A session nobody branched: one path, every message its own only sibling.
    void unbranchedReadsAsBefore_data() { m_stores.addRows(); }
    void unbranchedReadsAsBefore()
    {
        QFETCH(QString, kind);
        auto store = m_stores.make(kind);
        QVERIFY(ok(store->open()));
        SessionMeta m = meta(QStringLiteral("line"));
        QVERIFY(ok(store->createSession(m)));
        for (int t = 1; t <= 3; ++t) {
            const qint64 p = 2 * (t - 1);
            QVERIFY(turn(store.get(), m, t,
                         node(p, QStringLiteral("user"), QStringLiteral("q%1").arg(t), p - 1, p, t),
                         p,
                         node(p + 1, QStringLiteral("assistant"), QStringLiteral("a%1").arg(t), p,
                              p + 1, t)));
        }
        const QList<Message> all = value(store->loadMessages(m.id, 0, 100));
        QCOMPARE(indexes(all), (QList<qint64>{0, 1, 2, 3, 4, 5}));
        for (const Message &msg : all) {
            QCOMPARE(msg.parent, msg.index - 1);
            QCOMPARE(msg.depth, msg.index);
            QCOMPARE(msg.siblings, QList<qint64>{msg.index});
        }
        QCOMPARE(value(store->loadBranch(m.id, 5, 100)), all);
        QCOMPARE(indexes(value(store->loadBranch(m.id, 5, 2))), (QList<qint64>{4, 5}));
        QCOMPARE(indexes(value(store->loadBranch(m.id, 3, 100))), (QList<qint64>{0, 1, 2, 3}));
        QCOMPARE(value(store->latestLeaf(m.id, 0)), 5);
        const SessionMeta loaded = *value(store->loadSession(m.id));
        QCOMPARE(loaded.head, 5);
        QCOMPARE(loaded.length, 6);
        QCOMPARE(loaded.total, 6);
    }

    void branchesLoadTheirOwnPath_data() { m_stores.addRows(); }
    void branchesLoadTheirOwnPath()
    {
        QFETCH(QString, kind);
        auto store = m_stores.make(kind);
        QVERIFY(ok(store->open()));
        SessionMeta m = meta(QStringLiteral("tree"));
        QVERIFY(buildTree(store.get(), m));

        QCOMPARE(indexes(value(store->loadBranch(m.id, 3, 100))), (QList<qint64>{0, 1, 2, 3}));
        QCOMPARE(indexes(value(store->loadBranch(m.id, 5, 100))), (QList<qint64>{0, 1, 4, 5}));
        const QList<Message> six = value(store->loadBranch(m.id, 6, 100));
        QCOMPARE(indexes(six), (QList<qint64>{0, 1, 4, 6}));
        QCOMPARE(six.at(0).siblings, (QList<qint64>{0, 7}));
        QCOMPARE(six.at(1).siblings, QList<qint64>{1});
        QCOMPARE(six.at(2).siblings, (QList<qint64>{2, 4}));
        QCOMPARE(six.at(2).content, QStringLiteral("weather?"));
        QCOMPARE(six.at(3).siblings, (QList<qint64>{5, 6}));
        QCOMPARE(six.at(3).content, QStringLiteral("snow"));
        QCOMPARE(six.at(3).parent, 4);
        QCOMPARE(six.at(3).depth, 3);
        QCOMPARE(indexes(value(store->loadBranch(m.id, 8, 100))), (QList<qint64>{7, 8}));
        // A window: the newest `limit` of the path, oldest first.
        QCOMPARE(indexes(value(store->loadBranch(m.id, 6, 2))), (QList<qint64>{4, 6}));
        QCOMPARE(indexes(value(store->loadBranch(m.id, 6, 1))), QList<qint64>{6});
        QVERIFY(value(store->loadBranch(m.id, 6, 0)).isEmpty());
        // Unknown message or session: nothing.
        QVERIFY(value(store->loadBranch(m.id, 9, 100)).isEmpty());
        QVERIFY(value(store->loadBranch(m.id, -1, 100)).isEmpty());
        QVERIFY(value(store->loadBranch(QStringLiteral("nope"), 0, 100)).isEmpty());

        // Every message, by index, with its siblings.
        const QList<Message> all = value(store->loadMessages(m.id, 0, 100));
        QCOMPARE(indexes(all), (QList<qint64>{0, 1, 2, 3, 4, 5, 6, 7, 8}));
        const QList<QList<qint64>> siblings{{0, 7}, {1},    {2, 4}, {3}, {2, 4},
                                            {5, 6}, {5, 6}, {0, 7}, {8}};
        for (const Message &msg : all)
            QCOMPARE(msg.siblings, siblings.at(msg.index));
        QCOMPARE(value(store->loadMessages(m.id, 4, 6)).at(1).siblings, (QList<qint64>{5, 6}));
    }

    void latestLeafFollowsTheNewestChild_data() { m_stores.addRows(); }
    void latestLeafFollowsTheNewestChild()
    {
        QFETCH(QString, kind);
        auto store = m_stores.make(kind);
        QVERIFY(ok(store->open()));
        SessionMeta m = meta(QStringLiteral("leaf"));
        QVERIFY(buildTree(store.get(), m));

        QCOMPARE(value(store->latestLeaf(m.id, 0)), 6); // 0 → 1 → 4 (not 2) → 6 (not 5)
        QCOMPARE(value(store->latestLeaf(m.id, 1)), 6);
        QCOMPARE(value(store->latestLeaf(m.id, 2)), 3);
        QCOMPARE(value(store->latestLeaf(m.id, 5)), 5); // no children: itself
        QCOMPARE(value(store->latestLeaf(m.id, 7)), 8);
        for (const qint64 from : {qint64(9), qint64(-1)}) {
            HF_AWAIT(unknown, store->latestLeaf(m.id, from));
            QVERIFY(unknown && !unknown->ok());
            QCOMPARE(unknown->error().code, ErrorCode::NotFound);
        }
        HF_AWAIT(noSession, store->latestLeaf(QStringLiteral("nope"), 0));
        QVERIFY(noSession && !noSession->ok());
        QCOMPARE(noSession->error().code, ErrorCode::NotFound);
    }

    // head and length travel with the session, through the turn's saves and a PATCH-like save.
    void headIsPersisted_data() { m_stores.addRows(); }
    void headIsPersisted()
    {
        QFETCH(QString, kind);
        auto store = m_stores.make(kind);
        QVERIFY(ok(store->open()));
        SessionMeta m = meta(QStringLiteral("head"));
        QVERIFY(buildTree(store.get(), m));
        SessionMeta loaded = *value(store->loadSession(m.id));
        QCOMPARE(loaded.head, 8);
        QCOMPARE(loaded.length, 2);
        QCOMPARE(loaded.total, 9);
        QCOMPARE(loaded, m);

        m.head = 6;
        m.length = 4;
        QVERIFY(ok(store->saveSessionMeta(m)));
        QCOMPARE(*value(store->loadSession(m.id)), m);
        QCOMPARE(value(store->listSessions({}, 10, 0)).sessions.value(0), m);

        if (kind == QLatin1String("memory"))
            return;
        // Another store on the same data (a restart, or another instance) sees the same.
        store.reset();
        auto again = m_stores.make(kind, false);
        QVERIFY(ok(again->open()));
        QCOMPARE(*value(again->loadSession(m.id)), m);
        QCOMPARE(indexes(value(again->loadBranch(m.id, m.head, 100))), (QList<qint64>{0, 1, 4, 6}));
    }

    // A turn that regenerates an answer stores no prompt: head on the prompt it answers again,
    // total unchanged until the answer comes.
    void regeneratingTurnStoresNoPrompt_data() { m_stores.addRows(); }
    void regeneratingTurnStoresNoPrompt()
    {
        QFETCH(QString, kind);
        auto store = m_stores.make(kind);
        QVERIFY(ok(store->open()));
        SessionMeta m = meta(QStringLiteral("regen"));
        QVERIFY(ok(store->createSession(m)));
        QVERIFY(turn(store.get(), m, 1,
                     node(0, QStringLiteral("user"), QStringLiteral("q"), -1, 0, 1), 0,
                     node(1, QStringLiteral("assistant"), QStringLiteral("a"), 0, 1, 1)));

        m.lastTurn = 2;
        m.activeTurn = 2;
        m.head = 0;
        m.length = 1;
        TurnRecord t = turnRecord(m.id, 2, 0);
        QVERIFY(ok(store->beginTurn(m, std::nullopt, t)));
        QCOMPARE(*value(store->loadSession(m.id)), m);
        QCOMPARE(value(store->loadSession(m.id))->total, 2);
        QCOMPARE(value(store->loadMessages(m.id, 0, 100)).size(), 2);
        QCOMPARE(value(store->loadTurn(m.id, 2))->promptIndex, 0);
        QCOMPARE(indexes(value(store->loadBranch(m.id, m.head, 100))), QList<qint64>{0});

        const Message again = node(2, QStringLiteral("assistant"), QStringLiteral("b"), 0, 1, 2);
        m.total = 3;
        m.head = 2;
        m.length = 2;
        m.activeTurn = 0;
        t.state = TurnRecord::State::Done;
        t.responseIndex = 2;
        QVERIFY(ok(store->finishTurn(m, again, t)));
        // A retried final save (its first outcome unknown) links the answer once.
        QVERIFY(ok(store->finishTurn(m, again, t)));
        const QList<Message> branch = value(store->loadBranch(m.id, 2, 100));
        QCOMPARE(indexes(branch), (QList<qint64>{0, 2}));
        QCOMPARE(branch.at(1).siblings, (QList<qint64>{1, 2}));
        QCOMPARE(value(store->latestLeaf(m.id, 0)), 2);
        QCOMPARE(*value(store->loadSession(m.id)), m);
    }

    // Deleting a session deletes its tree: a new session of the same id starts with none.
    void deleteForgetsTheTree_data() { m_stores.addRows(); }
    void deleteForgetsTheTree()
    {
        QFETCH(QString, kind);
        auto store = m_stores.make(kind);
        QVERIFY(ok(store->open()));
        SessionMeta m = meta(QStringLiteral("gone"));
        QVERIFY(buildTree(store.get(), m));
        QVERIFY(ok(store->deleteSession(m.id)));
        SessionMeta fresh = meta(QStringLiteral("gone"));
        QVERIFY(ok(store->createSession(fresh)));
        QVERIFY(turn(store.get(), fresh, 1,
                     node(0, QStringLiteral("user"), QStringLiteral("q"), -1, 0, 1), 0,
                     node(1, QStringLiteral("assistant"), QStringLiteral("a"), 0, 1, 1)));
        const QList<Message> branch = value(store->loadBranch(fresh.id, 1, 100));
        QCOMPARE(indexes(branch), (QList<qint64>{0, 1}));
        QCOMPARE(branch.at(0).siblings, QList<qint64>{0});
        QCOMPARE(branch.at(1).siblings, QList<qint64>{1});
        QCOMPARE(value(store->latestLeaf(fresh.id, 0)), 1);
    }

    // Redis data written before the tree (sessions without head, messages without parent) reads
    // as one branch as it is; the first write to such a session builds its tree.
    void redisReadsDataOfBeforeTheTree()
    {
        if (!m_stores.redis())
            QSKIP("redis-server is not installed");
        auto store = m_stores.make(QStringLiteral("redis"));
        QVERIFY(ok(store->open()));
        const auto redis = [this](const QStringList &args) {
            const QByteArray answer = m_stores.redis()->command(args);
            return !answer.startsWith('-');
        };
        // Exactly what the RedisStore of commit 6bae348 writes for two turns.
        QVERIFY(
            redis({QStringLiteral("HSET"), QStringLiteral("hf:{old}:sess"), QStringLiteral("id"),
                   QStringLiteral("old"), QStringLiteral("model"), QStringLiteral("demo"),
                   QStringLiteral("created"), QStringLiteral("2026-03-01T09:00:00.000Z"),
                   QStringLiteral("updated"), QStringLiteral("2026-03-01T10:00:00.000Z"),
                   QStringLiteral("title"), QStringLiteral("Before the tree"),
                   QStringLiteral("total"), QStringLiteral("4"), QStringLiteral("active"),
                   QStringLiteral("0"), QStringLiteral("last"), QStringLiteral("2")}));
        QVERIFY(redis({QStringLiteral("ZADD"), QStringLiteral("hf:sessions"),
                       QStringLiteral("-1772359200000"), QStringLiteral("old")}));
        for (int i = 0; i < 4; ++i) {
            const QString json =
                QStringLiteral("{\"content\":\"m%1\",\"created_at\":\"2026-03-01T09:30:00.123Z\","
                               "\"role\":\"%2\",\"state\":\"complete\",\"turn\":%3}")
                    .arg(i)
                    .arg(i % 2 ? QStringLiteral("assistant") : QStringLiteral("user"))
                    .arg(i / 2 + 1);
            QVERIFY(redis({QStringLiteral("SET"), QStringLiteral("hf:{old}:msg:%1").arg(i), json}));
        }

        SessionMeta m = *value(store->loadSession(QStringLiteral("old")));
        QCOMPARE(m.total, 4);
        QCOMPARE(m.head, 3);
        QCOMPARE(m.length, 4);
        const QList<Message> all = value(store->loadMessages(m.id, 0, 100));
        QCOMPARE(indexes(all), (QList<qint64>{0, 1, 2, 3}));
        for (const Message &msg : all) {
            QCOMPARE(msg.parent, msg.index - 1);
            QCOMPARE(msg.depth, msg.index);
            QCOMPARE(msg.siblings, QList<qint64>{msg.index});
            QCOMPARE(msg.content, QStringLiteral("m%1").arg(msg.index));
        }
        QCOMPARE(value(store->loadBranch(m.id, 3, 100)), all);
        QCOMPARE(indexes(value(store->loadBranch(m.id, 3, 2))), (QList<qint64>{2, 3}));
        QCOMPARE(value(store->latestLeaf(m.id, 0)), 3);
        QCOMPARE(value(store->latestLeaf(m.id, 2)), 3);

        // An edit of the second prompt: a sibling of message 2. The tree is built on this write.
        QVERIFY(turn(store.get(), m, 3,
                     node(4, QStringLiteral("user"), QStringLiteral("edited"), 1, 2, 3), 4,
                     node(5, QStringLiteral("assistant"), QStringLiteral("ok"), 4, 3, 3)));
        const QList<Message> branch = value(store->loadBranch(m.id, 5, 100));
        QCOMPARE(indexes(branch), (QList<qint64>{0, 1, 4, 5}));
        QCOMPARE(branch.at(0).siblings, QList<qint64>{0});
        QCOMPARE(branch.at(1).siblings, QList<qint64>{1});
        QCOMPARE(branch.at(2).siblings, (QList<qint64>{2, 4}));
        QCOMPARE(indexes(value(store->loadBranch(m.id, 3, 100))), (QList<qint64>{0, 1, 2, 3}));
        QCOMPARE(value(store->loadMessages(m.id, 3, 4)).at(0).siblings, QList<qint64>{3});
        QCOMPARE(value(store->latestLeaf(m.id, 0)), 5);
        QCOMPARE(value(store->latestLeaf(m.id, 2)), 3);
        QCOMPARE(*value(store->loadSession(m.id)), m);
        // Deleting it leaves no key behind.
        QVERIFY(ok(store->deleteSession(m.id)));
        QVERIFY(m_stores.redis()
                    ->command({QStringLiteral("KEYS"), QStringLiteral("hf:{old}:*")})
                    .startsWith("*0"));
    }

    // Several instances agree on head: a branch switch (a save that moves head) is refused while
    // a turn runs, or when the session changed since it was read; other saves go through.
    void redisHeadMovesOnlyOnAFreshIdleSession()
    {
        if (!m_stores.redis())
            QSKIP("redis-server is not installed");
        auto a = m_stores.make(QStringLiteral("redis"));
        auto b = m_stores.make(QStringLiteral("redis"), false);
        QVERIFY(ok(a->open()));
        QVERIFY(ok(b->open()));
        SessionMeta m = meta(QStringLiteral("shared"));
        QVERIFY(buildTree(a.get(), m)); // head 8, last turn 5

        // A runs a turn; B (which read the session before) switches to 6: refused.
        SessionMeta stale = *value(b->loadSession(m.id));
        m.lastTurn = 6;
        m.activeTurn = 6;
        m.total = 10;
        m.head = 9;
        m.length = 3;
        QVERIFY(ok(a->beginTurn(m, node(9, QStringLiteral("user"), QStringLiteral("more"), 8, 2, 6),
                                turnRecord(m.id, 6, 9))));
        SessionMeta patch = stale;
        patch.head = 6;
        patch.length = 4;
        HF_AWAIT(during, b->saveSessionMeta(patch));
        QVERIFY(during && !during->ok());
        QCOMPARE(during->error().code, ErrorCode::Conflict);
        // A title change while the turn runs goes through and leaves head alone.
        SessionMeta titled = *value(b->loadSession(m.id));
        titled.title = QStringLiteral("renamed");
        QVERIFY(ok(b->saveSessionMeta(titled)));
        QCOMPARE(value(a->loadSession(m.id))->head, 9);

        // The turn ends on A; B, still holding what it read before, cannot switch either.
        m.total = 11;
        m.head = 10;
        m.length = 4;
        m.activeTurn = 0;
        TurnRecord t = turnRecord(m.id, 6, 9);
        t.state = TurnRecord::State::Done;
        t.responseIndex = 10;
        QVERIFY(ok(a->finishTurn(
            m, node(10, QStringLiteral("assistant"), QStringLiteral("yes"), 9, 3, 6), t)));
        HF_AWAIT(staleSave, b->saveSessionMeta(titled));
        QVERIFY(staleSave && !staleSave->ok());
        QCOMPARE(staleSave->error().code, ErrorCode::Conflict);
        QCOMPARE(value(a->loadSession(m.id))->head, 10);

        // Read again, the switch goes through, and A sees it.
        SessionMeta fresh = *value(b->loadSession(m.id));
        fresh.head = value(b->latestLeaf(m.id, 4));
        fresh.length = 4;
        QCOMPARE(fresh.head, 6);
        QVERIFY(ok(b->saveSessionMeta(fresh)));
        const SessionMeta seen = *value(a->loadSession(m.id));
        QCOMPARE(seen.head, 6);
        QCOMPARE(seen.length, 4);
        QCOMPARE(seen.title, QStringLiteral("renamed"));
    }

    // A real file of schema version 2, written by the holdfast of commit 6bae348 (three sessions:
    // three turns, one turn, none): after the migration every session reads as one branch with
    // the same messages, head on its last message, and takes branching writes.
    void sqliteMigratesARealVersion2File_data()
    {
        QTest::addColumn<QString>("sid");
        QTest::addColumn<qint64>("total");
        QTest::addRow("three turns") << QStringLiteral("three-turns") << qint64(6);
        QTest::addRow("one turn") << QStringLiteral("one-turn") << qint64(2);
        QTest::addRow("no message") << QStringLiteral("empty") << qint64(0);
    }
    void sqliteMigratesARealVersion2File()
    {
        QFETCH(QString, sid);
        QFETCH(qint64, total);
        const QString path = m_stores.filePath(QStringLiteral("v2-%1.db").arg(sid));
        const QString fixture = QString::fromLocal8Bit(qgetenv("HOLDFAST_SOURCE_DIR")) +
                                QStringLiteral("/tests/core/data/holdfast-schema-v2.db");
        QVERIFY2(QFile::copy(fixture, path), qPrintable(fixture));
        QVERIFY(QFile::setPermissions(path, QFile::ReadOwner | QFile::WriteOwner));
        QCOMPARE(userVersion(path), 2);

        {
            SqliteStore store(path);
            QVERIFY(ok(store.open()));
            QCOMPARE(userVersion(path), SqliteStore::kSchemaVersion);
            QCOMPARE(value(store.listSessions({}, 10, 0)).total, 3);
            SessionMeta m = *value(store.loadSession(sid));
            QCOMPARE(m.total, total);
            QCOMPARE(m.head, total - 1);
            QCOMPARE(m.length, total);
            const QList<Message> all = value(store.loadMessages(sid, 0, 100));
            QCOMPARE(all.size(), total);
            for (const Message &msg : all) {
                QCOMPARE(msg.parent, msg.index - 1);
                QCOMPARE(msg.depth, msg.index);
                QCOMPARE(msg.siblings, QList<qint64>{msg.index});
                QCOMPARE(msg.role,
                         msg.index % 2 ? QStringLiteral("assistant") : QStringLiteral("user"));
                QCOMPARE(msg.turn, int(msg.index / 2 + 1));
            }
            QCOMPARE(value(store.loadBranch(sid, m.head, 100)), all);
            if (total == 0) {
                QVERIFY(value(store.loadBranch(sid, m.head, 100)).isEmpty());
                return;
            }
            QCOMPARE(value(store.latestLeaf(sid, 0)), m.head);
            if (sid == QLatin1String("three-turns")) {
                QCOMPARE(all.at(2).content, QStringLiteral("Second question ✓"));
                QCOMPARE(m.title, QStringLiteral("Three turns"));
            }

            // The migrated file takes a branch: the first prompt edited (a new first message).
            QVERIFY(turn(&store, m, m.lastTurn + 1,
                         node(total, QStringLiteral("user"), QStringLiteral("edited"), -1, 0,
                              m.lastTurn + 1),
                         total,
                         node(total + 1, QStringLiteral("assistant"), QStringLiteral("ok"), total,
                              1, m.lastTurn + 1)));
        }
        // And after a restart.
        SqliteStore store(path);
        QVERIFY(ok(store.open()));
        const SessionMeta m = *value(store.loadSession(sid));
        QCOMPARE(m.head, total + 1);
        QCOMPARE(m.length, 2);
        const QList<Message> branch = value(store.loadBranch(sid, m.head, 100));
        QCOMPARE(indexes(branch), (QList<qint64>{total, total + 1}));
        QCOMPARE(branch.at(0).siblings, (QList<qint64>{0, total}));
        QCOMPARE(value(store.latestLeaf(sid, 0)), total - 1);
    }
};

QTEST_GUILESS_MAIN(TestStoreTree)
#include "tst_storetree.moc"
