// Turns over HTTP (shared/API.md): starting one, the prompt limit, one active turn per
// session, long-polling chunks, cancelling, and deleting a session with a turn running; options,
// usage, the context budget and first_chunk_at ("Usage and context budget"), one test per rule.
#include "fakes/fakemodelserver.h"
#include "fakes/httpserverfixture.h"
#include "provider/demoprovider.h"
#include "provider/ollamaprovider.h"
#include "provider/openaiprovider.h"

#include <QJsonArray>
#include <QLoggingCategory>
#include <QTest>

using namespace holdfast;
using test::FakeModelServer;
using test::HttpReply;
using test::turnPath;

namespace {
using Server = test::HttpServerFixture;
using ServerSetup = test::HttpServerSetup;

// The fake model server, started before the HttpServerFixture that uses it (a base class is
// built first and destroyed last).
struct Upstream
{
    FakeModelServer upstream;
    bool listening = upstream.listen();
};

// The shared fixture plus the providers "oa" (OpenAI-compatible) and "ol" (Ollama), both talking
// to the fake model server, whose requests show what reached the model.
struct ModelServer : Upstream, test::HttpServerFixture
{
    explicit ModelServer(ServerSetup setup = {}) : HttpServerFixture(withUpstream(setup, upstream))
    {
        if (!listening)
            failure = QStringLiteral("the fake model server did not listen");
    }

    static ServerSetup withUpstream(ServerSetup s, FakeModelServer &upstream)
    {
        s.addProviders = [&upstream](ProviderRegistry &registry) {
            for (const QString &kind : {QStringLiteral("oa"), QStringLiteral("ol")}) {
                UpstreamConfig c;
                c.name = kind;
                c.baseUrl = QUrl(kind == QLatin1String("oa") ? upstream.openAiBaseUrl()
                                                             : upstream.ollamaBaseUrl());
                c.defaultModel = QStringLiteral("fake-model");
                c.models = {c.defaultModel};
                c.idleTimeoutMs = 20000;
                if (kind == QLatin1String("oa"))
                    registry.add(new OpenAiProvider(c), c.models);
                else
                    registry.add(new OllamaProvider(c), c.models);
            }
        };
        return s;
    }

    // The last request to the model, as JSON.
    QJsonObject lastChat() const
    {
        const auto chats = upstream.chatRequests();
        return chats.isEmpty() ? QJsonObject{} : chats.last().json();
    }
};

QByteArray sessionPath(const QString &sid, const QByteArray &suffix = {})
{
    return "/v1/sessions/" + sid.toUtf8() + suffix;
}

QStringList contents(const QJsonArray &messages)
{
    QStringList out;
    for (const QJsonValue &m : messages)
        out << m[QStringLiteral("role")].toString() + QLatin1Char(':') +
                   m[QStringLiteral("content")].toString();
    return out;
}
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

    // Usage and context budget (shared/API.md).
    void optionOutOfRange_data();
    void optionOutOfRange();
    void optionWrongType_data();
    void optionWrongType();
    void sessionOptionsRoundTrip();
    void turnOptionsOverrideSession();
    void usageOfEndedTurn();
    void usageAsTheModelServerReported_data();
    void usageAsTheModelServerReported();
    void contextDropsOldestMessages();
    void systemPromptAndPromptAlwaysGo();
    void contextBudgetFromProviderSetting();
    void firstChunkAt();
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
    QTest::addColumn<QJsonObject>("body");
    QTest::addRow("over-long") << QJsonObject{
        {QStringLiteral("prompt"), QString(262145, QLatin1Char('x'))}};
    QTest::addRow("empty") << QJsonObject{{QStringLiteral("prompt"), QString()}};
    QTest::addRow("option out of range")
        << QJsonObject{{QStringLiteral("prompt"), QStringLiteral("ok")},
                       {QStringLiteral("options"), QJsonObject{{QStringLiteral("top_p"), 3}}}};
}

