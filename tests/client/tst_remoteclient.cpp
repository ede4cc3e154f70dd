// RemoteClient (the window's --connect client): its event stream over the wire (bare CR line
// endings, resuming after the last event id), and redirects that are never followed.
#include "client/remoteclient.h"
#include "fakes/fakemodelserver.h"
#include "fakes/testutil.h"

#include <QSignalSpy>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTest>

using namespace holdfast;
using holdfast::test::await;
using holdfast::test::FakeModelServer;
using holdfast::test::spinUntil;

namespace {

// A server of raw event streams: each request for .../events gets the next body of `streams`
// (with "Connection: close") and is then closed; any other request is a 404 error body.
class RawSseServer final : public QObject
{
public:
    RawSseServer()
    {
        m_listener.listen(QHostAddress::LocalHost, 0);
        connect(&m_listener, &QTcpServer::newConnection, this, [this] {
            while (QTcpSocket *socket = m_listener.nextPendingConnection()) {
                connect(socket, &QTcpSocket::disconnected, socket, &QObject::deleteLater);
                connect(socket, &QTcpSocket::readyRead, this, [this, socket] { read(socket); });
            }
        });
    }
    quint16 port() const { return m_listener.serverPort(); }
    QList<QByteArray> streams;
    QList<QByteArray> eventRequests; // the head of every request for .../events

private:
    void read(QTcpSocket *socket)
    {
        QByteArray &head = m_heads[socket];
        head += socket->readAll();
        if (!head.contains("\r\n\r\n"))
            return;
        const QByteArray request = m_heads.take(socket);
        if (request.contains("/events ") && !streams.isEmpty()) {
            eventRequests.append(request);
            socket->write("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                          "Connection: close\r\n\r\n" +
                          streams.takeFirst());
        } else {
            const QByteArray body = R"({"error":{"code":"not_found","message":"none here"}})";
            socket->write("HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\n"
                          "Connection: close\r\nContent-Length: " +
                          QByteArray::number(body.size()) + "\r\n\r\n" + body);
        }
        socket->disconnectFromHost();
    }

    QTcpServer m_listener;
    QHash<QTcpSocket *, QByteArray> m_heads;
};

QByteArray headerValue(const QByteArray &head, const QByteArray &name)
{
    for (const QByteArray &line : head.split('\n')) {
        const qsizetype colon = line.indexOf(':');
        if (colon > 0 && line.left(colon).trimmed().toLower() == name)
            return line.mid(colon + 1).trimmed();
    }
    return {};
}

struct Chunks
{
    QList<int> seqs;
    QString text;
};

Chunks chunksOf(const QSignalSpy &spy, const QString &sid, int tid)
{
    Chunks out;
    for (const QList<QVariant> &args : spy) {
        if (args.at(0).toString() == sid && args.at(1).toInt() == tid) {
            out.seqs.append(args.at(2).toInt());
            out.text += args.at(3).toString();
        }
    }
    return out;
}

// The last turnFinished of `spy`, or an empty record when none came.
TurnRecord lastFinished(const QSignalSpy &spy)
{
    return spy.isEmpty() ? TurnRecord{} : spy.last().first().value<TurnRecord>();
}

} // namespace

