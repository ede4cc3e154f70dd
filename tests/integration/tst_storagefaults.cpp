// Storage faults mid-turn, through the real HTTP layer over real sockets: a SQLite store whose
// writes start failing while a turn streams (a full disk, a read-only file). The turn ends
// `error` (unavailable) once the fault clears, writes answer 503 `unavailable` with a message
// that says why, reads keep working, and the service recovers without a restart; the file passes
// PRAGMA integrity_check and every acknowledged prompt and every chunk a client saw is stored.
//   - faultInjected: tests/fakes FaultyStore around the real SqliteStore (disk full, read-only);
//   - tmpfsDiskFull: the SQLite file on a 2 MiB tmpfs that is then filled up for real (needs
//     mount(2): QSKIPs where mounting is not permitted, e.g. in an unprivileged container).
#include "core/providerregistry.h"
#include "core/sessionservice.h"
#include "fakes/faultystore.h"
#include "fakes/httpserverfixture.h"
#include "fakes/httptestclient.h"
#include "fakes/sqlitecheck.h"
#include "fakes/testutil.h"
#include "http/httpserver.h"
#include "provider/demoprovider.h"
#include "store/sqlitestore.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

#include <functional>

using namespace holdfast;
using test::FaultyStore;
using test::HttpReply;
using test::HttpTestClient;
using test::spinUntil;
using test::SseReader;

