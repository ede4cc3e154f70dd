// The conversation tree in the service (shared/API.md, "Branches: edit and regenerate"): where a
// prompt or a new answer goes, head, the active branch in reads, what goes to the model, and
// every error, on each store.
#include "fakes/branchpaths.h"
#include "fakes/faultystore.h"
#include "fakes/servicefixture.h"
#include "fakes/testutil.h"
#include "store/memorystore.h"
#include "store/sqlitestore.h"

#include <QTemporaryDir>
#include <QTest>

using namespace holdfast;
using holdfast::test::indexes;
using holdfast::test::list;

namespace {

using StoreFactory = std::function<std::unique_ptr<Store>(const QString &dir)>;

// A service on a store (wrapped in a FaultyStore that counts loads), with a scripted model that
// records what it was sent.
struct Fixture : test::ServiceFixture
{
    QString sid = QStringLiteral("tree");

    // `create`: a new session; else the store already holds it (a restart).
    Fixture(std::unique_ptr<Store> s, bool create) : ServiceFixture(std::move(s))
    {
        if (!failure.isEmpty() || !create)
            return;
        CreateSessionParams p;
        p.id = sid;
        p.model = QStringLiteral("scripted");
        p.system = QStringLiteral("be brief");
        if (!test::awaitResult(service->createSession(p)).ok())
            failure = QStringLiteral("no session");
    }

    Result<TurnRecord> start(StartTurnParams p)
    {
        return test::awaitResult(service->startTurn(sid, std::move(p)));
    }
    // A turn that answers `answer`, run to its end; its record.
    TurnRecord turn(StartTurnParams p, const QString &answer)
    {
        scripted->script.chunks = {answer};
        const auto started = start(std::move(p));
        if (!started.ok()) {
            qWarning() << "turn refused:" << started.error().message;
            return {};
        }
        const auto r = test::awaitResult(service->waitForTurn(sid, started->id, 20000));
        return r.ok() ? r.value() : TurnRecord{};
    }
    TurnRecord say(const QString &prompt, const QString &answer)
    {
        StartTurnParams p;
        p.prompt = prompt;
        return turn(p, answer);
    }
    TurnRecord edit(qint64 parent, const QString &prompt, const QString &answer)
    {
        StartTurnParams p;
        p.prompt = prompt;
        p.parent = parent;
        return turn(p, answer);
    }
    TurnRecord regenerate(qint64 user, const QString &answer)
    {
        StartTurnParams p;
        p.regenerate = user;
        return turn(p, answer);
    }
    SessionSnapshot snapshot(int window = 30)
    {
        const auto s = test::awaitResult(service->session(sid, window));
        return s.ok() ? s.value() : SessionSnapshot{};
    }
    // What the model got last, as "role:content" lines.
    QStringList lastRequest() const
    {
        QStringList sent;
        if (scripted->requests.isEmpty())
            return sent;
        for (const ChatMessage &m : scripted->requests.last().messages)
            sent << m.role + QLatin1Char(':') + m.content;
        return sent;
    }
};

} // namespace

class TestServiceBranches : public QObject
{
    Q_OBJECT

private:
    std::unique_ptr<Fixture> makeFixture(bool create = true)
    {
        QFETCH_GLOBAL(StoreFactory, factory);
        return std::make_unique<Fixture>(
            std::make_unique<test::FaultyStore>(factory(m_dir->path())), create);
    }
    std::unique_ptr<QTemporaryDir> m_dir;

private Q_SLOTS:
    void initTestCase_data()
    {
        QTest::addColumn<StoreFactory>("factory");
        QTest::addColumn<bool>("persistent");
        QTest::addRow("memory") << StoreFactory([](const QString &) {
            return std::make_unique<MemoryStore>();
        }) << false;
        QTest::addRow("sqlite") << StoreFactory([](const QString &dir) {
            return std::make_unique<SqliteStore>(dir + QStringLiteral("/tree.db"));
        }) << true;
    }
    void init() { m_dir = std::make_unique<QTemporaryDir>(); }

