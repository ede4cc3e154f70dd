// The core's promises: a turn's answer is saved exactly once, whatever happens to the callers;
// and a turn's tool rounds (shared/API.md, Tools (MCP)) with the fake tool host of
// tests/fakes/faketoolhost.h. Over 600 lines: the service's rules share the fixture of
// tests/fakes/servicefixture.h (one test executable less in CI); branches have their own suite
// (tst_servicebranches).
#include "core/providerregistry.h"
#include "core/session.h"
#include "core/sessionservice.h"
#include "fakes/fakemodelserver.h"
#include "fakes/faketoolhost.h"
#include "fakes/faultystore.h"
#include "fakes/scriptedprovider.h"
#include "fakes/servicefixture.h"
#include "fakes/testutil.h"
#include "provider/demoprovider.h"
#include "provider/openaiprovider.h"
#include "store/memorystore.h"
#include "store/sqlitestore.h"

#include <QJsonArray>
#include <QSignalSpy>
#include <QTcpServer>
#include <QTemporaryDir>
#include <QTest>

using namespace holdfast;
using holdfast::test::FakeModelServer;
using holdfast::test::spinUntil;

namespace {

// A service with its store and providers, and the calls the tests repeat.
struct Fixture : test::ServiceFixture
{
    using ServiceFixture::ServiceFixture;

    QString create(const QString &id = {})
    {
        CreateSessionParams p;
        p.id = id;
        const auto created = test::awaitResult(service->createSession(p));
        return created.ok() ? created->meta.id : QString();
    }

    TurnRecord startTurn(const QString &sid, const QString &prompt, const QString &model = {})
    {
        StartTurnParams p;
        p.prompt = prompt;
        if (!model.isEmpty())
            p.model = model;
        return test::startedTurn(service.get(), sid, p);
    }

    // Waits for the turn to end (its final save done) and returns its stored record.
    TurnRecord finish(const QString &sid, int tid)
    {
        return test::finishedTurn(service.get(), sid, tid);
    }

    QList<Message> stored(const QString &sid) { return test::storedMessages(store.get(), sid); }
};

std::unique_ptr<Store> sqliteStore(const QString &path)
{
    return std::make_unique<SqliteStore>(path);
}

// Fills a session with `count` messages straight through the store (fast for big sessions).
void seedMessages(Store *store, const QString &sid, int count)
{
    HF_AWAIT(meta, store->loadSession(sid));
    QVERIFY(meta && meta->ok() && meta->value());
    SessionMeta m = *meta->value();
    for (int i = 0; i < count; i += 2) {
        Message user{m.total,
                     QStringLiteral("user"),
                     QStringLiteral("question %1").arg(i),
                     m.lastTurn + 1,
                     Message::State::Complete,
                     QDateTime::currentDateTimeUtc(),
                     m.total - 1,
                     m.total,
                     {},
                     {},
                     {}};
        TurnRecord t;
        t.id = m.lastTurn + 1;
        t.session = sid;
        t.state = TurnRecord::State::Streaming;
        t.promptIndex = m.total;
        t.model = m.model;
        t.createdAt = user.createdAt;
        m.total += 1;
        m.lastTurn = t.id;
        HF_AWAIT_OK(store->beginTurn(m, user, t));
        Message answer = user;
        answer.index = m.total;
        answer.role = QStringLiteral("assistant");
        answer.content = QStringLiteral("answer %1").arg(i + 1);
        answer.parent = user.index;
        answer.depth = user.depth + 1;
        m.total += 1;
        m.head = answer.index; // one branch: head is the newest message
        m.length = m.total;
        t.state = TurnRecord::State::Done;
        t.responseIndex = answer.index;
        HF_AWAIT_OK(store->finishTurn(m, answer, t));
    }
}

// A fixture whose chats talk to a wire-level fake OpenAI server ("fake/fake-model").
struct TitleFixture : Fixture
{
    test::FakeModelServer upstream;
    bool listening = false;

    explicit TitleFixture(bool autoTitle)
        : Fixture(std::make_unique<MemoryStore>(), titleConfig(autoTitle))
    {
        listening = upstream.listen();
        UpstreamConfig c;
        c.name = QStringLiteral("fake");
        c.baseUrl = QUrl(upstream.openAiBaseUrl());
        c.defaultModel = QStringLiteral("fake-model");
        c.models = {c.defaultModel};
        registry.add(new OpenAiProvider(c), c.models);
    }
    static ServiceConfig titleConfig(bool autoTitle)
    {
        ServiceConfig config;
        config.autoTitle = autoTitle;
        return config;
    }
    static FakeModelServer::Script answer(const QStringList &chunks, int delayMs = 0)
    {
        FakeModelServer::Script script;
        script.chunks = chunks;
        script.delayMs = delayMs;
        return script;
    }
    SessionMeta meta(const QString &sid)
    {
        const auto got = test::awaitResult(service->session(sid, 0));
        return got.ok() ? got->meta : SessionMeta{};
    }
};

// A service with the fake tool host and a session "tools" on the scripted model that may use
// `tools` (shared/API.md, Tools (MCP)).
struct ToolFixture : Fixture
{
    test::FakeToolHost host;
    QString sid = QStringLiteral("tools");

    ToolFixture(ToolApproval approval, ServiceConfig config = {},
                QStringList tools = {QStringLiteral("t/echo")})
        : Fixture(std::make_unique<MemoryStore>(), config)
    {
        if (!failure.isEmpty())
            return;
        service->setToolHost(&host);
        CreateSessionParams c;
        c.id = sid;
        c.model = QStringLiteral("scripted");
        PatchSessionParams p;
        p.tools = tools;
        p.toolApproval = approval;
        if (!test::awaitResult(service->createSession(c)).ok() ||
            !test::awaitResult(service->patchSession(sid, p)).ok())
            failure = QStringLiteral("no session");
    }
    ~ToolFixture() { test::awaitVoid(service->shutdown()); } // before the host goes

    // The model's next generations: `text`, then the calls (none: it ends there).
    void script(const QString &text, const QList<ProviderToolCall> &calls = {})
    {
        test::ScriptedProvider::Script next;
        next.chunks = {text};
        next.delayMs = 1;
        next.toolCalls = calls;
        scripted->queue.append(next);
    }
    TurnRecord start(const QString &prompt = QStringLiteral("go"))
    {
        return startTurn(sid, prompt);
    }
    QList<Chunk> chunks(int tid)
    {
        const auto loaded = test::awaitResult(store->loadChunks(sid, tid, 0, 1000));
        return loaded.ok() ? loaded.value() : QList<Chunk>{};
    }
    Message answer() { return stored(sid).value(stored(sid).size() - 1); }
    bool waiting(int tid)
    {
        const auto t = test::awaitResult(service->turn(sid, tid));
        return t.ok() && t->state == TurnRecord::State::Waiting;
    }
};

QJsonObject args(const QString &value)
{
    return QJsonObject{{QStringLiteral("v"), value}};
}

// The kinds of a turn's chunks in order: "text", "call ID", "result ID".
QStringList steps(const QList<Chunk> &chunks)
{
    QStringList kinds;
    for (const Chunk &c : chunks) {
        if (c.toolCall)
            kinds << QStringLiteral("call ") + c.toolCall->id;
        else if (c.toolResult)
            kinds << QStringLiteral("result ") + c.toolResult->id;
        else
            kinds << QStringLiteral("text");
    }
    return kinds;
}

} // namespace

