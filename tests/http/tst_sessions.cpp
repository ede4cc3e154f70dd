// Sessions over HTTP (shared/API.md): create, read, update, delete, list and search, and
// the messages of a session, over real sockets against a real HttpServer on port 0.
#include "fakes/httpserverfixture.h"

#include <QJsonArray>
#include <QLoggingCategory>
#include <QTest>

using namespace holdfast;
using test::HttpReply;

namespace {
using Server = test::HttpServerFixture;
} // namespace

class TestSessions : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase()
    {
        QLoggingCategory::setFilterRules(
            QStringLiteral("holdfast.*.debug=false\nholdfast.*.info=false"));
    }
    void sessionLifecycle();
    void listAndSearch();
    void messagesPaging();
};

void TestSessions::sessionLifecycle()
{
    Server srv;
    HF_CHECK_FIXTURE(srv);
    auto c = srv.client();

    // An empty body means {}.
    HttpReply r = c.call("POST", "/v1/sessions");
    QCOMPARE(r.status, 201);
    const QString generated = r.json().value(QStringLiteral("id")).toString();
    QVERIFY(SessionService::isValidSessionId(generated));
    QCOMPARE(r.headers.value("location"), "/v1/sessions/" + generated.toUtf8());

    r = c.post("/v1/sessions", {{QStringLiteral("id"), QStringLiteral("trip")},
                                {QStringLiteral("title"), QStringLiteral("Trip plans")},
                                {QStringLiteral("system"), QStringLiteral("You are terse.")}});
    QCOMPARE(r.status, 201);
    QCOMPARE(r.headers.value("location"), QByteArray("/v1/sessions/trip"));
    QJsonObject s = r.json();
    QCOMPARE(s.value(QStringLiteral("title")).toString(), QStringLiteral("Trip plans"));
    QCOMPARE(s.value(QStringLiteral("system")).toString(), QStringLiteral("You are terse."));
    QCOMPARE(s.value(QStringLiteral("model")).toString(), QStringLiteral("demo"));
    QCOMPARE(s.value(QStringLiteral("total")).toInt(), 0);
    QVERIFY(s.value(QStringLiteral("active_turn")).isNull());
    QVERIFY(s.value(QStringLiteral("history")).isArray());
    QVERIFY(s.value(QStringLiteral("created_at")).toString().endsWith(QLatin1Char('Z')));

    r = c.get("/v1/sessions/trip");
    QCOMPARE(r.status, 200);
    QCOMPARE(r.json().value(QStringLiteral("title")).toString(), QStringLiteral("Trip plans"));

    // PATCH: a field set, a field cleared with null, the rest left.
    r = c.patch("/v1/sessions/trip", {{QStringLiteral("title"), QStringLiteral("Holiday")},
                                      {QStringLiteral("system"), QJsonValue::Null}});
    QCOMPARE(r.status, 200);
    s = r.json();
    QCOMPARE(s.value(QStringLiteral("title")).toString(), QStringLiteral("Holiday"));
    QVERIFY(s.value(QStringLiteral("system")).isNull());
    QVERIFY(s.value(QStringLiteral("history")).isArray());
    QVERIFY(s.value(QStringLiteral("updated_at")).toString() >=
            s.value(QStringLiteral("created_at")).toString());

    r = c.call("DELETE", "/v1/sessions/trip");
    QCOMPARE(r.status, 204);
    QVERIFY(r.body.isEmpty());
    EXPECT_ERROR(c.get("/v1/sessions/trip"), 404, "not_found");
    EXPECT_ERROR(c.call("DELETE", "/v1/sessions/trip"), 404, "not_found");
}

void TestSessions::listAndSearch()
{
    Server srv;
    HF_CHECK_FIXTURE(srv);
    auto c = srv.client();
    for (const char *title : {"Alpha trip", "beta", "Gamma TRIP"}) {
        QCOMPARE(
            c.post("/v1/sessions", {{QStringLiteral("title"), QString::fromLatin1(title)}}).status,
            201);
        QTest::qWait(2); // distinct updated_at
    }
    HttpReply r = c.get("/v1/sessions");
    QCOMPARE(r.status, 200);
    QJsonArray list = r.json().value(QStringLiteral("sessions")).toArray();
    QCOMPARE(r.json().value(QStringLiteral("total")).toInt(), 3);
    QCOMPARE(list.size(), 3);
    QCOMPARE(list.at(0).toObject().value(QStringLiteral("title")).toString(),
             QStringLiteral("Gamma TRIP"));
    QVERIFY(!list.at(0).toObject().contains(QStringLiteral("history")));

    r = c.get("/v1/sessions?q=trip&limit=1&offset=1");
    QCOMPARE(r.status, 200);
    list = r.json().value(QStringLiteral("sessions")).toArray();
    QCOMPARE(r.json().value(QStringLiteral("total")).toInt(), 2);
    QCOMPARE(list.size(), 1);
    QCOMPARE(list.at(0).toObject().value(QStringLiteral("title")).toString(),
             QStringLiteral("Alpha trip"));
}

void TestSessions::messagesPaging()
{
    Server srv;
    HF_CHECK_FIXTURE(srv);
    const QString sid = srv.createSession(QStringLiteral("pages"));
    for (int i = 0; i < 3; ++i) {
        const int tid = srv.startTurn(sid, QStringLiteral("question %1").arg(i));
        QVERIFY(tid > 0);
        QCOMPARE(srv.finish(sid, tid).state, TurnRecord::State::Done);
    }
    auto c = srv.client();
    HttpReply r = c.get("/v1/sessions/pages/messages?before=5&limit=2");
    QCOMPARE(r.status, 200);
    QCOMPARE(r.json().value(QStringLiteral("total")).toInt(), 6);
    QJsonArray messages = r.json().value(QStringLiteral("messages")).toArray();
    QCOMPARE(messages.size(), 2);
    QCOMPARE(messages.at(0).toObject().value(QStringLiteral("index")).toInt(), 3);
    QCOMPARE(messages.at(1).toObject().value(QStringLiteral("index")).toInt(), 4);
    QCOMPARE(messages.at(0).toObject().value(QStringLiteral("role")).toString(),
             QStringLiteral("assistant"));

    r = c.get("/v1/sessions/pages/messages?before=1000");
    messages = r.json().value(QStringLiteral("messages")).toArray();
    QCOMPARE(messages.size(), 6);
    QCOMPARE(messages.at(0).toObject().value(QStringLiteral("content")).toString(),
             QStringLiteral("question 0"));

    r = c.get("/v1/sessions/pages?window=2");
    QCOMPARE(r.json().value(QStringLiteral("history")).toArray().size(), 2);
    r = c.get("/v1/sessions/pages?window=0");
    QCOMPARE(r.json().value(QStringLiteral("history")).toArray().size(), 0);
}

HOLDFAST_TEST_MAIN(TestSessions)
#include "tst_sessions.moc"