    // Q0 A1 Q2 A3, then Q2 edited (parent 1): the new prompt 4 is a sibling of 2, its answer 5
    // follows it, head moves to 4 at once and to 5 when the answer is saved.
    void editMakesASiblingBranch()
    {
        auto f = makeFixture();
        HF_CHECK_FIXTURE(*f);
        QCOMPARE(f->say(QStringLiteral("Q0"), QStringLiteral("A1")).state, TurnRecord::State::Done);
        QCOMPARE(f->say(QStringLiteral("Q2"), QStringLiteral("A3")).state, TurnRecord::State::Done);
        QCOMPARE(f->snapshot().meta.head, 3);
        QCOMPARE(f->snapshot().meta.length, 4);

        f->scripted->script.chunks = {QStringLiteral("A5")};
        f->scripted->script.delayMs = 200;
        StartTurnParams p;
        p.prompt = QStringLiteral("Q2 edited");
        p.parent = 1;
        const auto started = f->start(p);
        QVERIFY(started.ok());
        QCOMPARE(started->promptIndex, 4);
        const SessionSnapshot during = f->snapshot();
        QCOMPARE(during.meta.head, 4);
        QCOMPARE(during.meta.length, 3);
        QCOMPARE(during.meta.total, 5);
        QCOMPARE(indexes(during.history), list({0, 1, 4}));
        QCOMPARE(during.history.last().parent, 1);
        QCOMPARE(during.history.last().siblings, list({2, 4}));
        HF_AWAIT_OK(f->service->waitForTurn(f->sid, started->id, 20000));

        const SessionSnapshot after = f->snapshot();
        QCOMPARE(after.meta.head, 5);
        QCOMPARE(after.meta.length, 4);
        QCOMPARE(after.meta.total, 6);
        QCOMPARE(indexes(after.history), list({0, 1, 4, 5}));
        QCOMPARE(after.history.at(3).parent, 4);
        QCOMPARE(after.history.at(3).siblings, list({5}));
        QCOMPARE(after.history.at(2).siblings, list({2, 4}));
        // The model got the path to the prompt's parent, never the other branch's Q2 and A3.
        QCOMPARE(f->lastRequest(),
                 QStringList({QStringLiteral("system:be brief"), QStringLiteral("user:Q0"),
                              QStringLiteral("assistant:A1"), QStringLiteral("user:Q2 edited")}));
    }

    // Regenerating Q0 appends no user message: the new answer 2 is a sibling of 1.
    void regenerateAddsAnAnswerVersion()
    {
        auto f = makeFixture();
        HF_CHECK_FIXTURE(*f);
        f->say(QStringLiteral("Q0"), QStringLiteral("A1"));
        f->scripted->script.chunks = {QStringLiteral("A2")};
        StartTurnParams p;
        p.regenerate = 0;
        const auto started = f->start(p);
        QVERIFY(started.ok());
        QCOMPARE(started->promptIndex, 0);
        QCOMPARE(f->snapshot().meta.head, 0);
        QCOMPARE(f->snapshot().meta.total, 1 + 1);
        const auto ended = test::awaitResult(f->service->waitForTurn(f->sid, started->id, 20000));
        QVERIFY(ended.ok());
        QCOMPARE(ended->responseIndex, 2);

        const SessionSnapshot after = f->snapshot();
        QCOMPARE(after.meta.total, 3);
        QCOMPARE(after.meta.head, 2);
        QCOMPARE(after.meta.length, 2);
        QCOMPARE(indexes(after.history), list({0, 2}));
        QCOMPARE(after.history.last().siblings, list({1, 2}));
        QCOMPARE(after.history.last().content, QStringLiteral("A2"));
        QCOMPARE(f->lastRequest(),
                 QStringList({QStringLiteral("system:be brief"), QStringLiteral("user:Q0")}));
    }

    // "parent": null starts a new first message; the model gets no history.
    void nullParentStartsANewFirstMessage()
    {
        auto f = makeFixture();
        HF_CHECK_FIXTURE(*f);
        f->say(QStringLiteral("Q0"), QStringLiteral("A1"));
        f->edit(-1, QStringLiteral("fresh"), QStringLiteral("A3"));
        const SessionSnapshot s = f->snapshot();
        QCOMPARE(indexes(s.history), list({2, 3}));
        QCOMPARE(s.history.first().parent, -1);
        QCOMPARE(s.history.first().siblings, list({0, 2}));
        QCOMPARE(s.meta.length, 2);
        QCOMPARE(f->lastRequest(),
                 QStringList({QStringLiteral("system:be brief"), QStringLiteral("user:fresh")}));
    }

    // Error answers stay out of the model's context, interrupted ones go in (as before branches).
    void errorAnswersAreLeftOut()
    {
        auto f = makeFixture();
        HF_CHECK_FIXTURE(*f);
        f->scripted->script.failure = makeError(ErrorCode::UpstreamError, QStringLiteral("boom"));
        QCOMPARE(f->say(QStringLiteral("Q0"), QStringLiteral("half")).state,
                 TurnRecord::State::Error);
        f->scripted->script.failure.reset();
        f->say(QStringLiteral("Q2"), QStringLiteral("A3"));
        QCOMPARE(f->lastRequest(),
                 QStringList({QStringLiteral("system:be brief"), QStringLiteral("user:Q0"),
                              QStringLiteral("user:Q2")}));
    }

