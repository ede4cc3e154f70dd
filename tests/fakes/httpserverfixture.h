#pragma once

// The HTTP suites' server: a SessionService with the demo and a scripted provider on a store
// (memory unless given), served by a real HttpServer on port 0; torn down in the right order.
// Header-only: only suites that link holdfast_http, holdfast_store and holdfast_provider include
// it (holdfast_testsupport links holdfast_core alone).

#include "core/providerregistry.h"
#include "core/sessionservice.h"
#include "core/store.h"
#include "fakes/httptestclient.h"
#include "fakes/scriptedprovider.h"
#include "fakes/testutil.h"
#include "http/httpserver.h"
#include "provider/demoprovider.h"

#include <QHostAddress>
#include <QJsonObject>

#include <functional>
#include <memory>

namespace holdfast::test {

// What the suites differ in.
struct HttpServerSetup
{
    HttpOptions http;
    ServiceConfig service;
    int demoChunks = 6;
    int demoDelayMs = 5;
    QHostAddress address = QHostAddress(QHostAddress::LocalHost);
    bool scriptedProvider = true;                         // a ScriptedProvider as model "scripted"
    std::function<std::unique_ptr<Store>()> makeStore;    // empty: a memory store
    std::function<void(ProviderRegistry &)> addProviders; // more, before the service starts
    ToolHost *toolHost = nullptr; // the MCP servers (not owned; outlives the fixture)
};

// Construction cannot fail the test (QVERIFY would only return from the constructor): it sets
// `failure`, which each test checks with HF_CHECK_FIXTURE right after constructing one.
class HttpServerFixture
{
public:
    std::unique_ptr<Store> store;
    ProviderRegistry registry;
    ScriptedProvider *scripted = nullptr; // owned by the registry; null without scriptedProvider
    std::unique_ptr<SessionService> service;
    std::unique_ptr<HttpServer> http;
    quint16 port = 0;
    QByteArray token; // what createSession() and startTurn() send
    QString failure;  // empty when the server is up

    explicit HttpServerFixture(HttpServerSetup setup = {})
    {
        if (setup.makeStore) {
            store = setup.makeStore();
        } else {
            auto created = createStore(QStringLiteral("memory:"));
            if (created.ok())
                store = std::move(*created);
        }
        if (!store) {
            failure = QStringLiteral("no store");
            return;
        }
        registry.add(new DemoProvider({setup.demoChunks, setup.demoDelayMs}),
                     {QStringLiteral("demo")});
        if (setup.scriptedProvider) {
            scripted = new ScriptedProvider();
            registry.add(scripted, {QStringLiteral("scripted")});
        }
        if (setup.addProviders)
            setup.addProviders(registry);
        service = std::make_unique<SessionService>(store.get(), &registry, setup.service);
        service->setToolHost(setup.toolHost);
        const Status started = awaitResult(service->start());
        if (!started.ok()) {
            failure = QStringLiteral("the service did not start: ") + started.error().message;
            return;
        }
        setup.http.logRequests = false;
        http = std::make_unique<HttpServer>(service.get(), setup.http);
        const Status listening = http->listen(setup.address, 0);
        if (!listening.ok()) {
            failure = QStringLiteral("the server did not listen: ") + listening.error().message;
            return;
        }
        port = http->serverPort();
    }
    ~HttpServerFixture()
    {
        if (service)
            awaitVoid(service->shutdown());
        http.reset();
        service.reset();
    }
    HttpServerFixture(const HttpServerFixture &) = delete;
    HttpServerFixture &operator=(const HttpServerFixture &) = delete;

    HttpTestClient client(QByteArray token = {}) const
    {
        return HttpTestClient(port, std::move(token));
    }

    // The new session's id, or an empty string when the server did not answer 201.
    QString createSession(const QString &id)
    {
        auto c = client(token);
        const HttpReply r = c.post("/v1/sessions", {{QStringLiteral("id"), id}});
        return r.status == 201 ? r.json().value(QStringLiteral("id")).toString() : QString();
    }
    // The new turn's id, or 0 when the server did not answer 202.
    int startTurn(const QString &sid, const QString &prompt, const QString &model = {})
    {
        auto c = client(token);
        QJsonObject body{{QStringLiteral("prompt"), prompt}};
        if (!model.isEmpty())
            body.insert(QStringLiteral("model"), model);
        const HttpReply r = c.post("/v1/sessions/" + sid.toUtf8() + "/turns", body);
        return r.status == 202 ? r.json().value(QStringLiteral("id")).toInt() : 0;
    }
    // The turn's record once it has ended, or an empty one (id 0) when it did not in time.
    TurnRecord finish(const QString &sid, int tid)
    {
        const auto r = awaitResult(service->waitForTurn(sid, tid, 20000));
        return r.ok() ? r.value() : TurnRecord{};
    }
    // The number of stored sessions, -1 when the store did not answer.
    int sessionCount() const
    {
        const auto page = awaitResult(service->listSessions({}, 200, 0));
        return page.ok() ? int(page.value().total) : -1;
    }
};

inline QByteArray turnPath(const QString &sid, int tid, const QByteArray &suffix = {})
{
    return "/v1/sessions/" + sid.toUtf8() + "/turns/" + QByteArray::number(tid) + suffix;
}

} // namespace holdfast::test

// Checks an API.md error answer: the status, the {"error":{code,message}} shape, the code.
#define EXPECT_ERROR(reply, expectedStatus, expectedCode)                                          \
    do {                                                                                           \
        const ::holdfast::test::HttpReply &r_ = (reply);                                           \
        QVERIFY2(                                                                                  \
            r_.status == (expectedStatus),                                                         \
            qPrintable(                                                                            \
                QStringLiteral("status %1: %2").arg(r_.status).arg(QString::fromUtf8(r_.body))));  \
        QVERIFY2(r_.hasErrorShape(), r_.body.constData());                                         \
        QCOMPARE(r_.errorCode(), QStringLiteral(expectedCode));                                    \
        QCOMPARE(r_.headers.value("content-type"), QByteArray("application/json"));                \
    } while (false)
