// A turn's Server-Sent Events (shared/API.md): streamed as they come, resumed, replayed,
// kept alive, escaped, ended by errors and by shutdown, and bounded in number.
#include "fakes/httpserverfixture.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QLoggingCategory>
#include <QTest>

using namespace holdfast;
using test::HttpTestClient;
using test::spinUntil;
using test::SseReader;
using test::turnPath;

namespace {
using Server = test::HttpServerFixture;
using ServerSetup = test::HttpServerSetup;
} // namespace

class TestEvents : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase()
    {
        QLoggingCategory::setFilterRules(
            QStringLiteral("holdfast.*.debug=false\nholdfast.*.info=false"));
    }
    void sseStreamsIncrementally();
    void sseResume_data();
    void sseResume();
    void sseAfterEndReplaysAll();
    void sseWireBytes_data();
    void sseWireBytes();
    void sseDisconnectKeepsGenerating();
    void sseKeepAlive();
    void sseChunkEscaping();
    void sseErrorEvent();
    void sseErrors();
    void sseTooManyStreams();
    void fiftyConcurrentStreams();
    void shutdownEndsStreams();
};

void TestEvents::sseStreamsIncrementally()
{
    ServerSetup setup;
    setup.demoDelayMs = 150;
    setup.demoChunks = 6;
    Server srv(setup);
    HF_CHECK_FIXTURE(srv);
    const QString sid = srv.createSession(QStringLiteral("live"));
    QCOMPARE(srv.startTurn(sid, QStringLiteral("stream it")), 1);
    SseReader reader(srv.port, turnPath(sid, 1, "/events"));
    QVERIFY(reader.waitForEvents(1));
    // The first event is here while the turn is still generating: nothing was buffered.
    QVERIFY(srv.service->liveTurn(sid, 1) != nullptr);
    QCOMPARE(reader.status(), 200);
    QCOMPARE(reader.head().headers.value("content-type"), QByteArray("text/event-stream"));
    QCOMPARE(reader.head().headers.value("cache-control"), QByteArray("no-cache"));
    QVERIFY(reader.events.size() < 6);
    QVERIFY(reader.waitForEnd());
    QVERIFY(!reader.closedByServer()); // chunked framing ended the body; the connection stays

    const auto chunks = reader.chunkEvents();
    QCOMPARE(chunks.size(), 6);
    QString text;
    for (int i = 0; i < chunks.size(); ++i) {
        QCOMPARE(chunks[i].id, QByteArray::number(i));
        QCOMPARE(chunks[i].json().value(QStringLiteral("seq")).toInt(), i);
        text += chunks[i].json().value(QStringLiteral("text")).toString();
    }
    const SseReader::Event last = reader.lastEvent();
    QCOMPARE(last.event, QByteArray("done"));
    QVERIFY(last.id.isEmpty());
    QCOMPARE(last.json().value(QStringLiteral("state")).toString(), QStringLiteral("done"));
    QCOMPARE(last.json().value(QStringLiteral("chunks")).toInt(), 6);
    QCOMPARE(last.json().value(QStringLiteral("response_index")).toInt(), 1);
    auto c = srv.client();
    // The usage the model reported (the demo model's own) comes with the end, as on the turn.
    QVERIFY(last.json().value(QStringLiteral("usage")).isObject());
    QCOMPARE(last.json().value(QStringLiteral("usage")),
             c.get(turnPath(sid, 1)).json().value(QStringLiteral("usage")));
    const QJsonArray history =
        c.get("/v1/sessions/live").json().value(QStringLiteral("history")).toArray();
    QCOMPARE(history.at(1).toObject().value(QStringLiteral("content")).toString(), text);
}

void TestEvents::sseResume_data()
{
    QTest::addColumn<QByteArray>("query");
    QTest::addColumn<QByteArray>("lastEventId");
    QTest::addColumn<int>("first");
    QTest::addRow("Last-Event-ID 0") << QByteArray() << QByteArray("0") << 1;
    QTest::addRow("Last-Event-ID 3") << QByteArray() << QByteArray("3") << 4;
    QTest::addRow("from 2") << QByteArray("?from=2") << QByteArray() << 2;
    QTest::addRow("Last-Event-ID wins over from") << QByteArray("?from=1") << QByteArray("4") << 5;
    QTest::addRow("from past the end") << QByteArray("?from=9") << QByteArray() << -1;
}

