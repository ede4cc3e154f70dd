// Several providers from the settings file, as the program builds them (app/providersetup): each
// [provider.NAME] group reaches its server with its key; bad groups are refused with a message.
// Providers replaced while Holdfast runs (a running turn keeps its own), and "Test connection".
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
#include <QPointer>
#include <QSignalSpy>
#include <QTcpServer>
#include <QTemporaryDir>
#include <QTest>

using namespace holdfast;
using holdfast::test::FakeModelServer;

// Awaits a task returning Result<T>, fails the test unless it is ok, and names its value `var`.
#define AWAIT_VALUE(var, task)                                                                     \
    HF_AWAIT(var##Result, task);                                                                   \
    QVERIFY2(var##Result->ok(), #task);                                                            \
    const auto &var = **var##Result

namespace {
const QString kKey = QStringLiteral("sk-secret-key-123");

// Settings from a settings file with `text`, and `flags`.
bool loadSettings(Settings *settings, const QTemporaryDir &dir, const QString &text,
                  QStringList flags = {})
{
    const QString path = dir.filePath(QStringLiteral("holdfast.conf"));
    QFile file(path);
    if (!file.open(QIODevice::WriteOnly | QIODevice::Truncate))
        return false;
    file.write(text.toUtf8());
    file.close();
    QString error;
    const bool ok = settings->load(
        QStringList{QStringLiteral("holdfast"), QStringLiteral("--config"), path} + flags,
        QProcessEnvironment(), &error);
    if (!ok)
        qWarning("settings: %s", qPrintable(error));
    return ok;
}

// A loopback port nothing listens on.
quint16 closedPort()
{
    QTcpServer server;
    server.listen(QHostAddress::LocalHost, 0);
    return server.serverPort(); // closed when `server` goes
}
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

    // The settings dialog saved while a turn runs: the turn finishes on the provider it began
    // with (not deleted under it), new turns use the new one, the old one goes afterwards.
    void replacedProviderKeepsItsRunningTurn()
    {
        FakeModelServer before;
        FakeModelServer after;
        QVERIFY(before.listen());
        QVERIFY(after.listen());
        before.script.chunks = {QStringLiteral("one "), QStringLiteral("two "),
                                QStringLiteral("three "), QStringLiteral("four")};
        before.script.delayMs = 60;
        after.script.chunks = {QStringLiteral("from the new server")};
        QTemporaryDir dir;
        const QString group = QStringLiteral("[provider.local]\nkind = openai\nbase-url = %1\n"
                                             "model = fake-model\n");
        Settings first;
        QVERIFY(loadSettings(&first, dir, group.arg(before.openAiBaseUrl())));
        ProviderRegistry registry;
        QVERIFY(setupProviders(first, &registry).ok());
        MemoryStore store;
        SessionService service(&store, &registry);
        HF_AWAIT_OK(service.start());
        CreateSessionParams create;
        create.model = QStringLiteral("local/fake-model");
        AWAIT_VALUE(created, service.createSession(create));
        const QString sid = created.meta.id;
        StartTurnParams params;
        params.prompt = QStringLiteral("count");
        QSignalSpy chunks(&service, &SessionService::chunkReady);
        AWAIT_VALUE(running, service.startTurn(sid, params));
        QVERIFY(chunks.wait(5000)); // the old server is answering

        const QPointer<Provider> old = registry.provider(QStringLiteral("local"));
        Settings second;
        QVERIFY(loadSettings(&second, dir, group.arg(after.openAiBaseUrl())));
        const Status reloaded = reloadProviders(second, &registry);
        QVERIFY2(reloaded.ok(), qPrintable(reloaded.ok() ? QString() : reloaded.error().message));
        QVERIFY(registry.provider(QStringLiteral("local")) != old.data());
        QVERIFY(old->retired());
        chunks.clear();
        QVERIFY(chunks.wait(5000)); // events run meanwhile: a deferred deletion would happen
        QVERIFY(old);               // the running turn still uses it

        AWAIT_VALUE(ended, service.waitForTurn(sid, running.id, 20000));
        QCOMPARE(ended.state, TurnRecord::State::Done);
        AWAIT_VALUE(page, service.messages(sid, -1, 10));
        QCOMPARE(page.messages.size(), 2);
        QCOMPARE(page.messages.last().content, QStringLiteral("one two three four"));
        QVERIFY(QTest::qWaitFor([&] { return old.isNull(); }, 5000)); // gone once unused

        // The next turn goes to the new server.
        AWAIT_VALUE(next, service.startTurn(sid, params));
        AWAIT_VALUE(nextEnded, service.waitForTurn(sid, next.id, 20000));
        QCOMPARE(nextEnded.state, TurnRecord::State::Done);
        QCOMPARE(after.chatRequests().size(), 1);
        QCOMPARE(before.chatRequests().size(), 1);
        test::awaitVoid(service.shutdown());
    }

    // Bad settings leave the providers as they were.
    void failedReloadChangesNothing()
    {
        QTemporaryDir dir;
        Settings good;
        QVERIFY(loadSettings(&good, dir,
                             QStringLiteral("[provider.local]\nkind = ollama\nmodel = m\n")));
        ProviderRegistry registry;
        QVERIFY(setupProviders(good, &registry).ok());
        Provider *local = registry.provider(QStringLiteral("local"));
        Settings bad;
        QVERIFY(
            loadSettings(&bad, dir, QStringLiteral("[provider.x]\nkind = gemini\nmodel = m\n")));
        QVERIFY(!reloadProviders(bad, &registry).ok());
        QCOMPARE(registry.provider(QStringLiteral("local")), local);
        QVERIFY(!local->retired());
    }

    void probeModels_data()
    {
        QTest::addColumn<QString>("kind");
        QTest::addColumn<QString>("where"); // openai, ollama, closed, wrong
        QTest::addColumn<int>("status");
        QTest::addColumn<QStringList>("models");
        QTest::addColumn<QString>("says");
        const QStringList both{QStringLiteral("fake-model"), QStringLiteral("other-model")};
        QTest::addRow("openai /models") << "openai"
                                        << "openai" << 200 << both << "";
        QTest::addRow("ollama /api/tags") << "ollama"
                                          << "ollama" << 200 << both << "";
        QTest::addRow("unreachable")
            << "openai"
            << "closed" << 200 << QStringList() << "cannot reach the model server";
        QTest::addRow("refused key")
            << "openai"
            << "openai" << 401 << QStringList() << "refused the request with HTTP 401";
        QTest::addRow("not a model server")
            << "ollama"
            << "wrong" << 200 << QStringList() << "Is it an Ollama server?";
    }

    void probeModels()
    {
        QFETCH(QString, kind);
        QFETCH(QString, where);
        QFETCH(int, status);
        QFETCH(QStringList, models);
        QFETCH(QString, says);
        FakeModelServer server;
        QVERIFY(server.listen());
        server.script.status = status;
        server.script.errorBody = R"({"error":{"message":"Incorrect API key provided"}})";
        QString url =
            where == QLatin1String("openai") ? server.openAiBaseUrl() : server.ollamaBaseUrl();
        if (where == QLatin1String("closed"))
            url = QStringLiteral("http://127.0.0.1:%1/v1").arg(closedPort());
        if (where == QLatin1String("wrong"))
            url = server.openAiBaseUrl(); // Ollama's /api/tags is not under /v1
        Settings settings;
        QTemporaryDir dir;
        QVERIFY(loadSettings(&settings, dir, QString()));
        QHash<QString, QString> values{{QStringLiteral("kind"), kind},
                                       {QStringLiteral("base-url"), url}};
        HF_AWAIT(listed, holdfast::probeModels(settings, QStringLiteral("lab"), values));
        const Result<QStringList> &answer = *listed;
        if (says.isEmpty()) {
            QVERIFY2(answer.ok(), qPrintable(answer.ok() ? QString() : answer.error().message));
            QCOMPARE(*answer, models);
        } else {
            QVERIFY(!answer.ok());
            QVERIFY2(answer.error().message.contains(says), qPrintable(answer.error().message));
        }
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
