// Turns over HTTP (shared/API.md): starting one, the prompt limit, one active turn per
// session, long-polling chunks, cancelling, and deleting a session with a turn running.
#include "fakes/httpserverfixture.h"

#include <QJsonArray>
#include <QLoggingCategory>
#include <QTest>

using namespace holdfast;
using test::HttpReply;
using test::turnPath;

namespace {
using Server = test::HttpServerFixture;
using ServerSetup = test::HttpServerSetup;
} // namespace

class TestTurns : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase()
    {
        QLoggingCategory::setFilterRules(
            QStringLiteral("holdfast.*.debug=false\nholdfast.*.info=false"));
    }
    void promptLimit();
    void turnConflict();
    void turnConflictBeforeInvalidPrompt_data();
    void turnConflictBeforeInvalidPrompt();
    void gistScenarioLongPoll();
    void cancelTurn();
    void deleteCancelsActiveTurn();
};

void TestTurns::promptLimit()
{
    ServerSetup setup;
    setup.service.maxPromptBytes = 100;
    Server srv(setup);
    HF_CHECK_FIXTURE(srv);
    const QString sid = srv.createSession(QStringLiteral("limits"));
    auto c = srv.client();
    // 50 two-byte characters: exactly the limit in UTF-8 bytes.
    const QString exact(50, QChar(0xe9));
    HttpReply r = c.post("/v1/sessions/limits/turns",
                         {{QStringLiteral("prompt"), QString(exact + QLatin1Char('x'))}});
    EXPECT_ERROR(r, 422, "invalid");
    r = c.post("/v1/sessions/limits/turns", {{QStringLiteral("prompt"), exact}});
    QCOMPARE(r.status, 202);
    QCOMPARE(srv.finish(sid, 1).state, TurnRecord::State::Done);
    const auto messages =
        c.get("/v1/sessions/limits/messages").json().value(QStringLiteral("messages")).toArray();
    QCOMPARE(messages.at(0).toObject().value(QStringLiteral("content")).toString(), exact);
}

void TestTurns::turnConflict()
{
    ServerSetup setup;
    setup.demoDelayMs = 200;
    Server srv(setup);
    HF_CHECK_FIXTURE(srv);
    const QString sid = srv.createSession(QStringLiteral("busy"));
    auto c = srv.client();
    HttpReply r =
        c.post("/v1/sessions/busy/turns", {{QStringLiteral("prompt"), QStringLiteral("one")}});
    QCOMPARE(r.status, 202);
    QCOMPARE(r.headers.value("location"), QByteArray("/v1/sessions/busy/turns/1"));
    QCOMPARE(r.json().value(QStringLiteral("state")).toString(), QStringLiteral("streaming"));
    QCOMPARE(r.json().value(QStringLiteral("prompt_index")).toInt(), 0);
    QVERIFY(r.json().value(QStringLiteral("response_index")).isNull());
    EXPECT_ERROR(
        c.post("/v1/sessions/busy/turns", {{QStringLiteral("prompt"), QStringLiteral("two")}}), 409,
        "conflict");
    QCOMPARE(c.get("/v1/sessions/busy").json().value(QStringLiteral("active_turn")).toInt(), 1);
    QCOMPARE(srv.finish(sid, 1).state, TurnRecord::State::Done);
    QCOMPARE(srv.startTurn(sid, QStringLiteral("two")), 2);
}

// API.md's order: a turn already active (409) is found before a bad prompt (422).
void TestTurns::turnConflictBeforeInvalidPrompt_data()
{
    QTest::addColumn<QString>("prompt");
    QTest::addRow("over-long") << QString(262145, QLatin1Char('x'));
    QTest::addRow("empty") << QString();
}

void TestTurns::turnConflictBeforeInvalidPrompt()
{
    QFETCH(QString, prompt);
    ServerSetup setup;
    setup.demoDelayMs = 200;
    Server srv(setup);
    HF_CHECK_FIXTURE(srv);
    const QString sid = srv.createSession(QStringLiteral("busy"));
    auto c = srv.client();
    QCOMPARE(c.post("/v1/sessions/busy/turns", {{QStringLiteral("prompt"), QStringLiteral("one")}})
                 .status,
             202);
    EXPECT_ERROR(c.post("/v1/sessions/busy/turns", {{QStringLiteral("prompt"), prompt}}), 409,
                 "conflict");
    QCOMPARE(srv.finish(sid, 1).state, TurnRecord::State::Done);
    // Once the session is idle, the same prompt is the 422 it is.
    EXPECT_ERROR(c.post("/v1/sessions/busy/turns", {{QStringLiteral("prompt"), prompt}}), 422,
                 "invalid");
}

// The gist's scenario: the 202 comes before the answer; the client polls the chunks; the answer
// is saved once it has ended, equal to the chunks.