class TestSessionService : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase() { qRegisterMetaType<TurnRecord>(); }

    // API.md's ^[A-Za-z0-9_-]{1,64}$, matched against the whole string: a line feed at the end
    // must not pass (it would reach a Location header).
    void validSessionId_data()
    {
        QTest::addColumn<QString>("id");
        QTest::addColumn<bool>("valid");
        QTest::addRow("letters") << QStringLiteral("abc") << true;
        QTest::addRow("all kinds") << QStringLiteral("aZ09_-") << true;
        QTest::addRow("one") << QStringLiteral("a") << true;
        QTest::addRow("64") << QString(64, u'x') << true;
        QTest::addRow("65") << QString(65, u'x') << false;
        QTest::addRow("empty") << QString() << false;
        QTest::addRow("trailing LF") << QStringLiteral("a\n") << false;
        QTest::addRow("trailing CR") << QStringLiteral("a\r") << false;
        QTest::addRow("trailing CRLF") << QStringLiteral("a\r\n") << false;
        QTest::addRow("two LF") << QStringLiteral("a\n\n") << false;
        QTest::addRow("leading LF") << QStringLiteral("\na") << false;
        QTest::addRow("64 and LF") << QString(64, u'x') + u'\n' << false;
        QTest::addRow("space") << QStringLiteral("a b") << false;
        QTest::addRow("dot") << QStringLiteral("a.b") << false;
        QTest::addRow("NUL") << QString(QStringLiteral("a") + QChar(0)) << false;
        QTest::addRow("non-ASCII letter") << QStringLiteral("\u00e9") << false;
        QTest::addRow("fullwidth digit") << QStringLiteral("\uff11") << false;
    }
    void validSessionId()
    {
        QFETCH(QString, id);
        QFETCH(bool, valid);
        QCOMPARE(SessionService::isValidSessionId(id), valid);
    }

    // The gist's bug, in-process: the caller lets go at once; the answer is still saved.
    void gistScenarioSavesTheAnswer()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("gist.db"));
        QString sid;
        QStringList chunks;
        {
            Fixture f(sqliteStore(path));
            HF_CHECK_FIXTURE(f);
            sid = f.create(QStringLiteral("gist"));
            QSignalSpy finished(f.service.get(), &SessionService::turnFinished);
            QObject::connect(
                f.service.get(), &SessionService::chunkReady,
                [&](const QString &, int, int, const QString &text) { chunks << text; });
            // Every chunk is followed by the end of its batch, before the turn ends (the HTTP
            // layer writes a batch out at its end); no batch is empty.
            qsizetype batchStart = 0;
            int batches = 0;
            bool emptyBatch = false;
            bool openBatchAtEnd = false;
            QObject::connect(f.service.get(), &SessionService::chunkBatchEnded,
                             [&](const QString &s, int tid) {
                                 emptyBatch |= s != sid || tid != 1 || chunks.size() == batchStart;
                                 batchStart = chunks.size();
                                 ++batches;
                             });
            QObject::connect(f.service.get(), &SessionService::turnFinished,
                             [&] { openBatchAtEnd = chunks.size() != batchStart; });
            {
                // The caller's only handle is the TurnRecord value; it is dropped right away.
                const TurnRecord t = f.startTurn(sid, QStringLiteral("Plan a trip to Lisbon"));
                QCOMPARE(t.id, 1);
            }
            QVERIFY(finished.wait(20000));
            QCOMPARE(finished.first().first().value<TurnRecord>().state, TurnRecord::State::Done);
            QVERIFY(!emptyBatch);
            QVERIFY(!openBatchAtEnd);
            QVERIFY(batches >= 1 && batches <= chunks.size());
        }
        QVERIFY(chunks.size() > 1);

        // A NEW store object on the same file.
        SqliteStore reopened(path);
        HF_AWAIT_OK(reopened.open());
        HF_AWAIT(meta, reopened.loadSession(sid));
        QVERIFY(meta && meta->ok() && meta->value());
        QCOMPARE(meta->value()->total, 2);
        QCOMPARE(meta->value()->activeTurn, 0);
        HF_AWAIT(messages, reopened.loadMessages(sid, 0, 2));
        QVERIFY(messages && messages->ok());
        QCOMPARE(messages->value().size(), 2);
        QCOMPARE(messages->value().at(0).role, QStringLiteral("user"));
        QCOMPARE(messages->value().at(0).content, QStringLiteral("Plan a trip to Lisbon"));
        QCOMPARE(messages->value().at(1).role, QStringLiteral("assistant"));
        QCOMPARE(messages->value().at(1).state, Message::State::Complete);
        QCOMPARE(messages->value().at(1).content, chunks.join(QString()));
        HF_AWAIT(turn, reopened.loadTurn(sid, 1));
        QCOMPARE(turn->value()->state, TurnRecord::State::Done);
        QCOMPARE(turn->value()->responseIndex, 1);
        QCOMPARE(turn->value()->chunks, chunks.size());
    }

    // A session whose turn failed to start is idle at once, and over the bound it is unloaded
    // then, not whenever some other session next goes idle (here: when a long turn ends).
    void lruUnloadsASessionWhoseTurnFailedToStart()
    {
        ServiceConfig config;
        config.maxLoadedSessions = 1;
        // A store that answers from its own thread, so that the refusal comes after a wait.
        QTemporaryDir dir;
        Fixture f(sqliteStore(dir.filePath(QStringLiteral("lru.db"))), config, 50, 20);
        HF_CHECK_FIXTURE(f);
        const QString busy = f.create(QStringLiteral("busy"));
        const QString failing = f.create(QStringLiteral("failing"));
        QCOMPARE(f.startTurn(failing, QStringLiteral("hello")).id, 1);
        QCOMPARE(f.finish(failing, 1).state, TurnRecord::State::Done);
        QCOMPARE(f.startTurn(busy, QStringLiteral("hello")).id, 1);
        StartTurnParams p;
        p.regenerate = 1; // the answer, not a user message: refused once read from the store
        const auto refused = test::awaitResult(f.service->startTurn(failing, p));
        QVERIFY(!refused.ok());
        QCOMPARE(refused.error().code, ErrorCode::Invalid);
        QVERIFY(f.service->liveTurn(busy, 1));
        QVERIFY(spinUntil([&] { return !f.service->isLoaded(failing); }, 1000));
        QVERIFY(f.service->liveTurn(busy, 1)); // it went before the turn ended
        QVERIFY(f.service->isLoaded(busy));
        QCOMPARE(f.finish(busy, 1).state, TurnRecord::State::Done);
    }

    // Many sessions busy at once, far over the bound: none is unloaded while busy, and once
    // their turns end the service is back at the bound, keeping the most recently used.
    void lruBackToTheBoundAfterManyBusySessions()
    {
        ServiceConfig config;
        config.maxLoadedSessions = 3;
        Fixture f(std::make_unique<MemoryStore>(), config, 5, 5);
        HF_CHECK_FIXTURE(f);
        QStringList sids;
        for (int i = 0; i < 12; ++i) {
            sids << f.create(QStringLiteral("s%1").arg(i));
            QCOMPARE(f.startTurn(sids.last(), QStringLiteral("hello")).id, 1);
        }
        QCOMPARE(f.service->loadedSessionCount(), 12);
        for (const QString &sid : std::as_const(sids))
            QCOMPARE(f.finish(sid, 1).state, TurnRecord::State::Done);
        QVERIFY(spinUntil([&] { return f.service->loadedSessionCount() == 3; }, 5000));
        HF_AWAIT_OK(f.service->session(sids.first())); // loaded again, the others make room
        QTest::qWait(20);
        QCOMPARE(f.service->loadedSessionCount(), 3);
        QVERIFY(f.service->isLoaded(sids.first()));
    }

    // LRU pressure while the turn runs: the busy session stays loaded until its save is done.
    void lruNeverUnloadsABusySession()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("lru.db"));
        ServiceConfig config;
        config.maxLoadedSessions = 3;
        QString text;
        {
            Fixture f(sqliteStore(path), config, 100, 20); // two seconds of answer
            HF_CHECK_FIXTURE(f);
            const QString sid = f.create(QStringLiteral("busy"));
            QStringList others;
            for (int i = 0; i < 40; ++i)
                others << f.create(QStringLiteral("other-%1").arg(i));
            QObject::connect(f.service.get(), &SessionService::chunkReady,
                             [&](const QString &s, int, int, const QString &t) {
                                 if (s == QLatin1String("busy"))
                                     text += t;
                             });
            const TurnRecord t = f.startTurn(sid, QStringLiteral("hello"));
            QCOMPARE(t.id, 1);
            // Load every other session while the answer streams: far past the bound. (On a slow
            // machine, under valgrind say, the answer may end first: only loads made while it
            // streamed count, and there must be some.)
            int whileStreaming = 0;
            for (const QString &o : std::as_const(others)) {
                const bool streaming = f.service->liveTurn(sid, 1) != nullptr;
                HF_AWAIT_OK(f.service->session(o));
                if (streaming && f.service->liveTurn(sid, 1)) {
                    ++whileStreaming;
                    QVERIFY(f.service->isLoaded(sid));
                }
                QVERIFY(f.service->loadedSessionCount() <= config.maxLoadedSessions + 2);
            }
            QVERIFY(whileStreaming > 0);
            QCOMPARE(f.finish(sid, 1).state, TurnRecord::State::Done);
            // Idle now: more pressure unloads it.
            for (const QString &o : std::as_const(others))
                HF_AWAIT_OK(f.service->session(o));
            QVERIFY(spinUntil([&] { return !f.service->isLoaded(sid); }, 5000));
        }
        SqliteStore reopened(path);
        HF_AWAIT_OK(reopened.open());
        HF_AWAIT(messages, reopened.loadMessages(QStringLiteral("busy"), 0, 10));
        QCOMPARE(messages->value().size(), 2);
        QCOMPARE(messages->value().at(1).content, text);
        QVERIFY(!text.isEmpty());
    }

    void incrementalSaves_data()
    {
        QTest::addColumn<QString>("kind");
        QTest::addRow("memory") << QStringLiteral("memory");
        QTest::addRow("sqlite") << QStringLiteral("sqlite");
    }

    // One more turn on a 10,000-message session writes as many rows as on a 2-message one.
    void incrementalSaves()
    {
        QFETCH(QString, kind);
        QTemporaryDir dir;
        std::unique_ptr<Store> store;
        if (kind == QLatin1String("memory"))
            store = std::make_unique<MemoryStore>();
        else
            store = sqliteStore(dir.filePath(QStringLiteral("inc.db")));
        Fixture f(std::move(store), {}, 5, 4);
        HF_CHECK_FIXTURE(f);
        const QString small = f.create(QStringLiteral("small"));
        const QString big = f.create(QStringLiteral("big"));
        HF_CALL(seedMessages(f.store.get(), small, 2));
        HF_CALL(seedMessages(f.store.get(), big, 10000));

        auto rowsForOneTurn = [&](const QString &sid) {
            const quint64 before = f.store->rowsWritten();
            const TurnRecord t = f.startTurn(sid, QStringLiteral("one more"));
            f.finish(sid, t.id);
            return f.store->rowsWritten() - before;
        };
        const quint64 smallRows = rowsForOneTurn(small);
        const quint64 bigRows = rowsForOneTurn(big);
        qInfo() << kind << "rows written by one turn: 2 messages" << smallRows << "10,000 messages"
                << bigRows;
        // user message + turn + meta, 4 chunks (+ the turn's chunk count once per batch, so up
        // to 4), answer + turn + meta: whatever the history's length.
        constexpr quint64 kMaxRows = 3 + 4 * 2 + 3;
        QVERIFY2(smallRows <= kMaxRows, qPrintable(QString::number(smallRows)));
        QVERIFY2(bigRows <= kMaxRows, qPrintable(QString::number(bigRows)));
        QCOMPARE(f.stored(big).size(), 10002);
    }

    // A 100,000-message session opens with its newest 30, in order.
    void windowOfAHugeSession()
    {
        Fixture f(std::make_unique<MemoryStore>());
        HF_CHECK_FIXTURE(f);
        const QString sid = f.create(QStringLiteral("huge"));
        HF_CALL(seedMessages(f.store.get(), sid, 100000));
        HF_AWAIT(snapshot, f.service->session(sid, 30));
        QVERIFY(snapshot && snapshot->ok());
        QCOMPARE(snapshot->value().meta.total, 100000);
        const QList<Message> &h = snapshot->value().history;
        QCOMPARE(h.size(), 30);
        for (int i = 0; i < 30; ++i)
            QCOMPARE(h.at(i).index, 100000 - 30 + i);
        QCOMPARE(h.last().content, QStringLiteral("answer 99999"));
        HF_AWAIT(page, f.service->messages(sid, 50, 20));
        QCOMPARE(page->value().messages.size(), 20);
        QCOMPARE(page->value().messages.first().index, 30);
        QCOMPARE(page->value().total, 100000);
    }

    // A crash left a turn streaming with 3 stored chunks: the next start saves them, interrupted.
    void recoveryOfACrashedTurn()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("crash.db"));
        {
            SqliteStore store(path);
            HF_AWAIT_OK(store.open());
            SessionMeta meta;
            meta.id = QStringLiteral("crashed");
            meta.model = QStringLiteral("demo");
            meta.createdAt = meta.updatedAt = QDateTime::currentDateTimeUtc();
            HF_AWAIT_OK(store.createSession(meta));
            Message prompt{0,
                           QStringLiteral("user"),
                           QStringLiteral("tell me"),
                           1,
                           Message::State::Complete,
                           meta.createdAt,
                           -1,
                           0,
                           {},
                           {},
                           {}};
            TurnRecord turn;
            turn.id = 1;
            turn.session = meta.id;
            turn.state = TurnRecord::State::Streaming;
            turn.promptIndex = 0;
            turn.model = QStringLiteral("demo");
            turn.createdAt = meta.createdAt;
            meta.total = 1;
            meta.lastTurn = 1;
            meta.activeTurn = 1;
            HF_AWAIT_OK(store.beginTurn(meta, prompt, turn));
            HF_AWAIT_OK(store.appendChunks(meta.id, 1, {{0, QStringLiteral("Hel")}}));
            HF_AWAIT_OK(store.appendChunks(
                meta.id, 1, {{1, QStringLiteral("lo, ")}, {2, QStringLiteral("wor")}}));
            // ... and the process dies here.
        }
        std::optional<TurnRecord> cut;
        {
            SqliteStore store(path);
            HF_AWAIT_OK(store.open());
            HF_AWAIT(loaded, store.loadTurn(QStringLiteral("crashed"), 1));
            QVERIFY(loaded && loaded->ok());
            cut = loaded->value();
        }
        QVERIFY(cut && cut->firstChunkAt.isValid());
        Fixture f(sqliteStore(path));
        HF_CHECK_FIXTURE(f);
        const QList<Message> messages = f.stored(QStringLiteral("crashed"));
        QCOMPARE(messages.size(), 2);
        QCOMPARE(messages.at(1).role, QStringLiteral("assistant"));
        QCOMPARE(messages.at(1).state, Message::State::Interrupted);
        QCOMPARE(messages.at(1).content, QStringLiteral("Hello, wor"));
        HF_AWAIT(turn, f.service->turn(QStringLiteral("crashed"), 1));
        QCOMPARE(turn->value().state, TurnRecord::State::Interrupted);
        QCOMPARE(turn->value().responseIndex, 1);
        // When its first chunk was stored stays known.
        QCOMPARE(turn->value().firstChunkAt, cut->firstChunkAt);
        HF_AWAIT(snapshot, f.service->session(QStringLiteral("crashed")));
        QCOMPARE(snapshot->value().meta.activeTurn, 0);
        // The session is usable again, and recovery is not repeated.
        const TurnRecord next = f.startTurn(QStringLiteral("crashed"), QStringLiteral("again"));
        QCOMPARE(next.id, 2);
        QCOMPARE(f.finish(QStringLiteral("crashed"), 2).state, TurnRecord::State::Done);
        QCOMPARE(f.stored(QStringLiteral("crashed")).size(), 4);
    }

    // Uploads no message uses are deleted when the service starts once they are a day old; the
    // ones a prompt uses and the newer ones stay.
    void startDeletesOldUnusedUploads()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("uploads.db"));
        const QDateTime now = QDateTime::currentDateTimeUtc();
        const auto upload = [](const QString &id, const QDateTime &created) {
            Attachment a;
            a.id = id;
            a.name = id;
            a.type = QStringLiteral("text/plain");
            a.size = 1;
            a.createdAt = created;
            return a;
        };
        const QString sid = QStringLiteral("up");
        {
            SqliteStore store(path);
            HF_AWAIT_OK(store.open());
            SessionMeta meta;
            meta.id = sid;
            meta.model = QStringLiteral("demo");
            meta.createdAt = meta.updatedAt = now;
            HF_AWAIT_OK(store.createSession(meta));
            HF_AWAIT_OK(store.putAttachment(
                sid, upload(QStringLiteral("stale"), now.addSecs(-90000)), "s"));
            HF_AWAIT_OK(
                store.putAttachment(sid, upload(QStringLiteral("used"), now.addSecs(-90000)), "u"));
            HF_AWAIT_OK(store.putAttachment(
                sid, upload(QStringLiteral("recent"), now.addSecs(-3600)), "r"));
            Message prompt;
            prompt.role = QStringLiteral("user");
            prompt.content = QStringLiteral("see");
            prompt.turn = 1;
            prompt.createdAt = now;
            prompt.attachments = {upload(QStringLiteral("used"), now)};
            TurnRecord turn;
            turn.id = 1;
            turn.session = sid;
            turn.state = TurnRecord::State::Cancelled;
            turn.model = QStringLiteral("demo");
            turn.createdAt = now;
            meta.total = 1;
            meta.head = 0;
            meta.length = 1;
            meta.lastTurn = 1;
            HF_AWAIT_OK(store.beginTurn(meta, prompt, turn));
        }
        Fixture f(sqliteStore(path));
        HF_CHECK_FIXTURE(f);
        HF_AWAIT(stale, f.store->loadAttachment(sid, QStringLiteral("stale")));
        QVERIFY(stale && stale->ok() && !stale->value());
        for (const QString &kept : {QStringLiteral("used"), QStringLiteral("recent")}) {
            HF_AWAIT(found, f.store->loadAttachment(sid, kept));
            QVERIFY2(found && found->ok() && found->value(), qPrintable(kept));
        }
    }

    void cancelMidStream()
    {
        Fixture f(std::make_unique<MemoryStore>(), {}, 30, 50);
        HF_CHECK_FIXTURE(f);
        const QString sid = f.create();
        QSignalSpy chunks(f.service.get(), &SessionService::chunkReady);
        const TurnRecord t = f.startTurn(sid, QStringLiteral("long answer please"));
        QVERIFY(spinUntil([&] { return chunks.size() >= 3; }));
        HF_AWAIT(cancelled, f.service->cancelTurn(sid, t.id));
        QVERIFY(cancelled && cancelled->ok());
        QCOMPARE(cancelled->value().state, TurnRecord::State::Cancelled);
        const QList<Message> messages = f.stored(sid);
        QCOMPARE(messages.size(), 2);
        QCOMPARE(messages.at(1).state, Message::State::Interrupted);
        QString seen;
        for (const auto &c : chunks)
            seen += c.at(3).toString();
        QCOMPARE(messages.at(1).content, seen);
        QVERIFY(seen.size() < DemoProvider::answerFor(
                                  {{QStringLiteral("user"), QStringLiteral("long answer please")}})
                                  .size());
        // Cancelling an ended turn changes nothing.
        HF_AWAIT(again, f.service->cancelTurn(sid, t.id));
        QCOMPARE(again->value().state, TurnRecord::State::Cancelled);
        QCOMPARE(f.stored(sid).size(), 2);
    }

    // auto: the call runs at once; the call and its result are chunks, announced in seq order
    // with the text; the next request carries them; the answer's content is the text only.
    void toolCallRunsAtOnceUnderAuto()
    {
        ToolFixture f(ToolApproval::Auto);
        HF_CHECK_FIXTURE(f);
        f.script(QStringLiteral("Let me look. "),
                 {test::modelCall(QStringLiteral("c1"), QStringLiteral("t/echo"),
                                  args(QStringLiteral("x")))});
        f.script(QStringLiteral("Done."));
        f.scripted->queue[0].usage = TokenUsage{10, 2};
        f.scripted->queue[1].usage = TokenUsage{20, 3};
        QList<int> announced; // seq of each chunk as announced, tool steps negative
        QObject::connect(f.service.get(), &SessionService::chunkReady,
                         [&](const QString &, int, int seq, const QString &) { announced << seq; });
        QObject::connect(f.service.get(), &SessionService::toolStepReady,
                         [&](const QString &, int, const Chunk &c) { announced << -c.seq; });
        QSignalSpy states(f.service.get(), &SessionService::turnStateChanged);
        const TurnRecord t = f.start();
        const TurnRecord ended = f.finish(f.sid, t.id);
        QCOMPARE(ended.state, TurnRecord::State::Done);
        QCOMPARE(ended.usage, (TokenUsage{30, 5})); // the rounds' usage summed
        QCOMPARE(announced, (QList<int>{0, -1, -2, 3}));
        QCOMPARE(states.size(), 0); // never waiting
        const QList<Chunk> chunks = f.chunks(t.id);
        QCOMPARE(steps(chunks), (QStringList{QStringLiteral("text"), QStringLiteral("call c1"),
                                             QStringLiteral("result c1"), QStringLiteral("text")}));
        QCOMPARE(chunks.at(1).text, QString());
        QCOMPARE(chunks.at(1).toolCall->name, QStringLiteral("t/echo"));
        QCOMPARE(chunks.at(2).toolResult->content, QStringLiteral("{\"v\":\"x\"}"));
        QVERIFY(chunks.at(2).toolResult->approved);
        QCOMPARE(f.host.calls.size(), 1);
        const Message answer = f.answer();
        QCOMPARE(answer.content, QStringLiteral("Let me look. Done."));
        QCOMPARE(answer.toolCalls.size(), 1);
        QCOMPARE(answer.toolCalls.at(0).offset, 13);
        QCOMPARE(answer.toolCalls.at(0).result, QStringLiteral("{\"v\":\"x\"}"));
        QVERIFY(answer.toolCalls.at(0).approved && !answer.toolCalls.at(0).isError);
        // The first request offered the tool by its function name; the second one carries the
        // call and its result.
        QCOMPARE(f.scripted->requests.size(), 2);
        const ProviderRequest &first = f.scripted->requests.at(0);
        QCOMPARE(first.tools.size(), 1);
        QCOMPARE(first.tools.at(0).name, QStringLiteral("t/echo"));
        QCOMPARE(first.tools.at(0).wireName, QStringLiteral("t__echo"));
        const QList<ChatMessage> &sent = f.scripted->requests.at(1).messages;
        QCOMPARE(sent.size(), 3);
        QCOMPARE(sent.at(1).role, QStringLiteral("assistant"));
        QCOMPARE(sent.at(1).content, QStringLiteral("Let me look. "));
        QCOMPARE(sent.at(1).toolCalls.size(), 1);
        QCOMPARE(sent.at(1).toolCalls.at(0).wireName, QStringLiteral("t__echo"));
        QCOMPARE(sent.at(2).role, QStringLiteral("tool"));
        QCOMPARE(sent.at(2).toolCallId, QStringLiteral("c1"));
        QCOMPARE(sent.at(2).content, QStringLiteral("{\"v\":\"x\"}"));
    }

    // ask: the turn waits (state waiting) until the call is answered; approved runs it,
    // declined sends the model the declined result. A second answer is 409, an unknown call 404.
    void toolCallWaitsForApproval_data()
    {
        QTest::addColumn<bool>("approve");
        QTest::addRow("approve") << true;
        QTest::addRow("decline") << false;
    }
    void toolCallWaitsForApproval()
    {
        QFETCH(bool, approve);
        ToolFixture f(ToolApproval::Ask);
        HF_CHECK_FIXTURE(f);
        f.script(QString(), {test::modelCall(QStringLiteral("c1"), QStringLiteral("t/echo"),
                                             args(QStringLiteral("y")))});
        f.script(QStringLiteral("after"));
        QSignalSpy states(f.service.get(), &SessionService::turnStateChanged);
        const TurnRecord t = f.start();
        QVERIFY(spinUntil([&] { return f.waiting(t.id); }));
        QCOMPARE(states.size(), 1);
        QCOMPARE(states.at(0).at(0).value<TurnRecord>().state, TurnRecord::State::Waiting);
        QCOMPARE(f.host.calls.size(), 0);
        HF_AWAIT(unknown, f.service->answerToolCall(f.sid, t.id, QStringLiteral("nope"), true));
        QCOMPARE(unknown->error().code, ErrorCode::NotFound);
        HF_AWAIT(answered, f.service->answerToolCall(f.sid, t.id, QStringLiteral("c1"), approve));
        QVERIFY(answered->ok());
        HF_AWAIT(again, f.service->answerToolCall(f.sid, t.id, QStringLiteral("c1"), approve));
        QCOMPARE(again->error().code, ErrorCode::Conflict);
        QCOMPARE(f.finish(f.sid, t.id).state, TurnRecord::State::Done);
        QCOMPARE(states.size(), 2);
        QCOMPARE(states.at(1).at(0).value<TurnRecord>().state, TurnRecord::State::Streaming);
        QCOMPARE(f.host.calls.size(), approve ? 1 : 0);
        const ToolResult result = *f.chunks(t.id).at(1).toolResult;
        QCOMPARE(result.approved, approve);
        QCOMPARE(result.isError, !approve);
        QCOMPARE(result.content, approve ? QStringLiteral("{\"v\":\"y\"}")
                                         : QStringLiteral("the user declined this tool call"));
        QCOMPARE(f.scripted->requests.at(1).messages.last().content, result.content);
        QCOMPARE(f.answer().toolCalls.at(0).approved, approve);
        // The ended turn's call does not wait any more.
        HF_AWAIT(ended, f.service->answerToolCall(f.sid, t.id, QStringLiteral("c1"), true));
        QCOMPARE(ended->error().code, ErrorCode::Conflict);
    }

    // Nobody answers within --tool-approval-timeout-ms: the call is declined; the turn goes on.
    void unansweredToolCallIsDeclined()
    {
        ServiceConfig config;
        config.toolApprovalTimeoutMs = 50;
        ToolFixture f(ToolApproval::Ask, config);
        HF_CHECK_FIXTURE(f);
        f.script(QString(), {test::modelCall(QStringLiteral("c1"), QStringLiteral("t/echo"),
                                             args(QStringLiteral("z")))});
        f.script(QStringLiteral("ok"));
        const TurnRecord t = f.start();
        QCOMPARE(f.finish(f.sid, t.id).state, TurnRecord::State::Done);
        QCOMPARE(f.host.calls.size(), 0);
        const ToolResult result = *f.chunks(t.id).at(1).toolResult;
        QCOMPARE(result.content, QStringLiteral("the user declined this tool call"));
        QVERIFY(result.isError && !result.approved);
        QCOMPARE(f.answer().content, QStringLiteral("ok"));
    }

    // Several calls at once: every call is a chunk in the model's order, then every result in
    // that order. A failing tool and a tool that was not offered give error results, and the
    // turn goes on.
    void severalToolCallsInOneRound()
    {
        ToolFixture f(ToolApproval::Auto, {}, {QStringLiteral("t/echo"), QStringLiteral("t/fail")});
        HF_CHECK_FIXTURE(f);
        const QStringList offered{QStringLiteral("t/echo"), QStringLiteral("t/fail")};
        f.script(QStringLiteral("three: "),
                 {test::modelCall(QStringLiteral("a"), QStringLiteral("t/echo"),
                                  args(QStringLiteral("1")), offered),
                  test::modelCall(QStringLiteral("b"), QStringLiteral("t/fail"), {}, offered),
                  test::modelCall(QStringLiteral("c"), QStringLiteral("ghost"), {}, offered),
                  test::modelCall(QStringLiteral("d"), QStringLiteral("t/echo"),
                                  args(QStringLiteral("2")), offered)});
        f.script(QStringLiteral("end"));
        const TurnRecord t = f.start();
        QCOMPARE(f.finish(f.sid, t.id).state, TurnRecord::State::Done);
        QCOMPARE(steps(f.chunks(t.id)),
                 (QStringList{QStringLiteral("text"), QStringLiteral("call a"),
                              QStringLiteral("call b"), QStringLiteral("call c"),
                              QStringLiteral("call d"), QStringLiteral("result a"),
                              QStringLiteral("result b"), QStringLiteral("result c"),
                              QStringLiteral("result d"), QStringLiteral("text")}));
        QCOMPARE(f.host.calls.size(), 3); // the tool not offered never reached the host
        const QList<MessageToolCall> calls = f.answer().toolCalls;
        QCOMPARE(calls.size(), 4);
        QVERIFY(!calls.at(0).isError);
        QVERIFY(calls.at(1).isError);
        QCOMPARE(calls.at(1).result, QStringLiteral("the tool failed"));
        QVERIFY(calls.at(2).isError);
        QCOMPARE(calls.at(2).name, QStringLiteral("ghost"));
        QCOMPARE(calls.at(3).result, QStringLiteral("{\"v\":\"2\"}"));
        // One assistant message with the four calls, then four tool messages in order.
        const QList<ChatMessage> &sent = f.scripted->requests.at(1).messages;
        QCOMPARE(sent.size(), 6);
        QCOMPARE(sent.at(1).toolCalls.size(), 4);
        QStringList ids;
        for (qsizetype i = 2; i < sent.size(); ++i)
            ids << sent.at(i).toolCallId;
        QCOMPARE(ids, (QStringList{QStringLiteral("a"), QStringLiteral("b"), QStringLiteral("c"),
                                   QStringLiteral("d")}));
    }

    // At most --max-tool-rounds rounds; then the model is asked once more without tools and the
    // turn ends with its text (calls it asks for then are not run).
    void maxToolRoundsThenNoTools()
    {
        ServiceConfig config;
        config.maxToolRounds = 2;
        ToolFixture f(ToolApproval::Auto, config);
        HF_CHECK_FIXTURE(f);
        f.scripted->script.chunks = {QStringLiteral("again ")};
        f.scripted->script.delayMs = 1;
        f.scripted->script.toolCalls = {
            test::modelCall(QString(), QStringLiteral("t/echo"), args(QStringLiteral("r")))};
        const TurnRecord t = f.start();
        const TurnRecord ended = f.finish(f.sid, t.id);
        QCOMPARE(ended.state, TurnRecord::State::Done);
        QVERIFY(!ended.usage); // no round reported any
        QCOMPARE(f.scripted->requests.size(), 3);
        QCOMPARE(f.scripted->requests.at(0).tools.size(), 1);
        QCOMPARE(f.scripted->requests.at(1).tools.size(), 1);
        QVERIFY(f.scripted->requests.at(2).tools.isEmpty());
        QCOMPARE(f.host.calls.size(), 2);
        const Message answer = f.answer();
        QCOMPARE(answer.content, QStringLiteral("again again again "));
        QCOMPARE(answer.toolCalls.size(), 2);
        // Calls without an id from the model get one, unique in the turn.
        QVERIFY(!answer.toolCalls.at(0).id.isEmpty());
        QVERIFY(answer.toolCalls.at(0).id != answer.toolCalls.at(1).id);
    }

    // A tool name whose server is not configured is 422 on a turn and on PATCH; a configured
    // server that is not ready is allowed; without any tool server every name is 422.
    void toolNamesAreChecked_data()
    {
        QTest::addColumn<QStringList>("tools");
        QTest::addColumn<bool>("withHost");
        QTest::addColumn<bool>("accepted");
        QTest::addRow("all") << QStringList{QStringLiteral("*")} << true << true;
        QTest::addRow("one") << QStringList{QStringLiteral("t/echo")} << true << true;
        QTest::addRow("server not ready") << QStringList{QStringLiteral("down/x")} << true << true;
        QTest::addRow("none") << QStringList{} << false << true;
        QTest::addRow("unknown server")
            << QStringList{QStringLiteral("t/echo"), QStringLiteral("nope/x")} << true << false;
        QTest::addRow("no slash") << QStringList{QStringLiteral("echo")} << true << false;
        QTest::addRow("no tool") << QStringList{QStringLiteral("t/")} << true << false;
        QTest::addRow("no host") << QStringList{QStringLiteral("*")} << false << false;
    }
    void toolNamesAreChecked()
    {
        QFETCH(QStringList, tools);
        QFETCH(bool, withHost);
        QFETCH(bool, accepted);
        ToolFixture f(ToolApproval::Ask, {}, {});
        HF_CHECK_FIXTURE(f);
        if (!withHost)
            f.service->setToolHost(nullptr);
        PatchSessionParams patch;
        patch.tools = tools;
        patch.toolApproval = ToolApproval::Auto;
        HF_AWAIT(patched, f.service->patchSession(f.sid, patch));
        QCOMPARE(patched->ok(), accepted);
        HF_AWAIT(reloaded, f.store->loadSession(f.sid));
        QCOMPARE(reloaded->value()->tools, accepted ? tools : QStringList{});
        QCOMPARE(reloaded->value()->toolApproval,
                 accepted ? ToolApproval::Auto : ToolApproval::Ask);
        if (!accepted)
            QCOMPARE(patched->error().code, ErrorCode::Invalid);
        StartTurnParams p;
        p.prompt = QStringLiteral("hi");
        p.tools = tools;
        f.script(QStringLiteral("fine"));
        HF_AWAIT(started, f.service->startTurn(f.sid, p));
        QCOMPARE(started->ok(), accepted);
        if (!accepted) {
            QCOMPARE(started->error().code, ErrorCode::Invalid);
            QCOMPARE(f.stored(f.sid).size(), 0); // nothing stored
        } else {
            QCOMPARE(f.finish(f.sid, started->value().id).state, TurnRecord::State::Done);
        }
    }

    // A turn's `tools` overrides the session's; [] offers none: the request has no tools.
    void turnToolsOverrideTheSession()
    {
        ToolFixture f(ToolApproval::Auto, {}, {QStringLiteral("*")});
        HF_CHECK_FIXTURE(f);
        f.script(QStringLiteral("a"));
        f.finish(f.sid, f.start().id);
        QCOMPARE(f.scripted->requests.last().tools.size(), 3);
        StartTurnParams p;
        p.prompt = QStringLiteral("b");
        p.tools = QStringList{QStringLiteral("t/fail")};
        f.script(QStringLiteral("b"));
        f.finish(f.sid, test::startedTurn(f.service.get(), f.sid, p).id);
        QCOMPARE(f.scripted->requests.last().tools.size(), 1);
        QCOMPARE(f.scripted->requests.last().tools.at(0).name, QStringLiteral("t/fail"));
        p.tools = QStringList{};
        f.script(QStringLiteral("c"));
        f.finish(f.sid, test::startedTurn(f.service.get(), f.sid, p).id);
        QVERIFY(f.scripted->requests.last().tools.isEmpty());
    }

    // Cancel (or shutdown) while a call waits for approval, or while a tool runs: the running
    // tool is cancelled, the turn ends cancelled (interrupted), its answer saved once with the
    // call; the call is never run afterwards.
    void cancelDuringToolUse_data()
    {
        QTest::addColumn<bool>("whileRunning");
        QTest::addColumn<bool>("shutdown");
        QTest::addRow("cancel waiting") << false << false;
        QTest::addRow("cancel running") << true << false;
        QTest::addRow("shutdown waiting") << false << true;
        QTest::addRow("shutdown running") << true << true;
    }
    void cancelDuringToolUse()
    {
        QFETCH(bool, whileRunning);
        QFETCH(bool, shutdown);
        ToolFixture f(whileRunning ? ToolApproval::Auto : ToolApproval::Ask, {},
                      {QStringLiteral("t/slow")});
        HF_CHECK_FIXTURE(f);
        f.script(QStringLiteral("wait "),
                 {test::modelCall(QStringLiteral("s1"), QStringLiteral("t/slow"), {})});
        f.script(QStringLiteral("never sent"));
        QSignalSpy finished(f.service.get(), &SessionService::turnFinished);
        const TurnRecord t = f.start();
        if (whileRunning)
            QVERIFY(spinUntil([&] { return f.host.running == 1; }));
        else
            QVERIFY(spinUntil([&] { return f.waiting(t.id); }));
        TurnRecord::State expected = TurnRecord::State::Cancelled;
        if (shutdown) {
            HF_AWAIT_VOID(f.service->shutdown());
            expected = TurnRecord::State::Interrupted;
        } else {
            HF_AWAIT(cancelled, f.service->cancelTurn(f.sid, t.id));
            QCOMPARE(cancelled->value().state, expected);
        }
        QCOMPARE(finished.size(), 1);
        QCOMPARE(f.host.running, 0);
        QCOMPARE(f.host.cancelledCalls, whileRunning ? 1 : 0);
        QCOMPARE(f.host.calls.size(), whileRunning ? 1 : 0);
        QCOMPARE(f.scripted->requests.size(), 1);
        HF_AWAIT(ended, f.store->loadTurn(f.sid, t.id));
        QCOMPARE(ended->value()->state, expected);
        const QList<Message> messages = f.stored(f.sid);
        QCOMPARE(messages.size(), 2);
        const Message answer = messages.at(1);
        QCOMPARE(answer.state, Message::State::Interrupted);
        QCOMPARE(answer.content, QStringLiteral("wait "));
        QCOMPARE(answer.toolCalls.size(), 1);
        QVERIFY(answer.toolCalls.at(0).isError);
        QCOMPARE(answer.toolCalls.at(0).result.has_value(), whileRunning);
        QCOMPARE(answer.toolCalls.at(0).approved, whileRunning);
    }

    // A crash left a turn waiting for approval, or running its second tool: the next start saves
    // it interrupted, its answer's content is the text, its calls come from the tool steps (the
    // one without a result has none and reads as an error); no call runs again. The next turn
    // sends the model every call with a result (a made-up error for the cut-off one).
    void recoveryOfATurnInToolUse_data()
    {
        QTest::addColumn<bool>("running");
        QTest::addRow("waiting") << false;
        QTest::addRow("running a tool") << true;
    }
    void recoveryOfATurnInToolUse()
    {
        QFETCH(bool, running);
        auto memory = std::make_unique<MemoryStore>();
        const QString sid = QStringLiteral("cut");
        {
            Store &store = *memory;
            HF_AWAIT_OK(store.open());
            SessionMeta meta;
            meta.id = sid;
            meta.model = QStringLiteral("scripted");
            meta.createdAt = meta.updatedAt = QDateTime::currentDateTimeUtc();
            HF_AWAIT_OK(store.createSession(meta));
            Message prompt;
            prompt.index = 0;
            prompt.role = QStringLiteral("user");
            prompt.content = QStringLiteral("look it up");
            prompt.turn = 1;
            prompt.createdAt = meta.createdAt;
            TurnRecord turn;
            turn.id = 1;
            turn.session = sid;
            turn.state = running ? TurnRecord::State::Streaming : TurnRecord::State::Waiting;
            turn.promptIndex = 0;
            turn.model = meta.model;
            turn.createdAt = meta.createdAt;
            meta.total = 1;
            meta.head = 0;
            meta.length = 1;
            meta.lastTurn = 1;
            meta.activeTurn = 1;
            HF_AWAIT_OK(store.beginTurn(meta, prompt, turn));
            HF_AWAIT_OK(store.appendChunks(sid, 1, {Chunk(0, QStringLiteral("Look: "))}));
            QList<Chunk> calls;
            for (const QString &id : {QStringLiteral("c1"), QStringLiteral("c2")}) {
                Chunk c(int(calls.size()) + 1, QString());
                c.toolCall = ToolCall{id, QStringLiteral("t/echo"), args(id)};
                calls.append(c);
            }
            HF_AWAIT_OK(store.appendChunks(sid, 1, calls));
            if (running) {
                Chunk result(3, QString());
                result.toolResult =
                    ToolResult{QStringLiteral("c1"), QStringLiteral("one"), false, true};
                HF_AWAIT_OK(store.appendChunks(sid, 1, {result}));
            }
        }
        Fixture f(std::move(memory));
        HF_CHECK_FIXTURE(f);
        HF_AWAIT(turn, f.service->turn(sid, 1));
        QCOMPARE(turn->value().state, TurnRecord::State::Interrupted);
        QCOMPARE(turn->value().chunks, running ? 4 : 3); // nothing was added
        const Message answer = f.stored(sid).value(1);
        QCOMPARE(answer.state, Message::State::Interrupted);
        QCOMPARE(answer.content, QStringLiteral("Look: "));
        QCOMPARE(answer.toolCalls.size(), 2);
        QCOMPARE(answer.toolCalls.at(0).offset, 6);
        QCOMPARE(answer.toolCalls.at(0).result.has_value(), running);
        QCOMPARE(answer.toolCalls.at(0).approved, running);
        QCOMPARE(answer.toolCalls.at(0).isError, !running);
        QVERIFY(!answer.toolCalls.at(1).result && answer.toolCalls.at(1).isError);
        HF_AWAIT(answered, f.service->answerToolCall(sid, 1, QStringLiteral("c2"), true));
        QCOMPARE(answered->error().code, ErrorCode::Conflict);

        f.scripted->script.chunks = {QStringLiteral("fine")};
        QCOMPARE(f.finish(sid, f.startTurn(sid, QStringLiteral("and?")).id).state,
                 TurnRecord::State::Done);
        const QList<ChatMessage> &sent = f.scripted->requests.last().messages;
        QStringList seen;
        for (const ChatMessage &m : sent) {
            QString line = m.role + QLatin1Char(':') + m.toolCallId + QLatin1Char(':') + m.content;
            for (const ProviderToolCall &c : m.toolCalls)
                line += QLatin1Char(' ') + c.id + QLatin1Char('=') + c.wireName;
            seen << line;
        }
        const QString cutOff =
            QStringLiteral("the tool call was interrupted before it gave a result");
        QCOMPARE(seen, (QStringList{
                           QStringLiteral("user::look it up"),
                           QStringLiteral("assistant::Look:  c1=t__echo c2=t__echo"),
                           QStringLiteral("tool:c1:") + (running ? QStringLiteral("one") : cutOff),
                           QStringLiteral("tool:c2:") + cutOff, QStringLiteral("user::and?")}));
        QVERIFY(f.scripted->requests.last().tools.isEmpty()); // the session offers no tools
    }

    // A later turn sends the earlier answer's calls and results where the model made them: the
    // text before the calls, the calls, their results, then the rest of the text.
    void laterTurnsCarryEarlierToolCalls()
    {
        ToolFixture f(ToolApproval::Auto);
        HF_CHECK_FIXTURE(f);
        f.script(QStringLiteral("A "),
                 {test::modelCall(QStringLiteral("c1"), QStringLiteral("t/echo"),
                                  args(QStringLiteral("q")))});
        f.script(QStringLiteral("B"));
        f.finish(f.sid, f.start(QStringLiteral("first")).id);
        f.script(QStringLiteral("C"));
        QCOMPARE(f.finish(f.sid, f.start(QStringLiteral("second")).id).state,
                 TurnRecord::State::Done);
        QCOMPARE(f.scripted->requests.size(), 3);
        QStringList seen;
        for (const ChatMessage &m : f.scripted->requests.last().messages) {
            QString line = m.role + QLatin1Char(':') + m.content;
            for (const ProviderToolCall &c : m.toolCalls)
                line += QLatin1Char(' ') + c.id + QLatin1Char('=') + c.wireName;
            if (!m.toolCallId.isEmpty())
                line += QLatin1Char(' ') + m.toolCallId + QLatin1Char('=') + m.toolName;
            seen << line;
        }
        QCOMPARE(seen, (QStringList{QStringLiteral("user:first"),
                                    QStringLiteral("assistant:A  c1=t__echo"),
                                    QStringLiteral("tool:{\"v\":\"q\"} c1=t__echo"),
                                    QStringLiteral("assistant:B"), QStringLiteral("user:second")}));
    }

    // A tool's result counts against the context budget (its call's arguments too): a big
    // result pushes the earlier messages out.
    void contextBudgetCountsToolResults()
    {
        ToolFixture f(ToolApproval::Auto);
        HF_CHECK_FIXTURE(f);
        const QString big(4000, u'x');
        f.script(QString(),
                 {test::modelCall(QStringLiteral("c1"), QStringLiteral("t/echo"), args(big))});
        f.script(QStringLiteral("short"));
        f.finish(f.sid, f.start(QStringLiteral("first")).id);
        StartTurnParams p;
        p.prompt = QStringLiteral("second");
        p.options.contextTokens = 1500; // the answer's text fits; with its tool use it does not
        f.script(QStringLiteral("ok"));
        const TurnRecord second = test::startedTurn(f.service.get(), f.sid, p);
        QVERIFY(second.context);
        QCOMPARE(second.context->messages, 0);
        QCOMPARE(second.context->dropped, 2);
        QCOMPARE(f.finish(f.sid, second.id).state, TurnRecord::State::Done);
        QCOMPARE(f.scripted->requests.last().messages.size(), 1);
    }

    // The turn's own tool results always go to the model: counted against the budget, they push
    // the earlier messages out of the next request (the turn's `context` says so).
    void toolResultsOfTheTurnPushOutEarlierMessages()
    {
        ToolFixture f(ToolApproval::Auto);
        HF_CHECK_FIXTURE(f);
        f.script(QStringLiteral("earlier answer"));
        f.finish(f.sid, f.start(QStringLiteral("earlier")).id);
        StartTurnParams p;
        p.prompt = QStringLiteral("now");
        p.options.contextTokens = 1500;
        f.script(QStringLiteral("looking"),
                 {test::modelCall(QStringLiteral("c1"), QStringLiteral("t/echo"),
                                  args(QString(4000, u'x')))});
        f.script(QStringLiteral("done"));
        const TurnRecord t = test::startedTurn(f.service.get(), f.sid, p);
        QVERIFY(t.context);
        QCOMPARE(t.context->messages, 2); // at first everything fits
        const TurnRecord ended = f.finish(f.sid, t.id);
        QCOMPARE(ended.state, TurnRecord::State::Done);
        QVERIFY(ended.context);
        QCOMPARE(ended.context->messages, 0);
        QCOMPARE(ended.context->dropped, 2);
        QCOMPARE(f.scripted->requests.at(1).messages.size(), 2 + 1);
        QCOMPARE(f.scripted->requests.last().messages.size(), 3); // prompt, call, result
        QCOMPARE(f.scripted->requests.last().messages.at(0).content, QStringLiteral("now"));
    }

    // The demo model uses a tool when the prompt says so, then quotes its result.
    void demoModelUsesATool()
    {
        ToolFixture f(ToolApproval::Auto);
        HF_CHECK_FIXTURE(f);
        const TurnRecord t =
            f.startTurn(f.sid, QStringLiteral("use t/echo with {\"city\": \"Lisbon\"}"),
                        QStringLiteral("demo"));
        QCOMPARE(f.finish(f.sid, t.id).state, TurnRecord::State::Done);
        QCOMPARE(f.host.calls.size(), 1);
        QCOMPARE(f.host.calls.at(0).name, QStringLiteral("t/echo"));
        QCOMPARE(f.host.calls.at(0).arguments.value(QStringLiteral("city")).toString(),
                 QStringLiteral("Lisbon"));
        const Message answer = f.answer();
        QCOMPARE(answer.toolCalls.size(), 1);
        QVERIFY2(answer.content.contains(QStringLiteral("Lisbon")), qPrintable(answer.content));
        // The text before the call is where the call goes when the answer is sent again.
        QCOMPARE(answer.content.left(answer.toolCalls.at(0).offset),
                 QStringLiteral("Let me use t/echo for that.\n\n"));
    }

    // The store fails as the calls are stored: no call runs, the turn ends in error, and its
    // answer lists no call that was never stored.
    void storeFailureBeforeToolCallsRun()
    {
        auto faulty = std::make_unique<test::FaultyStore>(std::make_unique<MemoryStore>());
        test::FaultyStore *store = faulty.get();
        Fixture f(std::move(faulty));
        HF_CHECK_FIXTURE(f);
        test::FakeToolHost host;
        f.service->setToolHost(&host);
        CreateSessionParams c;
        c.id = QStringLiteral("broken");
        c.model = QStringLiteral("scripted");
        HF_AWAIT_OK(f.service->createSession(c));
        f.scripted->script.delayMs = 200; // the fault is set meanwhile
        f.scripted->script.toolCalls = {
            test::modelCall(QStringLiteral("c1"), QStringLiteral("t/echo"), {})};
        StartTurnParams p;
        p.prompt = QStringLiteral("go");
        p.tools = QStringList{QStringLiteral("t/echo")};
        const TurnRecord t = test::startedTurn(f.service.get(), c.id, p);
        QVERIFY(t.id > 0);
        store->setFault(test::FaultyStore::Fault::DiskFull);
        QVERIFY(spinUntil([&] { return store->failedWrites() > 0; }));
        store->setFault(test::FaultyStore::Fault::None); // the final save goes through
        const TurnRecord ended = f.finish(c.id, t.id);
        QCOMPARE(ended.state, TurnRecord::State::Error);
        QCOMPARE(ended.chunks, 0);
        QCOMPARE(host.calls.size(), 0);
        const Message answer = f.stored(c.id).value(1);
        QCOMPARE(answer.state, Message::State::Error);
        QVERIFY(answer.toolCalls.isEmpty());
        HF_AWAIT_VOID(f.service->shutdown()); // before the host goes
    }

    void secondTurnIsRefused()
    {
        Fixture f(std::make_unique<MemoryStore>(), {}, 20, 10);
        HF_CHECK_FIXTURE(f);
        const QString sid = f.create();
        const TurnRecord t = f.startTurn(sid, QStringLiteral("first"));
        QCOMPARE(t.id, 1);
        StartTurnParams p;
        p.prompt = QStringLiteral("second");
        HF_AWAIT(refused, f.service->startTurn(sid, p));
        QVERIFY(refused && !refused->ok());
        QCOMPARE(refused->error().code, ErrorCode::Conflict);
        QCOMPARE(f.finish(sid, 1).state, TurnRecord::State::Done);
        QCOMPARE(f.stored(sid).size(), 2); // the refused prompt was not stored
        QCOMPARE(f.startTurn(sid, QStringLiteral("second")).id, 2);
        QCOMPARE(f.finish(sid, 2).state, TurnRecord::State::Done);
    }

    void providerFailureKeepsPartialText()
    {
        Fixture f(std::make_unique<MemoryStore>());
        HF_CHECK_FIXTURE(f);
        f.scripted->script.chunks = {QStringLiteral("par"), QStringLiteral("tial")};
        f.scripted->script.failure =
            Error{ErrorCode::UpstreamError, QStringLiteral("model crashed")};
        const QString sid = f.create();
        const TurnRecord t = f.startTurn(sid, QStringLiteral("hi"), QStringLiteral("scripted"));
        const TurnRecord ended = f.finish(sid, t.id);
        QCOMPARE(ended.state, TurnRecord::State::Error);
        QCOMPARE(ended.errorCode, QStringLiteral("upstream_error"));
        QCOMPARE(ended.errorMessage, QStringLiteral("model crashed"));
        QList<Message> messages = f.stored(sid);
        QCOMPARE(messages.size(), 2);
        QCOMPARE(messages.at(1).content, QStringLiteral("partial"));
        QCOMPARE(messages.at(1).state, Message::State::Error);
        // Still usable; the failed answer is not sent to the model again.
        f.scripted->script.failure.reset();
        f.scripted->script.chunks = {QStringLiteral("ok")};
        const TurnRecord next =
            f.startTurn(sid, QStringLiteral("again"), QStringLiteral("scripted"));
        QCOMPARE(f.finish(sid, next.id).state, TurnRecord::State::Done);
        const ProviderRequest &sent = f.scripted->requests.last();
        QCOMPARE(sent.messages.size(), 2);
        QCOMPARE(sent.messages.at(0).content, QStringLiteral("hi"));
        QCOMPARE(sent.messages.at(1).content, QStringLiteral("again"));
        QCOMPARE(f.stored(sid).size(), 4);
    }

    void historyAndSystemGoToTheModel()
    {
        Fixture f(std::make_unique<MemoryStore>());
        HF_CHECK_FIXTURE(f);
        CreateSessionParams p;
        p.id = QStringLiteral("ctx");
        p.system = QStringLiteral("You are terse.");
        p.model = QStringLiteral("scripted");
        HF_AWAIT_OK(f.service->createSession(p));
        f.scripted->script.chunks = {QStringLiteral("A1")};
        f.finish(QStringLiteral("ctx"),
                 f.startTurn(QStringLiteral("ctx"), QStringLiteral("Q1")).id);
        f.scripted->script.chunks = {QStringLiteral("A2")};
        f.finish(QStringLiteral("ctx"),
                 f.startTurn(QStringLiteral("ctx"), QStringLiteral("Q2")).id);
        const ProviderRequest &sent = f.scripted->requests.last();
        QStringList seen;
        for (const ChatMessage &m : sent.messages)
            seen << m.role + QLatin1Char(':') + m.content;
        QCOMPARE(seen,
                 (QStringList{QStringLiteral("system:You are terse."), QStringLiteral("user:Q1"),
                              QStringLiteral("assistant:A1"), QStringLiteral("user:Q2")}));
    }

    // A turn reads as ended only once its answer is stored: a client told "done" may start the
    // next turn at once. Here the final save fails twice (and retries) before it lands.
    void endedOnlyOnceSaved()
    {
        auto faulty = std::make_unique<test::FaultyStore>(std::make_unique<MemoryStore>());
        test::FaultyStore *store = faulty.get();
        Fixture f(std::move(faulty));
        HF_CHECK_FIXTURE(f);
        const QString sid = f.create();
        QVERIFY(!sid.isEmpty());
        store->failFinishTurns(2);
        const TurnRecord t = f.startTurn(sid, QStringLiteral("hello"));
        QVERIFY(t.id > 0);
        int sawSaving = 0;
        while (true) {
            HF_AWAIT(now, f.service->turn(sid, t.id));
            QVERIFY(now->ok());
            if ((*now)->ended())
                break;
            if (store->failedWrites() > 0)
                ++sawSaving; // the answer is being saved: the turn must still hold the session
            StartTurnParams next;
            next.prompt = QStringLiteral("too early");
            HF_AWAIT(early, f.service->startTurn(sid, next));
            QVERIFY(!early->ok());
            QCOMPARE(early->error().code, ErrorCode::Conflict);
            QTest::qWait(20);
        }
        QVERIFY(sawSaving > 0);
        QCOMPARE(store->failedWrites(), 2);
        // Ended: the answer is stored and the session takes the next turn.
        QCOMPARE(f.stored(sid).size(), 2);
        const TurnRecord second = f.startTurn(sid, QStringLiteral("right after"));
        QVERIFY(second.id > t.id);
        QCOMPARE(f.finish(sid, second.id).state, TurnRecord::State::Done);
    }

    // A chat longer than the cache: the first turn reads the model's context from the store,
    // the next ones find it in memory, and every request carries the right history.
    void longChatContextIsReadOnce_data()
    {
        QTest::addColumn<qint64>("budget");
        QTest::addColumn<bool>("keptInMemory");
        QTest::newRow("context fits the budget") << qint64(1 << 20) << true;
        QTest::newRow("context over the budget") << qint64(16) << false;
    }
    void longChatContextIsReadOnce()
    {
        QFETCH(qint64, budget);
        QFETCH(bool, keptInMemory);
        QTemporaryDir dir;
        auto faulty =
            std::make_unique<test::FaultyStore>(sqliteStore(dir.filePath(QStringLiteral("h.db"))));
        test::FaultyStore *counting = faulty.get();
        ServiceConfig config;
        config.cacheMessages = 4;
        config.contextMessages = 12;
        config.contextCacheBytes = budget;
        Fixture f(std::move(faulty), config);
        HF_CHECK_FIXTURE(f);
        CreateSessionParams p;
        p.id = QStringLiteral("long");
        p.model = QStringLiteral("scripted");
        HF_AWAIT_OK(f.service->createSession(p));
        HF_CALL(seedMessages(f.store.get(), p.id, 20)); // through the store: the service reads them

        int loads = -counting->messageLoads(); // the service's reads, not this test's
        for (int i = 0; i < 5; ++i) {
            f.scripted->script.chunks = {QStringLiteral("A%1").arg(i)};
            const TurnRecord t = f.startTurn(p.id, QStringLiteral("Q%1").arg(i));
            QVERIFY(t.id > 0);
            QCOMPARE(f.finish(p.id, t.id).state, TurnRecord::State::Done);

            // What the model got is the newest 12 stored messages before the prompt, then it.
            loads += counting->messageLoads();
            const QList<Message> stored = f.stored(p.id);
            loads -= counting->messageLoads();
            QCOMPARE(stored.size(), 20 + 2 * (i + 1));
            QStringList expected;
            for (qsizetype m = stored.size() - 2 - 12; m < stored.size() - 2; ++m)
                expected << stored.at(m).role + QLatin1Char(':') + stored.at(m).content;
            expected << QStringLiteral("user:Q%1").arg(i);
            QStringList sent;
            for (const ChatMessage &m : f.scripted->requests.last().messages)
                sent << m.role + QLatin1Char(':') + m.content;
            QCOMPARE(sent, expected);
        }
        // Loading the session reads its window once; then the context once if it is kept.
        loads += counting->messageLoads();
        if (keptInMemory)
            QCOMPARE(loads, 2);
        else
            QCOMPARE(loads, 1 + 5);
    }

    void badInputIsRefusedAndNothingStored_data()
    {
        QTest::addColumn<QString>("sid");
        QTest::addColumn<QString>("prompt");
        QTest::addColumn<int>("code");
        const int bad = int(ErrorCode::BadRequest);
        const int invalid = int(ErrorCode::Invalid);
        QTest::addRow("slash in id") << QStringLiteral("a/b") << QStringLiteral("hi") << bad;
        QTest::addRow("dot-dot id") << QStringLiteral("..") << QStringLiteral("hi") << bad;
        QTest::addRow("empty id") << QString() << QStringLiteral("hi") << bad;
        QTest::addRow("65-char id") << QString(65, QLatin1Char('a')) << QStringLiteral("hi") << bad;
        QTest::addRow("unicode id") << QStringLiteral("séance") << QStringLiteral("hi") << bad;
        QTest::addRow("empty prompt") << QStringLiteral("ok") << QString() << invalid;
        QTest::addRow("blank prompt") << QStringLiteral("ok") << QStringLiteral(" \n\t") << invalid;
        QTest::addRow("over-long prompt")
            << QStringLiteral("ok") << QString(262145, QLatin1Char('x')) << invalid;
        QTest::addRow("over-long in UTF-8 bytes")
            << QStringLiteral("ok") << QString(131073, QChar(0x00e9)) << invalid;
        QTest::addRow("unknown session")
            << QStringLiteral("missing") << QStringLiteral("hi") << int(ErrorCode::NotFound);
    }

    void badInputIsRefusedAndNothingStored()
    {
        QFETCH(QString, sid);
        QFETCH(QString, prompt);
        QFETCH(int, code);
        Fixture f(std::make_unique<MemoryStore>());
        HF_CHECK_FIXTURE(f);
        f.create(QStringLiteral("ok"));
        const quint64 rows = f.store->rowsWritten();
        StartTurnParams p;
        p.prompt = prompt;
        HF_AWAIT(result, f.service->startTurn(sid, p));
        QVERIFY(result && !result->ok());
        QCOMPARE(int(result->error().code), code);
        QVERIFY(!result->error().message.isEmpty());
        QCOMPARE(f.store->rowsWritten(), rows);
        QCOMPARE(f.stored(QStringLiteral("ok")).size(), 0);
    }

    void exactlyTheLimitIsAccepted()
    {
        Fixture f(std::make_unique<MemoryStore>());
        HF_CHECK_FIXTURE(f);
        const QString sid = f.create();
        const TurnRecord t = f.startTurn(sid, QString(262144, QLatin1Char('x')));
        QCOMPARE(t.id, 1);
        QCOMPARE(f.finish(sid, 1).state, TurnRecord::State::Done);
    }

    // The in-process client uploads through the service: it holds the attachment limit itself
    // (over HTTP the request head is refused first), exactly the limit accepted.
    void attachmentLimitInTheService()
    {
        ServiceConfig config;
        config.maxAttachmentBytes = 10;
        Fixture f(std::make_unique<MemoryStore>(), config);
        HF_CHECK_FIXTURE(f);
        const QString sid = f.create();
        UploadParams p;
        p.type = QStringLiteral("text/plain");
        p.bytes = QByteArray(10, 'a');
        HF_AWAIT(fits, f.service->uploadAttachment(sid, p));
        QVERIFY(fits->ok());
        QCOMPARE(fits->value().size, 10);
        QCOMPARE(fits->value().name, QStringLiteral("attachment"));
        p.bytes += 'a';
        HF_AWAIT(over, f.service->uploadAttachment(sid, p));
        QVERIFY(!over->ok());
        QCOMPARE(over->error().code, ErrorCode::PayloadTooLarge);
        HF_AWAIT(back, f.service->attachment(sid, fits->value().id));
        QVERIFY(back->ok());
        QCOMPARE(back->value().bytes, QByteArray(10, 'a'));
        QCOMPARE(back->value().meta, fits->value());
    }

    // Shutdown interrupts running turns and saves what they had.
    void shutdownSavesPartialAnswers()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("stop.db"));
        QStringList seen;
        {
            Fixture f(sqliteStore(path), {}, 30, 100);
            HF_CHECK_FIXTURE(f);
            for (int i = 0; i < 5; ++i)
                f.startTurn(f.create(QStringLiteral("s%1").arg(i)), QStringLiteral("go"));
            QSignalSpy chunks(f.service.get(), &SessionService::chunkReady);
            QVERIFY(spinUntil([&] { return chunks.size() >= 10; }));
            QVERIFY(test::awaitVoid(f.service->shutdown()));
            QCOMPARE(f.service->activeTurnCount(), 0);
            StartTurnParams p;
            p.prompt = QStringLiteral("late");
            HF_AWAIT(refused, f.service->startTurn(QStringLiteral("s0"), p));
            QCOMPARE(refused->error().code, ErrorCode::Unavailable);
            f.service.reset();
        }
        SqliteStore reopened(path);
        HF_AWAIT_OK(reopened.open());
        for (int i = 0; i < 5; ++i) {
            HF_AWAIT(messages, reopened.loadMessages(QStringLiteral("s%1").arg(i), 0, 10));
            QCOMPARE(messages->value().size(), 2);
            QCOMPARE(messages->value().at(1).state, Message::State::Interrupted);
            HF_AWAIT(turn, reopened.loadTurn(QStringLiteral("s%1").arg(i), 1));
            QCOMPARE(turn->value()->state, TurnRecord::State::Interrupted);
        }
        HF_AWAIT(unfinished, reopened.unfinishedTurns());
        QVERIFY(unfinished->value().isEmpty());
    }

    void longPollChunks()
    {
        Fixture f(std::make_unique<MemoryStore>(), {}, 20, 5);
        HF_CHECK_FIXTURE(f);
        const QString sid = f.create();
        const TurnRecord t = f.startTurn(sid, QStringLiteral("poll me"));
        QString text;
        int next = 0;
        bool done = false;
        int polls = 0;
        while (!done && polls++ < 100) {
            HF_AWAIT(page, f.service->chunks(sid, t.id, next, 5000));
            QVERIFY(page && page->ok());
            for (const Chunk &c : page->value().chunks) {
                QCOMPARE(c.seq, next);
                text += c.text;
                ++next;
            }
            QCOMPARE(page->value().next, next);
            done = page->value().done;
        }
        QVERIFY(done);
        QCOMPARE(f.stored(sid).at(1).content, text);
        HF_AWAIT(tail, f.service->chunks(sid, t.id, 2, 0));
        QCOMPARE(tail->value().chunks.first().seq, 2);
        QVERIFY(tail->value().done);
    }

    // A session with an active turn refuses a second one with 409 before the prompt is looked at
    // (API.md's order: 409, then 422).
    void conflictBeforeInvalidPrompt_data()
    {
        QTest::addColumn<QString>("prompt");
        QTest::addRow("over-long") << QString(262145, QLatin1Char('x'));
        QTest::addRow("empty") << QString();
        QTest::addRow("blank") << QStringLiteral(" \n");
    }

    void conflictBeforeInvalidPrompt()
    {
        QFETCH(QString, prompt);
        Fixture f(std::make_unique<MemoryStore>(), {}, 20, 10);
        const QString sid = f.create();
        QCOMPARE(f.startTurn(sid, QStringLiteral("first")).id, 1);
        StartTurnParams p;
        p.prompt = prompt;
        HF_AWAIT(refused, f.service->startTurn(sid, p));
        QVERIFY(refused && !refused->ok());
        QCOMPARE(refused->error().code, ErrorCode::Conflict);
        QCOMPARE(f.finish(sid, 1).state, TurnRecord::State::Done);
        HF_AWAIT(invalid, f.service->startTurn(sid, p));
        QVERIFY(invalid && !invalid->ok());
        QCOMPARE(invalid->error().code, ErrorCode::Invalid);
    }

    // A stateless completion: the messages go to the model as they are, its chunks come back in
    // order, and nothing is stored.
    void statelessCompletionStreams()
    {
        Fixture f(std::make_unique<MemoryStore>());
        f.scripted->script.chunks = {QStringLiteral("one "), QStringLiteral("two "),
                                     QStringLiteral("three")};
        const quint64 rows = f.store->rowsWritten();
        const QList<ChatMessage> messages{{QStringLiteral("system"), QStringLiteral("be brief")},
                                          {QStringLiteral("user"), QStringLiteral("count")}};
        TurnOptions options;
        options.maxTokens = 7;
        auto started = f.service->completeStateless(
            StatelessParams{QStringLiteral("scripted"), messages, options});
        QVERIFY(started.ok());
        QCOMPARE(started->model, QStringLiteral("scripted"));
        QString text;
        int batches = 0;
        while (true) {
            HF_AWAIT(chunks, started->stream->next());
            QVERIFY(chunks);
            if (chunks->isEmpty())
                break;
            text += chunks->join(QString());
            ++batches;
        }
        QCOMPARE(text, QStringLiteral("one two three"));
        QVERIFY(batches >= 1);
        QVERIFY(!started->stream->error());
        QVERIFY(!started->stream->cancelled());
        QCOMPARE(f.scripted->requests.size(), 1);
        const ProviderRequest &sent = f.scripted->requests.first();
        QCOMPARE(sent.model, QStringLiteral("scripted"));
        QCOMPARE(sent.messages.size(), 2);
        QCOMPARE(sent.messages.at(0).content, QStringLiteral("be brief"));
        QCOMPARE(sent.messages.at(1).content, QStringLiteral("count"));
        QCOMPARE(sent.options.maxTokens, std::optional<int>(7));
        QCOMPARE(f.store->rowsWritten(), rows);
    }

    // No model named: the default one, named as clients name it.
    void statelessCompletionDefaultModel()
    {
        Fixture f(std::make_unique<MemoryStore>());
        f.registry.setDefaultModel(QStringLiteral("scripted"));
        f.scripted->script.chunks = {QStringLiteral("hi")};
        auto started = f.service->completeStateless(
            StatelessParams{{}, {{QStringLiteral("user"), QStringLiteral("x")}}, {}});
        QVERIFY(started.ok());
        QCOMPARE(started->model, QStringLiteral("scripted"));
        QCOMPARE(f.scripted->requests.size(), 1);
    }

    void statelessCompletionRefused_data()
    {
        QTest::addColumn<QString>("model");
        QTest::addColumn<QString>("last");
        QTest::addRow("unknown model") << QStringLiteral("nope") << QStringLiteral("hi");
        QTest::addRow("unknown provider") << QStringLiteral("nope/model") << QStringLiteral("hi");
        QTest::addRow("over-long last message")
            << QStringLiteral("scripted") << QString(262145, QLatin1Char('x'));
        QTest::addRow("over-long in UTF-8 bytes")
            << QStringLiteral("scripted") << QString(131073, QChar(0x00e9));
    }

    // Refused with 422 before anything reaches the model.
    void statelessCompletionRefused()
    {
        QFETCH(QString, model);
        QFETCH(QString, last);
        Fixture f(std::make_unique<MemoryStore>());
        const auto refused = f.service->completeStateless(
            StatelessParams{model, {{QStringLiteral("user"), last}}, {}});
        QVERIFY(!refused.ok());
        QCOMPARE(refused.error().code, ErrorCode::Invalid);
        QVERIFY(!refused.error().message.isEmpty());
        QCOMPARE(f.scripted->requests.size(), 0);
    }

    // The limit holds the last message only, and exactly the limit is accepted.
    void statelessCompletionLimitIsTheLastMessage()
    {
        Fixture f(std::make_unique<MemoryStore>());
        f.scripted->script.chunks = {QStringLiteral("ok")};
        const auto accepted = f.service->completeStateless(
            StatelessParams{QStringLiteral("scripted"),
                            {{QStringLiteral("user"), QString(300000, QLatin1Char('x'))},
                             {QStringLiteral("assistant"), QStringLiteral("sure")},
                             {QStringLiteral("user"), QString(262144, QLatin1Char('y'))}},
                            {}});
        QVERIFY(accepted.ok());
        QCOMPARE(f.scripted->requests.size(), 1);
    }

    void statelessCompletionFailure()
    {
        Fixture f(std::make_unique<MemoryStore>());
        f.scripted->script.chunks = {QStringLiteral("par")};
        f.scripted->script.failure = Error{ErrorCode::UpstreamError, QStringLiteral("crashed")};
        auto started = f.service->completeStateless(StatelessParams{
            QStringLiteral("scripted"), {{QStringLiteral("user"), QStringLiteral("hi")}}, {}});
        QVERIFY(started.ok());
        QString text;
        while (true) {
            HF_AWAIT(chunks, started->stream->next());
            QVERIFY(chunks);
            if (chunks->isEmpty())
                break;
            text += chunks->join(QString());
        }
        QCOMPARE(text, QStringLiteral("par"));
        QVERIFY(started->stream->error());
        QCOMPARE(started->stream->error()->code, ErrorCode::UpstreamError);
    }

    // Cancelling (the HTTP client left) stops the model at once.
    void statelessCompletionCancel()
    {
        Fixture f(std::make_unique<MemoryStore>());
        for (int i = 0; i < 50; ++i)
            f.scripted->script.chunks.append(QStringLiteral("c%1 ").arg(i));
        f.scripted->script.delayMs = 20;
        auto started = f.service->completeStateless(StatelessParams{
            QStringLiteral("scripted"), {{QStringLiteral("user"), QStringLiteral("hi")}}, {}});
        QVERIFY(started.ok());
        HF_AWAIT(first, started->stream->next());
        QVERIFY(first && !first->isEmpty());
        started->stream->cancel();
        QCOMPARE(f.scripted->cancelled, 1);
        HF_AWAIT(after, started->stream->next());
        QVERIFY(after && after->isEmpty());
        QVERIFY(started->stream->cancelled());
    }

    // Titles: after the first answer of a new chat the model names it, through a stateless
    // completion that leaves no message, turn or chunk behind; the demo model, the setting off, a
    // failure and a title set by hand keep the title the chat had.
    void titleAfterTheFirstAnswer_data()
    {
        QTest::addColumn<bool>("autoTitle");
        QTest::addColumn<QString>("model");
        QTest::addColumn<QString>("initial"); // the title the chat has before (null: none)
        QTest::addColumn<int>("titleStatus"); // how the server answers the title request
        QTest::addColumn<QString>("expected");
        const QString prompt = QStringLiteral("How does the borrow checker work?");
        const QString named = QStringLiteral("Borrow checker basics");
        const QString model = QStringLiteral("fake/fake-model");
        QTest::addRow("new chat") << true << model << QString() << 200 << named;
        QTest::addRow("first-line title") << true << model << prompt << 200 << named;
        QTest::addRow("set by hand")
            << true << model << QStringLiteral("Mine") << 200 << QStringLiteral("Mine");
        QTest::addRow("setting off") << false << model << prompt << 200 << prompt;
        QTest::addRow("demo model") << true << QStringLiteral("demo") << prompt << 200 << prompt;
        QTest::addRow("model fails") << true << model << prompt << 500 << prompt;
    }

    void titleAfterTheFirstAnswer()
    {
        QFETCH(bool, autoTitle);
        QFETCH(QString, model);
        QFETCH(QString, initial);
        QFETCH(int, titleStatus);
        QFETCH(QString, expected);
        TitleFixture f(autoTitle);
        HF_CHECK_FIXTURE(f);
        QVERIFY(f.listening);
        FakeModelServer::Script title = TitleFixture::answer(
            {QStringLiteral("\"Borrow checker "), QStringLiteral("basics.\"\n")});
        title.status = titleStatus;
        title.errorBody = R"({"error":{"message":"overloaded"}})";
        f.upstream.queue = {
            TitleFixture::answer({QStringLiteral("It tracks "), QStringLiteral("lifetimes.")}),
            title};
        CreateSessionParams create;
        create.model = model;
        if (!initial.isNull())
            create.title = initial;
        HF_AWAIT(created, f.service->createSession(create));
        QVERIFY(created->ok());
        const QString sid = (**created).meta.id;
        QSignalSpy changed(f.service.get(), &SessionService::sessionChanged);
        const TurnRecord turn = f.startTurn(sid, QStringLiteral("How does the borrow checker work?"
                                                                "\nWith an example."));
        QCOMPARE(turn.id, 1);
        QCOMPARE(f.finish(sid, turn.id).state, TurnRecord::State::Done);
        const bool demo = model == QLatin1String("demo");
        const bool asks = autoTitle && !demo && initial != QLatin1String("Mine");
        if (asks) {
            QVERIFY(spinUntil([&] { return f.upstream.chatRequests().size() == 2; }, 10000));
            const QJsonArray sent =
                f.upstream.chatRequests().last().json().value(QStringLiteral("messages")).toArray();
            QCOMPARE(sent.size(), 2);
            QCOMPARE(sent[0].toObject().value(QStringLiteral("role")).toString(),
                     QStringLiteral("system"));
            QVERIFY(sent[1]
                        .toObject()
                        .value(QStringLiteral("content"))
                        .toString()
                        .contains(QLatin1String("It tracks lifetimes.")));
        }
        if (expected != initial) {
            QVERIFY(spinUntil([&] { return f.meta(sid).title == expected; }, 10000));
            // The window hears of it.
            const auto told = [&] {
                return std::any_of(changed.cbegin(), changed.cend(), [&](const QList<QVariant> &a) {
                    return a.first().value<SessionMeta>().title == expected;
                });
            };
            QVERIFY(spinUntil(told, 5000));
        } else {
            QTest::qWait(300); // a title job, if one ran by mistake, has answered by now
            QCOMPARE(f.meta(sid).title, initial);
        }
        QCOMPARE(f.upstream.chatRequests().size(), asks ? 2 : (demo ? 0 : 1));
        // Never a message, a turn or a chunk.
        const SessionMeta meta = f.meta(sid);
        QCOMPARE(meta.total, 2);
        QCOMPARE(meta.lastTurn, 1);
        const QList<Message> stored = f.stored(sid);
        QCOMPARE(stored.size(), 2);
        HF_AWAIT(page, f.service->messages(sid, -1, 10));
        QVERIFY(page->ok());
        QCOMPARE((**page).messages.size(), 2);
        HF_AWAIT(chunks, f.service->chunks(sid, 1, 0, 0));
        QVERIFY(chunks->ok());
        QString text;
        for (const auto &c : (**chunks).chunks)
            text += c.text;
        QCOMPARE(text, stored.last().content);
        if (!demo)
            QCOMPARE(text, QStringLiteral("It tracks lifetimes."));
    }

    // A rename while the title request runs wins: the model's title is dropped.
    void renameDuringTheTitleRequestWins()
    {
        TitleFixture f(true);
        HF_CHECK_FIXTURE(f);
        QVERIFY(f.listening);
        f.upstream.queue = {
            TitleFixture::answer({QStringLiteral("An answer")}),
            TitleFixture::answer({QStringLiteral("Model "), QStringLiteral("title")}, 100)};
        CreateSessionParams create;
        create.model = QStringLiteral("fake/fake-model");
        HF_AWAIT(created, f.service->createSession(create));
        QVERIFY(created->ok());
        const QString sid = (**created).meta.id;
        const TurnRecord turn = f.startTurn(sid, QStringLiteral("hello"));
        QCOMPARE(f.finish(sid, turn.id).state, TurnRecord::State::Done);
        QVERIFY(spinUntil([&] { return f.upstream.chatRequests().size() == 2; }, 10000));
        // The title is being written: the user renames the chat.
        PatchSessionParams rename;
        rename.title = QStringLiteral("My own title");
        HF_AWAIT(patched, f.service->patchSession(sid, rename));
        QVERIFY(patched->ok());
        QVERIFY(!f.upstream.chatRequests().last().answered); // it was a race indeed
        QVERIFY(spinUntil([&] { return f.upstream.chatRequests().last().answered; }, 10000));
        QTest::qWait(200); // the title job has read the whole answer by now
        QCOMPARE(f.meta(sid).title, QStringLiteral("My own title"));
    }

    void cleanTitle_data()
    {
        QTest::addColumn<QString>("answer");
        QTest::addColumn<QString>("title");
        QTest::addRow("plain") << "Borrow checker basics"
                               << "Borrow checker basics";
        QTest::addRow("quoted") << "\"Borrow checker basics.\""
                                << "Borrow checker basics";
        QTest::addRow("curly quotes") << "“Rust lifetimes”"
                                      << "Rust lifetimes";
        QTest::addRow("markdown") << "**Title:** Rust lifetimes\nMore text"
                                  << "Rust lifetimes";
        QTest::addRow("label") << "Title: Rust lifetimes"
                               << "Rust lifetimes";
        QTest::addRow("blank lines first") << "\n\n  Rust  lifetimes \n"
                                           << "Rust lifetimes";
        QTest::addRow("thinking") << "<think>they ask about Rust\nhmm</think>\nRust lifetimes"
                                  << "Rust lifetimes";
        QTest::addRow("long") << QStringLiteral("word ").repeated(30)
                              << QStringLiteral("word ").repeated(12).trimmed();
        QTest::addRow("nothing") << "  \"\"  "
                                 << "";
    }

    void cleanTitle()
    {
        QFETCH(QString, answer);
        QFETCH(QString, title);
        QCOMPARE(SessionService::cleanTitle(answer), title);
        QVERIFY(SessionService::cleanTitle(answer).size() <= SessionService::kMaxTitle);
    }

    // The models clients can name: the configured ones first, then those each provider lists now
    // that were not configured; a provider that cannot be reached adds nothing.
    void modelsMergeConfiguredAndDiscovered()
    {
        Fixture f(std::make_unique<MemoryStore>());
        test::FakeModelServer upstream;
        QVERIFY(upstream.listen());
        upstream.models = {QStringLiteral("fake-model"), QStringLiteral("other-model")};
        UpstreamConfig c;
        c.name = QStringLiteral("fake");
        c.baseUrl = QUrl(upstream.openAiBaseUrl());
        c.defaultModel = QStringLiteral("fake-model");
        c.models = {c.defaultModel};
        f.registry.add(new OpenAiProvider(c), c.models);
        quint16 closedPort = 0;
        {
            QTcpServer probe;
            QVERIFY(probe.listen(QHostAddress::LocalHost, 0));
            closedPort = probe.serverPort();
        }
        UpstreamConfig d;
        d.name = QStringLiteral("down");
        d.baseUrl = QUrl(QStringLiteral("http://127.0.0.1:%1/v1").arg(closedPort));
        d.defaultModel = QStringLiteral("down-model");
        d.models = {d.defaultModel};
        f.registry.add(new OpenAiProvider(d), d.models);

        HF_AWAIT(models, f.service->models());
        QVERIFY(models);
        QStringList ids;
        QStringList owners;
        for (const ModelInfo &m : *models) {
            ids << m.id;
            owners << m.ownedBy;
        }
        QCOMPARE(ids,
                 (QStringList{QStringLiteral("demo"), QStringLiteral("scripted"),
                              QStringLiteral("fake/fake-model"), QStringLiteral("down/down-model"),
                              QStringLiteral("fake/other-model")}));
        QCOMPARE(owners.last(), QStringLiteral("fake"));
    }
};

QTEST_GUILESS_MAIN(TestSessionService)
#include "tst_sessionservice.moc"
