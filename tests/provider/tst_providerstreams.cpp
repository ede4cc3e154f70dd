// The openai and ollama providers against a fake model server on a real socket: a whole turn over
// each wire format, what is sent, and every fault ending the turn in its documented state with
// the session usable; a request that reached the server is never sent twice.
#include "fakes/attachmentfiles.h"
#include "provider/demoprovider.h"
#include "provider/pdftext.h"
#include "providerfixture.h"

#include <QRegularExpression>

namespace {

// What one generation gave: its text, the calls it asked for, its error.
struct Generation
{
    QString text;
    int pieces = 0;
    QList<ProviderToolCall> calls;
    std::optional<Error> error;
};

QCoro::Task<Generation> generate(Provider *provider, ProviderRequest request)
{
    const std::unique_ptr<ProviderStream> stream = provider->start(request);
    Generation g;
    while (true) {
        const QStringList pieces = co_await stream->next();
        if (pieces.isEmpty())
            break;
        g.text += pieces.join(QString());
        g.pieces += int(pieces.size());
    }
    g.calls = stream->toolCalls();
    g.error = stream->error();
    co_return g;
}

ToolSpec toolSpec(const QString &name, const QString &wireName, const QString &description = {},
                  const QJsonObject &parameters = {})
{
    ToolSpec t;
    t.name = name;
    t.wireName = wireName;
    t.description = description;
    t.parameters = parameters;
    return t;
}

ProviderToolCall providerCall(const QString &id, const QString &wireName,
                              const QJsonObject &arguments)
{
    ProviderToolCall c;
    c.id = id;
    c.wireName = wireName;
    c.arguments = arguments;
    return c;
}

ChatMessage toolResult(const QString &id, const QString &wireName, const QString &content)
{
    ChatMessage m(QStringLiteral("tool"), content);
    m.toolCallId = id;
    m.toolName = wireName;
    return m;
}

FakeModelServer::ScriptedCall scriptedCall(const QString &id, const QString &name,
                                           const QString &arguments)
{
    FakeModelServer::ScriptedCall c;
    c.id = id;
    c.name = name;
    c.arguments = arguments;
    return c;
}

QJsonObject object(const QString &json)
{
    return QJsonDocument::fromJson(json.toUtf8()).object();
}

// The id a provider makes up for a call the server gave none.
bool madeUpId(const QString &id)
{
    static const QRegularExpression re(QStringLiteral("^call_[A-Za-z0-9]{24}$"));
    return re.match(id).hasMatch();
}

const QString kReadArgs = QStringLiteral("{\"path\": \"notes.txt\"}");

} // namespace

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

    // --- attachments (shared/API.md, Attachments: "To the model") ------------------------------

    void pdfTextIsRead()
    {
        QCOMPARE(upstream::pdfText(test::tinyPdf()), test::tinyPdfText());
        QVERIFY(upstream::pdfText("%PDF-1.4 broken").startsWith(u'['));
    }

    void fencesOutgrowTheContent_data()
    {
        QTest::addColumn<QString>("content");
        QTest::addColumn<QString>("fence");
        QTest::addRow("plain") << "text"
                               << "```";
        QTest::addRow("one backtick") << "a `b` c"
                                      << "```";
        QTest::addRow("a fence") << "```\ncode\n```"
                                 << "````";
        QTest::addRow("a longer run") << "x ````` y ``` z"
                                      << "``````";
    }
    void fencesOutgrowTheContent()
    {
        QFETCH(QString, content);
        QFETCH(QString, fence);
        QCOMPARE(upstream::fenceFor(content), fence);
    }

    // Images in the format's own shape, text and a PDF's text fenced before the prompt, byte for
    // byte as the server received them; the next turn sends the earlier message with its files.
    void attachmentsOnTheWire_data() { addKinds(); }
    void attachmentsOnTheWire()
    {
        QFETCH(QString, kind);
        Fixture f(kind);
        HF_CHECK_FIXTURE(f);
        const QString sid = f.create();
        const QString notes =
            f.upload(sid, QStringLiteral("notes.md"), QStringLiteral("text/markdown"),
                     "use ``` here and ```` there");
        const QString png =
            f.upload(sid, QStringLiteral("dot.png"), QStringLiteral("image/png"), test::tinyPng());
        const QString pdf = f.upload(sid, QStringLiteral("scan.pdf"),
                                     QStringLiteral("application/pdf"), test::tinyPdf());
        QVERIFY(!notes.isEmpty() && !png.isEmpty() && !pdf.isEmpty());
        f.server.queue = {FakeModelServer::Script{}, FakeModelServer::Script{}};
        f.server.queue[0].chunks = {QStringLiteral("first answer")};
        f.server.queue[1].chunks = {QStringLiteral("second answer")};
        StartTurnParams p;
        p.prompt = QStringLiteral("What is this?");
        p.attachments = {notes, png, pdf};
        const TurnRecord first = test::startedTurn(f.service.get(), sid, p);
        QCOMPARE(f.finish(sid, first.id).state, TurnRecord::State::Done);
        QCOMPARE(f.run(sid, QStringLiteral("And now?")).state, TurnRecord::State::Done);

        const QByteArray text =
            "notes.md\\n`````\\nuse ``` here and ```` there\\n`````\\n\\n"
            "scan.pdf\\n```\\nHoldfast test PDF\\nSecond line of text\\n```\\n\\nWhat is this?";
        const QByteArray base64 = test::tinyPng().toBase64();
        QByteArray prompt;
        if (kind == QLatin1String("openai"))
            prompt = "{\"content\":[{\"text\":\"" + text +
                     "\",\"type\":\"text\"},{\"image_url\":{\"url\":\"data:image/png;base64," +
                     base64 + "\"},\"type\":\"image_url\"}],\"role\":\"user\"}";
        else
            prompt =
                "{\"content\":\"" + text + "\",\"images\":[\"" + base64 + "\"],\"role\":\"user\"}";
        const auto requests = f.server.chatRequests();
        QCOMPARE(requests.size(), 2);
        const QByteArray firstMessages = "\"messages\":[" + prompt + "],";
        QVERIFY2(requests[0].body.contains(firstMessages), requests[0].body.constData());
        const QByteArray secondMessages =
            "\"messages\":[" + prompt +
            ",{\"content\":\"first answer\",\"role\":\"assistant\"},{\"content\":\"And "
            "now?\",\"role\":\"user\"}],";
        QVERIFY2(requests[1].body.contains(secondMessages), requests[1].body.constData());
    }

    // A model server that refuses images answers with an error status: the turn ends `error`
    // with `upstream_error` and the server's message; the session goes on.
    void refusedImagesEndTheTurnOnly_data() { addKinds(); }
    void refusedImagesEndTheTurnOnly()
    {
        QFETCH(QString, kind);
        Fixture f(kind);
        HF_CHECK_FIXTURE(f);
        const QString sid = f.create();
        const QString png =
            f.upload(sid, QStringLiteral("dot.png"), QStringLiteral("image/png"), test::tinyPng());
        QVERIFY(!png.isEmpty());
        FakeModelServer::Script refuse;
        refuse.status = 400;
        refuse.errorBody = kind == QLatin1String("openai")
                               ? "{\"error\":{\"message\":\"this model does not support image "
                                 "input\",\"type\":\"invalid_request_error\"}}"
                               : "{\"error\":\"this model does not support image input\"}";
        FakeModelServer::Script fine;
        fine.chunks = {QStringLiteral("text only")};
        f.server.queue = {refuse, fine};
        StartTurnParams p;
        p.prompt = QStringLiteral("describe");
        p.attachments = {png};
        const TurnRecord t = f.finish(sid, test::startedTurn(f.service.get(), sid, p).id);
        QCOMPARE(t.state, TurnRecord::State::Error);
        QCOMPARE(t.errorCode, QStringLiteral("upstream_error"));
        QVERIFY2(t.errorMessage.contains(QStringLiteral("does not support image input")),
                 qPrintable(t.errorMessage));
        const TurnRecord next = f.run(sid, QStringLiteral("then just talk"));
        QCOMPARE(next.state, TurnRecord::State::Done);
        const QList<Message> messages = f.stored(sid);
        QCOMPARE(messages.size(), 4);
        QCOMPARE(messages.at(3).content, QStringLiteral("text only"));
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

    // --- tools (shared/API.md, Tools (MCP): "To the model") ---------------------------------

    // The tools offered, the assistant's calls and the tools' results in the format's own shape,
    // byte for byte as the server received them; no "tools" at all when none is offered.
    void toolsOnTheWire_data() { addKinds(); }
    void toolsOnTheWire()
    {
        QFETCH(QString, kind);
        const bool openAi = kind == QLatin1String("openai");
        Fixture f(kind);
        HF_CHECK_FIXTURE(f);
        ProviderRequest request;
        request.model = QStringLiteral("fake-model");
        request.tools = {toolSpec(QStringLiteral("fs/read_file"), QStringLiteral("fs__read_file"),
                                  QStringLiteral("Read a file «as text»"),
                                  object(QStringLiteral("{\"type\":\"object\",\"properties\":"
                                                        "{\"path\":{\"type\":\"string\"}},"
                                                        "\"required\":[\"path\"]}"))),
                         toolSpec(QStringLiteral("clock/now"), QStringLiteral("clock__now"))};
        ChatMessage asked(QStringLiteral("assistant"), QStringLiteral("Let me look."));
        asked.toolCalls = {
            providerCall(QStringLiteral("call_a1"), QStringLiteral("fs__read_file"),
                         object(QStringLiteral("{\"path\":\"notes/Grüße \\\"1\\\".txt\"}")))};
        ChatMessage onlyCall(QStringLiteral("assistant"), QString());
        onlyCall.toolCalls = {
            providerCall(QStringLiteral("call_b2"), QStringLiteral("clock__now"), {})};
        request.messages = {
            ChatMessage(QStringLiteral("user"), QStringLiteral("What is in notes.txt?")),
            asked,
            toolResult(QStringLiteral("call_a1"), QStringLiteral("fs__read_file"),
                       QStringLiteral("line one\nline «two»")),
            onlyCall,
            toolResult(QStringLiteral("call_b2"), QStringLiteral("clock__now"),
                       QStringLiteral("12:00")),
            ChatMessage(QStringLiteral("assistant"), QStringLiteral("It says line one at 12:00.")),
            ChatMessage(QStringLiteral("user"), QStringLiteral("Thanks!"))};
        HF_AWAIT(withTools, generate(f.provider, request));
        QVERIFY(!withTools->error);
        request.tools.clear();
        HF_AWAIT(withoutTools, generate(f.provider, request));
        QVERIFY(!withoutTools->error);

        const QByteArray tools = "\"tools\":[{\"function\":{\"description\":\"Read a file «as "
                                 "text»\",\"name\":\"fs__read_file\","
                                 "\"parameters\":{\"properties\":{\"path\":{\"type\":\"string\"}},"
                                 "\"required\":[\"path\"],"
                                 "\"type\":\"object\"}},\"type\":\"function\"},{\"function\":{"
                                 "\"description\":\"\",\"name\":"
                                 "\"clock__now\",\"parameters\":{\"properties\":{},\"type\":"
                                 "\"object\"}},\"type\":\"function\"}]";
        const QByteArray messages =
            openAi
                ? QByteArray(
                      "{\"messages\":[{\"content\":\"What is in notes.txt?\",\"role\":\"user\"},"
                      "{\"content\":\"Let me "
                      "look.\",\"role\":\"assistant\",\"tool_calls\":[{\"function\":"
                      "{\"arguments\":\"{\\\"path\\\":\\\"notes/Grüße "
                      "\\\\\\\"1\\\\\\\".txt\\\"}\",\"name\":"
                      "\"fs__read_file\"},\"id\":\"call_a1\",\"type\":\"function\"}]},{\"content\":"
                      "\"line one\\nline «two»\",\"role\":\"tool\",\"tool_call_id\":\"call_a1\"},"
                      "{\"content\":null,\"role\":\"assistant\",\"tool_calls\":[{\"function\":"
                      "{\"arguments\":\"{}\",\"name\":\"clock__now\"},\"id\":\"call_b2\",\"type\":"
                      "\"function\"}]},{\"content\":\"12:00\",\"role\":\"tool\",\"tool_call_id\":"
                      "\"call_b2\"},{\"content\":\"It says line one at 12:00.\",\"role\":"
                      "\"assistant\"},{\"content\":\"Thanks!\",\"role\":\"user\"}],")
                : QByteArray(
                      "{\"messages\":[{\"content\":\"What is in notes.txt?\",\"role\":\"user\"},"
                      "{\"content\":\"Let me "
                      "look.\",\"role\":\"assistant\",\"tool_calls\":[{\"function\":"
                      "{\"arguments\":{\"path\":\"notes/Grüße \\\"1\\\".txt\"},\"name\":"
                      "\"fs__read_file\"}}]},{\"content\":\"line one\\nline "
                      "«two»\",\"role\":\"tool\","
                      "\"tool_name\":\"fs__read_file\"},{\"content\":\"\",\"role\":\"assistant\","
                      "\"tool_calls\":[{\"function\":{\"arguments\":{},\"name\":\"clock__now\"}}]},"
                      "{\"content\":\"12:00\",\"role\":\"tool\",\"tool_name\":\"clock__now\"},"
                      "{\"content\":\"It says line one at 12:00.\",\"role\":\"assistant\"},"
                      "{\"content\":\"Thanks!\",\"role\":\"user\"}],");
        const QByteArray rest = openAi ? QByteArray("\"model\":\"fake-model\",\"stream\":true,"
                                                    "\"stream_options\":{\"include_usage\":true}")
                                       : QByteArray("\"model\":\"fake-model\",\"stream\":true");
        const auto requests = f.server.chatRequests();
        QCOMPARE(requests.size(), 2);
        QCOMPARE(requests[0].body, messages + rest + ',' + tools + '}');
        QCOMPARE(requests[1].body, messages + rest + '}');
        QVERIFY(!requests[1].body.contains("tool_choice"));
    }

    void streamedToolCalls_data()
    {
        QTest::addColumn<QString>("kind");
        QTest::addColumn<FakeModelServer::Script>("script");
        for (const QString &kind : {QStringLiteral("openai"), QStringLiteral("ollama")}) {
            const char *k = kind == QLatin1String("openai") ? "openai" : "ollama";
            FakeModelServer::Script s;
            s.toolCalls = {scriptedCall(QStringLiteral("call_Xy1"), QStringLiteral("fs__read_file"),
                                        kReadArgs)};
            s.argumentPieces = 5;
            QTest::addRow("%s: a call in pieces", k) << kind << s;
            s.chunks = kAnswer;
            QTest::addRow("%s: text, then a call", k) << kind << s;
            s.chunks.clear();
            s.toolCalls.append(scriptedCall(QStringLiteral("call_Zz2"),
                                            QStringLiteral("clock__now"),
                                            QStringLiteral("{\"zone\": \"Europe/Berlin\"}")));
            s.argumentPieces = 4;
            QTest::addRow("%s: two calls, one after the other", k) << kind << s;
            s.interleaveCalls = true;
            QTest::addRow("%s: two calls, interleaved", k) << kind << s;
            s.splitBytes = 1;
            QTest::addRow("%s: two calls, interleaved, one byte per write", k) << kind << s;
            s = {};
            s.toolCalls = {scriptedCall(
                QStringLiteral("call_U"), QStringLiteral("fs__write_file"),
                QStringLiteral("{\"path\": \"Grüße/世界 👋🏽.txt\", \"text\": \"say "
                               "\\\"hi\\\"\\n\\ttab \\\\ "
                               "\\u00e9 \\ud83d\\ude00 {not a brace} 💥\"}"))};
            s.argumentPieces = 9;
            QTest::addRow("%s: unicode and escapes in the arguments", k) << kind << s;
            s.argumentPieces = 40;
            QTest::addRow("%s: unicode and escapes, tiny pieces", k) << kind << s;
            s = {};
            s.toolCalls = {scriptedCall({}, QStringLiteral("fs__read_file"), kReadArgs),
                           scriptedCall({}, QStringLiteral("fs__read_file"),
                                        QStringLiteral("{\"path\": \"other.txt\"}"))};
            QTest::addRow("%s: no ids: made up", k) << kind << s;
            s = {};
            s.toolCalls = {
                scriptedCall(QStringLiteral("call_1"), QStringLiteral("clock__now"), {})};
            QTest::addRow("%s: no arguments at all", k) << kind << s;
            s.toolCalls = {
                scriptedCall(QStringLiteral("call_1"), QStringLiteral("fs__read_file"), kReadArgs)};
            s.finishReason = QStringLiteral("stop");
            QTest::addRow("%s: finish_reason stop, with a call", k) << kind << s;
        }
    }

    // OpenAI's tool_calls deltas assembled (pieces keyed by index, interleaved or not, cut
    // anywhere), Ollama's whole calls read; in the model's order, with their text; the
    // arguments parsed; ids kept, or made up (unique) where the server gives none.
    void streamedToolCalls()
    {
        QFETCH(QString, kind);
        QFETCH(FakeModelServer::Script, script);
        Fixture f(kind);
        HF_CHECK_FIXTURE(f);
        f.server.script = script;
        ProviderRequest request;
        request.model = QStringLiteral("fake-model");
        request.messages = {ChatMessage(QStringLiteral("user"), QStringLiteral("go"))};
        request.tools = {
            toolSpec(QStringLiteral("fs/read_file"), QStringLiteral("fs__read_file")),
            toolSpec(QStringLiteral("fs/write_file"), QStringLiteral("fs__write_file")),
            toolSpec(QStringLiteral("clock/now"), QStringLiteral("clock__now"))};
        HF_AWAIT(g, generate(f.provider, request));
        QVERIFY2(!g->error, qPrintable(g->error ? g->error->message : QString()));
        QCOMPARE(g->text, script.chunks.join(QString()));
        QCOMPARE(g->calls.size(), script.toolCalls.size());
        QSet<QString> ids;
        for (qsizetype i = 0; i < script.toolCalls.size(); ++i) {
            const FakeModelServer::ScriptedCall &expected = script.toolCalls.at(i);
            const ProviderToolCall &call = g->calls.at(i);
            QCOMPARE(call.wireName, expected.name);
            QCOMPARE(call.arguments, object(expected.arguments));
            if (expected.id.isEmpty())
                QVERIFY2(madeUpId(call.id), qPrintable(call.id));
            else
                QCOMPARE(call.id, expected.id);
            ids.insert(call.id);
        }
        QCOMPARE(ids.size(), script.toolCalls.size());
        if (script.toolCalls.at(0).name == QLatin1String("fs__write_file")) {
            QCOMPARE(g->calls.at(0).arguments.value(QStringLiteral("text")).toString(),
                     QStringLiteral("say \"hi\"\n\ttab \\ é 😀 {not a brace} 💥"));
        }
    }

    void toolCallFaults_data()
    {
        QTest::addColumn<QString>("kind");
        QTest::addColumn<FakeModelServer::Script>("script");
        QTest::addColumn<QString>("message");
        for (const QString &kind : {QStringLiteral("openai"), QStringLiteral("ollama")}) {
            const char *k = kind == QLatin1String("openai") ? "openai" : "ollama";
            FakeModelServer::Script s;
            s.chunks = {QStringLiteral("Let me see.")};
            s.toolCalls = {scriptedCall(QStringLiteral("call_1"), QStringLiteral("fs__read_file"),
                                        QStringLiteral("{\"path\": \"a"))};
            QTest::addRow("%s: arguments not JSON", k)
                << kind << s
                << QStringLiteral("the arguments of its call of fs__read_file are not a JSON "
                                  "object: {\"path\": \"a");
            s.toolCalls[0].arguments = QStringLiteral("[1, 2]");
            QTest::addRow("%s: arguments an array", k)
                << kind << s
                << QStringLiteral("the arguments of its call of fs__read_file are not a JSON "
                                  "object: [1, 2]");
        }
        FakeModelServer::Script s;
        s.toolCalls = {scriptedCall(QStringLiteral("call_1"), QStringLiteral("fs__read_file"),
                                    QStringLiteral("{\"path\": \"a"))};
        s.finishReason = QStringLiteral("length");
        QTest::addRow("openai: cut off by length")
            << QStringLiteral("openai") << s
            << QStringLiteral("its answer was cut off (finish_reason \"length\") in the "
                              "arguments of its call of fs__read_file");
        s = {};
        s.chunks = {QStringLiteral("hm")};
        s.finishReason = QStringLiteral("tool_calls");
        QTest::addRow("openai: finish_reason tool_calls, no call")
            << QStringLiteral("openai") << s
            << QStringLiteral("it ended its answer with finish_reason \"tool_calls\" but sent no "
                              "tool call");
        s = {};
        s.rawLines = {
            "data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,"
            "\"id\":\"c1\",\"function\":{\"arguments\":\"{}\"}}]},\"finish_reason\":null}]}"};
        QTest::addRow("openai: a call without a name")
            << QStringLiteral("openai") << s
            << QStringLiteral("it sent a tool call without a function name");
        s.rawLines = {"data: {\"choices\":[{\"delta\":{\"tool_calls\":{\"index\":0}}}]}"};
        QTest::addRow("openai: tool_calls not a list")
            << QStringLiteral("openai") << s << QStringLiteral("malformed stream line");
        s.rawLines = {"data: {\"choices\":[{\"delta\":{\"tool_calls\":[{\"index\":-1}]}}]}"};
        QTest::addRow("openai: a negative index")
            << QStringLiteral("openai") << s << QStringLiteral("malformed stream line");
        s.rawLines = {
            "{\"message\":{\"role\":\"assistant\",\"content\":\"\",\"tool_calls\":[{\"function\":"
            "\"x\"}]},\"done\":false}"};
        QTest::addRow("ollama: a call that is not an object")
            << QStringLiteral("ollama") << s << QStringLiteral("malformed stream line");
        s.rawLines = {
            "{\"message\":{\"role\":\"assistant\",\"content\":\"\",\"tool_calls\":[{\"function\":"
            "{\"name\":\"fs__read_file\",\"arguments\":[1]}}]},\"done\":false}"};
        QTest::addRow("ollama: arguments a list")
            << QStringLiteral("ollama") << s << QStringLiteral("malformed stream line");
    }

    // A call Holdfast cannot use ends the generation with upstream_error naming it: no tool is
    // run with arguments the model did not mean, and none is silently dropped.
    void toolCallFaults()
    {
        QFETCH(QString, kind);
        QFETCH(FakeModelServer::Script, script);
        QFETCH(QString, message);
        Fixture f(kind);
        HF_CHECK_FIXTURE(f);
        f.server.script = script;
        ProviderRequest request;
        request.model = QStringLiteral("fake-model");
        request.messages = {ChatMessage(QStringLiteral("user"), QStringLiteral("go"))};
        request.tools = {toolSpec(QStringLiteral("fs/read_file"), QStringLiteral("fs__read_file"))};
        HF_AWAIT(g, generate(f.provider, request));
        QVERIFY(g->error);
        QCOMPARE(g->error->code, ErrorCode::UpstreamError);
        QVERIFY2(g->error->message.contains(message), qPrintable(g->error->message));
        QVERIFY(g->calls.isEmpty());
        QCOMPARE(g->text, script.chunks.join(QString())); // the text before it is kept
    }

    // --- the demo model's tools --------------------------------------------------------------

    void demoToolRequests_data()
    {
        QTest::addColumn<QString>("prompt");
        QTest::addColumn<bool>("offered");
        QTest::addColumn<QString>("arguments"); // "": no call
        QTest::addColumn<QString>("text");
        const QString calling = QStringLiteral("Let me use fs/read_file for that.\n\n");
        QTest::addRow("offered") << QStringLiteral("Please use fs/read_file with {\"path\": "
                                                   "\"notes.txt\"} now.")
                                 << true << kReadArgs << calling;
        QTest::addRow("quoted name, braces and unicode in a string")
            << QStringLiteral("USE `fs/read_file` WITH {\"path\": \"Grüße {1}.txt\"} please")
            << true << QStringLiteral("{\"path\": \"Grüße {1}.txt\"}") << calling;
        QTest::addRow("nested arguments")
            << QStringLiteral("use fs/read_file with {\"a\": {\"b\": [1, {\"c\": \"}\"}]}}") << true
            << QStringLiteral("{\"a\": {\"b\": [1, {\"c\": \"}\"}]}}") << calling;
        QTest::addRow("not offered")
            << QStringLiteral("use fs/read_file with {\"path\": \"notes.txt\"}") << false
            << QString()
            << QStringLiteral("The tool fs/read_file is not available in this chat, so I did not "
                              "call it.");
        QTest::addRow("bad JSON") << QStringLiteral("use fs/read_file with {path: notes.txt}")
                                  << true << QString()
                                  << QStringLiteral("I did not call fs/read_file: its arguments "
                                                    "are not valid JSON (");
        QTest::addRow("unclosed") << QStringLiteral("use fs/read_file with {\"path\": \"a\"")
                                  << true << QString()
                                  << QStringLiteral("I did not call fs/read_file: its arguments "
                                                    "are not valid JSON (");
        QTest::addRow("not an object")
            << QStringLiteral("use fs/read_file with [1]") << true << QString()
            << QStringLiteral("I did not call fs/read_file: the arguments after \"with\" must be "
                              "a JSON object");
    }

    // `use SERVER/TOOL with {…}`: a short text and the call (the tool's function name, the
    // arguments, an id), only when that tool is offered; otherwise a text saying why not.
    void demoToolRequests()
    {
        QFETCH(QString, prompt);
        QFETCH(bool, offered);
        QFETCH(QString, arguments);
        QFETCH(QString, text);
        DemoProvider::Options options;
        options.chunks = 4;
        options.delayMs = 1;
        DemoProvider demo(options);
        ProviderRequest request;
        request.model = QStringLiteral("demo");
        request.messages = {ChatMessage(QStringLiteral("system"), QStringLiteral("Be brief.")),
                            ChatMessage(QStringLiteral("user"), prompt)};
        request.tools = {toolSpec(QStringLiteral("clock/now"), QStringLiteral("clock__now"))};
        if (offered)
            request.tools.append(
                toolSpec(QStringLiteral("fs/read_file"), QStringLiteral("fs__read_file_2")));
        HF_AWAIT(g, generate(&demo, request));
        QVERIFY(!g->error);
        QVERIFY2(g->text.startsWith(text), qPrintable(g->text));
        QCOMPARE(g->text, DemoProvider::answer(request).text);
        QVERIFY(g->pieces > 1);
        if (arguments.isEmpty()) {
            QVERIFY(g->calls.isEmpty());
            return;
        }
        QCOMPARE(g->text, text);
        QCOMPARE(g->calls.size(), 1);
        QCOMPARE(g->calls.at(0).wireName, QStringLiteral("fs__read_file_2"));
        QCOMPARE(g->calls.at(0).arguments, object(arguments));
        QVERIFY(g->calls.at(0).id.startsWith(QLatin1String("call_demo_")));
        // The same conversation gives the same id; the next turn another.
        QCOMPARE(DemoProvider::answer(request).toolCalls.value(0).id, g->calls.at(0).id);
        ProviderRequest later = request;
        later.messages.insert(1, ChatMessage(QStringLiteral("user"), QStringLiteral("hi")));
        later.messages.insert(2, ChatMessage(QStringLiteral("assistant"), QStringLiteral("hello")));
        const DemoProvider::Answer next = DemoProvider::answer(later);
        QCOMPARE(next.toolCalls.size(), 1);
        QVERIFY(next.toolCalls.at(0).id != g->calls.at(0).id);
    }

    void demoQuotesToolResults_data()
    {
        QTest::addColumn<bool>("offered");
        QTest::addRow("tools offered") << true;
        QTest::addRow("last round, no tools offered") << false;
    }

    // After the tools' results the demo model quotes them, streamed in pieces, and calls
    // nothing; the tool is named as the API names it.
    void demoQuotesToolResults()
    {
        QFETCH(bool, offered);
        DemoProvider::Options options;
        options.chunks = 6;
        options.delayMs = 1;
        DemoProvider demo(options);
        ProviderRequest request;
        if (offered)
            request.tools = {
                toolSpec(QStringLiteral("fs/read_file"), QStringLiteral("fs__read_file")),
                toolSpec(QStringLiteral("clock/now"), QStringLiteral("clock__now"))};
        ChatMessage asked(QStringLiteral("assistant"),
                          QStringLiteral("Let me use fs/read_file for that.\n\n"));
        asked.toolCalls = {
            providerCall(QStringLiteral("call_demo_1"), QStringLiteral("fs__read_file"),
                         object(kReadArgs)),
            providerCall(QStringLiteral("call_demo_2"), QStringLiteral("clock__now"), {})};
        request.messages = {
            ChatMessage(QStringLiteral("user"),
                        QStringLiteral("use fs/read_file with {\"path\": \"notes.txt\"}")),
            asked,
            toolResult(QStringLiteral("call_demo_1"), QStringLiteral("fs__read_file"),
                       QStringLiteral("line one\nline «two»\n")),
            toolResult(QStringLiteral("call_demo_2"), QStringLiteral("clock__now"),
                       QStringLiteral("the user declined this tool call"))};
        HF_AWAIT(g, generate(&demo, request));
        QVERIFY(!g->error);
        QCOMPARE(g->text, QStringLiteral("fs/read_file answered: «line one\nline «two»»\n\n"
                                         "clock/now answered: «the user declined this tool "
                                         "call»"));
        QVERIFY(g->pieces > 1);
        QVERIFY(g->calls.isEmpty());
    }

    // The prompt's attachments are still named when it asks for a tool.
    void demoNamesAttachmentsWithTools()
    {
        ProviderRequest request;
        request.tools = {toolSpec(QStringLiteral("fs/read_file"), QStringLiteral("fs__read_file"))};
        Attachment meta;
        meta.name = QStringLiteral("a.txt");
        meta.type = QStringLiteral("text/plain");
        AttachmentContent file;
        file.meta = meta;
        file.bytes = "hello";
        request.messages = {
            ChatMessage(QStringLiteral("user"),
                        QStringLiteral("use fs/read_file with {\"path\": \"a.txt\"}"), {file})};
        const DemoProvider::Answer answer = DemoProvider::answer(request);
        QCOMPARE(answer.text, QStringLiteral("Let me use fs/read_file for that.\n\nAttachments: "
                                             "a.txt (text/plain, 5 bytes).\n\n"));
        QCOMPARE(answer.toolCalls.size(), 1);
        request.messages[0].content = QStringLiteral("just words");
        QVERIFY(DemoProvider::answer(request).text.endsWith(
            QStringLiteral("\n\nAttachments: a.txt (text/plain, 5 bytes).")));
        QVERIFY(DemoProvider::answer(request).toolCalls.isEmpty());
    }
};

QTEST_GUILESS_MAIN(TestProviderStreams)
#include "tst_providerstreams.moc"