void TestTurns::gistScenarioLongPoll()
{
    ServerSetup setup;
    setup.demoDelayMs = 100;
    setup.demoChunks = 5;
    Server srv(setup);
    HF_CHECK_FIXTURE(srv);
    const QString sid = srv.createSession(QStringLiteral("gist"));
    auto c = srv.client();
    HttpReply r =
        c.post("/v1/sessions/gist/turns", {{QStringLiteral("prompt"), QStringLiteral("tell me")}});
    QCOMPARE(r.status, 202);
    QCOMPARE(r.json().value(QStringLiteral("chunks")).toInt(), 0);
    QVERIFY(srv.service->liveTurn(sid, 1)); // still generating after the 202

    QString text;
    int next = 0;
    int polls = 0;
    bool done = false;
    QList<int> seqs;
    while (!done && polls < 100) {
        ++polls;
        r = c.get(turnPath(sid, 1, "/chunks?from=" + QByteArray::number(next) + "&wait=5000"));
        QCOMPARE(r.status, 200);
        const QJsonObject page = r.json();
        for (const QJsonValue &v : page.value(QStringLiteral("chunks")).toArray()) {
            seqs.append(v.toObject().value(QStringLiteral("seq")).toInt());
            text += v.toObject().value(QStringLiteral("text")).toString();
        }
        const int newNext = page.value(QStringLiteral("next")).toInt();
        QVERIFY(newNext >= next);
        next = newNext;
        done = page.value(QStringLiteral("done")).toBool();
        if (done)
            QCOMPARE(page.value(QStringLiteral("state")).toString(), QStringLiteral("done"));
    }
    QVERIFY(done);
    QCOMPARE(seqs, (QList<int>{0, 1, 2, 3, 4}));

    r = c.get(turnPath(sid, 1));
    QCOMPARE(r.json().value(QStringLiteral("state")).toString(), QStringLiteral("done"));
    QCOMPARE(r.json().value(QStringLiteral("chunks")).toInt(), 5);
    QCOMPARE(r.json().value(QStringLiteral("response_index")).toInt(), 1);
    QVERIFY(!r.json().value(QStringLiteral("finished_at")).isNull());

    const QJsonObject session = c.get("/v1/sessions/gist").json();
    QCOMPARE(session.value(QStringLiteral("total")).toInt(), 2);
    const QJsonArray history = session.value(QStringLiteral("history")).toArray();
    QCOMPARE(history.size(), 2);
    QCOMPARE(history.at(0).toObject().value(QStringLiteral("role")).toString(),
             QStringLiteral("user"));
    QCOMPARE(history.at(1).toObject().value(QStringLiteral("role")).toString(),
             QStringLiteral("assistant"));
    QCOMPARE(history.at(1).toObject().value(QStringLiteral("content")).toString(), text);
    QCOMPARE(history.at(1).toObject().value(QStringLiteral("state")).toString(),
             QStringLiteral("complete"));

    // After the end: done at once, nothing more.
    r = c.get(turnPath(sid, 1, "/chunks?from=5&wait=30000"));
    QCOMPARE(r.json().value(QStringLiteral("done")).toBool(), true);
    QCOMPARE(r.json().value(QStringLiteral("next")).toInt(), 5);
    QCOMPARE(r.json().value(QStringLiteral("chunks")).toArray().size(), 0);
}

void TestTurns::cancelTurn()
{
    ServerSetup setup;
    setup.demoDelayMs = 100;
    setup.demoChunks = 50;
    Server srv(setup);
    HF_CHECK_FIXTURE(srv);
    const QString sid = srv.createSession(QStringLiteral("stop"));
    QCOMPARE(srv.startTurn(sid, QStringLiteral("long one")), 1);
    auto c = srv.client();
    HttpReply r = c.get(turnPath(sid, 1, "/chunks?from=0&wait=5000"));
    QVERIFY(!r.json().value(QStringLiteral("chunks")).toArray().isEmpty());
    r = c.call("POST", turnPath(sid, 1, "/cancel"));
    QCOMPARE(r.status, 202);
    QCOMPARE(r.json().value(QStringLiteral("state")).toString(), QStringLiteral("cancelled"));
    const int chunks = r.json().value(QStringLiteral("chunks")).toInt();
    QVERIFY(chunks >= 1 && chunks < 50);
    const QJsonArray history =
        c.get("/v1/sessions/stop").json().value(QStringLiteral("history")).toArray();
    QCOMPARE(history.size(), 2);
    QCOMPARE(history.at(1).toObject().value(QStringLiteral("state")).toString(),
             QStringLiteral("interrupted"));
    // Cancelling an ended turn changes nothing.
    r = c.call("POST", turnPath(sid, 1, "/cancel"));
    QCOMPARE(r.status, 202);
    QCOMPARE(r.json().value(QStringLiteral("state")).toString(), QStringLiteral("cancelled"));
    QCOMPARE(r.json().value(QStringLiteral("chunks")).toInt(), chunks);
    QCOMPARE(c.get("/v1/sessions/stop").json().value(QStringLiteral("total")).toInt(), 2);
}

void TestTurns::deleteCancelsActiveTurn()
{
    ServerSetup setup;
    setup.demoDelayMs = 100;
    setup.demoChunks = 50;
    Server srv(setup);
    HF_CHECK_FIXTURE(srv);
    const QString sid = srv.createSession(QStringLiteral("gone"));
    QCOMPARE(srv.startTurn(sid, QStringLiteral("long one")), 1);
    auto c = srv.client();
    QCOMPARE(c.call("DELETE", "/v1/sessions/gone").status, 204);
    QCOMPARE(srv.service->activeTurnCount(), 0);
    EXPECT_ERROR(c.get("/v1/sessions/gone"), 404, "not_found");
    EXPECT_ERROR(c.get(turnPath(sid, 1)), 404, "not_found");
}

HOLDFAST_TEST_MAIN(TestTurns)
#include "tst_turns.moc"
