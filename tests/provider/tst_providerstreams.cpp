// The openai and ollama providers against a fake model server on a real socket: a whole turn over
// each wire format, what is sent, and every fault ending the turn in its documented state with
// the session usable; a request that reached the server is never sent twice.
#include "providerfixture.h"

class TestProviderStreams : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase() { qRegisterMetaType<TurnRecord>(); }

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

    void requestBytesCarryOptions_data() { addKinds(); }

    // The exact body of the chat request: every option in the format's own names; OpenAI asks
    // for the usage chunk; Ollama gets num_ctx from context_tokens.
    void requestBytesCarryOptions()
    {
        QFETCH(QString, kind);
        Fixture f(kind);
        HF_CHECK_FIXTURE(f);
        f.server.script.chunks = {QStringLiteral("ok")};
        const QString sid = f.create();
        TurnOptions options;
        options.temperature = 0.25;
        options.topP = 0.5;
        options.maxTokens = 42;
        options.contextTokens = 4096;
        QCOMPARE(f.run(sid, QStringLiteral("hi"), {}, options).state, TurnRecord::State::Done);
        const auto requests = f.server.chatRequests();
        QCOMPARE(requests.size(), 1);
        const QByteArray expected =
            kind == QLatin1String("openai")
                ? QByteArray(
                      "{\"max_tokens\":42,\"messages\":[{\"content\":\"hi\",\"role\":\"user\"}],"
                      "\"model\":\"fake-model\",\"stream\":true,\"stream_options\":{"
                      "\"include_usage\":true},\"temperature\":0.25,\"top_p\":0.5}")
                : QByteArray("{\"messages\":[{\"content\":\"hi\",\"role\":\"user\"}],\"model\":"
                             "\"fake-model\",\"options\":{\"num_ctx\":4096,\"num_predict\":42,"
                             "\"temperature\":0.25,\"top_p\":0.5},\"stream\":true}");
        QCOMPARE(requests[0].body, expected);
    }

    void ollamaNumCtxFromSetting()
    {
        // The provider setting context-tokens is Ollama's num_ctx when the turn names none; the
        // model's own context length (from /api/show) never is.
        Fixture f(QStringLiteral("ollama"), {}, [](UpstreamConfig &c) { c.contextTokens = 2048; });
        HF_CHECK_FIXTURE(f);
        f.server.contextLengths.insert(QStringLiteral("fake-model"), 131072);
        f.server.script.chunks = {QStringLiteral("ok")};
        const QString sid = f.create();
        QCOMPARE(f.run(sid, QStringLiteral("one")).state, TurnRecord::State::Done);
        QCOMPARE(f.server.chatRequests()
                     .last()
                     .json()[QStringLiteral("options")][QStringLiteral("num_ctx")]
                     .toInt(),
                 2048);

        Fixture g(QStringLiteral("ollama"));
        HF_CHECK_FIXTURE(g);
        g.server.contextLengths.insert(QStringLiteral("fake-model"), 131072);
        g.server.script.chunks = {QStringLiteral("ok")};
        const QString other = g.create();
        QCOMPARE(g.run(other, QStringLiteral("one")).state, TurnRecord::State::Done);
        QVERIFY(!g.server.chatRequests().last().json().contains(QStringLiteral("options")));
    }

    void usageParsed_data()
    {
        QTest::addColumn<QString>("kind");
        QTest::addColumn<bool>("reported");
        QTest::addColumn<int>("splitBytes");
        for (const QString &kind : {QStringLiteral("openai"), QStringLiteral("ollama")}) {
            QTest::addRow("%s", qPrintable(kind)) << kind << true << 0;
            QTest::addRow("%s, one byte per write", qPrintable(kind)) << kind << true << 1;
            QTest::addRow("%s, none reported", qPrintable(kind)) << kind << false << 0;
        }
    }

    // OpenAI's final usage chunk and Ollama's counts on its last line are the turn's usage.
    void usageParsed()
    {
        QFETCH(QString, kind);
        QFETCH(bool, reported);
        QFETCH(int, splitBytes);
        Fixture f(kind);
        HF_CHECK_FIXTURE(f);
        f.server.script.chunks = kAnswer;
        f.server.script.reportUsage = reported;
        f.server.script.promptTokens = 31;
        f.server.script.completionTokens = 415;
        f.server.script.splitBytes = splitBytes;
        const QString sid = f.create();
        const TurnRecord t = f.run(sid, QStringLiteral("count"));
        QCOMPARE(t.state, TurnRecord::State::Done);
        QCOMPARE(f.stored(sid).at(1).content, kAnswer.join(QString()));
        if (!reported) {
            QVERIFY(!t.usage);
            return;
        }
        QVERIFY(t.usage);
        QCOMPARE(t.usage->promptTokens, 31);
        QCOMPARE(t.usage->completionTokens, 415);
        HF_AWAIT(stored, f.store->loadTurn(sid, t.id));
        QVERIFY(stored->ok() && stored->value());
        QCOMPARE(stored->value()->usage, t.usage);
    }

    // Ollama's context size of a model: asked once with POST /api/show, read from model_info;
    // an unknown model is unknown; the setting context-tokens wins and asks nothing.
    void ollamaContextLength()
    {
        Fixture f(QStringLiteral("ollama"));
        HF_CHECK_FIXTURE(f);
        f.server.contextLengths.insert(QStringLiteral("fake-model"), 8192);
        const auto shows = [&] {
            int n = 0;
            for (const auto &r : std::as_const(f.server.requests))
                n += r.path == "/api/show" ? 1 : 0;
            return n;
        };
        HF_AWAIT(first, f.provider->contextTokens(QStringLiteral("fake-model")));
        QCOMPARE(*first, std::optional<int>(8192));
        QCOMPARE(shows(), 1);
        QCOMPARE(f.server.requests.last().json(),
                 (QJsonObject{{QStringLiteral("model"), QStringLiteral("fake-model")}}));
        HF_AWAIT(again, f.provider->contextTokens(QStringLiteral("fake-model")));
        QCOMPARE(*again, std::optional<int>(8192));
        QCOMPARE(shows(), 1); // cached
        HF_AWAIT(unknown, f.provider->contextTokens(QStringLiteral("no-such-model")));
        QCOMPARE(*unknown, std::optional<int>());

        // Used as the budget of a turn without context_tokens.
        f.server.contextLengths.insert(QStringLiteral("small-model"), 300);
        const QString sid = f.create();
        f.server.script.chunks = {QString(800, QLatin1Char('a'))};
        f.server.script.reportUsage = false;
        QCOMPARE(f.run(sid, QString(800, QLatin1Char('q')), QStringLiteral("p/small-model")).state,
                 TurnRecord::State::Done);
        const TurnRecord t = f.run(sid, QStringLiteral("next"), QStringLiteral("p/small-model"));
        QCOMPARE(t.state, TurnRecord::State::Done);
        QVERIFY(t.context);
        QCOMPARE(t.context->messages, 1); // 300 - 5: the 204-token answer fits, its prompt not
        QCOMPARE(t.context->dropped, 1);

        Fixture g(QStringLiteral("ollama"), {}, [](UpstreamConfig &c) { c.contextTokens = 1000; });
        HF_CHECK_FIXTURE(g);
        g.server.contextLengths.insert(QStringLiteral("fake-model"), 8192);
        HF_AWAIT(setting, g.provider->contextTokens(QStringLiteral("fake-model")));
        QCOMPARE(*setting, std::optional<int>(1000));
        QVERIFY(g.server.requests.isEmpty());
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
};

QTEST_GUILESS_MAIN(TestProviderStreams)
#include "tst_providerstreams.moc"
