#pragma once

// A service on a memory store, served on 127.0.0.1:0, and both clients of it: LocalClient
// in-process and RemoteClient over the socket (tst_remoteclient, tst_clientbranches).

#include "client/localclient.h"
#include "client/remoteclient.h"
#include "core/providerregistry.h"
#include "core/sessionservice.h"
#include "core/store.h"
#include "fakes/scriptedprovider.h"
#include "fakes/testutil.h"
#include "http/httpserver.h"
#include "provider/demoprovider.h"

#include <memory>

namespace holdfast::test {

struct ClientServer
{
    std::unique_ptr<Store> store;
    ProviderRegistry registry;
    ScriptedProvider *scripted = nullptr;
    std::unique_ptr<SessionService> service;
    std::unique_ptr<HttpServer> http;
    std::unique_ptr<LocalClient> local;
    std::unique_ptr<RemoteClient> remote;
    quint16 port = 0;
    QString failure; // set when the constructor failed (HF_CHECK_FIXTURE)

    // `token`: the bearer token the server asks for (empty: none). The "demo" model answers
    // `demoChunks` chunks `demoDelayMs` apart; "scripted" answers as a test scripts it.
    explicit ClientServer(const QString &token = {}, int demoChunks = 8, int demoDelayMs = 5)
    {
        store = std::move(*createStore(QStringLiteral("memory:")));
        registry.add(new DemoProvider({demoChunks, demoDelayMs}), {QStringLiteral("demo")});
        scripted = new ScriptedProvider();
        registry.add(scripted, {QStringLiteral("scripted")});
        service = std::make_unique<SessionService>(store.get(), &registry);
        if (!awaitResult(service->start()).ok()) {
            failure = QStringLiteral("the service did not start");
            return;
        }
        HttpOptions options;
        options.token = token;
        options.logRequests = false;
        http = std::make_unique<HttpServer>(service.get(), options);
        if (!http->listen(QHostAddress::LocalHost, 0).ok()) {
            failure = QStringLiteral("the server did not listen");
            return;
        }
        port = http->serverPort();
        local = std::make_unique<LocalClient>(service.get());
        remote = std::make_unique<RemoteClient>(url(port), token);
    }
    ~ClientServer()
    {
        remote.reset();
        local.reset();
        awaitVoid(service->shutdown());
        http.reset();
        service.reset();
    }
    ClientServer(const ClientServer &) = delete;
    ClientServer &operator=(const ClientServer &) = delete;

    static QUrl url(quint16 port) { return QUrl(QStringLiteral("http://127.0.0.1:%1").arg(port)); }
    // "local" or "remote".
    SessionClient *client(const QString &kind)
    {
        return kind == QLatin1String("local") ? static_cast<SessionClient *>(local.get())
                                              : remote.get();
    }
};

} // namespace holdfast::test
