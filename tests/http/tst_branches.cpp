// Branches over HTTP (shared/API.md, "Branches: edit and regenerate"): `parent`, `regenerate`
// and PATCH `head`, the new fields, one test per rule and per error status, and what the model
// server is sent, over real sockets against a real HttpServer on port 0.
#include "fakes/branchpaths.h"
#include "fakes/fakemodelserver.h"
#include "fakes/httpserverfixture.h"
#include "provider/openaiprovider.h"

#include <QJsonArray>
#include <QLoggingCategory>
#include <QTest>

using namespace holdfast;
using holdfast::test::indexes;
using holdfast::test::list;
using test::HttpReply;

namespace {
using Server = test::HttpServerFixture;

QList<qint64> ints(const QJsonValue &array)
{
    QList<qint64> out;
    for (const QJsonValue &v : array.toArray())
        out << v.toInteger();
    return out;
}

test::HttpServerSetup demoTakes(int delayMs)
{
    test::HttpServerSetup setup;
    setup.demoDelayMs = delayMs;
    return setup;
}

// A server whose session "s" holds Q0 A1 Q2 A3 (demo model, quick), or the first `turns` of them
// (a turn each) with a demo that takes `delayMs` a chunk.
struct Branched
{
    Server srv;
    QString failure;
    explicit Branched(int turns = 2, int delayMs = test::HttpServerSetup().demoDelayMs)
        : srv(demoTakes(delayMs))
    {
        if (!srv.failure.isEmpty()) {
            failure = srv.failure;
            return;
        }
        if (srv.createSession(QStringLiteral("s")).isEmpty()) {
            failure = QStringLiteral("no session");
            return;
        }
        for (int t = 0; t < turns; ++t) {
            const int tid = srv.startTurn(QStringLiteral("s"), QStringLiteral("Q%1").arg(2 * t));
            if (tid == 0 || srv.finish(QStringLiteral("s"), tid).state != TurnRecord::State::Done) {
                failure = QStringLiteral("a turn failed");
                return;
            }
        }
    }
    // POSTs a turn; for a 202, waits for its end.
    HttpReply turn(const QJsonObject &body)
    {
        auto c = srv.client();
        HttpReply r = c.post("/v1/sessions/s/turns", body);
        if (r.status == 202)
            srv.finish(QStringLiteral("s"), r.json().value(QStringLiteral("id")).toInt());
        return r;
    }
    QJsonObject session()
    {
        auto c = srv.client();
        return c.get("/v1/sessions/s").json();
    }
};

} // namespace