namespace {

// The shared HTTP fixture on the given store, with the demo provider alone.
struct Server : test::HttpServerFixture
{
    explicit Server(std::unique_ptr<Store> s, DemoProvider::Options demo = {60, 20})
        : HttpServerFixture(setup(std::make_shared<std::unique_ptr<Store>>(std::move(s)), demo))
    {}

private:
    static test::HttpServerSetup setup(std::shared_ptr<std::unique_ptr<Store>> store,
                                       DemoProvider::Options demo)
    {
        test::HttpServerSetup setup;
        setup.makeStore = [store] { return std::move(*store); };
        setup.demoChunks = demo.chunks;
        setup.demoDelayMs = demo.delayMs;
        setup.scriptedProvider = false;
        return setup;
    }
};

QString seenText(const SseReader &events)
{
    QString text;
    for (const auto &e : events.chunkEvents())
        text += e.json().value(QStringLiteral("text")).toString();
    return text;
}

bool isUnavailable(const HttpReply &r, const QString &words)
{
    if (r.status != 503 || !r.hasErrorShape() || r.errorCode() != QLatin1String("unavailable")) {
        qWarning() << "expected 503 unavailable, got" << r.status << r.body;
        return false;
    }
    const QString message = r.error().value(QStringLiteral("message")).toString();
    if (!message.contains(words)) {
        qWarning() << "the message does not say" << words << ":" << message;
        return false;
    }
    return true;
}

// The scenario both variants share. `inject` starts the fault while turn 1 of session "a"
// streams; `clear` ends it. `words` must appear in the 503 messages.
void faultMidTurn(Server &server, const std::function<void()> &inject,
                  const std::function<void()> &clear, const QString &words)
{
    HttpTestClient c(server.port);
    QCOMPARE(c.post("/v1/sessions", {{QStringLiteral("id"), QStringLiteral("a")}}).status, 201);
    QCOMPARE(c.post("/v1/sessions", {{QStringLiteral("id"), QStringLiteral("b")}}).status, 201);
    QCOMPARE(c.post("/v1/sessions/b/turns", {{QStringLiteral("prompt"), QStringLiteral("first")}})
                 .status,
             202);
    HF_AWAIT(first, server.service->waitForTurn(QStringLiteral("b"), 1, 20000));
    QVERIFY(first && first->ok() && first->value().state == TurnRecord::State::Done);

    QCOMPARE(c.post("/v1/sessions/a/turns", {{QStringLiteral("prompt"), QStringLiteral("doomed")}})
                 .status,
             202);
    SseReader events(server.port, "/v1/sessions/a/turns/1/events");
    QVERIFY(events.waitForEvents(3));
    inject();

    // Writes: 503 unavailable, saying why.
    QVERIFY(isUnavailable(c.post("/v1/sessions", {{QStringLiteral("id"), QStringLiteral("c")}}),
                          words));
    QVERIFY(isUnavailable(
        c.post("/v1/sessions/b/turns", {{QStringLiteral("prompt"), QStringLiteral("second")}}),
        words));
    QVERIFY(isUnavailable(
        c.patch("/v1/sessions/b", {{QStringLiteral("title"), QStringLiteral("t")}}), words));
    // Reads still work.
    QCOMPARE(c.get("/v1/sessions").status, 200);
    const HttpReply b = c.get("/v1/sessions/b");
    QCOMPARE(b.status, 200);
    QCOMPARE(b.json().value(QStringLiteral("total")).toInt(), 2);
    QVERIFY(b.json().value(QStringLiteral("title")).isNull()); // the failed PATCH left nothing
    QCOMPARE(c.get("/v1/sessions/b/messages").status, 200);
    QCOMPARE(c.get("/v1/sessions/b/turns/1/chunks").status, 200);
    QCOMPARE(c.get("/v1/sessions/a/turns/1").status, 200);

    // The turn cannot finish while the fault lasts; once it clears, the turn ends `error`.
    QTest::qWait(300);
    QVERIFY(!events.ended());
    clear();
    QVERIFY(events.waitForEnd(20000));
    QCOMPARE(events.lastEvent().event, QByteArray("error"));
    QCOMPARE(events.lastEvent()
                 .json()
                 .value(QStringLiteral("error"))
                 .toObject()
                 .value(QStringLiteral("code"))
                 .toString(),
             QStringLiteral("unavailable"));
    const QString seen = seenText(events);
    QVERIFY(!seen.isEmpty());

    const HttpReply turn = c.get("/v1/sessions/a/turns/1");
    QCOMPARE(turn.json().value(QStringLiteral("state")).toString(), QStringLiteral("error"));
    QCOMPARE(turn.json()
                 .value(QStringLiteral("error"))
                 .toObject()
                 .value(QStringLiteral("code"))
                 .toString(),
             QStringLiteral("unavailable"));
    const QJsonArray history =
        c.get("/v1/sessions/a").json().value(QStringLiteral("history")).toArray();
    QCOMPARE(history.size(), 2);
    QCOMPARE(history.at(0).toObject().value(QStringLiteral("content")).toString(),
             QStringLiteral("doomed"));
    QCOMPARE(history.at(1).toObject().value(QStringLiteral("state")).toString(),
             QStringLiteral("error"));
    // Every chunk a client saw is in the saved answer and still readable.
    QCOMPARE(history.at(1).toObject().value(QStringLiteral("content")).toString(), seen);
    SseReader replay(server.port, "/v1/sessions/a/turns/1/events");
    QVERIFY(replay.waitForEnd());
    QCOMPARE(seenText(replay), seen);

    // Recovered without a restart: writes and new turns work again.
    QCOMPARE(c.post("/v1/sessions", {{QStringLiteral("id"), QStringLiteral("c")}}).status, 201);
    QCOMPARE(c.patch("/v1/sessions/b", {{QStringLiteral("title"), QStringLiteral("t")}}).status,
             200);
    QCOMPARE(c.post("/v1/sessions/a/turns", {{QStringLiteral("prompt"), QStringLiteral("again")}})
                 .status,
             202);
    HF_AWAIT(second, server.service->waitForTurn(QStringLiteral("a"), 2, 20000));
    QVERIFY(second && second->ok());
    QCOMPARE(turnStateName(second->value().state), QStringLiteral("done"));
    QCOMPARE(c.get("/v1/sessions/a").json().value(QStringLiteral("total")).toInt(), 4);
}

// What a restart finds in the file: everything the scenario had acknowledged.
void checkFile(const QString &db)
{
    const QString integrity = test::integrityCheck(db);
    QVERIFY2(integrity == QLatin1String("ok"), qPrintable(integrity));
    Server again(std::make_unique<SqliteStore>(db));
    HF_CHECK_FIXTURE(again);
    HttpTestClient c(again.port);
    const QJsonObject a = c.get("/v1/sessions/a?window=10").json();
    QCOMPARE(a.value(QStringLiteral("total")).toInt(), 4);
    const QJsonArray history = a.value(QStringLiteral("history")).toArray();
    QCOMPARE(history.at(1).toObject().value(QStringLiteral("state")).toString(),
             QStringLiteral("error"));
    QCOMPARE(history.at(3).toObject().value(QStringLiteral("state")).toString(),
             QStringLiteral("complete"));
    QCOMPARE(c.get("/v1/sessions/b").json().value(QStringLiteral("title")).toString(),
             QStringLiteral("t"));
    QCOMPARE(c.get("/v1/sessions/c").status, 200);
}

// Writes zeros to `path` until the file system is full; returns the bytes written.
qint64 fillDisk(const QString &path)
{
    QFile f(path);
    if (!f.open(QIODevice::WriteOnly))
        return 0;
    const QByteArray block(64 * 1024, '\0');
    qint64 total = 0;
    while (true) {
        const qint64 n = f.write(block);
        if (n <= 0 || !f.flush())
            break;
        total += n;
    }
    return total;
}

} // namespace

