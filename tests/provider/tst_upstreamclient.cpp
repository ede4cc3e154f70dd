// The connections under the openai and ollama providers, against a fake model server: kept-alive
// connections the server closed, TLS, redirects never followed, short clean error texts, cancel and
// shutdown aborting the upstream request, many answers at once, and the model lists.
#include "providerfixture.h"

#include <QScopeGuard>

class TestUpstreamClient : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase() { qRegisterMetaType<TurnRecord>(); }

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
        // (Ollama asks /api/show for the model's context length before its first chat.)
        QCOMPARE(chat ? f.server.chatRequests().size() : f.server.requests.size(), 1);
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
        const QString sid = f.create();
        const TurnRecord t = f.startHanging(sid, {QStringLiteral("part "), QStringLiteral("one")});
        QVERIFY(t.id);
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
        f.hangAfter({QStringLiteral("still "), QStringLiteral("going")});
        int chunks = 0;
        f.countChunks(&chunks);
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
        const QString sid = f.create();
        const TurnRecord t = f.startHanging(sid, {QStringLiteral("so "), QStringLiteral("far")});
        QVERIFY(t.id);
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
};

QTEST_GUILESS_MAIN(TestUpstreamClient)
#include "tst_upstreamclient.moc"