    // PATCH head K: from K down the child with the highest index to a leaf.
    void patchHeadFollowsTheNewestChildren()
    {
        auto f = makeFixture();
        HF_CHECK_FIXTURE(*f);
        f->say(QStringLiteral("Q0"), QStringLiteral("A1"));
        f->say(QStringLiteral("Q2"), QStringLiteral("A3"));
        f->edit(1, QStringLiteral("Q4"), QStringLiteral("A5"));
        f->regenerate(2, QStringLiteral("A6")); // a third branch, under Q2
        QCOMPARE(f->snapshot().meta.head, 6);

        const auto patchHead = [&](qint64 k) {
            PatchSessionParams p;
            p.head = k;
            return test::awaitResult(f->service->patchSession(f->sid, p));
        };
        auto patched = patchHead(1); // 1's children are 2 and 4: 4, then 5
        QVERIFY(patched.ok());
        QCOMPARE(patched->meta.head, 5);
        QCOMPARE(patched->meta.length, 4);
        QCOMPARE(indexes(patched->history), list({0, 1, 4, 5}));
        patched = patchHead(2); // 2's children are 3 and 6
        QVERIFY(patched.ok());
        QCOMPARE(patched->meta.head, 6);
        patched = patchHead(3);
        QVERIFY(patched.ok());
        QCOMPARE(patched->meta.head, 3);
        QCOMPARE(indexes(f->snapshot().history), list({0, 1, 2, 3}));
        QCOMPARE(f->snapshot().history.at(3).siblings, list({3, 6}));

        // The next prompt follows the new head, and the model gets that branch.
        f->say(QStringLiteral("Q7"), QStringLiteral("A8"));
        QCOMPARE(f->lastRequest(),
                 QStringList({QStringLiteral("system:be brief"), QStringLiteral("user:Q0"),
                              QStringLiteral("assistant:A1"), QStringLiteral("user:Q2"),
                              QStringLiteral("assistant:A3"), QStringLiteral("user:Q7")}));
        QCOMPARE(f->snapshot().meta.head, 8);
        QCOMPARE(f->snapshot().meta.total, 9);
        QCOMPARE(f->snapshot().meta.length, 6);
    }

    // /messages pages through the active branch: below `before`, with total and length.
    void messagesFollowTheActiveBranch()
    {
        auto f = makeFixture();
        HF_CHECK_FIXTURE(*f);
        f->say(QStringLiteral("Q0"), QStringLiteral("A1"));
        f->say(QStringLiteral("Q2"), QStringLiteral("A3"));
        f->say(QStringLiteral("Q4"), QStringLiteral("A5"));
        f->edit(3, QStringLiteral("Q6"), QStringLiteral("A7")); // branch 0 1 2 3 6 7
        const auto page = [&](qint64 before, int limit) {
            const auto p = test::awaitResult(f->service->messages(f->sid, before, limit));
            return p.ok() ? p.value() : MessagePage{};
        };
        MessagePage p = page(-1, 50);
        QCOMPARE(indexes(p.messages), list({0, 1, 2, 3, 6, 7}));
        QCOMPARE(p.total, 8);
        QCOMPARE(p.length, 6);
        QCOMPARE(indexes(page(6, 2).messages), list({2, 3}));        // 6 on the branch
        QCOMPARE(indexes(page(5, 50).messages), list({0, 1, 2, 3})); // 5 is not: below 5
        QCOMPARE(indexes(page(3, 50).messages), list({0, 1, 2}));
        QCOMPARE(indexes(page(0, 50).messages), list({}));
        QCOMPARE(indexes(page(100, 3).messages), list({3, 6, 7}));
    }

    // A session nobody branched reads as before: parents i - 1, one sibling, length = total.
    void unbranchedSessionReadsAsBefore()
    {
        auto f = makeFixture();
        HF_CHECK_FIXTURE(*f);
        for (int i = 0; i < 4; ++i)
            f->say(QStringLiteral("Q%1").arg(2 * i), QStringLiteral("A%1").arg(2 * i + 1));
        const SessionSnapshot s = f->snapshot(5);
        QCOMPARE(s.meta.total, 8);
        QCOMPARE(s.meta.length, 8);
        QCOMPARE(s.meta.head, 7);
        QCOMPARE(indexes(s.history), list({3, 4, 5, 6, 7}));
        for (const Message &m : s.history) {
            QCOMPARE(m.parent, m.index - 1);
            QCOMPARE(m.siblings, list({m.index}));
        }
        const auto p = test::awaitResult(f->service->messages(f->sid, 6, 3));
        QVERIFY(p.ok());
        QCOMPARE(indexes(p->messages), list({3, 4, 5}));
    }

