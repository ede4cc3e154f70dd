// The openai and ollama providers against a fake model server on a real socket: the wire formats,
// what is sent, and every fault ending the turn in its documented state with the session usable.
#include "app/providersetup.h"
#include "app/settings.h"
#include "core/providerregistry.h"
#include "core/sessionservice.h"
#include "fakes/fakemodelserver.h"
#include "fakes/testutil.h"
#include "provider/ollamaprovider.h"
#include "provider/openaiprovider.h"
#include "runtime/sseparser.h"
#include "runtime/waiter.h"
#include "store/memorystore.h"

#include <QJsonArray>
#include <QScopeGuard>
#include <QTcpServer>
#include <QTemporaryDir>
#include <QTest>

Q_DECLARE_METATYPE(holdfast::test::FakeModelServer::Script)

using namespace holdfast;
using holdfast::LineSplitter;
using holdfast::SseParser;
using holdfast::test::FakeModelServer;
using holdfast::test::spinUntil;

namespace {

const QString kKey = QStringLiteral("sk-secret-key-123");
// Mixed scripts and emoji, so that a split inside a UTF-8 sequence shows.
const QStringList kAnswer{QStringLiteral("Grüße, "), QStringLiteral("世界"),
                          QStringLiteral(" 👋🏽 ok"), QStringLiteral("\n- line \"two\"")};

UpstreamConfig upstreamConfig(const QString &name, const QString &base)
{
    UpstreamConfig c;
    c.name = name;
    c.baseUrl = QUrl(base);
    c.apiKey = kKey;
    c.defaultModel = QStringLiteral("fake-model");
    c.models = {c.defaultModel};
    c.connectTimeoutMs = 700;
    c.idleTimeoutMs = 700;
    c.maxResponseBytes = 16 * 1024;
    return c;
}

Provider *makeProvider(const QString &kind, const UpstreamConfig &config)
{
    if (kind == QLatin1String("openai"))
        return new OpenAiProvider(config);
    return new OllamaProvider(config);
}

QString freePortUrl(const QString &kind)
{
    QTcpServer probe;
    probe.listen(QHostAddress::LocalHost, 0);
    const quint16 port = probe.serverPort();
    probe.close(); // nothing listens there now: connection refused
    return kind == QLatin1String("openai") ? QStringLiteral("http://127.0.0.1:%1/v1").arg(port)
                                           : QStringLiteral("http://127.0.0.1:%1").arg(port);
}

// A service over a memory store with two upstream providers of one kind: "p" (the one under
// test, possibly pointed elsewhere) and "good" (always the fake server), to show a session is
// still usable after a fault.
struct Fixture
{
    QString kind;
    FakeModelServer server;
    std::unique_ptr<MemoryStore> store = std::make_unique<MemoryStore>();
    ProviderRegistry registry;
    Provider *provider = nullptr;
    std::unique_ptr<SessionService> service;
    QString failure; // set when the constructor failed (HF_CHECK_FIXTURE)

    explicit Fixture(const QString &k, const QString &baseOverride = {},
                     const std::function<void(UpstreamConfig &)> &tweak = {}, bool tls = false)
        : kind(k)
    {
        if (!(tls ? server.listenTls() : server.listen()))
            failure = QStringLiteral("the fake model server did not listen");
        UpstreamConfig config =
            upstreamConfig(QStringLiteral("p"), baseOverride.isEmpty() ? base() : baseOverride);
        if (tweak)
            tweak(config);
        provider = makeProvider(kind, config);
        registry.add(provider, config.models);
        UpstreamConfig good = upstreamConfig(QStringLiteral("good"), base());
        good.models = {QStringLiteral("good-model")};
        good.defaultModel = QStringLiteral("good-model");
        registry.add(makeProvider(kind, good), good.models);
        registry.setDefaultModel(QStringLiteral("p/fake-model"));
        service = std::make_unique<SessionService>(store.get(), &registry);
        if (!test::awaitResult(service->start()).ok())
            failure = QStringLiteral("the service did not start");
    }
    ~Fixture()
    {
        if (service)
            test::awaitVoid(service->shutdown());
    }

    QString base() const
    {
        return kind == QLatin1String("openai") ? server.openAiBaseUrl() : server.ollamaBaseUrl();
    }

    QString create(const QString &system = {})
    {
        CreateSessionParams p;
        if (!system.isEmpty())
            p.system = system;
        const auto created = test::awaitResult(service->createSession(p));
        return created.ok() ? created->meta.id : QString();
    }

    TurnRecord start(const QString &sid, const QString &prompt, const QString &model = {},
                     TurnOptions options = {})
    {
        StartTurnParams p;
        p.prompt = prompt;
        if (!model.isEmpty())
            p.model = model;
        p.options = options;
        const auto started = test::awaitResult(service->startTurn(sid, p));
        if (!started.ok())
            return {};
        return started.value();
    }

    TurnRecord finish(const QString &sid, int tid)
    {
        const auto r = test::awaitResult(service->waitForTurn(sid, tid, 20000));
        return r.ok() ? r.value() : TurnRecord{};
    }

    TurnRecord run(const QString &sid, const QString &prompt, const QString &model = {},
                   TurnOptions options = {})
    {
        const TurnRecord t = start(sid, prompt, model, options);
        return t.id ? finish(sid, t.id) : TurnRecord{};
    }