class TestBranches : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase()
    {
        QLoggingCategory::setFilterRules(
            QStringLiteral("holdfast.*.debug=false\nholdfast.*.info=false"));
    }

    // A session nobody branched: parents i - 1, one sibling each, head the last, length = total.
    void unbranchedReadsAsBefore()
    {
        Branched b;
        HF_CHECK_FIXTURE(b);
        const QJsonObject s = b.session();
        QCOMPARE(s.value(QStringLiteral("total")).toInt(), 4);
        QCOMPARE(s.value(QStringLiteral("head")).toInt(), 3);
        QCOMPARE(s.value(QStringLiteral("length")).toInt(), 4);
        const QJsonArray history = s.value(QStringLiteral("history")).toArray();
        QCOMPARE(indexes(history), list({0, 1, 2, 3}));
        QVERIFY(history.at(0).toObject().value(QStringLiteral("parent")).isNull());
        for (qsizetype i = 1; i < history.size(); ++i)
            QCOMPARE(history.at(i).toObject().value(QStringLiteral("parent")).toInteger(), i - 1);
        for (const QJsonValue &m : history) {
            const qint64 index = m.toObject().value(QStringLiteral("index")).toInteger();
            QCOMPARE(ints(m.toObject().value(QStringLiteral("siblings"))), list({index}));
        }
        auto c = b.srv.client();
        const HttpReply page = c.get("/v1/sessions/s/messages?before=3&limit=2");
        QCOMPARE(page.status, 200);
        QCOMPARE(indexes(page.json().value(QStringLiteral("messages")).toArray()), list({1, 2}));
        QCOMPARE(page.json().value(QStringLiteral("total")).toInt(), 4);
        QCOMPARE(page.json().value(QStringLiteral("length")).toInt(), 4);

        // A new session: head null, length 0.
        QVERIFY(!b.srv.createSession(QStringLiteral("empty")).isEmpty());
        const QJsonObject empty = c.get("/v1/sessions/empty").json();
        QVERIFY(empty.value(QStringLiteral("head")).isNull());
        QCOMPARE(empty.value(QStringLiteral("length")).toInt(), 0);
    }

    // "parent": K appends after assistant message K: an edit of the prompt that followed K.
    void parentEditsAPrompt()
    {
        Branched b;
        HF_CHECK_FIXTURE(b);
        const HttpReply r = b.turn({{QStringLiteral("prompt"), QStringLiteral("Q2 again")},
                                    {QStringLiteral("parent"), 1}});
        QCOMPARE(r.status, 202);
        QCOMPARE(r.json().value(QStringLiteral("prompt_index")).toInt(), 4);
        const QJsonObject s = b.session();
        QCOMPARE(s.value(QStringLiteral("total")).toInt(), 6);
        QCOMPARE(s.value(QStringLiteral("head")).toInt(), 5);
        QCOMPARE(s.value(QStringLiteral("length")).toInt(), 4);
        const QJsonArray history = s.value(QStringLiteral("history")).toArray();
        QCOMPARE(indexes(history), list({0, 1, 4, 5}));
        const QJsonObject edited = history.at(2).toObject();
        QCOMPARE(edited.value(QStringLiteral("parent")).toInt(), 1);
        QCOMPARE(ints(edited.value(QStringLiteral("siblings"))), list({2, 4}));
        QCOMPARE(edited.value(QStringLiteral("content")).toString(), QStringLiteral("Q2 again"));
    }

    // "parent": null starts a new first message.
    void nullParentStartsOver()
    {
        Branched b;
        HF_CHECK_FIXTURE(b);
        const HttpReply r = b.turn(
            {{QStringLiteral("prompt"), QStringLiteral("new")}, {QStringLiteral("parent"), {}}});
        QCOMPARE(r.status, 202);
        const QJsonObject s = b.session();
        const QJsonArray history = s.value(QStringLiteral("history")).toArray();
        QCOMPARE(indexes(history), list({4, 5}));
        QVERIFY(history.at(0).toObject().value(QStringLiteral("parent")).isNull());
        QCOMPARE(ints(history.at(0).toObject().value(QStringLiteral("siblings"))), list({0, 4}));
        QCOMPARE(s.value(QStringLiteral("length")).toInt(), 2);
    }

    // "regenerate": U appends no user message; the answer is another child of U; head is U at
    // 202 and the answer once saved.
    void regenerateAddsAVersion()
    {
        Branched b;
        HF_CHECK_FIXTURE(b);
        auto c = b.srv.client();
        const HttpReply r = c.post("/v1/sessions/s/turns", {{QStringLiteral("regenerate"), 2}});
        QCOMPARE(r.status, 202);
        QCOMPARE(r.json().value(QStringLiteral("prompt_index")).toInt(), 2);
        const int tid = r.json().value(QStringLiteral("id")).toInt();
        QCOMPARE(b.srv.finish(QStringLiteral("s"), tid).responseIndex, 4);
        const QJsonObject s = b.session();
        QCOMPARE(s.value(QStringLiteral("total")).toInt(), 5);
        QCOMPARE(s.value(QStringLiteral("head")).toInt(), 4);
        QCOMPARE(s.value(QStringLiteral("length")).toInt(), 4);
        const QJsonArray history = s.value(QStringLiteral("history")).toArray();
        QCOMPARE(indexes(history), list({0, 1, 2, 4}));
        QCOMPARE(ints(history.at(3).toObject().value(QStringLiteral("siblings"))), list({3, 4}));
        QCOMPARE(history.at(3).toObject().value(QStringLiteral("parent")).toInt(), 2);
    }

    // While the regenerated answer streams, head is U.
    void headIsThePromptAt202()
    {
        Branched b(1, 100); // Q0 A1, and a demo slow enough to act while it answers
        HF_CHECK_FIXTURE(b);
        Server &srv = b.srv;
        auto c = srv.client();
        const HttpReply r = c.post("/v1/sessions/s/turns", {{QStringLiteral("regenerate"), 0}});
        QCOMPARE(r.status, 202);
        const QJsonObject s = c.get("/v1/sessions/s").json();
        QCOMPARE(s.value(QStringLiteral("head")).toInt(), 0);
        QCOMPARE(s.value(QStringLiteral("length")).toInt(), 1);
        QCOMPARE(indexes(s.value(QStringLiteral("history")).toArray()), list({0}));
        const int tid = r.json().value(QStringLiteral("id")).toInt();
        QCOMPARE(srv.finish(QStringLiteral("s"), tid).state, TurnRecord::State::Done);
        QCOMPARE(c.get("/v1/sessions/s").json().value(QStringLiteral("head")).toInt(), 2);
    }

    // PATCH head K: down the newest children to a leaf; GET and /messages follow it.
    void patchHeadSwitchesBranch()
    {
        Branched b;
        HF_CHECK_FIXTURE(b);
        QCOMPARE(b.turn({{QStringLiteral("prompt"), QStringLiteral("Q4")},
                         {QStringLiteral("parent"), 1}})
                     .status,
                 202); // 0 1 4 5
        auto c = b.srv.client();
        HttpReply r = c.patch("/v1/sessions/s", {{QStringLiteral("head"), 2}});
        QCOMPARE(r.status, 200);
        QCOMPARE(r.json().value(QStringLiteral("head")).toInt(), 3);
        QCOMPARE(r.json().value(QStringLiteral("length")).toInt(), 4);
        QCOMPARE(indexes(r.json().value(QStringLiteral("history")).toArray()), list({0, 1, 2, 3}));
        r = c.get("/v1/sessions/s/messages?limit=10");
        QCOMPARE(indexes(r.json().value(QStringLiteral("messages")).toArray()), list({0, 1, 2, 3}));
        QCOMPARE(r.json().value(QStringLiteral("total")).toInt(), 6);
        QCOMPARE(r.json().value(QStringLiteral("length")).toInt(), 4);
        r = c.patch("/v1/sessions/s", {{QStringLiteral("head"), 0}}); // 0's child 1, then 4, 5
        QCOMPARE(r.json().value(QStringLiteral("head")).toInt(), 5);
        // before = an index off the branch: the branch's messages below it.
        r = c.get("/v1/sessions/s/messages?before=3&limit=10");
        QCOMPARE(indexes(r.json().value(QStringLiteral("messages")).toArray()), list({0, 1}));
        r = c.get("/v1/sessions/s/messages?before=5&limit=1");
        QCOMPARE(indexes(r.json().value(QStringLiteral("messages")).toArray()), list({4}));
    }

    void badRequests_data()
    {
        QTest::addColumn<QByteArray>("body");
        QTest::addRow("regenerate with a prompt") << QByteArray(R"({"regenerate":0,"prompt":"x"})");
        QTest::addRow("regenerate with a parent") << QByteArray(R"({"regenerate":0,"parent":1})");
        QTest::addRow("regenerate with a null parent")
            << QByteArray(R"({"regenerate":0,"parent":null})");
        QTest::addRow("regenerate with attachments")
            << QByteArray(R"({"regenerate":0,"attachments":["a1"]})");
        QTest::addRow("parent not an integer") << QByteArray(R"({"prompt":"x","parent":"1"})");
        QTest::addRow("parent a fraction") << QByteArray(R"({"prompt":"x","parent":1.5})");
        QTest::addRow("regenerate not an integer") << QByteArray(R"({"regenerate":"0"})");
        QTest::addRow("no prompt, no regenerate") << QByteArray(R"({"parent":1})");
    }
    void badRequests()
    {
        QFETCH(QByteArray, body);
        Branched b;
        HF_CHECK_FIXTURE(b);
        auto c = b.srv.client();
        EXPECT_ERROR(c.call("POST", "/v1/sessions/s/turns", body), 400, "bad_request");
        QCOMPARE(b.session().value(QStringLiteral("total")).toInt(), 4);
    }

    void invalid_data()
    {
        QTest::addColumn<QByteArray>("body");
        QTest::addRow("parent is a user message") << QByteArray(R"({"prompt":"x","parent":2})");
        QTest::addRow("parent does not exist") << QByteArray(R"({"prompt":"x","parent":4})");
        QTest::addRow("parent is negative") << QByteArray(R"({"prompt":"x","parent":-1})");
        QTest::addRow("regenerate an answer") << QByteArray(R"({"regenerate":3})");
        QTest::addRow("regenerate nothing") << QByteArray(R"({"regenerate":40})");
        QTest::addRow("regenerate negative") << QByteArray(R"({"regenerate":-1})");
        QTest::addRow("regenerate with an empty prompt, an answer")
            << QByteArray(R"({"regenerate":1,"prompt":""})");
    }
    void invalid()
    {
        QFETCH(QByteArray, body);
        Branched b;
        HF_CHECK_FIXTURE(b);
        auto c = b.srv.client();
        EXPECT_ERROR(c.call("POST", "/v1/sessions/s/turns", body), 422, "invalid");
        const QJsonObject s = b.session();
        QCOMPARE(s.value(QStringLiteral("total")).toInt(), 4);
        QCOMPARE(s.value(QStringLiteral("head")).toInt(), 3);
    }

    void patchHeadErrors()
    {
        Branched b(1, 100); // Q0 A1, and a demo slow enough to act while it answers
        HF_CHECK_FIXTURE(b);
        Server &srv = b.srv;
        auto c = srv.client();
        EXPECT_ERROR(c.patch("/v1/sessions/s", {{QStringLiteral("head"), 2}}), 422, "invalid");
        EXPECT_ERROR(c.patch("/v1/sessions/s", {{QStringLiteral("head"), -1}}), 422, "invalid");
        EXPECT_ERROR(c.patch("/v1/sessions/s", {{QStringLiteral("head"), QStringLiteral("0")}}),
                     400, "bad_request");
        EXPECT_ERROR(c.patch("/v1/sessions/nope", {{QStringLiteral("head"), 0}}), 404, "not_found");
        // A turn is active: 409, checked before 422.
        const int tid = srv.startTurn(QStringLiteral("s"), QStringLiteral("Q2"));
        QVERIFY(tid > 0);
        EXPECT_ERROR(c.patch("/v1/sessions/s", {{QStringLiteral("head"), 0}}), 409, "conflict");
        EXPECT_ERROR(c.patch("/v1/sessions/s", {{QStringLiteral("head"), 99}}), 409, "conflict");
        // ... and on POST turns, 409 comes before the 422 of a bad parent.
        EXPECT_ERROR(
            c.post("/v1/sessions/s/turns", {{QStringLiteral("prompt"), QStringLiteral("x")},
                                            {QStringLiteral("parent"), 0}}),
            409, "conflict");
        QCOMPARE(srv.finish(QStringLiteral("s"), tid).state, TurnRecord::State::Done);
        QCOMPARE(c.get("/v1/sessions/s").json().value(QStringLiteral("head")).toInt(), 3);
    }

    // What the model server gets for an edited branch: the system prompt, the path to the
    // prompt's parent and the prompt, nothing of the other branch (openai provider, fake server).
    void modelGetsOnlyTheBranch()
    {
        test::FakeModelServer upstream;
        QVERIFY(upstream.listen());
        upstream.script.chunks = {QStringLiteral("ok")};
        test::HttpServerSetup setup;
        setup.addProviders = [&upstream](ProviderRegistry &registry) {
            UpstreamConfig c;
            c.name = QStringLiteral("fake");
            c.baseUrl = QUrl(upstream.openAiBaseUrl());
            c.defaultModel = QStringLiteral("fake-model");
            c.models = {c.defaultModel};
            registry.add(new OpenAiProvider(c), {QStringLiteral("fake")});
        };
        Server srv(setup);
        HF_CHECK_FIXTURE(srv);
        auto c = srv.client();
        QCOMPARE(c.post("/v1/sessions", {{QStringLiteral("id"), QStringLiteral("s")},
                                         {QStringLiteral("model"), QStringLiteral("fake")},
                                         {QStringLiteral("system"), QStringLiteral("sys")}})
                     .status,
                 201);
        const auto say = [&](const QJsonObject &body) {
            const HttpReply r = c.post("/v1/sessions/s/turns", body);
            if (r.status != 202)
                return TurnRecord::State::Error;
            return srv.finish(QStringLiteral("s"), r.json().value(QStringLiteral("id")).toInt())
                .state;
        };
        QCOMPARE(say({{QStringLiteral("prompt"), QStringLiteral("first")}}),
                 TurnRecord::State::Done);
        QCOMPARE(say({{QStringLiteral("prompt"), QStringLiteral("second")}}),
                 TurnRecord::State::Done);
        QCOMPARE(say({{QStringLiteral("prompt"), QStringLiteral("second, edited")},
                      {QStringLiteral("parent"), 1}}),
                 TurnRecord::State::Done);
        const auto lastMessages = [&upstream] {
            QStringList sent;
            const auto chats = upstream.chatRequests();
            if (chats.isEmpty())
                return sent;
            for (const QJsonValue &m :
                 chats.last().json().value(QStringLiteral("messages")).toArray())
                sent << m.toObject().value(QStringLiteral("role")).toString() + QLatin1Char(':') +
                            m.toObject().value(QStringLiteral("content")).toString();
            return sent;
        };
        QCOMPARE(
            lastMessages(),
            QStringList({QStringLiteral("system:sys"), QStringLiteral("user:first"),
                         QStringLiteral("assistant:ok"), QStringLiteral("user:second, edited")}));
        // A regenerated answer to "first": only the path to it.
        QCOMPARE(say({{QStringLiteral("regenerate"), 0}}), TurnRecord::State::Done);
        QCOMPARE(lastMessages(),
                 QStringList({QStringLiteral("system:sys"), QStringLiteral("user:first")}));
    }
};

QTEST_GUILESS_MAIN(TestBranches)
#include "tst_branches.moc"
