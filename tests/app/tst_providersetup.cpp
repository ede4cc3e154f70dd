// Several providers from the settings file, as the program builds them (app/providersetup): each
// [provider.NAME] group reaches its server with its key; bad groups are refused with a message.
#include "app/providersetup.h"
#include "app/settings.h"
#include "core/providerregistry.h"
#include "core/sessionservice.h"
#include "fakes/fakemodelserver.h"
#include "fakes/testutil.h"
#include "provider/ollamaprovider.h"
#include "provider/openaiprovider.h"
#include "store/memorystore.h"

#include <QFile>
#include <QTemporaryDir>
#include <QTest>

using namespace holdfast;
using holdfast::test::FakeModelServer;

namespace {
const QString kKey = QStringLiteral("sk-secret-key-123");
} // namespace

class TestProviderSetup : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase() { qRegisterMetaType<TurnRecord>(); }

    void providersFromSettings()
    {
        FakeModelServer server;
        QVERIFY(server.listen());
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("holdfast.conf"));
        {
            QFile file(path);
            QVERIFY(file.open(QIODevice::WriteOnly));
            file.write(QStringLiteral("[provider.local]\nkind = openai\nbase-url = %1\n"
                                      "model = fake-model\nmodels = fake-model, shared\n"
                                      "api-key = %2\nidle-timeout-ms = 5000\n"
                                      "context-tokens = 8192\n"
                                      "[provider.ollama]\nbase-url = %3\nmodel = llama3.2\n"
                                      "models = shared\n")
                           .arg(server.openAiBaseUrl(), kKey, server.ollamaBaseUrl())
                           .toUtf8());
        }
        Settings settings;
        QString error;
        QVERIFY2(settings.load({QStringLiteral("holdfast"), QStringLiteral("--config"), path,
                                QStringLiteral("--provider"), QStringLiteral("openai"),
                                QStringLiteral("--base-url"), server.openAiBaseUrl(),
                                QStringLiteral("--model"), QStringLiteral("gpt-x"),
                                QStringLiteral("--context-tokens"), QStringLiteral("4096")},
                               QProcessEnvironment(), &error),
                 qPrintable(error));
        ProviderRegistry registry;
        const Status s = setupProviders(settings, &registry);
        QVERIFY2(s.ok(), qPrintable(s.ok() ? QString() : s.error().message));

        QStringList names;
        for (Provider *p : registry.providers())
            names << p->name();
        QCOMPARE(names, (QStringList{QStringLiteral("demo"), QStringLiteral("local"),
                                     QStringLiteral("ollama"), QStringLiteral("openai")}));
        QStringList ids;
        for (const ModelInfo &m : registry.models())
            ids << m.id;
        QCOMPARE(ids,
                 (QStringList{QStringLiteral("demo"), QStringLiteral("local/fake-model"),
                              QStringLiteral("local/shared"), QStringLiteral("ollama/llama3.2"),
                              QStringLiteral("ollama/shared"), QStringLiteral("openai/gpt-x")}));
        QCOMPARE(registry.defaultModel(), QStringLiteral("openai/gpt-x"));

        auto resolved = registry.resolve(QStringLiteral("llama3.2"));
        QVERIFY(resolved.ok());
        QCOMPARE(resolved->provider->name(), QStringLiteral("ollama"));
        resolved = registry.resolve(QStringLiteral("local"));
        QVERIFY(resolved.ok());
        QCOMPARE(resolved->model, QStringLiteral("fake-model"));
        resolved = registry.resolve(QStringLiteral("ollama/anything:7b"));
        QVERIFY(resolved.ok());
        QCOMPARE(resolved->model, QStringLiteral("anything:7b"));
        QVERIFY(!registry.resolve(QStringLiteral("shared")).ok()); // two providers list it
        QCOMPARE(static_cast<OpenAiProvider *>(registry.provider(QStringLiteral("local")))
                     ->config()
                     .idleTimeoutMs,
                 5000);
        QCOMPARE(static_cast<OllamaProvider *>(registry.provider(QStringLiteral("ollama")))
                     ->config()
                     .connectTimeoutMs,
                 10000);
        // context-tokens: a group's own; --context-tokens goes to the provider of --provider.
        const auto contextOf = [&](const char *name) {
            return static_cast<HttpProvider *>(registry.provider(QString::fromLatin1(name)))
                ->config()
                .contextTokens;
        };
        QCOMPARE(contextOf("local"), std::optional<int>(8192));
        QCOMPARE(contextOf("openai"), std::optional<int>(4096));
        QCOMPARE(contextOf("ollama"), std::optional<int>());

        // A turn through a configured provider reaches its server with its key.
        MemoryStore store;
        SessionService service(&store, &registry);
        HF_AWAIT_OK(service.start());
        server.script.chunks = {QStringLiteral("from "), QStringLiteral("local")};
        CreateSessionParams p;
        p.model = QStringLiteral("local/fake-model");
        HF_AWAIT(created, service.createSession(p));
        QVERIFY(created && created->ok());
        const QString sid = (*created)->meta.id;
        StartTurnParams params;
        params.prompt = QStringLiteral("hi");
        HF_AWAIT(started, service.startTurn(sid, params));
        QVERIFY(started && started->ok());
        HF_AWAIT(ended, service.waitForTurn(sid, (*started)->id, 20000));
        QCOMPARE((*ended)->state, TurnRecord::State::Done);
        QCOMPARE(server.chatRequests().size(), 1);
        QCOMPARE(server.chatRequests()[0].headers.value("authorization"),
                 "Bearer " + kKey.toUtf8());
        test::awaitVoid(service.shutdown());
    }

    void badProviderSettings_data()
    {
        QTest::addColumn<QString>("file");
        QTest::addColumn<QStringList>("flags");
        QTest::addColumn<QString>("says");
        QTest::addRow("unknown kind") << "[provider.x]\nkind = gemini\nmodel = m\n"
                                      << QStringList() << "kind must be openai or ollama";
        QTest::addRow("no model") << "[provider.openai]\nbase-url = http://127.0.0.1:1/v1\n"
                                  << QStringList() << "a model is needed";
        QTest::addRow("bad url") << "[provider.x]\nkind = ollama\nmodel = m\nbase-url = ftp://h\n"
                                 << QStringList() << "not an http";
        QTest::addRow("unknown key") << "[provider.x]\nkind = ollama\nmodel = m\nbase_url = x\n"
                                     << QStringList() << "unknown key 'base_url'";
        QTest::addRow("bad timeout")
            << "[provider.x]\nkind = ollama\nmodel = m\nidle-timeout-ms = soon\n"
            << QStringList() << "idle-timeout-ms";
        QTest::addRow("context-tokens too small")
            << "[provider.x]\nkind = ollama\nmodel = m\ncontext-tokens = 255\n"
            << QStringList() << "context-tokens";
        QTest::addRow("context-tokens not a number")
            << "[provider.x]\nkind = openai\nmodel = m\ncontext-tokens = 8k\n"
            << QStringList() << "context-tokens";
        QTest::addRow("flag without model")
            << "" << QStringList{QStringLiteral("--provider"), QStringLiteral("ollama")}
            << "a model is needed";
    }

    void badProviderSettings()
    {
        QFETCH(QString, file);
        QFETCH(QStringList, flags);
        QFETCH(QString, says);
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("holdfast.conf"));
        QFile f(path);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(file.toUtf8());
        f.close();
        Settings settings;
        QString error;
        QVERIFY(settings.load(
            QStringList{QStringLiteral("holdfast"), QStringLiteral("--config"), path} + flags,
            QProcessEnvironment(), &error));
        ProviderRegistry registry;
        const Status s = setupProviders(settings, &registry);
        QVERIFY(!s.ok());
        QVERIFY2(s.error().message.contains(says), qPrintable(s.error().message));
    }
};

QTEST_GUILESS_MAIN(TestProviderSetup)
#include "tst_providersetup.moc"