void TestEvents::sseResume()
{
    QFETCH(QByteArray, query);
    QFETCH(QByteArray, lastEventId);
    QFETCH(int, first);
    ServerSetup setup;
    setup.demoDelayMs = 60;
    setup.demoChunks = 6;
    Server srv(setup);
    HF_CHECK_FIXTURE(srv);
    const QString sid = srv.createSession(QStringLiteral("resume"));
    QCOMPARE(srv.startTurn(sid, QStringLiteral("again")), 1);
    // A first client reads some events, then drops; the second resumes mid-turn.
    {
        SseReader early(srv.port, turnPath(sid, 1, "/events"));
        QVERIFY(early.waitForEvents(2));
        early.disconnect();
    }
    QList<QPair<QByteArray, QByteArray>> headers;
    if (!lastEventId.isEmpty())
        headers.append({"Last-Event-ID", lastEventId});
    SseReader reader(srv.port, turnPath(sid, 1, "/events" + query), headers);
    QVERIFY(reader.waitForEnd());
    QCOMPARE(reader.status(), 200);
    const auto chunks = reader.chunkEvents();
    if (first < 0) {
        QVERIFY(chunks.isEmpty());
    } else {
        QCOMPARE(chunks.size(), 6 - first);
        for (int i = 0; i < chunks.size(); ++i)
            QCOMPARE(chunks[i].id.toInt(), first + i);
    }
    QCOMPARE(reader.lastEvent().event, QByteArray("done"));
}

void TestEvents::sseAfterEndReplaysAll()
{
    Server srv;
    HF_CHECK_FIXTURE(srv);
    const QString sid = srv.createSession(QStringLiteral("late"));
    QCOMPARE(srv.startTurn(sid, QStringLiteral("late reader")), 1);
    QCOMPARE(srv.finish(sid, 1).state, TurnRecord::State::Done);
    SseReader reader(srv.port, turnPath(sid, 1, "/events"));
    QVERIFY(reader.waitForEnd());
    QCOMPARE(reader.chunkEvents().size(), 6);
    QCOMPARE(reader.events.size(), 7);
    QCOMPARE(reader.lastEvent().event, QByteArray("done"));
    QCOMPARE(reader.lastEvent().json().value(QStringLiteral("chunks")).toInt(), 6);
    QCOMPARE(srv.http->openStreamCount(), 0);
}

void TestEvents::sseWireBytes_data()
{
    QTest::addColumn<bool>("afterEnd");
    QTest::addColumn<bool>("http10");
    // Zero model delay: chunks are stored, announced and written in batches of several.
    QTest::addRow("live, chunked") << false << false;
    // One page of the store: all the chunk events leave in one write.
    QTest::addRow("replayed, chunked") << true << false;
    QTest::addRow("live, HTTP/1.0") << false << true;
    QTest::addRow("replayed, HTTP/1.0") << true << true;
}