    QList<Message> stored(const QString &sid)
    {
        const auto meta = test::awaitResult(store->loadSession(sid));
        if (!meta.ok() || !meta.value())
            return {};
        const auto messages = test::awaitResult(store->loadMessages(sid, 0, meta.value()->total));
        return messages.ok() ? messages.value() : QList<Message>{};
    }
};

QStringList roles(const QJsonArray &messages)
{
    QStringList out;
    for (const QJsonValue &m : messages)
        out << m[QStringLiteral("role")].toString() + QLatin1Char(':') +
                   m[QStringLiteral("content")].toString();
    return out;
}

void addKinds()
{
    QTest::addColumn<QString>("kind");
    QTest::addRow("openai") << QStringLiteral("openai");
    QTest::addRow("ollama") << QStringLiteral("ollama");
}

// Every event the parser gives for `bytes` fed in pieces cut at `cuts`.
QList<SseParser::Event> parseCut(const QByteArray &bytes, const QList<qsizetype> &cuts)
{
    SseParser parser;
    QList<SseParser::Event> events;
    qsizetype from = 0;
    for (qsizetype cut : cuts) {
        events += parser.feed(QByteArrayView(bytes).sliced(from, cut - from));
        from = cut;
    }
    events += parser.feed(QByteArrayView(bytes).sliced(from));
    events += parser.finish();
    return events;
}

QString describe(const QList<SseParser::Event> &events)
{
    QString out;
    for (const SseParser::Event &e : events)
        out += e.type + QLatin1Char('|') + e.id + QLatin1Char('|') + e.data + QLatin1Char('#');
    return out;
}

} // namespace