    void errors_data()
    {
        QTest::addColumn<QString>("prompt");
        QTest::addColumn<std::optional<qint64>>("parent");
        QTest::addColumn<qint64>("regenerate");
        QTest::addColumn<ErrorCode>("code");
        const std::optional<qint64> none;
        // The session holds Q0 A1.
        QTest::addRow("parent is a user message")
            << QStringLiteral("x") << std::optional<qint64>(0) << qint64(-1) << ErrorCode::Invalid;
        QTest::addRow("parent does not exist")
            << QStringLiteral("x") << std::optional<qint64>(9) << qint64(-1) << ErrorCode::Invalid;
        QTest::addRow("parent is negative")
            << QStringLiteral("x") << std::optional<qint64>(-2) << qint64(-1) << ErrorCode::Invalid;
        QTest::addRow("regenerate an answer")
            << QString() << none << qint64(1) << ErrorCode::Invalid;
        QTest::addRow("regenerate nothing") << QString() << none << qint64(7) << ErrorCode::Invalid;
        QTest::addRow("regenerate with a prompt")
            << QStringLiteral("x") << none << qint64(0) << ErrorCode::BadRequest;
        QTest::addRow("regenerate with a parent")
            << QString() << std::optional<qint64>(1) << qint64(0) << ErrorCode::BadRequest;
        QTest::addRow("regenerate with a null parent")
            << QString() << std::optional<qint64>(-1) << qint64(0) << ErrorCode::BadRequest;
    }
    void errors()
    {
        QFETCH(QString, prompt);
        QFETCH(std::optional<qint64>, parent);
        QFETCH(qint64, regenerate);
        QFETCH(ErrorCode, code);
        auto f = makeFixture();
        HF_CHECK_FIXTURE(*f);
        f->say(QStringLiteral("Q0"), QStringLiteral("A1"));
        const int requests = int(f->scripted->requests.size());
        StartTurnParams p;
        p.prompt = prompt;
        p.parent = parent;
        p.regenerate = regenerate;
        const auto refused = f->start(p);
        QVERIFY(!refused.ok());
        QCOMPARE(refused.error().code, code);
        // Nothing was stored or sent.
        QCOMPARE(f->snapshot().meta.total, 2);
        QCOMPARE(f->snapshot().meta.head, 1);
        QCOMPARE(f->scripted->requests.size(), requests);
    }

    void patchHeadErrors()
    {
        auto f = makeFixture();
        HF_CHECK_FIXTURE(*f);
        f->say(QStringLiteral("Q0"), QStringLiteral("A1"));
        PatchSessionParams p;
        p.head = 2;
        auto refused = test::awaitResult(f->service->patchSession(f->sid, p));
        QVERIFY(!refused.ok());
        QCOMPARE(refused.error().code, ErrorCode::Invalid);
        p.head = -1;
        refused = test::awaitResult(f->service->patchSession(f->sid, p));
        QVERIFY(!refused.ok());
        QCOMPARE(refused.error().code, ErrorCode::Invalid);

        // While a turn runs: 409, and head stays on the prompt.
        f->scripted->script.chunks = {QStringLiteral("a"), QStringLiteral("b")};
        f->scripted->script.delayMs = 300;
        StartTurnParams t;
        t.prompt = QStringLiteral("Q2");
        const auto started = f->start(t);
        QVERIFY(started.ok());
        p.head = 0;
        refused = test::awaitResult(f->service->patchSession(f->sid, p));
        QVERIFY(!refused.ok());
        QCOMPARE(refused.error().code, ErrorCode::Conflict);
        QCOMPARE(f->snapshot().meta.head, 2);
        HF_AWAIT_OK(f->service->waitForTurn(f->sid, started->id, 20000));
        QCOMPARE(f->snapshot().meta.head, 3);
    }

    // A new service on the same file finds head, the branch and its siblings (SQLite only).
    void treeSurvivesARestart()
    {
        QFETCH_GLOBAL(bool, persistent);
        if (!persistent)
            QSKIP("a memory store does not outlive its service");
        {
            auto f = makeFixture();
            HF_CHECK_FIXTURE(*f);
            f->say(QStringLiteral("Q0"), QStringLiteral("A1"));
            f->regenerate(0, QStringLiteral("A2"));
            PatchSessionParams p;
            p.head = 1;
            HF_AWAIT_OK(f->service->patchSession(f->sid, p));
        }
        auto f = makeFixture(false);
        HF_CHECK_FIXTURE(*f);
        const SessionSnapshot s = f->snapshot();
        QCOMPARE(s.meta.head, 1);
        QCOMPARE(s.meta.total, 3);
        QCOMPARE(indexes(s.history), list({0, 1}));
        QCOMPARE(s.history.last().siblings, list({1, 2}));
    }
};

QTEST_GUILESS_MAIN(TestServiceBranches)
#include "tst_servicebranches.moc"