// The bytes on the wire, exactly: the chunked framing (size line, data, CRLF, then 0 CRLF CRLF)
// holds the events of /chunks in order, each once, whatever number of them one write carried,
// and then the done event.
void TestEvents::sseWireBytes()
{
    QFETCH(bool, afterEnd);
    QFETCH(bool, http10);
    constexpr int kChunks = 40;
    ServerSetup setup;
    setup.demoDelayMs = 0;
    setup.demoChunks = kChunks;
    Server srv(setup);
    HF_CHECK_FIXTURE(srv);
    const QString sid = srv.createSession(QStringLiteral("wire"));
    QCOMPARE(srv.startTurn(sid, QStringLiteral("exact bytes")), 1);
    if (afterEnd)
        QCOMPARE(srv.finish(sid, 1).state, TurnRecord::State::Done);
    auto socket = test::connectFrom(srv.port);
    socket->write("GET " + turnPath(sid, 1, "/events") + (http10 ? " HTTP/1.0" : " HTTP/1.1") +
                  "\r\nHost: 127.0.0.1\r\n\r\n");
    QByteArray wire;
    QVERIFY(spinUntil(
        [&] {
            wire += socket->readAll();
            return http10 ? socket->state() == QAbstractSocket::UnconnectedState
                          : wire.endsWith("\r\n0\r\n\r\n");
        },
        20000));
    wire += socket->readAll();
    const qsizetype headEnd = wire.indexOf("\r\n\r\n");
    QVERIFY(headEnd > 0);
    QVERIFY(wire.startsWith("HTTP/1.1 200 OK\r\n"));
    QCOMPARE(wire.left(headEnd).contains("Transfer-Encoding: chunked"), !http10);

    QByteArray body;
    int mostEventsInOneChunk = 0;
    if (http10) {
        body = wire.mid(headEnd + 4);
    } else {
        qsizetype pos = headEnd + 4;
        while (true) {
            const qsizetype lineEnd = wire.indexOf("\r\n", pos);
            QVERIFY(lineEnd > pos);
            bool ok = false;
            const qsizetype size = wire.mid(pos, lineEnd - pos).toLongLong(&ok, 16);
            QVERIFY(ok);
            QVERIFY(wire.size() >= lineEnd + 2 + size + 2);
            const QByteArray data = wire.mid(lineEnd + 2, size);
            QCOMPARE(wire.mid(lineEnd + 2 + size, 2), QByteArray("\r\n"));
            pos = lineEnd + 2 + size + 2;
            if (size == 0)
                break;
            // A chunk of the framing holds whole events: a batch is written as one.
            QVERIFY(data.endsWith("\n\n"));
            mostEventsInOneChunk = std::max(mostEventsInOneChunk, int(data.count("\n\n")));
            body += data;
        }
        QCOMPARE(pos, wire.size()); // nothing after the end of the body
    }
    if (afterEnd && !http10)
        QVERIFY2(mostEventsInOneChunk > 1, "the replayed page was written event by event");

    auto c = srv.client();
    const test::HttpReply page = c.get(turnPath(sid, 1, "/chunks?from=0"));
    QCOMPARE(page.status, 200);
    const QJsonArray chunks = page.json().value(QStringLiteral("chunks")).toArray();
    QCOMPARE(chunks.size(), kChunks);
    QByteArray expected;
    for (const QJsonValue &chunk : chunks) {
        expected +=
            "id: " + QByteArray::number(chunk.toObject().value(QStringLiteral("seq")).toInt()) +
            "\nevent: chunk\ndata: " +
            QJsonDocument(chunk.toObject()).toJson(QJsonDocument::Compact) + "\n\n";
    }
    QVERIFY2(body.startsWith(expected), body.left(400).constData());
    const QByteArray rest = body.mid(expected.size());
    QVERIFY2(rest.startsWith("event: done\ndata: {\"chunks\":40,") && rest.endsWith("}\n\n") &&
                 rest.count("\n\n") == 1,
             rest.constData());
}

void TestEvents::sseDisconnectKeepsGenerating()
{
    ServerSetup setup;
    setup.demoDelayMs = 80;
    setup.demoChunks = 8;
    Server srv(setup);
    HF_CHECK_FIXTURE(srv);
    const QString sid = srv.createSession(QStringLiteral("leaver"));
    QCOMPARE(srv.startTurn(sid, QStringLiteral("do not stop")), 1);
    {
        SseReader reader(srv.port, turnPath(sid, 1, "/events"));
        QVERIFY(reader.waitForEvents(1));
        QCOMPARE(srv.http->openStreamCount(), 1);
        reader.disconnect();
    }
    QVERIFY(spinUntil([&] { return srv.http->openStreamCount() == 0; }, 10000));
    QVERIFY(spinUntil([&] { return srv.http->connectionCount() == 0; }, 10000));
    const TurnRecord turn = srv.finish(sid, 1);
    QCOMPARE(turn.state, TurnRecord::State::Done);
    QCOMPARE(turn.chunks, 8);
    auto c = srv.client();
    const QJsonArray history =
        c.get("/v1/sessions/leaver").json().value(QStringLiteral("history")).toArray();
    QCOMPARE(history.size(), 2);
    QCOMPARE(history.at(1).toObject().value(QStringLiteral("state")).toString(),
             QStringLiteral("complete"));
}

void TestEvents::sseKeepAlive()
{
    ServerSetup setup;
    setup.http.keepAliveMs = 50;
    Server srv(setup);
    HF_CHECK_FIXTURE(srv);
    srv.scripted->script.chunks = {QStringLiteral("slow"), QStringLiteral(" answer")};
    srv.scripted->script.delayMs = 500;
    const QString sid = srv.createSession(QStringLiteral("quiet"));
    QCOMPARE(srv.startTurn(sid, QStringLiteral("hm"), QStringLiteral("scripted")), 1);
    SseReader reader(srv.port, turnPath(sid, 1, "/events"));
    QVERIFY(spinUntil([&] { return reader.comments >= 2 || reader.ended(); }));
    QVERIFY(reader.comments >= 2);
    QVERIFY(reader.waitForEnd());
    QCOMPARE(reader.chunkEvents().size(), 2);
    QCOMPARE(reader.lastEvent().event, QByteArray("done"));
}

