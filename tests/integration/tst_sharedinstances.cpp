// Several `holdfast --headless` processes on one redis-server: any instance serves any request.
// A turn started through A is followed, resumed and cancelled through B; a killed instance's turn
// is saved as interrupted by a survivor; a Redis restart mid-turn is survived without a restart.
#include "fakes/holdfastprocess.h"
#include "fakes/httptestclient.h"
#include "fakes/redisserver.h"
#include "fakes/testutil.h"

#include <QJsonArray>
#include <QProcess>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTest>

#include <csignal>

using namespace holdfast;
using test::HttpReply;
using test::HttpTestClient;
using test::spinUntil;
using test::SseReader;

namespace {

// One holdfast process on the Redis store, stopped by PID when it goes out of scope.
class Instance
{
public:
    Instance(const QString &home, const QString &store, QStringList extra = {})
        : m_process(home,
                    QStringList{QStringLiteral("--listen"), QStringLiteral("127.0.0.1:0"),
                                QStringLiteral("--store"), store} +
                        extra,
                    {}, true)
    {}
    quint16 waitForPort() { return m_process.waitForPort(); }
    void kill9() { m_process.kill9(); }

private:
    test::HoldfastProcess m_process;
};

QStringList slowDemo()
{
    return {QStringLiteral("--demo-delay-ms"), QStringLiteral("50"),
            QStringLiteral("--demo-chunks"), QStringLiteral("400")};
}

QString turnState(HttpTestClient &c, const QByteArray &turnPath)
{
    return c.get(turnPath).json().value(QStringLiteral("state")).toString();
}

} // namespace

class TestSharedInstances : public QObject
{
    Q_OBJECT

    std::unique_ptr<test::RedisServer> m_redis;
    QTemporaryDir m_home;

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY2(!qEnvironmentVariableIsEmpty("HOLDFAST_BINARY"),
                 "run through ctest (HOLDFAST_BINARY)");
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

    void followResumeAndCancelThroughAnotherInstance()
    {
        Instance a(m_home.path(), m_redis->url(), slowDemo());
        Instance b(m_home.path(), m_redis->url(), slowDemo());
        const quint16 portA = a.waitForPort();
        const quint16 portB = b.waitForPort();
        QVERIFY(portA != 0 && portB != 0);
        HttpTestClient ca(portA);
        HttpTestClient cb(portB);

        QCOMPARE(ca.post("/v1/sessions", {{QStringLiteral("id"), QStringLiteral("lb")}}).status,
                 201);
        const HttpReply started =
            ca.post("/v1/sessions/lb/turns",
                    {{QStringLiteral("prompt"), QStringLiteral("Tell me a long story")}});
        QCOMPARE(started.status, 202);
        QCOMPARE(started.json().value(QStringLiteral("id")).toInt(), 1);

        const QJsonObject session = cb.get("/v1/sessions/lb").json();
        QCOMPARE(session.value(QStringLiteral("active_turn")).toInt(), 1);
        QCOMPARE(session.value(QStringLiteral("total")).toInt(), 1);

        // B follows from seq 0, chunk after chunk, as A writes them.
        QByteArray seen;
        {
            SseReader events(portB, "/v1/sessions/lb/turns/1/events");
            QVERIFY(events.waitForEvents(4));
            const auto chunks = events.chunkEvents();
            for (int i = 0; i < chunks.size(); ++i) {
                QCOMPARE(chunks.at(i).id, QByteArray::number(i));
                QCOMPARE(chunks.at(i).json().value(QStringLiteral("seq")).toInt(), i);
            }
            events.disconnect();
        }
        // And resumes on B after the last event it saw.
        SseReader resumed(portB, "/v1/sessions/lb/turns/1/events", {{"Last-Event-ID", "1"}});
        QVERIFY(resumed.waitForEvents(2));
        QCOMPARE(resumed.events.first().id, QByteArray("2"));

        // A second turn through B while A's runs: 409.
        const HttpReply conflict = cb.post("/v1/sessions/lb/turns",
                                           {{QStringLiteral("prompt"), QStringLiteral("me too")}});
        QCOMPARE(conflict.status, 409);
        QCOMPARE(conflict.errorCode(), QStringLiteral("conflict"));

        // Cancel through B stops the generation on A.
        const HttpReply cancelled = cb.post("/v1/sessions/lb/turns/1/cancel", {});
        QCOMPARE(cancelled.status, 202);
        QVERIFY(spinUntil([&] {
            return turnState(ca, "/v1/sessions/lb/turns/1") == QLatin1String("cancelled");
        }));
        QVERIFY(resumed.waitForEnd());
        QCOMPARE(resumed.lastEvent().event, QByteArray("done"));
        QCOMPARE(resumed.lastEvent().json().value(QStringLiteral("state")).toString(),
                 QStringLiteral("cancelled"));

        const QJsonObject turn = cb.get("/v1/sessions/lb/turns/1").json();
        const int chunks = turn.value(QStringLiteral("chunks")).toInt();
        QVERIFY(chunks < 400);
        const QJsonArray messages =
            cb.get("/v1/sessions/lb/messages").json().value(QStringLiteral("messages")).toArray();
        QCOMPARE(messages.size(), 2);
        QCOMPARE(messages.at(1).toObject().value(QStringLiteral("state")).toString(),
                 QStringLiteral("interrupted"));
        // The answer holds every chunk any client saw, in order.
        const QJsonArray all = cb.get("/v1/sessions/lb/turns/1/chunks?from=0")
                                   .json()
                                   .value(QStringLiteral("chunks"))
                                   .toArray();
        QCOMPARE(all.size(), chunks);
        QString text;
        for (const auto &c : all)
            text += c.toObject().value(QStringLiteral("text")).toString();
        QCOMPARE(messages.at(1).toObject().value(QStringLiteral("content")).toString(), text);
    }

