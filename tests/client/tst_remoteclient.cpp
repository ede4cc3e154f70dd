// RemoteClient (the window's --connect client) against a real HttpServer on port 0, through the
// SessionClient interface, side by side with LocalClient on the same service: what the window
// sees must not depend on where the sessions live. Also: its event stream over the wire (bare CR
// line endings, resuming after the last event id), errors, and redirects that are never followed.
// Over 600 lines: the SessionClient interface is one list of rules, each run on both clients.
#include "client/clientserver.h"
#include "client/localclient.h"
#include "client/remoteclient.h"
#include "core/providerregistry.h"
#include "core/sessionservice.h"
#include "core/store.h"
#include "fakes/attachmentfiles.h"
#include "fakes/fakemodelserver.h"
#include "fakes/faketoolhost.h"
#include "fakes/scriptedprovider.h"
#include "fakes/testutil.h"
#include "http/httpserver.h"
#include "provider/demoprovider.h"

#include <QPointer>
#include <QSignalSpy>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTest>

using namespace holdfast;
using holdfast::test::FakeModelServer;
using holdfast::test::spinUntil;

namespace {

const QByteArray kToken = "t0ken";

// The server asks for a token.
struct Server : test::ClientServer
{
    explicit Server(int demoChunks = 8, int demoDelayMs = 5)
        : ClientServer(QString::fromLatin1(kToken), demoChunks, demoDelayMs)
    {}
};

// A TCP relay in front of the server that can cut every open connection at once, as a network
// failure would; it records what the client sent on each connection.
class CutProxy final : public QObject
{
public:
    explicit CutProxy(quint16 target) : m_target(target)
    {
        m_listener.listen(QHostAddress::LocalHost, 0);
        connect(&m_listener, &QTcpServer::newConnection, this, &CutProxy::accept);
    }
    quint16 port() const { return m_listener.serverPort(); }
    QList<QByteArray> sent; // per connection, the bytes the client sent on it

    void cutAll()
    {
        const auto pairs = std::exchange(m_pairs, {});
        for (const auto &[client, server] : pairs) {
            if (client)
                client->abort();
            if (server)
                server->abort();
        }
    }

private:
    void accept()
    {
        while (QTcpSocket *client = m_listener.nextPendingConnection()) {
            auto *server = new QTcpSocket(client);
            const qsizetype index = sent.size();
            sent.append(QByteArray());
            QPointer<QTcpSocket> c(client), s(server);
            connect(client, &QTcpSocket::readyRead, this, [this, c, s, index] {
                const QByteArray bytes = c->readAll();
                sent[index] += bytes;
                if (s)
                    s->write(bytes);
            });
            connect(server, &QTcpSocket::readyRead, this, [c, s] {
                if (c)
                    c->write(s->readAll());
            });
            connect(server, &QTcpSocket::disconnected, client, &QTcpSocket::disconnectFromHost);
            connect(client, &QTcpSocket::disconnected, server, &QTcpSocket::disconnectFromHost);
            connect(client, &QTcpSocket::disconnected, client, &QObject::deleteLater);
            server->connectToHost(QHostAddress::LocalHost, m_target);
            m_pairs.append({c, s});
        }
    }

    QTcpServer m_listener;
    quint16 m_target;
    QList<QPair<QPointer<QTcpSocket>, QPointer<QTcpSocket>>> m_pairs;
};

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

QList<int> range(int n)
{
    QList<int> out;
    for (int i = 0; i < n; ++i)
        out.append(i);
    return out;
}

// The last turnFinished of `spy`, or an empty record when none came.
TurnRecord lastFinished(const QSignalSpy &spy)
{
    return spy.isEmpty() ? TurnRecord{} : spy.last().first().value<TurnRecord>();
}

void addKinds()
{
    QTest::addColumn<QString>("kind");
    QTest::addRow("local") << QStringLiteral("local");
    QTest::addRow("remote") << QStringLiteral("remote");
}

} // namespace