void TestEvents::sseChunkEscaping()
{
    // Chunk events are written without QJsonDocument: every character must survive the trip.
    Server srv;
    HF_CHECK_FIXTURE(srv);
    const QList<QString> chunks = {
        QStringLiteral("say \"hi\" \\ back"), QStringLiteral("line\nbreak\r\ttab"),
        QString::fromUtf8("ctl \x01\x1f\b\f end"),
        QString::fromUtf8("\xc3\xa9t\xc3\xa9 \xf0\x9f\x8c\x8a \xe2\x80\xa8 /")};
    srv.scripted->script.chunks = chunks;
    const QString sid = srv.createSession(QStringLiteral("escapes"));
    QCOMPARE(srv.startTurn(sid, QStringLiteral("hm"), QStringLiteral("scripted")), 1);
    SseReader reader(srv.port, turnPath(sid, 1, "/events"));
    QVERIFY(reader.waitForEnd());
    const auto events = reader.chunkEvents();
    QCOMPARE(events.size(), chunks.size());
    for (int i = 0; i < chunks.size(); ++i) {
        QVERIFY2(!events[i].data.contains('\n'), events[i].data.constData());
        QCOMPARE(events[i].json().value(QStringLiteral("seq")).toInt(), i);
        QCOMPARE(events[i].json().value(QStringLiteral("text")).toString(), chunks[i]);
    }
}

void TestEvents::sseErrorEvent()
{
    Server srv;
    HF_CHECK_FIXTURE(srv);
    srv.scripted->script.chunks = {QStringLiteral("partial")};
    srv.scripted->script.failure =
        makeError(ErrorCode::UpstreamError, QStringLiteral("model broke"));
    const QString sid = srv.createSession(QStringLiteral("broken"));
    QCOMPARE(srv.startTurn(sid, QStringLiteral("hm"), QStringLiteral("scripted")), 1);
    SseReader reader(srv.port, turnPath(sid, 1, "/events"));
    QVERIFY(reader.waitForEnd());
    QCOMPARE(reader.chunkEvents().size(), 1);
    const SseReader::Event last = reader.lastEvent();
    QCOMPARE(last.event, QByteArray("error"));
    QVERIFY(last.id.isEmpty());
    QCOMPARE(last.json().value(QStringLiteral("state")).toString(), QStringLiteral("error"));
    const QJsonObject error = last.json().value(QStringLiteral("error")).toObject();
    QCOMPARE(error.value(QStringLiteral("code")).toString(), QStringLiteral("upstream_error"));
    QCOMPARE(error.value(QStringLiteral("message")).toString(), QStringLiteral("model broke"));
}

void TestEvents::sseErrors()
{
    Server srv;
    HF_CHECK_FIXTURE(srv);
    const QString sid = srv.createSession(QStringLiteral("e"));
    QCOMPARE(srv.startTurn(sid, QStringLiteral("x")), 1);
    QCOMPARE(srv.finish(sid, 1).state, TurnRecord::State::Done);
    {
        SseReader reader(srv.port, turnPath(sid, 2, "/events"));
        QVERIFY(reader.waitForEnd());
        EXPECT_ERROR(reader.head(), 404, "not_found");
    }
    {
        SseReader reader(srv.port, turnPath(sid, 1, "/events"), {{"Last-Event-ID", "x1"}});
        QVERIFY(reader.waitForEnd());
        EXPECT_ERROR(reader.head(), 400, "bad_request");
    }
    {
        SseReader reader(srv.port, turnPath(sid, 1, "/events?from=-2"));
        QVERIFY(reader.waitForEnd());
        EXPECT_ERROR(reader.head(), 400, "bad_request");
    }
}

void TestEvents::sseTooManyStreams()
{
    ServerSetup setup;
    setup.http.maxStreamsPerClient = 1;
    setup.demoDelayMs = 100;
    setup.demoChunks = 20;
    Server srv(setup);
    HF_CHECK_FIXTURE(srv);
    const QString sid = srv.createSession(QStringLiteral("many"));
    QCOMPARE(srv.startTurn(sid, QStringLiteral("x")), 1);
    SseReader first(srv.port, turnPath(sid, 1, "/events"));
    QVERIFY(first.waitForEvents(1));
    SseReader second(srv.port, turnPath(sid, 1, "/events"));
    QVERIFY(second.waitForEnd());
    EXPECT_ERROR(second.head(), 429, "rate_limited");
    first.disconnect();
    QVERIFY(spinUntil([&] { return srv.http->openStreamCount() == 0; }));
    SseReader third(srv.port, turnPath(sid, 1, "/events"));
    QVERIFY(third.waitForEvents(1));
    QCOMPARE(third.status(), 200);
}

