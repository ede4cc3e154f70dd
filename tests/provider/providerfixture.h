#pragma once

// What the provider suites share: a fake model server on a real socket behind a service with two
// upstream providers of one kind (tst_providerstreams, tst_upstreamclient).
#include "core/providerregistry.h"
#include "core/sessionservice.h"
#include "fakes/fakemodelserver.h"
#include "fakes/servicefixture.h"
#include "fakes/testutil.h"
#include "provider/ollamaprovider.h"
#include "provider/openaiprovider.h"
#include "store/memorystore.h"

#include <QJsonArray>
#include <QTcpServer>
#include <QTest>

Q_DECLARE_METATYPE(holdfast::test::FakeModelServer::Script)

using namespace holdfast;
using holdfast::test::FakeModelServer;
using holdfast::test::spinUntil;

namespace {

const QString kKey = QStringLiteral("sk-secret-key-123");
// Mixed scripts and emoji, so that a split inside a UTF-8 sequence shows.
const QStringList kAnswer{QStringLiteral("Grüße, "), QStringLiteral("世界"),
                          QStringLiteral(" 👋🏽 ok"), QStringLiteral("\n- line \"two\"")};

inline UpstreamConfig upstreamConfig(const QString &name, const QString &base)
{
    UpstreamConfig c;
    c.name = name;
    c.baseUrl = QUrl(base);
    c.apiKey = kKey;
    c.defaultModel = QStringLiteral("fake-model");
    c.models = {c.defaultModel};
    c.connectTimeoutMs = 700;
    c.idleTimeoutMs = 700;
    c.maxResponseBytes = 16 * 1024;
    return c;
}

inline Provider *makeProvider(const QString &kind, const UpstreamConfig &config)
{
    if (kind == QLatin1String("openai"))
        return new OpenAiProvider(config);
    return new OllamaProvider(config);
}

inline QString freePortUrl(const QString &kind)
{
    QTcpServer probe;
    probe.listen(QHostAddress::LocalHost, 0);
    const quint16 port = probe.serverPort();
    probe.close(); // nothing listens there now: connection refused
    return kind == QLatin1String("openai") ? QStringLiteral("http://127.0.0.1:%1/v1").arg(port)
                                           : QStringLiteral("http://127.0.0.1:%1").arg(port);
}

// A service over a memory store with two upstream providers of one kind: "p" (the one under
// test, possibly pointed elsewhere) and "good" (always the fake server), to show a session is
// still usable after a fault.
struct Fixture
{
    QString kind;
    FakeModelServer server;
    std::unique_ptr<MemoryStore> store = std::make_unique<MemoryStore>();
    ProviderRegistry registry;
    Provider *provider = nullptr;
    std::unique_ptr<SessionService> service;
    QString failure; // set when the constructor failed (HF_CHECK_FIXTURE)

    explicit Fixture(const QString &k, const QString &baseOverride = {},
                     const std::function<void(UpstreamConfig &)> &tweak = {}, bool tls = false)
        : kind(k)
    {
        if (!(tls ? server.listenTls() : server.listen()))
            failure = QStringLiteral("the fake model server did not listen");
        UpstreamConfig config =
            upstreamConfig(QStringLiteral("p"), baseOverride.isEmpty() ? base() : baseOverride);
        if (tweak)
            tweak(config);
        provider = makeProvider(kind, config);
        registry.add(provider, config.models);
        UpstreamConfig good = upstreamConfig(QStringLiteral("good"), base());
        good.models = {QStringLiteral("good-model")};
        good.defaultModel = QStringLiteral("good-model");
        registry.add(makeProvider(kind, good), good.models);
        registry.setDefaultModel(QStringLiteral("p/fake-model"));
        service = std::make_unique<SessionService>(store.get(), &registry);
        if (!test::awaitResult(service->start()).ok())
            failure = QStringLiteral("the service did not start");
    }
    ~Fixture()
    {
        if (service)
            test::awaitVoid(service->shutdown());
    }

    QString base() const
    {
        return kind == QLatin1String("openai") ? server.openAiBaseUrl() : server.ollamaBaseUrl();
    }

    QString create(const QString &system = {})
    {
        CreateSessionParams p;
        if (!system.isEmpty())
            p.system = system;
        const auto created = test::awaitResult(service->createSession(p));
        return created.ok() ? created->meta.id : QString();
    }

    TurnRecord start(const QString &sid, const QString &prompt, const QString &model = {},
                     TurnOptions options = {})
    {
        StartTurnParams p;
        p.prompt = prompt;
        if (!model.isEmpty())
            p.model = model;
        p.options = options;
        return test::startedTurn(service.get(), sid, p);
    }

    // An upload's id, or "" when the service refused it.
    QString upload(const QString &sid, const QString &name, const QString &type,
                   const QByteArray &bytes)
    {
        UploadParams p;
        p.name = name;
        p.type = type;
        p.bytes = bytes;
        const auto stored = test::awaitResult(service->uploadAttachment(sid, p));
        return stored.ok() ? stored->id : QString();
    }

    TurnRecord finish(const QString &sid, int tid)
    {
        return test::finishedTurn(service.get(), sid, tid);
    }

    TurnRecord run(const QString &sid, const QString &prompt, const QString &model = {},
                   TurnOptions options = {})
    {
        const TurnRecord t = start(sid, prompt, model, options);
        return t.id ? finish(sid, t.id) : TurnRecord{};
    }

    // The server sends `chunks`, then holds the answer open without its end marker.
    void hangAfter(const QStringList &chunks)
    {
        server.script.chunks = chunks;
        server.script.endMarker = false;
        server.script.ending = FakeModelServer::Ending::Hang;
    }

    // Counts into `count` the chunks the service announces.
    void countChunks(int *count)
    {
        QObject::connect(service.get(), &SessionService::chunkReady,
                         [count](const QString &, int, int, const QString &) { ++*count; });
    }

    // Starts a turn in `sid` whose answer sends `chunks`, then hangs; returns once the service
    // has announced them all (a record with id 0 when it did not start or they did not come).
    TurnRecord startHanging(const QString &sid, const QStringList &chunks)
    {
        hangAfter(chunks);
        int seen = 0;
        const QMetaObject::Connection counting =
            QObject::connect(service.get(), &SessionService::chunkReady,
                             [&seen](const QString &, int, int, const QString &) { ++seen; });
        const TurnRecord t = start(sid, QStringLiteral("go"));
        const bool all = t.id && spinUntil([&] { return seen == chunks.size(); });
        QObject::disconnect(counting);
        return all ? t : TurnRecord{};
    }

    QList<Message> stored(const QString &sid) { return test::storedMessages(store.get(), sid); }
};

inline QStringList roles(const QJsonArray &messages)
{
    QStringList out;
    for (const QJsonValue &m : messages)
        out << m[QStringLiteral("role")].toString() + QLatin1Char(':') +
                   m[QStringLiteral("content")].toString();
    return out;
}

inline void addKinds()
{
    QTest::addColumn<QString>("kind");
    QTest::addRow("openai") << QStringLiteral("openai");
    QTest::addRow("ollama") << QStringLiteral("ollama");
}

} // namespace