class TestStorageFaults : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void faultInjected_data();
    void faultInjected();
    void tmpfsDiskFull();
    void cancelBeforeFirstChunk();
};

void TestStorageFaults::faultInjected_data()
{
    QTest::addColumn<int>("fault");
    QTest::addColumn<QString>("words");
    QTest::addRow("disk full") << int(FaultyStore::Fault::DiskFull)
                               << QStringLiteral("disk is full");
    QTest::addRow("read-only") << int(FaultyStore::Fault::ReadOnly)
                               << QStringLiteral("readonly database");
}

void TestStorageFaults::faultInjected()
{
    QFETCH(int, fault);
    QFETCH(QString, words);
    QTemporaryDir dir;
    const QString db = dir.filePath(QStringLiteral("faults.db"));
    {
        auto *faulty = new FaultyStore(std::make_unique<SqliteStore>(db));
        Server server{std::unique_ptr<Store>(faulty)};
        HF_CHECK_FIXTURE(server);
        faultMidTurn(
            server, [&] { faulty->setFault(FaultyStore::Fault(fault)); },
            [&] { faulty->setFault(FaultyStore::Fault::None); }, words);
        if (QTest::currentTestFailed())
            return;
        QVERIFY(faulty->failedWrites() >= 4); // chunks, finish, and the three refused writes
    }
    checkFile(db);
}

void TestStorageFaults::tmpfsDiskFull()
{
    QTemporaryDir dir;
    const QString mountPoint = dir.filePath(QStringLiteral("small"));
    QVERIFY(QDir().mkpath(mountPoint));
    QProcess mount;
    mount.start(QStringLiteral("mount"),
                {QStringLiteral("-t"), QStringLiteral("tmpfs"), QStringLiteral("-o"),
                 QStringLiteral("size=2m"), QStringLiteral("tmpfs"), mountPoint});
    if (!mount.waitForFinished(10000) || mount.exitStatus() != QProcess::NormalExit ||
        mount.exitCode() != 0)
        QSKIP("cannot mount a tmpfs here (not root, or a container): only the injected faults ran");
    const auto unmount = qScopeGuard([&] {
        QProcess::execute(QStringLiteral("umount"), {QStringLiteral("-l"), mountPoint});
    });
    const QString db = mountPoint + QStringLiteral("/faults.db");
    const QString filler = mountPoint + QStringLiteral("/filler");
    {
        Server server(std::make_unique<SqliteStore>(db));
        HF_CHECK_FIXTURE(server);
        faultMidTurn(
            server, [&] { QVERIFY(fillDisk(filler) > 0); }, [&] { QFile::remove(filler); },
            QStringLiteral("disk is full"));
    }
    if (QTest::currentTestFailed())
        return;
    checkFile(db);
}

// An answer with no chunk at all is still an answer: stored (empty, `interrupted`), not a
// constraint failure that leaves the turn retrying its save forever. (Found by tst_crash: a
// crash before the first chunk made the next start fail on the recovered empty answer.)
void TestStorageFaults::cancelBeforeFirstChunk()
{
    QTemporaryDir dir;
    const QString db = dir.filePath(QStringLiteral("empty.db"));
    {
        Server server(std::make_unique<SqliteStore>(db), {5, 5000});
        HF_CHECK_FIXTURE(server);
        HttpTestClient c(server.port);
        QCOMPARE(c.post("/v1/sessions", {{QStringLiteral("id"), QStringLiteral("e")}}).status, 201);
        QCOMPARE(c.post("/v1/sessions/e/turns", {{QStringLiteral("prompt"), QStringLiteral("x")}})
                     .status,
                 202);
        const HttpReply cancelled = c.post("/v1/sessions/e/turns/1/cancel", {});
        QCOMPARE(cancelled.status, 202);
        QCOMPARE(cancelled.json().value(QStringLiteral("state")).toString(),
                 QStringLiteral("cancelled"));
        const QJsonArray history =
            c.get("/v1/sessions/e").json().value(QStringLiteral("history")).toArray();
        QCOMPARE(history.size(), 2);
        QCOMPARE(history.at(1).toObject().value(QStringLiteral("state")).toString(),
                 QStringLiteral("interrupted"));
        QCOMPARE(history.at(1).toObject().value(QStringLiteral("content")).toString(), QString());
    }
    // And a restart reads it back.
    Server again(std::make_unique<SqliteStore>(db));
    HF_CHECK_FIXTURE(again);
    HttpTestClient c(again.port);
    QCOMPARE(c.get("/v1/sessions/e").json().value(QStringLiteral("total")).toInt(), 2);
}

QTEST_GUILESS_MAIN(TestStorageFaults)
#include "tst_storagefaults.moc"