void TestEvents::fiftyConcurrentStreams()
{
    ServerSetup setup;
    setup.demoDelayMs = 20;
    setup.demoChunks = 8;
    Server srv(setup);
    HF_CHECK_FIXTURE(srv);
    constexpr int kSessions = 50;
    std::vector<std::unique_ptr<SseReader>> readers;
    for (int i = 0; i < kSessions; ++i) {
        const QString sid = QStringLiteral("c%1").arg(i);
        QCOMPARE(srv.createSession(sid), sid);
        QCOMPARE(srv.startTurn(sid, QStringLiteral("prompt number %1").arg(i)), 1);
        readers.push_back(std::make_unique<SseReader>(srv.port, turnPath(sid, 1, "/events")));
    }
    QVERIFY(spinUntil(
        [&] {
            return std::all_of(readers.begin(), readers.end(),
                               [](const auto &r) { return r->ended(); });
        },
        60000));
    auto c = srv.client();
    for (int i = 0; i < kSessions; ++i) {
        const SseReader &reader = *readers[i];
        QCOMPARE(reader.lastEvent().event, QByteArray("done"));
        QString text;
        for (const auto &e : reader.chunkEvents())
            text += e.json().value(QStringLiteral("text")).toString();
        QVERIFY2(text.contains(QStringLiteral("prompt number %1*").arg(i)), qPrintable(text));
        const QJsonObject session = c.get("/v1/sessions/c" + QByteArray::number(i)).json();
        QCOMPARE(session.value(QStringLiteral("total")).toInt(), 2);
        const QJsonArray history = session.value(QStringLiteral("history")).toArray();
        QCOMPARE(history.at(0).toObject().value(QStringLiteral("content")).toString(),
                 QStringLiteral("prompt number %1").arg(i));
        QCOMPARE(history.at(1).toObject().value(QStringLiteral("content")).toString(), text);
    }
}

void TestEvents::shutdownEndsStreams()
{
    ServerSetup setup;
    setup.demoDelayMs = 100;
    setup.demoChunks = 100;
    Server srv(setup);
    HF_CHECK_FIXTURE(srv);
    const QString sid = srv.createSession(QStringLiteral("bye"));
    QCOMPARE(srv.startTurn(sid, QStringLiteral("long")), 1);
    SseReader reader(srv.port, turnPath(sid, 1, "/events"));
    QVERIFY(reader.waitForEvents(1));

    srv.http->beginShutdown();
    HttpTestClient c = srv.client();
    EXPECT_ERROR(c.post("/v1/sessions", {}), 503, "unavailable");
    EXPECT_ERROR(
        c.post("/v1/sessions/bye/turns", {{QStringLiteral("prompt"), QStringLiteral("x")}}), 503,
        "unavailable");
    QCOMPARE(c.get("/healthz").status, 200);
    QCOMPARE(c.get("/v1/sessions/bye").status, 200);

    QVERIFY(test::awaitVoid([](Server *s) -> QCoro::Task<> {
        co_await s->service->shutdown();
        co_await s->http->finishShutdown();
    }(&srv)));
    QCOMPARE(srv.http->openStreamCount(), 0);
    QVERIFY(reader.waitForEnd());
    const SseReader::Event last = reader.lastEvent();
    QCOMPARE(last.event, QByteArray("done"));
    QCOMPARE(last.json().value(QStringLiteral("state")).toString(), QStringLiteral("interrupted"));
    const int chunks = last.json().value(QStringLiteral("chunks")).toInt();
    QCOMPARE(reader.chunkEvents().size(), chunks);
    const QJsonArray history =
        c.get("/v1/sessions/bye").json().value(QStringLiteral("history")).toArray();
    QCOMPARE(history.size(), 2);
    QCOMPARE(history.at(1).toObject().value(QStringLiteral("state")).toString(),
             QStringLiteral("interrupted"));
}

HOLDFAST_TEST_MAIN(TestEvents)
#include "tst_events.moc"