class TestProviders : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase() { qRegisterMetaType<TurnRecord>(); }

    // --- the parsers, without sockets -------------------------------------------------------

    // Wake-ups fired together resume their coroutines together, later, from the event loop
    // (never inside fire(), which a producer calls mid-work), in the order they were fired; one
    // fired before its await does not suspend; one not fired stays suspended.
    void wakeupsResumeFromTheLoopInOrder()
    {
        constexpr int kCount = 100;
        QList<Wakeup> wakeups(kCount);
        QList<int> resumed;
        const auto wait = [&resumed](Wakeup w, int i) -> QCoro::Task<> {
            co_await w;
            resumed.append(i);
        };
        for (int i = 0; i < kCount; ++i)
            wait(wakeups.at(i), i);
        for (int i = kCount - 1; i >= 0; --i) {
            if (i != 7)
                wakeups.at(i).fire();
        }
        QVERIFY(resumed.isEmpty()); // not re-entered from fire()
        QTRY_COMPARE(resumed.size(), kCount - 1);
        QCoreApplication::processEvents();
        QCOMPARE(resumed.size(), kCount - 1);
        QVERIFY(!resumed.contains(7));
        QCOMPARE(resumed.first(), kCount - 1); // fired first
        QCOMPARE(resumed.last(), 0);

        Wakeup early;
        early.fire();
        bool ran = false;
        [](Wakeup w, bool *ran) -> QCoro::Task<> {
            co_await w;
            *ran = true;
        }(early, &ran);
        QVERIFY(ran); // no suspension

        // The never-fired one is left suspended: fire it now so its frame ends.
        wakeups.at(7).fire();
        QTRY_COMPARE(resumed.size(), kCount);
    }

    void sseParserSplitsAnywhere_data()
    {
        QTest::addColumn<QByteArray>("stream");
        QTest::addColumn<QString>("expected");
        FakeModelServer::Script s;
        s.chunks = kAnswer;
        const QByteArray openAi = FakeModelServer::openAiEvents(s).join();
        QTest::addRow("openai wire")
            << openAi << describe(parseCut(openAi, {})); // whole: the reference
        QTest::addRow("crlf and cr")
            << QByteArray("data: a\r\n\r\ndata: b\rdata: c\r\r: comment\r\nevent: x\nid: 7\ndata: "
                          "ü\n\n")
            << QStringLiteral("message||a#message||b\nc#x|7|ü#");
        QTest::addRow("bom, fields without space, unknown fields")
            << QByteArray("\xEF\xBB\xBF"
                          "data:x\nretry: 5\nfoo: bar\ndata\n\n")
            << QStringLiteral("message||x\n#");
        QTest::addRow("last event without blank line")
            << QByteArray("data: [DONE]") << QStringLiteral("message||[DONE]#");
    }

    // Cut at every single place (and byte by byte): the events are the same.
    void sseParserSplitsAnywhere()
    {
        QFETCH(QByteArray, stream);
        QFETCH(QString, expected);
        QCOMPARE(describe(parseCut(stream, {})), expected);
        for (qsizetype cut = 1; cut < stream.size(); ++cut)
            QCOMPARE(describe(parseCut(stream, {cut})), expected);
        QList<qsizetype> everyByte;
        for (qsizetype i = 1; i < stream.size(); ++i)
            everyByte << i;
        QCOMPARE(describe(parseCut(stream, everyByte)), expected);
    }

    // The last event id: set by "id:", inherited by events without one, kept by restart() (a
    // reconnect), which drops the event that the old connection cut off.
    void sseParserKeepsTheLastEventId()
    {
        SseParser parser;
        QCOMPARE(parser.lastEventId(), QString());
        auto events = parser.feed("id: 4\rdata: a\r\rdata: b\r\r: x\rid: 9\rdata: cut");
        QCOMPARE(describe(events), QStringLiteral("message|4|a#message|4|b#"));
        QCOMPARE(parser.lastEventId(), QStringLiteral("4")); // 9 was never dispatched
        parser.restart();
        QCOMPARE(parser.lastEventId(), QStringLiteral("4"));
        events = parser.feed("data: c\n\nid\n\ndata: d\n\n");
        QCOMPARE(describe(events), QStringLiteral("message|4|c#message||d#"));
        QCOMPARE(parser.lastEventId(), QString()); // a bare "id" line resets it
        events = parser.finish();
        QVERIFY(events.isEmpty());
    }

    void lineSplitterKeepsUtf8AndCrlf()
    {
        const QByteArray bytes =
            QStringLiteral("{\"a\":\"世界\"}\r\n{\"b\":\"👋\"}\n\rlast").toUtf8();
        for (qsizetype cut = 0; cut <= bytes.size(); ++cut) {
            LineSplitter splitter;
            QList<QByteArray> lines = splitter.feed(bytes.left(cut));
            lines += splitter.feed(bytes.mid(cut));
            lines += splitter.finish();
            QCOMPARE(lines.size(), 4);
            QCOMPARE(QString::fromUtf8(lines.at(0)), QStringLiteral("{\"a\":\"世界\"}"));
            QCOMPARE(QString::fromUtf8(lines.at(1)), QStringLiteral("{\"b\":\"👋\"}"));
            QCOMPARE(lines.at(2), QByteArray());
            QCOMPARE(lines.at(3), QByteArray("last"));
        }
    }

    // --- a whole turn over the wire ---------------------------------------------------------

    void streamedTurn_data()
    {
        QTest::addColumn<QString>("kind");
        QTest::addColumn<int>("splitBytes");
        QTest::addColumn<bool>("chunked");
        for (const QString &kind : {QStringLiteral("openai"), QStringLiteral("ollama")}) {
            QTest::addRow("%s, one write per event", qPrintable(kind)) << kind << 0 << true;
            QTest::addRow("%s, one byte per write", qPrintable(kind)) << kind << 1 << true;
            QTest::addRow("%s, 7 bytes per write", qPrintable(kind)) << kind << 7 << true;
            QTest::addRow("%s, no chunked framing", qPrintable(kind)) << kind << 3 << false;
        }
    }

    void streamedTurn()
    {
        QFETCH(QString, kind);
        QFETCH(int, splitBytes);
        QFETCH(bool, chunked);
        Fixture f(kind);
        HF_CHECK_FIXTURE(f);
        f.server.script.chunks = kAnswer;
        f.server.script.splitBytes = splitBytes;
        f.server.script.chunkedEncoding = chunked;
        f.server.script.delayMs = splitBytes == 1 ? 0 : 2;
        const QString sid = f.create();
        QStringList seen;
        QObject::connect(f.service.get(), &SessionService::chunkReady,
                         [&](const QString &, int, int, const QString &text) { seen << text; });
        const TurnRecord t = f.run(sid, QStringLiteral("Say hello"));
        QCOMPARE(t.state, TurnRecord::State::Done);
        QVERIFY(t.errorCode.isEmpty());
        const QList<Message> messages = f.stored(sid);
        QCOMPARE(messages.size(), 2);
        QCOMPARE(messages.at(1).state, Message::State::Complete);
        QCOMPARE(messages.at(1).content, kAnswer.join(QString()));
        QCOMPARE(seen.join(QString()), kAnswer.join(QString()));

        const auto requests = f.server.chatRequests();
        QCOMPARE(requests.size(), 1);
        QCOMPARE(requests[0].path, kind == QLatin1String("openai")
                                       ? QByteArray("/v1/chat/completions")
                                       : QByteArray("/api/chat"));
        QCOMPARE(requests[0].json().value(QStringLiteral("stream")).toBool(), true);
        QCOMPARE(requests[0].json().value(QStringLiteral("model")).toString(),
                 QStringLiteral("fake-model"));
        QCOMPARE(requests[0].headers.value("authorization"), "Bearer " + kKey.toUtf8());
        QCOMPARE(requests[0].headers.value("content-type"), QByteArray("application/json"));
    }

    void sendsSystemHistoryAndOptions_data() { addKinds(); }

    // The system prompt, the history oldest first, then the prompt; options passed through.
    void sendsSystemHistoryAndOptions()
    {
        QFETCH(QString, kind);
        Fixture f(kind);
        HF_CHECK_FIXTURE(f);
        const QString sid = f.create(QStringLiteral("You are terse."));
        f.server.queue = {FakeModelServer::Script{}, FakeModelServer::Script{}};
        f.server.queue[0].chunks = {QStringLiteral("first "), QStringLiteral("answer")};
        f.server.queue[1].chunks = {QStringLiteral("second answer")};
        QCOMPARE(f.run(sid, QStringLiteral("first question")).state, TurnRecord::State::Done);
        TurnOptions options;
        options.temperature = 0.25;
        options.maxTokens = 42;
        QCOMPARE(f.run(sid, QStringLiteral("second question"), {}, options).state,
                 TurnRecord::State::Done);

        const auto requests = f.server.chatRequests();
        QCOMPARE(requests.size(), 2);
        const QJsonObject first = requests[0].json();
        QCOMPARE(roles(first[QStringLiteral("messages")].toArray()),
                 (QStringList{QStringLiteral("system:You are terse."),
                              QStringLiteral("user:first question")}));
        QVERIFY(!first.contains(QStringLiteral("temperature")));
        QVERIFY(!first.contains(QStringLiteral("options")));
        const QJsonObject second = requests[1].json();
        QCOMPARE(roles(second[QStringLiteral("messages")].toArray()),
                 (QStringList{QStringLiteral("system:You are terse."),
                              QStringLiteral("user:first question"),
                              QStringLiteral("assistant:first answer"),
                              QStringLiteral("user:second question")}));
        if (kind == QLatin1String("openai")) {
            QCOMPARE(second[QStringLiteral("temperature")].toDouble(), 0.25);
            QCOMPARE(second[QStringLiteral("max_tokens")].toInt(), 42);
        } else {
            const QJsonObject o = second[QStringLiteral("options")].toObject();
            QCOMPARE(o[QStringLiteral("temperature")].toDouble(), 0.25);
            QCOMPARE(o[QStringLiteral("num_predict")].toInt(), 42);
        }
    }

    // --- faults -----------------------------------------------------------------------------

    void faults_data()
    {
        QTest::addColumn<QString>("kind");
        QTest::addColumn<QString>("where"); // "fake", "refused" or "blackhole"
        QTest::addColumn<FakeModelServer::Script>("script");
        QTest::addColumn<QString>("code");
        QTest::addColumn<QString>("partial");
        QTest::addColumn<QString>("says");        // a part of the error message
        QTest::addColumn<bool>("upstreamClosed"); // we closed the connection ourselves

        const QStringList two{QStringLiteral("Hel"), QStringLiteral("lo")};
        for (const QString &kind : {QStringLiteral("openai"), QStringLiteral("ollama")}) {
            const bool openAi = kind == QLatin1String("openai");
            const char *k = openAi ? "openai" : "ollama";
            FakeModelServer::Script s;

            QTest::addRow("%s: connection refused", k) << kind << "refused" << s << "unavailable"
                                                       << ""
                                                       << "cannot reach" << false;
            QTest::addRow("%s: connect timeout", k)
                << kind << "blackhole" << s << "upstream_timeout"
                << ""
                << "connect-timeout-ms" << false;

            s = {};
            s.status = 500;
            s.errorBody =
                openAi ? "{\"error\":{\"message\":\"The server had an error while processing your "
                         "request.\",\"type\":\"server_error\",\"param\":null,\"code\":null}}"
                       : "{\"error\":\"llama runner process has terminated: exit status 2\"}";
            QTest::addRow("%s: 500 with a body", k)
                << kind << "fake" << s << "upstream_error"
                << ""
                << (openAi ? "HTTP 500: The server had an error" : "HTTP 500: llama runner process")
                << false;

            s = {};
            s.status = 401;
            s.errorBody = "{\"error\":{\"message\":\"Incorrect API key provided: "
                          "sk-secr***123.\",\"type\":\"invalid_request_error\",\"param\":null,"
                          "\"code\":\"invalid_api_key\"}}";
            QTest::addRow("%s: 401", k) << kind << "fake" << s << "upstream_error"
                                        << ""
                                        << "the API key is wrong" << false;

            s = {};
            s.status = 404;
            s.errorBody =
                openAi ? "{\"error\":{\"message\":\"The model `fake-model` does not "
                         "exist\",\"type\":\"invalid_request_error\",\"param\":null,\"code\":"
                         "\"model_not_found\"}}"
                       : "{\"error\":\"model \\\"fake-model\\\" not found, try pulling it first\"}";
            QTest::addRow("%s: 404 unknown model", k) << kind << "fake" << s << "upstream_error"
                                                      << ""
                                                      << "HTTP 404" << false;

            s = {};
            s.chunks = two;
            s.rawLines = {openAi ? QByteArray("data: {\"choices\": [ oops") : QByteArray("{oops")};
            s.endMarker = false; // the server would go on: the client must hang up
            s.ending = FakeModelServer::Ending::Hang;
            QTest::addRow("%s: malformed line", k) << kind << "fake" << s << "upstream_error"
                                                   << "Hello"
                                                   << "malformed" << true;

            s = {};
            s.chunks = two;
            s.rawLines = {
                openAi ? QByteArray(
                             "data: "
                             "{\"error\":{\"message\":\"overloaded\",\"type\":\"server_error\"}}")
                       : QByteArray("{\"error\":\"overloaded\"}")};
            s.endMarker = false;
            s.ending = FakeModelServer::Ending::Hang;
            QTest::addRow("%s: error in the stream", k) << kind << "fake" << s << "upstream_error"
                                                        << "Hello"
                                                        << "overloaded" << true;

            s = {};
            s.chunks = two;
            s.endMarker = false;
            QTest::addRow("%s: no end marker", k) << kind << "fake" << s << "upstream_error"
                                                  << "Hello"
                                                  << "end marker" << false;

            s.chunkedEncoding = false;
            QTest::addRow("%s: no end marker, close-delimited", k)
                << kind << "fake" << s << "upstream_error"
                << "Hello"
                << "end marker" << false;

            s = {};
            s.chunks = two;
            s.endMarker = false;
            s.ending = FakeModelServer::Ending::Drop;
            QTest::addRow("%s: dropped mid-stream", k) << kind << "fake" << s << "upstream_error"
                                                       << "Hello"
                                                       << "" << false;

            s.ending = FakeModelServer::Ending::Hang;
            QTest::addRow("%s: idle timeout after chunks", k)
                << kind << "fake" << s << "upstream_timeout"
                << "Hello"
                << "idle-timeout-ms" << true;

            s = {};
            s.silent = true;
            QTest::addRow("%s: no answer at all", k) << kind << "fake" << s << "upstream_timeout"
                                                     << ""
                                                     << "idle-timeout-ms" << true;

            s = {};
            s.chunks = two;
            s.padBytes = 40000;
            s.ending = FakeModelServer::Ending::Hang;
            QTest::addRow("%s: answer over the cap", k) << kind << "fake" << s << "upstream_error"
                                                        << "Hello"
                                                        << "max-response-bytes" << true;
        }
    }

    // Each fault ends the turn in `error` with its code, the partial text saved, the service up,
    // and the next turn of the same session works.
    void faults()
    {
        QFETCH(QString, kind);
        QFETCH(QString, where);
        QFETCH(FakeModelServer::Script, script);
        QFETCH(QString, code);
        QFETCH(QString, partial);
        QFETCH(QString, says);
        QFETCH(bool, upstreamClosed);

        std::unique_ptr<test::Blackhole> blackhole;
        QString base;
        if (where == QLatin1String("refused")) {
            base = freePortUrl(kind);
        } else if (where == QLatin1String("blackhole")) {
            blackhole = std::make_unique<test::Blackhole>();
            QVERIFY(blackhole->ok());
            base = QStringLiteral("http://127.0.0.1:%1/v1").arg(blackhole->port());
        }
        Fixture f(kind, base);
        HF_CHECK_FIXTURE(f);
        if (where == QLatin1String("fake"))
            f.server.queue = {script};
        const QString sid = f.create();
        const TurnRecord t = f.run(sid, QStringLiteral("hi"));
        QCOMPARE(t.state, TurnRecord::State::Error);
        QCOMPARE(t.errorCode, code);
        QVERIFY2(t.errorMessage.contains(says), qPrintable(t.errorMessage));
        QVERIFY2(!t.errorMessage.contains(kKey), qPrintable(t.errorMessage));
        QList<Message> messages = f.stored(sid);
        QCOMPARE(messages.size(), 2);
        QCOMPARE(messages.at(1).state, Message::State::Error);
        QCOMPARE(messages.at(1).content, partial);
        if (upstreamClosed) {
            QVERIFY(spinUntil(
                [&] {
                    return !f.server.requests.isEmpty() && f.server.requests.last().clientClosed;
                },
                5000));
        }

        // The session goes on, through the other provider.
        f.server.script = {};
        f.server.script.chunks = {QStringLiteral("fine "), QStringLiteral("again")};
        const TurnRecord next = f.run(sid, QStringLiteral("again?"), QStringLiteral("good"));
        QCOMPARE(next.state, TurnRecord::State::Done);
        messages = f.stored(sid);
        QCOMPARE(messages.size(), 4);
        QCOMPARE(messages.at(3).content, QStringLiteral("fine again"));
        QCOMPARE(messages.at(3).state, Message::State::Complete);
        HF_AWAIT(snapshot, f.service->session(sid));
        QVERIFY(snapshot->ok());
        QVERIFY(!snapshot->value().meta.activeTurn);
    }

    void sentOnce_data()
    {
        QTest::addColumn<QString>("kind");
        QTest::addColumn<FakeModelServer::Script>("script");
        QTest::addColumn<QString>("code");
        for (const QString &kind : {QStringLiteral("openai"), QStringLiteral("ollama")}) {
            const char *k = kind == QLatin1String("openai") ? "openai" : "ollama";
            FakeModelServer::Script s;
            s.cut = FakeModelServer::Cut::Close;
            QTest::addRow("%s: read, then closed", k) << kind << s << "unavailable";
            s.cut = FakeModelServer::Cut::Reset;
            QTest::addRow("%s: read, then reset", k) << kind << s << "unavailable";
            s.cut = FakeModelServer::Cut::Close;
            s.cutAfterMs = 300; // under the idle timeout
            QTest::addRow("%s: silent, then closed", k) << kind << s << "unavailable";
            s.cut = FakeModelServer::Cut::Reset;
            QTest::addRow("%s: silent, then reset", k) << kind << s << "unavailable";
            s.cut = FakeModelServer::Cut::HeadersThenClose;
            s.cutAfterMs = 0;
            QTest::addRow("%s: headers, then closed", k) << kind << s << "upstream_error";
            s = {};
            s.chunks = {QStringLiteral("Hel")};
            s.endMarker = false;
            s.ending = FakeModelServer::Ending::Drop;
            QTest::addRow("%s: dropped mid-stream", k) << kind << s << "upstream_error";
            s = {};
            s.silent = true;
            QTest::addRow("%s: no answer at all", k) << kind << s << "upstream_timeout";
        }
    }

    // A request that reached the model server is never sent again for the same turn, whatever
    // the server does with the connection afterwards (shared/API.md, "Models upstream").
    void sentOnce()
    {
        QFETCH(QString, kind);
        QFETCH(FakeModelServer::Script, script);
        QFETCH(QString, code);
        Fixture f(kind);
        HF_CHECK_FIXTURE(f);
        f.server.script = script;
        const QString sid = f.create();
        const TurnRecord t = f.run(sid, QStringLiteral("only once"));
        QCOMPARE(t.state, TurnRecord::State::Error);
        QVERIFY2(t.errorCode == code,
                 qPrintable(t.errorCode + QStringLiteral(": ") + t.errorMessage));
        // A resend would follow the fault at once: give it the time to show.
        QTest::qWait(500);
        QCOMPARE(f.server.chatRequests().size(), 1);
    }

    void keptAliveConnectionClosedBetweenTurns_data() { addKinds(); }

    // The model server closes an idle kept-alive connection between two turns: the second turn's
    // request goes out on a new connection, once, and the turn succeeds.
    void keptAliveConnectionClosedBetweenTurns()
    {
        QFETCH(QString, kind);
        Fixture f(kind);
        HF_CHECK_FIXTURE(f);
        f.server.idleCloseMs = 50;
        f.server.script.chunks = {QStringLiteral("fine")};
        const QString sid = f.create();
        QCOMPARE(f.run(sid, QStringLiteral("one")).state, TurnRecord::State::Done);
        QVERIFY(spinUntil([&] { return f.server.openConnections() == 0; }, 5000));
        QCOMPARE(f.run(sid, QStringLiteral("two")).state, TurnRecord::State::Done);
        QTest::qWait(200);
        QCOMPARE(f.server.chatRequests().size(), 2);
        // Kept alive, it is used again: two turns in a row on one connection.
        f.server.idleCloseMs = -1;
        QCOMPARE(f.run(sid, QStringLiteral("three")).state, TurnRecord::State::Done);
        QCOMPARE(f.run(sid, QStringLiteral("four")).state, TurnRecord::State::Done);
        QCOMPARE(f.server.chatRequests().size(), 4);
        QCOMPARE(f.server.openConnections(), 1);
    }

    void keptAliveConnectionClosedJustBefore_data() { addKinds(); }

    // The model server closed the kept-alive connection, and the next request is sent before
    // the event loop has seen that: the closed connection is noticed before a byte is written,
    // and the request goes once, on a new connection.
    void keptAliveConnectionClosedJustBefore()
    {
        QFETCH(QString, kind);
        Fixture f(kind);
        HF_CHECK_FIXTURE(f);
        HF_AWAIT_OK(f.provider->models());
        QCOMPARE(f.server.openConnections(), 1);
        f.server.closeIdleConnections();
        QCOMPARE(f.server.openConnections(), 0);
        auto again = f.provider->models(); // sends before any event is processed
        HF_AWAIT(models, std::move(again));
        QVERIFY2(models->ok(), qPrintable(models->ok() ? QString() : models->error().message));
        QCOMPARE(f.server.requests.size(), 2);
    }

    void tls_data() { addKinds(); }

    // An https base URL: the answer comes over TLS, the connection is kept for the next turn,
    // and a certificate the client does not trust is `unavailable` with nothing sent.
    void tls()
    {
        QFETCH(QString, kind);
        FakeModelServer::trustTestCertificate(true);
        auto untrust = qScopeGuard([] { FakeModelServer::trustTestCertificate(false); });
        Fixture f(kind, {}, {}, true);
        HF_CHECK_FIXTURE(f);
        QVERIFY(f.base().startsWith(QLatin1String("https://")));
        f.server.script.chunks = kAnswer;
        const QString sid = f.create();
        QCOMPARE(f.run(sid, QStringLiteral("one")).state, TurnRecord::State::Done);
        QCOMPARE(f.run(sid, QStringLiteral("two")).state, TurnRecord::State::Done);
        QCOMPARE(f.stored(sid).value(3).content, kAnswer.join(QString()));
        QCOMPARE(f.server.chatRequests().size(), 2);
        QCOMPARE(f.server.chatRequests().at(1).headers.value("authorization"),
                 "Bearer " + kKey.toUtf8());
        QCOMPARE(f.server.openConnections(), 1);

        FakeModelServer::trustTestCertificate(false);
        Fixture untrusted(kind, {}, {}, true);
        HF_CHECK_FIXTURE(untrusted);
        const QString other = untrusted.create();
        const TurnRecord t = untrusted.run(other, QStringLiteral("three"));
        QCOMPARE(t.state, TurnRecord::State::Error);
        QCOMPARE(t.errorCode, QStringLiteral("unavailable"));
        QCOMPARE(untrusted.server.requests.size(), 0);
    }

    void redirectsAreNotFollowed_data()
    {
        QTest::addColumn<QString>("kind");
        QTest::addColumn<int>("status");
        QTest::addColumn<bool>("chat");
        for (const QString &kind : {QStringLiteral("openai"), QStringLiteral("ollama")}) {
            for (int status : {301, 302, 307, 308}) {
                QTest::addRow("%s: chat, %d", qPrintable(kind), status) << kind << status << true;
                QTest::addRow("%s: models, %d", qPrintable(kind), status)
                    << kind << status << false;
            }
        }
    }

    // A redirect to another origin is an error that names it: the prompt and the API key never
    // go there.
    void redirectsAreNotFollowed()
    {
        QFETCH(QString, kind);
        QFETCH(int, status);
        QFETCH(bool, chat);
        FakeModelServer elsewhere;
        QVERIFY(elsewhere.listen());
        Fixture f(kind);
        HF_CHECK_FIXTURE(f);
        f.server.script.status = status;
        const QString path =
            kind == QLatin1String("openai")
                ? (chat ? QStringLiteral("/v1/chat/completions") : QStringLiteral("/v1/models"))
                : (chat ? QStringLiteral("/api/chat") : QStringLiteral("/api/tags"));
        const QString origin = QStringLiteral("http://localhost:%1").arg(elsewhere.port());
        f.server.script.location = (origin + path).toUtf8();
        QString message;
        QString code;
        if (chat) {
            const QString sid = f.create();
            const TurnRecord t = f.run(sid, QStringLiteral("secret prompt"));
            QCOMPARE(t.state, TurnRecord::State::Error);
            code = t.errorCode;
            message = t.errorMessage;
        } else {
            HF_AWAIT(models, f.provider->models());
            QVERIFY(models && !models->ok());
            code = errorCodeName(models->error().code);
            message = models->error().message;
        }
        QCOMPARE(code, QStringLiteral("upstream_error"));
        QVERIFY2(message.contains(QStringLiteral("redirected to %1").arg(origin)),
                 qPrintable(message));
        QVERIFY2(message.contains(QStringLiteral("base-url")), qPrintable(message));
        QTest::qWait(300);
        QCOMPARE(elsewhere.requests.size(), 0);
        QCOMPARE(f.server.requests.size(), 1);
    }

    void errorBodiesAreShortAndClean_data()
    {
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<QString>("says");
        QTest::addRow("100 KiB of text") << QByteArray(100 * 1024, 'y') << "HTTP 500: yyy";
        QTest::addRow("50 KiB in a JSON message")
            << "{\"error\":{\"message\":\"" + QByteArray(50 * 1024, 'z') + "\"}}"
            << "HTTP 500: zzz";
        QTest::addRow("ANSI escapes and control characters")
            << QByteArray("\x1b[31mboom\x1b[0m\x07\x00 bad\r\nthing\x7f") << "boom";
        QTest::addRow("an HTML page")
            << QByteArray("<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title>"
                          "<style>body{}</style></head><body><h1>nginx</h1>") +
                   QByteArray(50 * 1024, ' ') + "</body></html>"
            << "HTTP 500: 502 Bad Gateway";
        QTest::addRow("an HTML page without a title")
            << QByteArray("<html><body><script>var key='x';</script></body></html>") << "HTTP 500";
    }

    // An error body reaches the turn's error as a short excerpt without control characters or
    // markup.
    void errorBodiesAreShortAndClean()
    {
        QFETCH(QByteArray, body);
        QFETCH(QString, says);
        Fixture f(QStringLiteral("openai"), {},
                  [](UpstreamConfig &c) { c.maxResponseBytes = 1024 * 1024; });
        HF_CHECK_FIXTURE(f);
        f.server.script.status = 500;
        f.server.script.errorBody = body;
        const QString sid = f.create();
        const TurnRecord t = f.run(sid, QStringLiteral("hi"));
        QCOMPARE(t.errorCode, QStringLiteral("upstream_error"));
        const QString m = t.errorMessage;
        QVERIFY2(m.contains(says), qPrintable(m));
        QVERIFY2(m.size() <= 320, qPrintable(QString::number(m.size())));
        for (const QChar c : m)
            QVERIFY2(c.unicode() >= 0x20 && c.unicode() != 0x7f, qPrintable(m));
        QVERIFY2(!m.contains(QLatin1Char('<')), qPrintable(m));
        QVERIFY2(!m.contains(QStringLiteral("[31m")), qPrintable(m));
    }

    void cancelAbortsUpstream_data() { addKinds(); }

    // Cancel closes the upstream connection at once; the partial answer is kept as interrupted.
    void cancelAbortsUpstream()
    {
        QFETCH(QString, kind);
        Fixture f(kind, {}, [](UpstreamConfig &c) { c.idleTimeoutMs = 60000; });
        HF_CHECK_FIXTURE(f);
        f.server.script.chunks = {QStringLiteral("part "), QStringLiteral("one")};
        f.server.script.endMarker = false;
        f.server.script.ending = FakeModelServer::Ending::Hang;
        const QString sid = f.create();
        int chunks = 0;
        QObject::connect(f.service.get(), &SessionService::chunkReady,
                         [&](const QString &, int, int, const QString &) { ++chunks; });
        const TurnRecord t = f.start(sid, QStringLiteral("go"));
        QVERIFY(t.id);
        QVERIFY(spinUntil([&] { return chunks == 2; }));
        QVERIFY(!f.server.requests.last().clientClosed);

        HF_AWAIT(cancelled, f.service->cancelTurn(sid, t.id));
        QVERIFY(cancelled && cancelled->ok());
        QVERIFY(spinUntil([&] { return f.server.requests.last().clientClosed; }, 5000));
        const TurnRecord ended = f.finish(sid, t.id);
        QCOMPARE(ended.state, TurnRecord::State::Cancelled);
        const QList<Message> messages = f.stored(sid);
        QCOMPARE(messages.size(), 2);
        QCOMPARE(messages.at(1).state, Message::State::Interrupted);
        QCOMPARE(messages.at(1).content, QStringLiteral("part one"));
    }

    void manyAnswersAtOnce_data() { addKinds(); }

    // Ten answers streaming from one model server at once: every request goes out at once, none
    // waits behind QNetworkAccessManager's six connections per host.
    void manyAnswersAtOnce()
    {
        QFETCH(QString, kind);
        constexpr int kTurns = 10;
        Fixture f(kind, {}, [](UpstreamConfig &c) {
            c.connectTimeoutMs = 60000;
            c.idleTimeoutMs = 60000;
        });
        HF_CHECK_FIXTURE(f);
        f.server.script.chunks = {QStringLiteral("still "), QStringLiteral("going")};
        f.server.script.endMarker = false;
        f.server.script.ending = FakeModelServer::Ending::Hang;
        int chunks = 0;
        QObject::connect(f.service.get(), &SessionService::chunkReady,
                         [&](const QString &, int, int, const QString &) { ++chunks; });
        QList<QPair<QString, int>> turns;
        for (int i = 0; i < kTurns; ++i) {
            const QString sid = f.create();
            const TurnRecord t = f.start(sid, QStringLiteral("go %1").arg(i));
            QVERIFY(t.id);
            turns.append({sid, t.id});
        }
        QVERIFY2(spinUntil([&] { return f.server.chatRequests().size() == kTurns; }, 10000),
                 qPrintable(QStringLiteral("%1 of %2 requests reached the model server")
                                .arg(f.server.chatRequests().size())
                                .arg(kTurns)));
        QVERIFY(spinUntil([&] { return chunks == 2 * kTurns; }));
        for (const auto &[sid, tid] : std::as_const(turns)) {
            HF_AWAIT(cancelled, f.service->cancelTurn(sid, tid));
            QVERIFY(cancelled && cancelled->ok());
            const TurnRecord ended = f.finish(sid, tid);
            QCOMPARE(ended.state, TurnRecord::State::Cancelled);
            QCOMPARE(f.stored(sid).value(1).content, QStringLiteral("still going"));
        }
    }

    void shutdownInterruptsUpstream_data() { addKinds(); }

    // Stopping the service mid-answer: the upstream request is aborted, the turn ends
    // interrupted with its partial answer saved.
    void shutdownInterruptsUpstream()
    {
        QFETCH(QString, kind);
        Fixture f(kind, {}, [](UpstreamConfig &c) { c.idleTimeoutMs = 60000; });
        HF_CHECK_FIXTURE(f);
        f.server.script.chunks = {QStringLiteral("so "), QStringLiteral("far")};
        f.server.script.endMarker = false;
        f.server.script.ending = FakeModelServer::Ending::Hang;
        const QString sid = f.create();
        int chunks = 0;
        QObject::connect(f.service.get(), &SessionService::chunkReady,
                         [&](const QString &, int, int, const QString &) { ++chunks; });
        const TurnRecord t = f.start(sid, QStringLiteral("go"));
        QVERIFY(t.id);
        QVERIFY(spinUntil([&] { return chunks == 2; }));
        QVERIFY(test::awaitVoid(f.service->shutdown()));
        QVERIFY(spinUntil([&] { return f.server.requests.last().clientClosed; }, 5000));
        HF_AWAIT(turn, f.store->loadTurn(sid, t.id));
        QVERIFY(turn && turn->ok() && turn->value());
        QCOMPARE(turn->value()->state, TurnRecord::State::Interrupted);
        const QList<Message> messages = f.stored(sid);
        QCOMPARE(messages.size(), 2);
        QCOMPARE(messages.at(1).state, Message::State::Interrupted);
        QCOMPARE(messages.at(1).content, QStringLiteral("so far"));
    }

    // --- models -----------------------------------------------------------------------------

    void modelList_data() { addKinds(); }

    void modelList()
    {
        QFETCH(QString, kind);
        Fixture f(kind);
        HF_CHECK_FIXTURE(f);
        f.server.models = {QStringLiteral("llama3.2:latest"), QStringLiteral("qwen2.5:7b")};
        HF_AWAIT(models, f.provider->models());
        QVERIFY(models && models->ok());
        QCOMPARE(models->value(), f.server.models);
        QCOMPARE(f.server.requests.last().method, QByteArray("GET"));
        QCOMPARE(f.server.requests.last().path, kind == QLatin1String("openai")
                                                    ? QByteArray("/v1/models")
                                                    : QByteArray("/api/tags"));
        QCOMPARE(f.server.requests.last().headers.value("authorization"),
                 "Bearer " + kKey.toUtf8());

        f.server.script.status = 401;
        f.server.script.errorBody =
            "{\"error\":{\"message\":\"bad key\",\"type\":\"invalid_request_error\"}}";
        HF_AWAIT(refused, f.provider->models());
        QVERIFY(refused && !refused->ok());
        QCOMPARE(refused->error().code, ErrorCode::UpstreamError);
        QVERIFY(refused->error().message.contains(QStringLiteral("API key")));

        UpstreamConfig down = upstreamConfig(QStringLiteral("down"), freePortUrl(kind));
        std::unique_ptr<Provider> gone(makeProvider(kind, down));
        HF_AWAIT(unreachable, gone->models());
        QVERIFY(unreachable && !unreachable->ok());
        QCOMPARE(unreachable->error().code, ErrorCode::Unavailable);
    }

    // --- several providers from the settings file -------------------------------------------

    void providersFromSettings()
    {
        FakeModelServer server;
        QVERIFY(server.listen());
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("holdfast.conf"));
        {
            QFile file(path);
            QVERIFY(file.open(QIODevice::WriteOnly));
            file.write(QStringLiteral("[provider.local]\nkind = openai\nbase-url = %1\n"
                                      "model = fake-model\nmodels = fake-model, shared\n"
                                      "api-key = %2\nidle-timeout-ms = 5000\n"
                                      "[provider.ollama]\nbase-url = %3\nmodel = llama3.2\n"
                                      "models = shared\n")
                           .arg(server.openAiBaseUrl(), kKey, server.ollamaBaseUrl())
                           .toUtf8());
        }
        Settings settings;
        QString error;
        QVERIFY2(settings.load({QStringLiteral("holdfast"), QStringLiteral("--config"), path,
                                QStringLiteral("--provider"), QStringLiteral("openai"),
                                QStringLiteral("--base-url"), server.openAiBaseUrl(),
                                QStringLiteral("--model"), QStringLiteral("gpt-x")},
                               QProcessEnvironment(), &error),
                 qPrintable(error));
        ProviderRegistry registry;
        const Status s = setupProviders(settings, &registry);
        QVERIFY2(s.ok(), qPrintable(s.ok() ? QString() : s.error().message));

        QStringList names;
        for (Provider *p : registry.providers())
            names << p->name();
        QCOMPARE(names, (QStringList{QStringLiteral("demo"), QStringLiteral("local"),
                                     QStringLiteral("ollama"), QStringLiteral("openai")}));
        QStringList ids;
        for (const ModelInfo &m : registry.models())
            ids << m.id;
        QCOMPARE(ids,
                 (QStringList{QStringLiteral("demo"), QStringLiteral("local/fake-model"),
                              QStringLiteral("local/shared"), QStringLiteral("ollama/llama3.2"),
                              QStringLiteral("ollama/shared"), QStringLiteral("openai/gpt-x")}));
        QCOMPARE(registry.defaultModel(), QStringLiteral("openai/gpt-x"));

        auto resolved = registry.resolve(QStringLiteral("llama3.2"));
        QVERIFY(resolved.ok());
        QCOMPARE(resolved->provider->name(), QStringLiteral("ollama"));
        resolved = registry.resolve(QStringLiteral("local"));
        QVERIFY(resolved.ok());
        QCOMPARE(resolved->model, QStringLiteral("fake-model"));
        resolved = registry.resolve(QStringLiteral("ollama/anything:7b"));
        QVERIFY(resolved.ok());
        QCOMPARE(resolved->model, QStringLiteral("anything:7b"));
        QVERIFY(!registry.resolve(QStringLiteral("shared")).ok()); // two providers list it
        QCOMPARE(static_cast<OpenAiProvider *>(registry.provider(QStringLiteral("local")))
                     ->config()
                     .idleTimeoutMs,
                 5000);
        QCOMPARE(static_cast<OllamaProvider *>(registry.provider(QStringLiteral("ollama")))
                     ->config()
                     .connectTimeoutMs,
                 10000);

        // A turn through a configured provider reaches its server with its key.
        MemoryStore store;
        SessionService service(&store, &registry);
        HF_AWAIT_OK(service.start());
        server.script.chunks = {QStringLiteral("from "), QStringLiteral("local")};
        CreateSessionParams p;
        p.model = QStringLiteral("local/fake-model");
        HF_AWAIT(created, service.createSession(p));
        QVERIFY(created && created->ok());
        const QString sid = (*created)->meta.id;
        StartTurnParams params;
        params.prompt = QStringLiteral("hi");
        HF_AWAIT(started, service.startTurn(sid, params));
        QVERIFY(started && started->ok());
        HF_AWAIT(ended, service.waitForTurn(sid, (*started)->id, 20000));
        QCOMPARE((*ended)->state, TurnRecord::State::Done);
        QCOMPARE(server.chatRequests().size(), 1);
        QCOMPARE(server.chatRequests()[0].headers.value("authorization"),
                 "Bearer " + kKey.toUtf8());
        test::awaitVoid(service.shutdown());
    }

    void badProviderSettings_data()
    {
        QTest::addColumn<QString>("file");
        QTest::addColumn<QStringList>("flags");
        QTest::addColumn<QString>("says");
        QTest::addRow("unknown kind") << "[provider.x]\nkind = gemini\nmodel = m\n"
                                      << QStringList() << "kind must be openai or ollama";
        QTest::addRow("no model") << "[provider.openai]\nbase-url = http://127.0.0.1:1/v1\n"
                                  << QStringList() << "a model is needed";
        QTest::addRow("bad url") << "[provider.x]\nkind = ollama\nmodel = m\nbase-url = ftp://h\n"
                                 << QStringList() << "not an http";
        QTest::addRow("unknown key") << "[provider.x]\nkind = ollama\nmodel = m\nbase_url = x\n"
                                     << QStringList() << "unknown key 'base_url'";
        QTest::addRow("bad timeout")
            << "[provider.x]\nkind = ollama\nmodel = m\nidle-timeout-ms = soon\n"
            << QStringList() << "idle-timeout-ms";
        QTest::addRow("flag without model")
            << "" << QStringList{QStringLiteral("--provider"), QStringLiteral("ollama")}
            << "a model is needed";
    }

    void badProviderSettings()
    {
        QFETCH(QString, file);
        QFETCH(QStringList, flags);
        QFETCH(QString, says);
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("holdfast.conf"));
        QFile f(path);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(file.toUtf8());
        f.close();
        Settings settings;
        QString error;
        QVERIFY(settings.load(
            QStringList{QStringLiteral("holdfast"), QStringLiteral("--config"), path} + flags,
            QProcessEnvironment(), &error));
        ProviderRegistry registry;
        const Status s = setupProviders(settings, &registry);
        QVERIFY(!s.ok());
        QVERIFY2(s.error().message.contains(says), qPrintable(s.error().message));
    }
};

QTEST_GUILESS_MAIN(TestProviders)
#include "tst_providers.moc"