void TestTurns::turnConflictBeforeInvalidPrompt()
{
    QFETCH(QJsonObject, body);
    ServerSetup setup;
    setup.demoDelayMs = 200;
    Server srv(setup);
    HF_CHECK_FIXTURE(srv);
    const QString sid = srv.createSession(QStringLiteral("busy"));
    auto c = srv.client();
    QCOMPARE(c.post("/v1/sessions/busy/turns", {{QStringLiteral("prompt"), QStringLiteral("one")}})
                 .status,
             202);
    EXPECT_ERROR(c.post("/v1/sessions/busy/turns", body), 409, "conflict");
    QCOMPARE(srv.finish(sid, 1).state, TurnRecord::State::Done);
    // Once the session is idle, the same request is the 422 it is.
    EXPECT_ERROR(c.post("/v1/sessions/busy/turns", body), 422, "invalid");
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

// --- Usage and context budget ---------------------------------------------------------------

// Each option out of its range is 422, on a turn and on PATCH, and changes nothing.
void TestTurns::optionOutOfRange_data()
{
    QTest::addColumn<QString>("name");
    QTest::addColumn<double>("value");
    QTest::addRow("temperature below 0") << QStringLiteral("temperature") << -0.01;
    QTest::addRow("temperature above 2") << QStringLiteral("temperature") << 2.01;
    QTest::addRow("top_p below 0") << QStringLiteral("top_p") << -0.5;
    QTest::addRow("top_p above 1") << QStringLiteral("top_p") << 1.01;
    QTest::addRow("max_tokens 0") << QStringLiteral("max_tokens") << 0.0;
    QTest::addRow("max_tokens negative") << QStringLiteral("max_tokens") << -7.0;
    QTest::addRow("context_tokens 255") << QStringLiteral("context_tokens") << 255.0;
    QTest::addRow("context_tokens far below") << QStringLiteral("context_tokens") << -1e12;
}

void TestTurns::optionOutOfRange()
{
    QFETCH(QString, name);
    QFETCH(double, value);
    Server srv;
    HF_CHECK_FIXTURE(srv);
    const QString sid = srv.createSession(QStringLiteral("ranges"));
    auto c = srv.client();
    const QJsonObject options{{name, value}};
    EXPECT_ERROR(
        c.post(sessionPath(sid, "/turns"), {{QStringLiteral("prompt"), QStringLiteral("x")},
                                            {QStringLiteral("options"), options}}),
        422, "invalid");
    EXPECT_ERROR(c.patch(sessionPath(sid), {{QStringLiteral("options"), options}}), 422, "invalid");
    const QJsonObject session = c.get(sessionPath(sid)).json();
    QCOMPARE(session[QStringLiteral("total")].toInt(), 0); // no prompt was stored
    QCOMPARE(session[QStringLiteral("options")].toObject(), QJsonObject{});
    // The edges are in range.
    QCOMPARE(c.patch(sessionPath(sid), {{QStringLiteral("options"),
                                         QJsonObject{{QStringLiteral("temperature"), 2},
                                                     {QStringLiteral("top_p"), 0},
                                                     {QStringLiteral("max_tokens"), 1},
                                                     {QStringLiteral("context_tokens"), 256}}}})
                 .status,
             200);
}

// A known option of the wrong type is 400, on a turn and on PATCH.
void TestTurns::optionWrongType_data()
{
    QTest::addColumn<QJsonValue>("options");
    QTest::addRow("options a string") << QJsonValue(QStringLiteral("hot"));
    QTest::addRow("options an array") << QJsonValue(QJsonArray{1});
    QTest::addRow("temperature a string")
        << QJsonValue(QJsonObject{{QStringLiteral("temperature"), QStringLiteral("0.5")}});
    QTest::addRow("top_p a boolean") << QJsonValue(QJsonObject{{QStringLiteral("top_p"), true}});
    QTest::addRow("max_tokens a fraction")
        << QJsonValue(QJsonObject{{QStringLiteral("max_tokens"), 1.5}});
    QTest::addRow("context_tokens a string")
        << QJsonValue(QJsonObject{{QStringLiteral("context_tokens"), QStringLiteral("4096")}});
}

void TestTurns::optionWrongType()
{
    QFETCH(QJsonValue, options);
    Server srv;
    HF_CHECK_FIXTURE(srv);
    const QString sid = srv.createSession(QStringLiteral("types"));
    auto c = srv.client();
    EXPECT_ERROR(
        c.post(sessionPath(sid, "/turns"), {{QStringLiteral("prompt"), QStringLiteral("x")},
                                            {QStringLiteral("options"), options}}),
        400, "bad_request");
    EXPECT_ERROR(c.patch(sessionPath(sid), {{QStringLiteral("options"), options}}), 400,
                 "bad_request");
    QCOMPARE(c.get(sessionPath(sid)).json()[QStringLiteral("total")].toInt(), 0);
}

// PATCH options replaces the session's options ({} clears them); GET and the list show them.
void TestTurns::sessionOptionsRoundTrip()
{
    Server srv;
    HF_CHECK_FIXTURE(srv);
    auto c = srv.client();
    HttpReply r = c.post("/v1/sessions", {{QStringLiteral("id"), QStringLiteral("opts")}});
    QCOMPARE(r.status, 201);
    QVERIFY(r.json()[QStringLiteral("options")].isObject()); // always present
    QCOMPARE(r.json()[QStringLiteral("options")].toObject(), QJsonObject{});

    const QJsonObject first{{QStringLiteral("temperature"), 0.7},
                            {QStringLiteral("top_p"), 0.9},
                            {QStringLiteral("max_tokens"), 300},
                            {QStringLiteral("context_tokens"), 4096}};
    r = c.patch("/v1/sessions/opts", {{QStringLiteral("options"), first}});
    QCOMPARE(r.status, 200);
    QCOMPARE(r.json()[QStringLiteral("options")].toObject(), first);
    QCOMPARE(c.get("/v1/sessions/opts").json()[QStringLiteral("options")].toObject(), first);
    const QJsonArray listed = c.get("/v1/sessions").json()[QStringLiteral("sessions")].toArray();
    QCOMPARE(listed.size(), 1);
    QCOMPARE(listed[0][QStringLiteral("options")].toObject(), first);

    // A PATCH without options keeps them; one with options replaces them all.
    r = c.patch("/v1/sessions/opts", {{QStringLiteral("title"), QStringLiteral("t")}});
    QCOMPARE(r.json()[QStringLiteral("options")].toObject(), first);
    const QJsonObject second{{QStringLiteral("top_p"), 0.5}};
    r = c.patch("/v1/sessions/opts", {{QStringLiteral("options"), second}});
    QCOMPARE(r.json()[QStringLiteral("options")].toObject(), second);
    r = c.patch("/v1/sessions/opts", {{QStringLiteral("options"), QJsonObject{}}});
    QCOMPARE(r.json()[QStringLiteral("options")].toObject(), QJsonObject{});
    QCOMPARE(c.get("/v1/sessions/opts").json()[QStringLiteral("options")].toObject(),
             QJsonObject{});
}

// Each option given on the turn overrides the session's same option; the others stay.
void TestTurns::turnOptionsOverrideSession()
{
    ModelServer srv;
    HF_CHECK_FIXTURE(srv);
    srv.upstream.script.chunks = {QStringLiteral("ok")};
    const QString sid = srv.createSession(QStringLiteral("over"));
    auto c = srv.client();
    QCOMPARE(c.patch(sessionPath(sid),
                     {{QStringLiteral("model"), QStringLiteral("oa/fake-model")},
                      {QStringLiteral("options"), QJsonObject{{QStringLiteral("temperature"), 0.25},
                                                              {QStringLiteral("max_tokens"), 50}}}})
                 .status,
             200);
    HttpReply r =
        c.post(sessionPath(sid, "/turns"),
               {{QStringLiteral("prompt"), QStringLiteral("hi")},
                {QStringLiteral("options"),
                 QJsonObject{{QStringLiteral("max_tokens"), 7}, {QStringLiteral("top_p"), 0.5}}}});
    QCOMPARE(r.status, 202);
    QCOMPARE(srv.finish(sid, 1).state, TurnRecord::State::Done);
    QJsonObject sent = srv.lastChat();
    QCOMPARE(sent[QStringLiteral("temperature")].toDouble(), 0.25); // the session's
    QCOMPARE(sent[QStringLiteral("max_tokens")].toInt(), 7);        // the turn's
    QCOMPARE(sent[QStringLiteral("top_p")].toDouble(), 0.5);        // the turn's
    // The turn's options were for that turn only.
    QCOMPARE(
        c.get(sessionPath(sid)).json()[QStringLiteral("options")].toObject(),
        (QJsonObject{{QStringLiteral("temperature"), 0.25}, {QStringLiteral("max_tokens"), 50}}));
    QCOMPARE(srv.startTurn(sid, QStringLiteral("again")), 2);
    QCOMPARE(srv.finish(sid, 2).state, TurnRecord::State::Done);
    sent = srv.lastChat();
    QCOMPARE(sent[QStringLiteral("max_tokens")].toInt(), 50);
    QVERIFY(!sent.contains(QStringLiteral("top_p")));
}

// An ended turn carries usage: the demo model reports its own counts (deterministic).
void TestTurns::usageOfEndedTurn()
{
    Server srv;
    HF_CHECK_FIXTURE(srv);
    const QString sid = srv.createSession(QStringLiteral("use"));
    auto c = srv.client();
    HttpReply r = c.post(sessionPath(sid, "/turns"),
                         {{QStringLiteral("prompt"), QStringLiteral("count me")}});
    QCOMPARE(r.status, 202);
    QVERIFY(r.json().contains(QStringLiteral("usage")));
    QVERIFY(r.json()[QStringLiteral("usage")].isNull()); // not ended yet
    QCOMPARE(srv.finish(sid, 1).state, TurnRecord::State::Done);
    const QJsonObject usage = c.get(turnPath(sid, 1)).json()[QStringLiteral("usage")].toObject();
    const QList<ChatMessage> asked{ChatMessage{QStringLiteral("user"), QStringLiteral("count me")}};
    const TokenUsage expected = DemoProvider::usageOf(asked, DemoProvider::answerFor(asked));
    QVERIFY(expected.promptTokens > 0 && expected.completionTokens > 0);
    QCOMPARE(usage,
             (QJsonObject{{QStringLiteral("prompt_tokens"), expected.promptTokens},
                          {QStringLiteral("completion_tokens"), expected.completionTokens}}));
}

// Over both wire formats, usage is what the model server reported, or null where it reported none.
void TestTurns::usageAsTheModelServerReported_data()
{
    QTest::addColumn<QString>("model");
    QTest::addColumn<bool>("reported");
    QTest::addRow("openai") << QStringLiteral("oa/fake-model") << true;
    QTest::addRow("ollama") << QStringLiteral("ol/fake-model") << true;
    QTest::addRow("openai, none reported") << QStringLiteral("oa/fake-model") << false;
    QTest::addRow("ollama, none reported") << QStringLiteral("ol/fake-model") << false;
}

void TestTurns::usageAsTheModelServerReported()
{
    QFETCH(QString, model);
    QFETCH(bool, reported);
    ModelServer srv;
    HF_CHECK_FIXTURE(srv);
    srv.upstream.script.chunks = {QStringLiteral("fine")};
    srv.upstream.script.reportUsage = reported;
    srv.upstream.script.promptTokens = 1234;
    srv.upstream.script.completionTokens = 56;
    const QString sid = srv.createSession(QStringLiteral("reported"));
    QCOMPARE(srv.startTurn(sid, QStringLiteral("hello"), model), 1);
    QCOMPARE(srv.finish(sid, 1).state, TurnRecord::State::Done);
    const QJsonValue usage = srv.client().get(turnPath(sid, 1)).json()[QStringLiteral("usage")];
    if (reported)
        QCOMPARE(usage.toObject(), (QJsonObject{{QStringLiteral("prompt_tokens"), 1234},
                                                {QStringLiteral("completion_tokens"), 56}}));
    else
        QVERIFY(usage.isNull());
}

// A long session with a small context_tokens: the newest messages that fit go, the oldest are
// left out, and the turn's context says how many of each. Answers whose turn reported
// completion_tokens count exactly; the rest at about 4 bytes a token.
void TestTurns::contextDropsOldestMessages()
{
    ModelServer srv;
    HF_CHECK_FIXTURE(srv);
    const QString sid = srv.createSession(QStringLiteral("long"));
    auto c = srv.client();
    QCOMPARE(c.patch(sessionPath(sid), {{QStringLiteral("model"), QStringLiteral("ol/fake-model")},
                                        {QStringLiteral("system"), QStringLiteral("Be brief.")}})
                 .status,
             200);
    // 5 turns: each prompt and answer is 200 ASCII bytes (54 tokens estimated with the framing);
    // the server says each answer was 10 tokens (14 with the framing).
    for (int i = 1; i <= 5; ++i) {
        srv.upstream.queue.append(FakeModelServer::Script{});
        srv.upstream.queue.last().chunks = {QString(200, QChar(u'a' + i))};
        srv.upstream.queue.last().completionTokens = 10;
        QCOMPARE(srv.startTurn(sid, QString(200, QChar(u'0' + i))), i);
        QCOMPARE(srv.finish(sid, i).state, TurnRecord::State::Done);
        // Without a budget (the fake Ollama knows no context length), everything goes.
        const QJsonObject context =
            c.get(turnPath(sid, i)).json()[QStringLiteral("context")].toObject();
        QCOMPARE(context, (QJsonObject{{QStringLiteral("messages"), 2 * (i - 1)},
                                       {QStringLiteral("dropped"), 0}}));
    }
    // 300 tokens: the system prompt (7) and the prompt (5) leave 288: the newest nine earlier
    // messages (4 x 54 + 5 x 14 = 286) fit, the first prompt does not.
    const HttpReply r =
        c.post(sessionPath(sid, "/turns"),
               {{QStringLiteral("prompt"), QStringLiteral("last")},
                {QStringLiteral("options"), QJsonObject{{QStringLiteral("context_tokens"), 300}}}});
    QCOMPARE(r.status, 202);
    QCOMPARE(r.json()[QStringLiteral("context")].toObject(),
             (QJsonObject{{QStringLiteral("messages"), 9}, {QStringLiteral("dropped"), 1}}));
    QCOMPARE(srv.finish(sid, 6).state, TurnRecord::State::Done);
    QCOMPARE(c.get(turnPath(sid, 6)).json()[QStringLiteral("context")].toObject(),
             (QJsonObject{{QStringLiteral("messages"), 9}, {QStringLiteral("dropped"), 1}}));
    const QJsonObject sent = srv.lastChat();
    QStringList expected{QStringLiteral("system:Be brief."),
                         QStringLiteral("assistant:") + QString(200, QChar(u'a' + 1))};
    for (int i = 2; i <= 5; ++i) {
        expected << QStringLiteral("user:") + QString(200, QChar(u'0' + i));
        expected << QStringLiteral("assistant:") + QString(200, QChar(u'a' + i));
    }
    expected << QStringLiteral("user:last");
    QCOMPARE(contents(sent[QStringLiteral("messages")].toArray()), expected);
    // Ollama allocates the context the budget counted on.
    QCOMPARE(sent[QStringLiteral("options")][QStringLiteral("num_ctx")].toInt(), 300);
}

// Even when they alone exceed the budget, the system prompt and the new prompt go.
void TestTurns::systemPromptAndPromptAlwaysGo()
{
    ModelServer srv;
    HF_CHECK_FIXTURE(srv);
    srv.upstream.script.chunks = {QStringLiteral("ok")};
    const QString sid = srv.createSession(QStringLiteral("big"));
    auto c = srv.client();
    const QString system(2000, QLatin1Char('s'));
    QCOMPARE(c.patch(sessionPath(sid), {{QStringLiteral("model"), QStringLiteral("oa/fake-model")},
                                        {QStringLiteral("system"), system}})
                 .status,
             200);
    QCOMPARE(srv.startTurn(sid, QStringLiteral("first")), 1);
    QCOMPARE(srv.finish(sid, 1).state, TurnRecord::State::Done);
    const QString prompt(2000, QLatin1Char('p'));
    const HttpReply r =
        c.post(sessionPath(sid, "/turns"),
               {{QStringLiteral("prompt"), prompt},
                {QStringLiteral("options"), QJsonObject{{QStringLiteral("context_tokens"), 256}}}});
    QCOMPARE(r.status, 202);
    QCOMPARE(r.json()[QStringLiteral("context")].toObject(),
             (QJsonObject{{QStringLiteral("messages"), 0}, {QStringLiteral("dropped"), 2}}));
    QCOMPARE(srv.finish(sid, 2).state, TurnRecord::State::Done);
    QCOMPARE(contents(srv.lastChat()[QStringLiteral("messages")].toArray()),
             (QStringList{QStringLiteral("system:") + system, QStringLiteral("user:") + prompt}));
}

// Without context_tokens, the provider's configured context size is the budget; the session's
// context_tokens wins over it, and the turn's over the session's.
void TestTurns::contextBudgetFromProviderSetting()
{
    ServerSetup setup;
    FakeModelServer upstream;
    QVERIFY(upstream.listen());
    upstream.script.chunks = {QString(400, QLatin1Char('a'))};
    upstream.script.reportUsage = false; // every message estimated
    setup.addProviders = [&upstream](ProviderRegistry &registry) {
        UpstreamConfig c;
        c.name = QStringLiteral("small");
        c.baseUrl = QUrl(upstream.openAiBaseUrl());
        c.defaultModel = QStringLiteral("fake-model");
        c.models = {c.defaultModel};
        c.contextTokens = 256; // the setting context-tokens
        registry.add(new OpenAiProvider(c), c.models);
    };
    Server srv(setup);
    HF_CHECK_FIXTURE(srv);
    const QString sid = srv.createSession(QStringLiteral("setting"));
    auto c = srv.client();
    QCOMPARE(c.patch(sessionPath(sid), {{QStringLiteral("model"), QStringLiteral("small")}}).status,
             200);
    // Two turns of 400-byte prompts and answers: 104 tokens each message.
    for (int i = 1; i <= 2; ++i) {
        QCOMPARE(srv.startTurn(sid, QString(400, QLatin1Char('q'))), i);
        QCOMPARE(srv.finish(sid, i).state, TurnRecord::State::Done);
    }
    const auto contextOf = [&](int tid) {
        return c.get(turnPath(sid, tid)).json()[QStringLiteral("context")].toObject();
    };
    // 256 - 104 (the prompt) leaves room for one of the two earlier messages.
    QCOMPARE(contextOf(2),
             (QJsonObject{{QStringLiteral("messages"), 1}, {QStringLiteral("dropped"), 1}}));
    QCOMPARE(c.patch(sessionPath(sid), {{QStringLiteral("options"),
                                         QJsonObject{{QStringLiteral("context_tokens"), 100000}}}})
                 .status,
             200);
    QCOMPARE(srv.startTurn(sid, QString(400, QLatin1Char('q'))), 3);
    QCOMPARE(srv.finish(sid, 3).state, TurnRecord::State::Done);
    QCOMPARE(contextOf(3),
             (QJsonObject{{QStringLiteral("messages"), 4}, {QStringLiteral("dropped"), 0}}));
    QCOMPARE(
        c.post(sessionPath(sid, "/turns"),
               {{QStringLiteral("prompt"), QStringLiteral("short")},
                {QStringLiteral("options"), QJsonObject{{QStringLiteral("context_tokens"), 256}}}})
            .status,
        202);
    QCOMPARE(srv.finish(sid, 4).state, TurnRecord::State::Done);
    // 256 - 6 (the prompt) leaves room for two 104-token messages.
    QCOMPARE(contextOf(4),
             (QJsonObject{{QStringLiteral("messages"), 2}, {QStringLiteral("dropped"), 4}}));
}

// first_chunk_at is present and null until the first chunk is stored, then set (and kept).
void TestTurns::firstChunkAt()
{
    ServerSetup setup;
    Server srv(setup);
    HF_CHECK_FIXTURE(srv);
    srv.scripted->script.chunks = {QStringLiteral("one"), QStringLiteral("two")};
    srv.scripted->script.delayMs = 400;
    const QString sid = srv.createSession(QStringLiteral("first"));
    auto c = srv.client();
    const QDateTime before = QDateTime::currentDateTimeUtc();
    HttpReply r =
        c.post(sessionPath(sid, "/turns"), {{QStringLiteral("prompt"), QStringLiteral("go")},
                                            {QStringLiteral("model"), QStringLiteral("scripted")}});
    QCOMPARE(r.status, 202);
    QVERIFY(r.json().contains(QStringLiteral("first_chunk_at")));
    QVERIFY(r.json()[QStringLiteral("first_chunk_at")].isNull());
    r = c.get(turnPath(sid, 1));
    QCOMPARE(r.json()[QStringLiteral("chunks")].toInt(), 0);
    QVERIFY(r.json()[QStringLiteral("first_chunk_at")].isNull());

    // Once the first chunk can be read, the turn says when it was stored.
    r = c.get(turnPath(sid, 1, "/chunks?from=0&wait=5000"));
    QCOMPARE(r.json()[QStringLiteral("chunks")].toArray().size(), 1);
    r = c.get(turnPath(sid, 1));
    QCOMPARE(r.json()[QStringLiteral("state")].toString(), QStringLiteral("streaming"));
    const QDateTime live = fromIso(r.json()[QStringLiteral("first_chunk_at")].toString());
    QVERIFY(live.isValid());
    QVERIFY(live >= before);

    QCOMPARE(srv.finish(sid, 1).state, TurnRecord::State::Done);
    r = c.get(turnPath(sid, 1));
    const QDateTime stored = fromIso(r.json()[QStringLiteral("first_chunk_at")].toString());
    const QDateTime finished = fromIso(r.json()[QStringLiteral("finished_at")].toString());
    QVERIFY(stored.isValid());
    QVERIFY(stored >= before && stored <= finished);
}

HOLDFAST_TEST_MAIN(TestTurns)
#include "tst_turns.moc"
