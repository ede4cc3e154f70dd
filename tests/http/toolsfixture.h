#pragma once

// tst_tools' fixture: the reference MCP servers behind one Hub, the HTTP server over it, and the
// requests the Tools rules are checked with (shared/API.md, Tools (MCP)).

#include "fakes/httpserverfixture.h"
#include "fakes/mcpservers.h"
#include "mcp/mcphub.h"

#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QJsonArray>
#include <QTemporaryDir>
#include <QTest>

namespace holdfast::test::tools {

using Server = HttpServerFixture;
using ServerSetup = HttpServerSetup;

inline const QString kDeclined = QStringLiteral("the user declined this tool call");
inline const QString kEcho = QStringLiteral("everything/echo");

// The demo model's prompt that calls everything/echo with {"message": message}.
inline QString echoPrompt(const QString &message)
{
    return QStringLiteral("use everything/echo with {\"message\": \"%1\"}").arg(message);
}

// The reference MCP servers behind one Hub for the whole suite (starting node costs a second or
// two): server-everything as "everything", server-filesystem as "files" on a temporary folder
// holding notes.txt, and "broken", a server whose program does not exist (in `error`).
struct McpSetup
{
    McpServers servers;
    QTemporaryDir dir;
    QString folder; // dir, its links resolved (the filesystem server compares real paths)
    mcp::Hub hub;
    QString failure;

    McpSetup()
    {
        failure = servers.failure;
        if (!failure.isEmpty())
            return;
        folder = QDir(dir.path()).canonicalPath();
        QFile notes(QDir(folder).filePath(QStringLiteral("notes.txt")));
        if (!dir.isValid() || !notes.open(QIODevice::WriteOnly)) {
            failure = QStringLiteral("no temporary folder");
            return;
        }
        notes.write("keel, tide and anchor\n");
        notes.close();
        mcp::ServerConfig broken;
        broken.name = QStringLiteral("broken");
        broken.command = QDir(folder).filePath(QStringLiteral("no-such-program"));
        hub.setServers({servers.everything(), servers.filesystem(folder), broken});
        hub.startAll();
        const auto ready = [this] {
            int count = 0;
            for (const ToolServerInfo &s : hub.list().servers)
                count += s.state == ToolServerInfo::State::Ready ? 1 : 0;
            return count == 2;
        };
        if (!spinUntil(ready, 60000))
            failure = QStringLiteral("the MCP servers did not become ready");
    }
    ~McpSetup() { awaitVoid(hub.stop()); }
};

// The HTTP server over the suite's Hub (a test's own setup otherwise).
struct ToolServer
{
    std::unique_ptr<Server> srv;
    QString failure;

