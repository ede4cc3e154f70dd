#pragma once

// A SessionService with its store and two models, "demo" (DemoProvider) and "scripted"
// (ScriptedProvider, which a test scripts and reads back), torn down in the right order: the
// base of the service fixtures of tst_sessionservice, tst_servicebranches, tst_redisstore and
// tst_sharedbranches; and the turn and store calls service fixtures repeat (providerfixture.h
// too). Header-only: the suites that use it link the provider library, the fakes library does
// not.

#include "core/providerregistry.h"
#include "core/sessionservice.h"
#include "core/store.h"
#include "fakes/scriptedprovider.h"
#include "fakes/testutil.h"
#include "provider/demoprovider.h"

#include <memory>

namespace holdfast::test {

// The turn started, or a record with id 0 when it was refused.
inline TurnRecord startedTurn(SessionService *service, const QString &sid,
                              const StartTurnParams &params)
{
    const auto started = awaitResult(service->startTurn(sid, params));
    return started.ok() ? started.value() : TurnRecord{};
}

// Waits for the turn to end (its final save done) and returns its stored record (id 0 when it
// did not end).
inline TurnRecord finishedTurn(SessionService *service, const QString &sid, int tid)
{
    const auto r = awaitResult(service->waitForTurn(sid, tid, 20000));
    return r.ok() ? r.value() : TurnRecord{};
}

// Every message of `sid` as the store holds it, every branch.
inline QList<Message> storedMessages(Store *store, const QString &sid)
{
    const auto meta = awaitResult(store->loadSession(sid));
    if (!meta.ok() || !meta.value())
        return {};
    const auto messages = awaitResult(store->loadMessages(sid, 0, meta.value()->total));
    return messages.ok() ? messages.value() : QList<Message>{};
}

struct ServiceFixture
{
    std::unique_ptr<Store> store;
    ProviderRegistry registry;
    ScriptedProvider *scripted = nullptr;
    std::unique_ptr<SessionService> service;
    QString failure; // set when the constructor failed (HF_CHECK_FIXTURE)

    explicit ServiceFixture(std::unique_ptr<Store> s, ServiceConfig config = {},
                            int demoDelayMs = 5, int demoChunks = 6)
        : store(std::move(s))
    {
        registry.add(new DemoProvider({demoChunks, demoDelayMs}), {QStringLiteral("demo")});
        scripted = new ScriptedProvider();
        registry.add(scripted, {QStringLiteral("scripted")});
        service = std::make_unique<SessionService>(store.get(), &registry, config);
        const auto started = awaitResult(service->start());
        if (!started.ok())
            failure = QStringLiteral("the service did not start: ") + started.error().message;
    }
    ~ServiceFixture()
    {
        if (service)
            awaitVoid(service->shutdown());
    }
    ServiceFixture(const ServiceFixture &) = delete;
    ServiceFixture &operator=(const ServiceFixture &) = delete;
};

} // namespace holdfast::test