class TestRemoteClient : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase() { qRegisterMetaType<TurnRecord>(); }

    // The event stream as the WHATWG format allows it: any line ending (a bare CR too), and a
    // reconnect sends the id of the last event seen, whatever its type, not the last chunk's seq.
    void eventStreamLineEndingsAndLastEventId_data()
    {
        QTest::addColumn<QByteArray>("eol");
        QTest::addRow("lf") << QByteArray("\n");
        QTest::addRow("crlf") << QByteArray("\r\n");
        QTest::addRow("cr") << QByteArray("\r");
    }
    void eventStreamLineEndingsAndLastEventId()
    {
        QFETCH(QByteArray, eol);
        const auto event = [&](const QByteArray &id, const QByteArray &type,
                               const QByteArray &data) {
            QByteArray e = id.isEmpty() ? QByteArray() : "id: " + id + eol;
            return e + "event: " + type + eol + "data: " + data + eol + eol;
        };
        RawSseServer raw;
        // The first connection drops after a tool call (an event with an id and no text).
        raw.streams << event("0", "chunk", R"({"seq":0,"text":"Hel"})") +
                           event("1", "tool_call", R"({"seq":1,"text":""})") + ": keep-alive" + eol;
        raw.streams << event("2", "chunk", R"({"seq":2,"text":"lo"})") +
                           event({}, "done", R"({"state":"done","chunks":3})");
        RemoteClient client(QUrl(QStringLiteral("http://127.0.0.1:%1").arg(raw.port())), {});
        QSignalSpy chunks(&client, &SessionClient::chunkReady);
        QSignalSpy finished(&client, &SessionClient::turnFinished);
        client.watchTurn(QStringLiteral("s1"), 1, 0);
        QVERIFY(spinUntil([&] { return !finished.isEmpty(); }, 15000));

        const Chunks seen = chunksOf(chunks, QStringLiteral("s1"), 1);
        QCOMPARE(seen.seqs, QList<int>({0, 2}));
        QCOMPARE(seen.text, QStringLiteral("Hello"));
        QCOMPARE(lastFinished(finished).state, TurnRecord::State::Done); // GET turn was a 404
        QCOMPARE(raw.eventRequests.size(), 2);
        QCOMPARE(headerValue(raw.eventRequests.at(0), "last-event-id"), QByteArray());
        QCOMPARE(headerValue(raw.eventRequests.at(1), "last-event-id"), QByteArray("1"));
    }

    // --- redirects ------------------------------------------------------------------------

    void redirectsAreNotFollowed_data()
    {
        QTest::addColumn<int>("status");
        for (int status : {301, 302, 307, 308})
            QTest::addRow("%d", status) << status;
    }

    // No request, and so no token, ever goes to the other origin, and the redirect is an error
    // that names it.
    void redirectsAreNotFollowed()
    {
        QFETCH(int, status);
        FakeModelServer server;    // answers every request with the redirect
        FakeModelServer elsewhere; // another origin: must see nothing
        QVERIFY(server.listen());
        QVERIFY(elsewhere.listen());
        const QString origin = QStringLiteral("http://localhost:%1").arg(elsewhere.port());
        server.script.status = status;
        server.script.location = (origin + QStringLiteral("/v1/sessions")).toUtf8();
        RemoteClient client(QUrl(QStringLiteral("http://127.0.0.1:%1").arg(server.port())),
                            QStringLiteral("s3cret"));

        const auto check = [&](const Error &error) {
            QCOMPARE(error.code, ErrorCode::UpstreamError);
            QVERIFY2(error.message.contains(QStringLiteral("redirected to %1").arg(origin)),
                     qPrintable(error.message));
        };
        const auto listed = await(client.listSessions({}, 50, 0));
        QVERIFY(listed && !listed->ok());
        check(listed->error());
        const auto created = await(client.createSession({})); // a POST
        QVERIFY(created && !created->ok());
        check(created->error());
        StartTurnParams p;
        p.prompt = QStringLiteral("secret prompt");
        const auto started = await(client.startTurn(QStringLiteral("s1"), p));
        QVERIFY(started && !started->ok());
        check(started->error());

        // The event stream of a turn ends with the redirect as its error, without retrying.
        QSignalSpy finished(&client, &SessionClient::turnFinished);
        client.watchTurn(QStringLiteral("s1"), 1, 0);
        QVERIFY(finished.wait(10000));
        const auto turn = finished.first().first().value<TurnRecord>();
        QCOMPARE(turn.state, TurnRecord::State::Error);
        QCOMPARE(turn.errorCode, QStringLiteral("upstream_error"));
        QVERIFY2(turn.errorMessage.contains(origin), qPrintable(turn.errorMessage));

        QTest::qWait(300);
        QCOMPARE(elsewhere.requests.size(), 0);
        QVERIFY(server.requests.size() >= 4);
        QCOMPARE(server.requests.first().headers.value("authorization"),
                 QByteArray("Bearer s3cret"));
    }
};

QTEST_GUILESS_MAIN(TestRemoteClient)
#include "tst_remoteclient.moc"