    ToolServer(McpSetup *mcp, ServerSetup setup = {})
    {
        if (!mcp || !mcp->failure.isEmpty()) {
            failure = mcp ? mcp->failure : QStringLiteral("no MCP servers");
            return;
        }
        setup.toolHost = &mcp->hub;
        srv = std::make_unique<Server>(setup);
        failure = srv->failure;
    }
    Server &operator*() { return *srv; }
    Server *operator->() { return srv.get(); }
};

// The fixture's failure fails the test.
#define HF_CHECK_TOOLS(ts)                                                                         \
    do {                                                                                           \
        if (!(ts).failure.isEmpty())                                                               \
            QFAIL(qPrintable((ts).failure));                                                       \
    } while (false)

// A session with these tools and this approval, through PATCH; empty when it failed.
inline QString toolSession(Server &srv, const QString &sid, const QStringList &tools,
                           const QString &approval)
{
    if (srv.createSession(sid) != sid)
        return {};
    auto c = srv.client();
    const HttpReply r = c.patch("/v1/sessions/" + sid.toUtf8(),
                                {{QStringLiteral("tools"), QJsonArray::fromStringList(tools)},
                                 {QStringLiteral("tool_approval"), approval}});
    return r.status == 200 ? sid : QString();
}

inline int startTurn(Server &srv, const QString &sid, const QJsonObject &body)
{
    auto c = srv.client();
    const HttpReply r = c.post("/v1/sessions/" + sid.toUtf8() + "/turns", body);
    return r.status == 202 ? r.json().value(QStringLiteral("id")).toInt() : 0;
}

inline QString stateOf(Server &srv, const QString &sid, int tid)
{
    auto c = srv.client();
    return c.get(turnPath(sid, tid)).json().value(QStringLiteral("state")).toString();
}

inline bool waitForState(Server &srv, const QString &sid, int tid, const QString &state)
{
    QElapsedTimer clock;
    clock.start();
    while (clock.elapsed() < 20000) {
        if (stateOf(srv, sid, tid) == state)
            return true;
        QTest::qWait(20);
    }
    return false;
}

// Every chunk of the turn through /chunks, page after page (`limit` is the server's).
inline QJsonArray allChunks(Server &srv, const QString &sid, int tid)
{
    auto c = srv.client();
    QJsonArray all;
    int from = 0;
    for (int page = 0; page < 100; ++page) {
        const QJsonObject r =
            c.get(turnPath(sid, tid, "/chunks?from=" + QByteArray::number(from))).json();
        for (const QJsonValue &v : r.value(QStringLiteral("chunks")).toArray())
            all.append(v);
        from = r.value(QStringLiteral("next")).toInt();
        if (r.value(QStringLiteral("done")).toBool() ||
            r.value(QStringLiteral("chunks")).toArray().isEmpty())
            break;
    }
    return all;
}

// The chunks that record tool steps, in order.
inline QList<QJsonObject> toolSteps(const QJsonArray &chunks)
{
    QList<QJsonObject> steps;
    for (const QJsonValue &v : chunks) {
        const QJsonObject o = v.toObject();
        if (o.contains(QStringLiteral("tool_call")) || o.contains(QStringLiteral("tool_result")))
            steps.append(o);
    }
    return steps;
}

// The id of the turn's first tool call, once it is recorded; empty when none came in time.
inline QString firstCallId(Server &srv, const QString &sid, int tid)
{
    QString id;
    spinUntil(
        [&] {
            for (const QJsonObject &step : toolSteps(allChunks(srv, sid, tid))) {
                if (step.contains(QStringLiteral("tool_call"))) {
                    id = step.value(QStringLiteral("tool_call"))
                             .toObject()
                             .value(QStringLiteral("id"))
                             .toString();
                    return true;
                }
            }
            QTest::qWait(20);
            return false;
        },
        20000);
    return id;
}

inline QByteArray callPath(const QString &sid, int tid, const QString &cid)
{
    return turnPath(sid, tid, "/tool-calls/" + QUrl::toPercentEncoding(cid));
}

inline HttpReply answer(Server &srv, const QString &sid, int tid, const QString &cid, bool approve)
{
    auto c = srv.client();
    return c.post(callPath(sid, tid, cid), {{QStringLiteral("approve"), approve}});
}

// The answer message of a turn that has ended.
inline QJsonObject answerOf(Server &srv, const QString &sid, int tid)
{
    auto c = srv.client();
    const qint64 index =
        c.get(turnPath(sid, tid)).json().value(QStringLiteral("response_index")).toInteger(-1);
    const QJsonArray messages = c.get("/v1/sessions/" + sid.toUtf8() + "/messages?limit=200")
                                    .json()
                                    .value(QStringLiteral("messages"))
                                    .toArray();
    for (const QJsonValue &m : messages) {
        if (m.toObject().value(QStringLiteral("index")).toInteger() == index)
            return m.toObject();
    }
    return {};
}

inline ServerSetup quickDemo()
{
    ServerSetup setup;
    setup.demoChunks = 4;
    setup.demoDelayMs = 2;
    return setup;
}
} // namespace holdfast::test::tools