class TestRemoteClient : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase()
    {
        qRegisterMetaType<TurnRecord>();
        qRegisterMetaType<SessionMeta>();
        qRegisterMetaType<Chunk>();
    }

    // --- the SessionClient interface, local and remote alike --------------------------------

    void sessionsCreateListPatchDelete_data() { addKinds(); }
    void sessionsCreateListPatchDelete()
    {
        QFETCH(QString, kind);
        Server server;
        HF_CHECK_FIXTURE(server);
        SessionClient *client = server.client(kind);
        QSignalSpy changed(client, &SessionClient::sessionChanged);
        QSignalSpy deleted(client, &SessionClient::sessionDeleted);

        CreateSessionParams create;
        create.id = QStringLiteral("trip");
        create.title = QStringLiteral("Trip plans");
        create.system = QStringLiteral("You are terse.");
        HF_AWAIT(created, client->createSession(create));
        QVERIFY(created && created->ok());
        QCOMPARE((*created)->meta.id, QStringLiteral("trip"));
        QCOMPARE((*created)->meta.title, QStringLiteral("Trip plans"));
        QCOMPARE((*created)->meta.model, QStringLiteral("demo"));
        QCOMPARE(changed.size(), 1);
        HF_AWAIT_OK(client->createSession({})); // a generated id

        HF_AWAIT(listed, client->listSessions({}, 50, 0));
        QVERIFY(listed && listed->ok());
        QCOMPARE((*listed)->total, qint64(2));
        QCOMPARE((*listed)->sessions.size(), 2);
        HF_AWAIT(found, client->listSessions(QStringLiteral("trip"), 50, 0));
        QVERIFY(found && found->ok());
        QCOMPARE((*found)->sessions.size(), 1);
        QCOMPARE((*found)->sessions.first().id, QStringLiteral("trip"));

        PatchSessionParams patch;
        patch.title = QStringLiteral("Renamed");
        patch.system = QString(); // null: cleared
        HF_AWAIT(patched, client->patchSession(QStringLiteral("trip"), patch));
        QVERIFY(patched && patched->ok());
        QCOMPARE((*patched)->meta.title, QStringLiteral("Renamed"));
        QVERIFY((*patched)->meta.system.isNull());
        QCOMPARE(changed.size(), 3);
        QCOMPARE(changed.last().first().value<SessionMeta>().title, QStringLiteral("Renamed"));
        HF_AWAIT(loaded, client->session(QStringLiteral("trip"), 30));
        QVERIFY(loaded && loaded->ok());
        QCOMPARE((*loaded)->meta.title, QStringLiteral("Renamed"));

        HF_AWAIT(gone, client->deleteSession(QStringLiteral("trip")));
        QVERIFY(gone && gone->ok());
        QCOMPARE(deleted.size(), 1);
        QCOMPARE(deleted.first().first().toString(), QStringLiteral("trip"));
        HF_AWAIT(after, client->session(QStringLiteral("trip"), 30));
        QVERIFY(after && !after->ok());
        QCOMPARE(after->error().code, ErrorCode::NotFound);
        HF_AWAIT(remaining, client->listSessions({}, 50, 0));
        QCOMPARE((*remaining)->total, qint64(1));
    }

    // A turn's chunks arrive in order, then its end, and the answer saved is their text.
    void turnStreamsAndSaves_data() { addKinds(); }
    void turnStreamsAndSaves()
    {
        QFETCH(QString, kind);
        Server server(12, 10);
        HF_CHECK_FIXTURE(server);
        SessionClient *client = server.client(kind);
        HF_AWAIT_OK(client->createSession({QStringLiteral("s1"), {}, {}, {}}));
        QSignalSpy started(client, &SessionClient::turnStarted);
        QSignalSpy chunks(client, &SessionClient::chunkReady);
        QSignalSpy finished(client, &SessionClient::turnFinished);

        StartTurnParams params;
        params.prompt = QStringLiteral("Tell me about the sea");
        HF_AWAIT(turn, client->startTurn(QStringLiteral("s1"), params));
        QVERIFY(turn && turn->ok());
        QCOMPARE((*turn)->id, 1);
        QCOMPARE((*turn)->promptIndex, qint64(0));
        QCOMPARE(started.size(), 1);
        QVERIFY(spinUntil([&] { return !finished.isEmpty(); }));

        const TurnRecord end = lastFinished(finished);
        QCOMPARE(end.state, TurnRecord::State::Done);
        QCOMPARE(end.responseIndex, qint64(1));
        const Chunks seen = chunksOf(chunks, QStringLiteral("s1"), 1);
        QCOMPARE(seen.seqs, range(end.chunks));
        QVERIFY(end.chunks > 1);
        HF_AWAIT(page, client->messages(QStringLiteral("s1"), -1, 50));
        QVERIFY(page && page->ok());
        QCOMPARE((*page)->messages.size(), 2);
        const Message answer = (*page)->messages.last();
        QCOMPARE(answer.role, QStringLiteral("assistant"));
        QCOMPARE(answer.state, Message::State::Complete);
        QCOMPARE(answer.content, seen.text);
        HF_AWAIT(stored, client->chunks(QStringLiteral("s1"), 1, 0));
        QVERIFY(stored && stored->ok());
        QCOMPARE((*stored)->chunks.size(), end.chunks);
        QVERIFY((*stored)->done);
    }

    // The options of a turn reach the model, whichever client sent it.
    void turnOptionsReachTheModel_data() { addKinds(); }
    void turnOptionsReachTheModel()
    {
        QFETCH(QString, kind);
        Server server;
        HF_CHECK_FIXTURE(server);
        SessionClient *client = server.client(kind);
        HF_AWAIT_OK(client->createSession({QStringLiteral("s1"), {}, {}, {}}));
        server.scripted->script.chunks = {QStringLiteral("ok")};
        QSignalSpy finished(client, &SessionClient::turnFinished);
        StartTurnParams params;
        params.prompt = QStringLiteral("hi");
        params.model = QStringLiteral("scripted");
        params.options.temperature = 0.25;
        params.options.maxTokens = 7;
        params.options.topP = 0.5;
        params.options.contextTokens = 1000;
        HF_AWAIT_OK(client->startTurn(QStringLiteral("s1"), params));
        QVERIFY(spinUntil([&] { return !finished.isEmpty(); }));
        QCOMPARE(server.scripted->requests.size(), 1);
        QCOMPARE(server.scripted->requests.first().options, params.options);
    }

    // A session's options set with patchSession come back on every read, are the defaults of its
    // turns (a turn's own options override them one by one); an ended turn carries its usage,
    // its context and first_chunk_at, whichever client reads it.
    void sessionOptionsAndUsage_data() { addKinds(); }
    void sessionOptionsAndUsage()
    {
        QFETCH(QString, kind);
        Server server;
        HF_CHECK_FIXTURE(server);
        SessionClient *client = server.client(kind);
        HF_AWAIT_OK(client->createSession({QStringLiteral("s1"), {}, {}, {}}));
        PatchSessionParams patch;
        patch.options = TurnOptions{};
        patch.options->temperature = 1.5;
        patch.options->maxTokens = 99;
        patch.options->contextTokens = 2048;
        HF_AWAIT(patched, client->patchSession(QStringLiteral("s1"), patch));
        QVERIFY(patched && patched->ok());
        QCOMPARE((*patched)->meta.options, *patch.options);
        HF_AWAIT(loaded, client->session(QStringLiteral("s1"), 0));
        QCOMPARE((*loaded)->meta.options, *patch.options);
        HF_AWAIT(listed, client->listSessions({}, 50, 0));
        QCOMPARE((*listed)->sessions.first().options, *patch.options);
        // Out of range: the API's 422, through either client.
        PatchSessionParams bad;
        bad.options = TurnOptions{};
        bad.options->topP = 2;
        HF_AWAIT(refused, client->patchSession(QStringLiteral("s1"), bad));
        QVERIFY(refused && !refused->ok());
        QCOMPARE(refused->error().code, ErrorCode::Invalid);

        QSignalSpy finished(client, &SessionClient::turnFinished);
        StartTurnParams params;
        params.prompt = QStringLiteral("hi");
        params.options.maxTokens = 5;
        HF_AWAIT(started, client->startTurn(QStringLiteral("s1"), params));
        QVERIFY(started && started->ok());
        QCOMPARE((*started)->context, std::optional(ContextUse{0, 0}));
        QVERIFY(spinUntil([&] { return !finished.isEmpty(); }));
        const TurnRecord end = lastFinished(finished);
        QCOMPARE(end.state, TurnRecord::State::Done);
        QVERIFY(end.usage && end.usage->promptTokens > 0 && end.usage->completionTokens > 0);
        QVERIFY(end.firstChunkAt.isValid());
        HF_AWAIT(read, client->turn(QStringLiteral("s1"), 1));
        QVERIFY(read && read->ok());
        QCOMPARE((*read)->usage, end.usage);
        QCOMPARE((*read)->context, std::optional(ContextUse{0, 0}));
        // The live turn's time and the store's (Store::appendChunks) are the same moment, taken
        // on each side of one write.
        QVERIFY(qAbs((*read)->firstChunkAt.msecsTo(end.firstChunkAt)) < 1000);

        // {} clears the session's options.
        PatchSessionParams clear;
        clear.options = TurnOptions{};
        HF_AWAIT(cleared, client->patchSession(QStringLiteral("s1"), clear));
        QVERIFY(cleared && cleared->ok());
        QVERIFY((*cleared)->meta.options.isEmpty());
    }

    // Attachments: an upload, its bytes back, a turn that carries it to the model, the message
    // that lists it; and the service's errors keep their codes.
    void attachmentsUploadReadAndSend_data() { addKinds(); }
    void attachmentsUploadReadAndSend()
    {
        QFETCH(QString, kind);
        Server server;
        HF_CHECK_FIXTURE(server);
        SessionClient *client = server.client(kind);
        HF_AWAIT_OK(client->createSession({QStringLiteral("s1"), {}, {}, {}}));
        UploadParams upload;
        upload.name = QStringLiteral("\u00e9t\u00e9 & co.png");
        upload.type = QStringLiteral("image/png");
        upload.bytes = test::tinyPng();
        HF_AWAIT(stored, client->uploadAttachment(QStringLiteral("s1"), upload));
        QVERIFY2(stored->ok(), qPrintable(stored->ok() ? QString() : stored->error().message));
        const Attachment meta = stored->value();
        QCOMPARE(meta.name, upload.name);
        QCOMPARE(meta.type, QStringLiteral("image/png"));
        QCOMPARE(meta.size, test::tinyPng().size());
        QVERIFY(meta.createdAt.isValid());
        HF_AWAIT(bytes, client->attachmentBytes(QStringLiteral("s1"), meta.id));
        QVERIFY(bytes->ok());
        QCOMPARE(bytes->value(), test::tinyPng());

        UploadParams untyped; // no type: text is stored as text/plain
        untyped.bytes = "some notes";
        HF_AWAIT(text, client->uploadAttachment(QStringLiteral("s1"), untyped));
        QVERIFY(text->ok());
        QCOMPARE(text->value().type, QStringLiteral("text/plain"));
        QCOMPARE(text->value().name, QStringLiteral("attachment"));

        UploadParams wrong = upload;
        wrong.type = QStringLiteral("image/jpeg");
        HF_AWAIT(refused, client->uploadAttachment(QStringLiteral("s1"), wrong));
        QVERIFY(!refused->ok());
        QCOMPARE(refused->error().code, ErrorCode::Invalid);
        HF_AWAIT(missing, client->attachmentBytes(QStringLiteral("s1"), QStringLiteral("nope")));
        QVERIFY(!missing->ok());
        QCOMPARE(missing->error().code, ErrorCode::NotFound);

        server.scripted->script.chunks = {QStringLiteral("ok")};
        QSignalSpy finished(client, &SessionClient::turnFinished);
        StartTurnParams params;
        params.prompt = QStringLiteral("look");
        params.model = QStringLiteral("scripted");
        params.attachments = {meta.id, text->value().id};
        HF_AWAIT_OK(client->startTurn(QStringLiteral("s1"), params));
        QVERIFY(spinUntil([&] { return !finished.isEmpty(); }));
        QCOMPARE(server.scripted->requests.size(), 1);
        const ChatMessage sent = server.scripted->requests.first().messages.last();
        QCOMPARE(sent.attachments.size(), 2);
        QCOMPARE(sent.attachments[0].bytes, test::tinyPng());
        QCOMPARE(sent.attachments[1].bytes, QByteArray("some notes"));
        HF_AWAIT(page, client->messages(QStringLiteral("s1"), -1, 50));
        QVERIFY(page->ok());
        QCOMPARE(page->value().messages.first().attachments,
                 (QList<Attachment>{meta, text->value()}));
        QVERIFY(page->value().messages.last().attachments.isEmpty());
    }

    // Cancel: the turn ends cancelled, and what was produced is saved as an interrupted answer.
    void cancelSavesThePartialAnswer_data() { addKinds(); }
    void cancelSavesThePartialAnswer()
    {
        QFETCH(QString, kind);
        Server server(200, 20);
        HF_CHECK_FIXTURE(server);
        SessionClient *client = server.client(kind);
        HF_AWAIT_OK(client->createSession({QStringLiteral("s1"), {}, {}, {}}));
        QSignalSpy chunks(client, &SessionClient::chunkReady);
        QSignalSpy finished(client, &SessionClient::turnFinished);
        StartTurnParams params;
        params.prompt = QStringLiteral("a long story, please");
        HF_AWAIT_OK(client->startTurn(QStringLiteral("s1"), params));
        QVERIFY(spinUntil([&] { return chunks.size() >= 2; }));

        HF_AWAIT(cancelled, client->cancelTurn(QStringLiteral("s1"), 1));
        QVERIFY(cancelled && cancelled->ok());
        QVERIFY(spinUntil([&] { return !finished.isEmpty(); }));
        const TurnRecord end = lastFinished(finished);
        QCOMPARE(end.state, TurnRecord::State::Cancelled);
        QVERIFY(end.chunks < 200);
        const Chunks seen = chunksOf(chunks, QStringLiteral("s1"), 1);
        QCOMPARE(seen.seqs, range(end.chunks));
        HF_AWAIT(page, client->messages(QStringLiteral("s1"), -1, 50));
        QVERIFY(page && page->ok());
        QCOMPARE((*page)->messages.size(), 2);
        QCOMPARE((*page)->messages.last().state, Message::State::Interrupted);
        QCOMPARE((*page)->messages.last().content, seen.text);
        HF_AWAIT(record, client->turn(QStringLiteral("s1"), 1));
        QVERIFY(record && record->ok());
        QCOMPARE((*record)->state, TurnRecord::State::Cancelled);
    }

    // Errors come back with the service's code: 404 unknown session, 409 a second turn.
    void errorsKeepTheirCode_data() { addKinds(); }
    void errorsKeepTheirCode()
    {
        QFETCH(QString, kind);
        Server server(200, 20);
        HF_CHECK_FIXTURE(server);
        SessionClient *client = server.client(kind);
        HF_AWAIT(unknown, client->session(QStringLiteral("nope"), 30));
        QVERIFY(unknown && !unknown->ok());
        QCOMPARE(unknown->error().code, ErrorCode::NotFound);
        StartTurnParams params;
        params.prompt = QStringLiteral("hi");
        HF_AWAIT(noSession, client->startTurn(QStringLiteral("nope"), params));
        QVERIFY(noSession && !noSession->ok());
        QCOMPARE(noSession->error().code, ErrorCode::NotFound);
        HF_AWAIT(deleted, client->deleteSession(QStringLiteral("nope")));
        QCOMPARE(deleted->error().code, ErrorCode::NotFound);

        HF_AWAIT_OK(client->createSession({QStringLiteral("s1"), {}, {}, {}}));
        QSignalSpy changed(client, &SessionClient::sessionChanged);
        HF_AWAIT_OK(client->startTurn(QStringLiteral("s1"), params));
        // The window's list hears of the new prompt and the active turn.
        QVERIFY(spinUntil([&] {
            return !changed.isEmpty() &&
                   changed.last().first().value<SessionMeta>().activeTurn == 1 &&
                   changed.last().first().value<SessionMeta>().total == 1;
        }));
        HF_AWAIT(second, client->startTurn(QStringLiteral("s1"), params));
        QVERIFY(second && !second->ok());
        QCOMPARE(second->error().code, ErrorCode::Conflict);
        QVERIFY(!second->error().message.isEmpty());
        HF_AWAIT(noTurn, client->turn(QStringLiteral("s1"), 9));
        QVERIFY(noTurn && !noTurn->ok());
        QCOMPARE(noTurn->error().code, ErrorCode::NotFound);
        HF_AWAIT_OK(client->cancelTurn(QStringLiteral("s1"), 1));
    }

    // Tools (shared/API.md, Tools (MCP)): the list, a session's tools and approval, a turn's
    // own tools, its tool steps in seq order with the text, the waiting state and the answer.
    void toolsAndApprovals_data() { addKinds(); }
    void toolsAndApprovals()
    {
        QFETCH(QString, kind);
        Server server;
        HF_CHECK_FIXTURE(server);
        test::FakeToolHost host;
        server.service->setToolHost(&host);
        SessionClient *client = server.client(kind);

        HF_AWAIT(tools, client->tools());
        QVERIFY(tools && tools->ok());
        QCOMPARE((*tools)->tools.size(), 3);
        QCOMPARE((*tools)->tools.first().name, QStringLiteral("t/echo"));
        QCOMPARE((*tools)->tools.first().inputSchema.value(QStringLiteral("type")).toString(),
                 QStringLiteral("object"));
        QCOMPARE((*tools)->servers.size(), 2);
        QCOMPARE((*tools)->servers.last().state, ToolServerInfo::State::Error);
        QCOMPARE((*tools)->servers.last().error, QStringLiteral("it does not start"));

        HF_AWAIT_OK(client->createSession({QStringLiteral("s1"), {}, {}, {}}));
        PatchSessionParams patch;
        patch.tools = QStringList{QStringLiteral("t/echo")};
        patch.toolApproval = ToolApproval::Auto;
        HF_AWAIT(patched, client->patchSession(QStringLiteral("s1"), patch));
        QVERIFY(patched && patched->ok());
        QCOMPARE((*patched)->meta.tools, QStringList{QStringLiteral("t/echo")});
        QCOMPARE((*patched)->meta.toolApproval, ToolApproval::Auto);
        patch.tools = QStringList();
        patch.toolApproval = ToolApproval::Ask;
        HF_AWAIT_OK(client->patchSession(QStringLiteral("s1"), patch));
        HF_AWAIT(list, client->listSessions({}, 10, 0));
        QVERIFY(list && list->ok());
        QCOMPARE((*list)->sessions.first().tools, QStringList());
        QCOMPARE((*list)->sessions.first().toolApproval, ToolApproval::Ask);

        // The session offers none; this turn offers t/echo, and the model calls it.
        test::ScriptedProvider::Script first;
        first.chunks = {QStringLiteral("Let me "), QStringLiteral("see. ")};
        first.toolCalls = {test::modelCall(QStringLiteral("c1"), QStringLiteral("t/echo"),
                                           QJsonObject{{QStringLiteral("q"), 1}})};
        test::ScriptedProvider::Script second;
        second.chunks = {QStringLiteral("Done.")};
        server.scripted->queue = {first, second};
        QSignalSpy chunks(client, &SessionClient::chunkReady);
        QSignalSpy steps(client, &SessionClient::toolStepReady);
        QSignalSpy states(client, &SessionClient::turnStateChanged);
        QSignalSpy finished(client, &SessionClient::turnFinished);
        StartTurnParams params;
        params.prompt = QStringLiteral("look it up");
        params.model = QStringLiteral("scripted");
        params.tools = QStringList{QStringLiteral("t/echo")};
        HF_AWAIT(turn, client->startTurn(QStringLiteral("s1"), params));
        QVERIFY(turn && turn->ok());
        const int tid = (*turn)->id;
        QVERIFY(spinUntil([&] {
            return !states.isEmpty() &&
                   states.last().first().value<TurnRecord>().state == TurnRecord::State::Waiting;
        }));
        QCOMPARE(steps.size(), 1);
        const Chunk call = steps.first().at(2).value<Chunk>();
        QVERIFY(call.toolCall);
        QCOMPARE(call.toolCall->id, QStringLiteral("c1"));
        QCOMPARE(call.toolCall->name, QStringLiteral("t/echo"));
        QCOMPARE(call.seq, chunks.size()); // after the text chunks, in seq order
        QVERIFY(finished.isEmpty());

        HF_AWAIT(unknown,
                 client->answerToolCall(QStringLiteral("s1"), tid, QStringLiteral("c9"), true));
        QVERIFY(unknown && !unknown->ok());
        QCOMPARE(unknown->error().code, ErrorCode::NotFound);
        HF_AWAIT_OK(client->answerToolCall(QStringLiteral("s1"), tid, QStringLiteral("c1"), true));
        QVERIFY(spinUntil([&] { return !finished.isEmpty(); }));
        QCOMPARE(lastFinished(finished).state, TurnRecord::State::Done);
        // Streaming again once it was answered: the local client hears it from the service; the
        // remote one reads the turn after the result's event, unless the turn ended first
        // (then turnFinished tells it). Never waiting again, never an ended state.
        QCOMPARE(states.first().first().value<TurnRecord>().state, TurnRecord::State::Waiting);
        if (kind == QLatin1String("local"))
            QCOMPARE(states.size(), 2);
        for (qsizetype i = 1; i < states.size(); ++i)
            QCOMPARE(states.at(i).first().value<TurnRecord>().state, TurnRecord::State::Streaming);
        QCOMPARE(steps.size(), 2);
        const Chunk result = steps.last().at(2).value<Chunk>();
        QVERIFY(result.toolResult);
        QCOMPARE(result.seq, call.seq + 1);
        QCOMPARE(result.toolResult->content, QStringLiteral("{\"q\":1}"));
        QCOMPARE(host.calls.size(), 1);
        HF_AWAIT(again,
                 client->answerToolCall(QStringLiteral("s1"), tid, QStringLiteral("c1"), false));
        QVERIFY(again && !again->ok());
        QCOMPARE(again->error().code, ErrorCode::Conflict);

        HF_AWAIT(page, client->messages(QStringLiteral("s1"), -1, 50));
        QVERIFY(page && page->ok());
        const Message answer = (*page)->messages.last();
        QCOMPARE(answer.content, QStringLiteral("Let me see. Done."));
        QCOMPARE(answer.toolCalls.size(), 1);
        QCOMPARE(answer.toolCalls.first().id, QStringLiteral("c1"));
        QCOMPARE(answer.toolCalls.first().approved, true);
        QCOMPARE(answer.toolCalls.first().result,
                 std::optional<QString>(QStringLiteral("{\"q\":1}")));
        QCOMPARE(answer.toolCalls.first().offset, qint64(QStringLiteral("Let me see. ").size()));
        HF_AWAIT(stored, client->chunks(QStringLiteral("s1"), tid, 0));
        QVERIFY(stored && stored->ok());
        QVERIFY((*stored)->chunks.at(call.seq).toolCall);
        QVERIFY((*stored)->chunks.at(call.seq + 1).toolResult);
    }

    // --- remote only: the network between the window and the service ------------------------

    void wrongTokenIsUnauthorized()
    {
        Server server;
        HF_CHECK_FIXTURE(server);
        RemoteClient client(Server::url(server.port), QStringLiteral("wrong"));
        HF_AWAIT(listed, client.listSessions({}, 50, 0));
        QVERIFY(listed && !listed->ok());
        QCOMPARE(listed->error().code, ErrorCode::Unauthorized);
        QVERIFY(client.isOnline()); // it answered: the service is there
        RemoteClient none(Server::url(server.port), {});
        HF_AWAIT(refused, none.createSession({}));
        QCOMPARE(refused->error().code, ErrorCode::Unauthorized);
    }

    void unreachableServerIsAClearError()
    {
        quint16 port = 0;
        {
            QTcpServer probe; // a port that was free a moment ago, and is closed now
            QVERIFY(probe.listen(QHostAddress::LocalHost, 0));
            port = probe.serverPort();
        }
        RemoteClient client(Server::url(port), QString::fromLatin1(kToken));
        QSignalSpy connection(&client, &SessionClient::connectionChanged);
        HF_AWAIT(listed, client.listSessions({}, 50, 0));
        QVERIFY(listed && !listed->ok());
        QCOMPARE(listed->error().code, ErrorCode::Unavailable);
        const QString message = listed->error().message;
        QVERIFY2(message.contains(QStringLiteral("cannot reach")) &&
                     message.contains(QString::number(port)),
                 qPrintable(message));
        QVERIFY(!client.isOnline());
        QCOMPARE(connection.size(), 1);
        QCOMPARE(connection.first().at(0).toBool(), false);
    }

    // The connection drops in the middle of a turn: the client reconnects with Last-Event-ID,
    // and every chunk arrives exactly once, in order; the saved answer is their text.
    void resumesAfterTheConnectionDrops()
    {
        Server server(60, 25);
        HF_CHECK_FIXTURE(server);
        CutProxy proxy(server.port);
        RemoteClient client(Server::url(proxy.port()), QString::fromLatin1(kToken));
        QSignalSpy chunks(&client, &SessionClient::chunkReady);
        QSignalSpy finished(&client, &SessionClient::turnFinished);
        QSignalSpy connection(&client, &SessionClient::connectionChanged);
        HF_AWAIT_OK(client.createSession({QStringLiteral("s1"), {}, {}, {}}));
        StartTurnParams params;
        params.prompt = QStringLiteral("a story that takes a while");
        HF_AWAIT_OK(client.startTurn(QStringLiteral("s1"), params));

        QVERIFY(spinUntil([&] { return chunks.size() >= 5; }));
        const int lastBeforeCut = chunks.last().at(2).toInt();
        const qsizetype connectionsBefore = proxy.sent.size();
        proxy.cutAll();
        QVERIFY(spinUntil([&] { return !finished.isEmpty(); }, 30000));

        const TurnRecord end = lastFinished(finished);
        QCOMPARE(end.state, TurnRecord::State::Done);
        const Chunks seen = chunksOf(chunks, QStringLiteral("s1"), 1);
        QCOMPARE(seen.seqs, range(end.chunks));
        HF_AWAIT(page, client.messages(QStringLiteral("s1"), -1, 50));
        QVERIFY(page && page->ok());
        QCOMPARE((*page)->messages.last().content, seen.text);

        // The first request for the events after the cut resumed right after the last chunk seen.
        QByteArray resumed;
        for (qsizetype i = connectionsBefore; i < proxy.sent.size() && resumed.isEmpty(); ++i) {
            if (proxy.sent.at(i).contains("/turns/1/events"))
                resumed = proxy.sent.at(i);
        }
        QVERIFY2(!resumed.isEmpty(), "no reconnect");
        QCOMPARE(headerValue(resumed, "last-event-id"), QByteArray::number(lastBeforeCut));
        QVERIFY(connection.size() >= 2); // lost, then back
        QCOMPARE(connection.first().at(0).toBool(), false);
        QCOMPARE(connection.last().at(0).toBool(), true);
        QVERIFY(client.isOnline());
    }

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
        // -> QByteArray: with QT_USE_QSTRINGBUILDER a deduced type would be a builder that
        // refers to `e`, gone when the lambda returns.
        const auto event = [&](const QByteArray &id, const QByteArray &type,
                               const QByteArray &data) -> QByteArray {
            QByteArray e = id.isEmpty() ? QByteArray() : "id: " + id + eol;
            return e + "event: " + type + eol + "data: " + data + eol + eol;
        };
        RawSseServer raw;
        // The first connection drops after a tool call (an event with an id and no text).
        raw.streams << event("0", "chunk", R"({"seq":0,"text":"Hel"})") +
                           event("1", "tool_call", R"({"seq":1,"text":""})") + ": keep-alive" + eol;
        raw.streams << event("2", "chunk", R"({"seq":2,"text":"lo"})") +
                           event({}, "done", R"({"state":"done","chunks":3})");
        RemoteClient client(Server::url(raw.port()), {});
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
        HF_AWAIT(listed, client.listSessions({}, 50, 0));
        QVERIFY(listed && !listed->ok());
        check(listed->error());
        HF_AWAIT(created, client.createSession({})); // a POST
        QVERIFY(created && !created->ok());
        check(created->error());
        StartTurnParams p;
        p.prompt = QStringLiteral("secret prompt");
        HF_AWAIT(started, client.startTurn(QStringLiteral("s1"), p));
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