    // kill -9 of the instance running a turn: within the lease and a margin, the other instance
    // shows it interrupted with the chunks produced so far, in exactly one message.
    void killedInstanceIsInterruptedBySurvivor()
    {
        const QString store = m_redis->url(0, QStringLiteral("lease_ms=1000"));
        Instance a(m_home.path(), store, slowDemo());
        Instance b(m_home.path(), store, slowDemo());
        const quint16 portA = a.waitForPort();
        const quint16 portB = b.waitForPort();
        QVERIFY(portA != 0 && portB != 0);
        HttpTestClient ca(portA);
        HttpTestClient cb(portB);
        QCOMPARE(ca.post("/v1/sessions", {{QStringLiteral("id"), QStringLiteral("doomed")}}).status,
                 201);
        QCOMPARE(
            ca.post("/v1/sessions/doomed/turns", {{QStringLiteral("prompt"), QStringLiteral("go")}})
                .status,
            202);
        int seen = 0;
        QVERIFY(spinUntil([&] {
            seen = cb.get("/v1/sessions/doomed/turns/1/chunks?from=0&wait=1000")
                       .json()
                       .value(QStringLiteral("next"))
                       .toInt();
            return seen >= 3;
        }));
        a.kill9();
        QVERIFY(spinUntil(
            [&] {
                return turnState(cb, "/v1/sessions/doomed/turns/1") == QLatin1String("interrupted");
            },
            15000));
        const QJsonObject turn = cb.get("/v1/sessions/doomed/turns/1").json();
        QVERIFY(turn.value(QStringLiteral("chunks")).toInt() >= seen);
        QCOMPARE(turn.value(QStringLiteral("response_index")).toInt(), 1);
        // Give B a few more sweeps: still one message.
        QTest::qWait(2500);
        const QJsonObject listed = cb.get("/v1/sessions/doomed/messages").json();
        QCOMPARE(listed.value(QStringLiteral("total")).toInt(), 2);
        const QJsonObject answer =
            listed.value(QStringLiteral("messages")).toArray().at(1).toObject();
        QCOMPARE(answer.value(QStringLiteral("state")).toString(), QStringLiteral("interrupted"));
        QVERIFY(!answer.value(QStringLiteral("content")).toString().isEmpty());
        QVERIFY(cb.get("/v1/sessions/doomed").json().value(QStringLiteral("active_turn")).isNull());
        // And the session takes a new turn through B.
        QCOMPARE(cb.post("/v1/sessions/doomed/turns",
                         {{QStringLiteral("prompt"), QStringLiteral("again")}})
                     .status,
                 202);
    }

    // redis-server stopped and started again mid-turn: the turn ends `error` (unavailable), routes
    // that need the store answer 503 meanwhile, and service resumes without restarting Holdfast.
    void redisRestartMidTurn()
    {
        Instance a(m_home.path(), m_redis->url(0, QStringLiteral("timeout_ms=1000")), slowDemo());
        const quint16 port = a.waitForPort();
        QVERIFY(port != 0);
        HttpTestClient c(port);
        QCOMPARE(c.post("/v1/sessions", {{QStringLiteral("id"), QStringLiteral("blip")}}).status,
                 201);
        QCOMPARE(
            c.post("/v1/sessions/blip/turns", {{QStringLiteral("prompt"), QStringLiteral("go")}})
                .status,
            202);
        QVERIFY(spinUntil([&] {
            return c.get("/v1/sessions/blip/turns/1/chunks?from=0&wait=1000")
                       .json()
                       .value(QStringLiteral("next"))
                       .toInt() >= 3;
        }));
        m_redis->kill();
        HttpReply down;
        QVERIFY(spinUntil([&] {
            down = c.get("/v1/sessions?limit=5");
            return down.status == 503;
        }));
        QCOMPARE(down.errorCode(), QStringLiteral("unavailable"));
        QCOMPARE(c.get("/healthz").status, 200);
        // Redis stays away while the model goes on (a chunk every 50 ms): the turn's writes meet
        // the outage, whatever the machine's load (a restart at once could come before any).
        QTest::qWait(300);
        QVERIFY(m_redis->restart());
        QVERIFY(spinUntil(
            [&] { return turnState(c, "/v1/sessions/blip/turns/1") == QLatin1String("error"); }));
        const QJsonObject turn = c.get("/v1/sessions/blip/turns/1").json();
        QCOMPARE(
            turn.value(QStringLiteral("error")).toObject().value(QStringLiteral("code")).toString(),
            QStringLiteral("unavailable"));
        QVERIFY(spinUntil([&] { return c.get("/v1/sessions?limit=5").status == 200; }));
        QVERIFY(spinUntil([&] {
            return c.get("/v1/sessions/blip").json().value(QStringLiteral("total")).toInt() == 2;
        }));
        QCOMPARE(
            c.post("/v1/sessions/blip/turns", {{QStringLiteral("prompt"), QStringLiteral("again")}})
                .status,
            202);
    }
};

QTEST_GUILESS_MAIN(TestSharedInstances)
#include "tst_sharedinstances.moc"
