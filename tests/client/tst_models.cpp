// Both clients list the same models: LocalClient (the window in-process) and RemoteClient (the
// window with --connect, reading GET /v1/models) against one service whose providers list more
// models than were configured.
#include "client/localclient.h"
#include "client/remoteclient.h"
#include "core/providerregistry.h"
#include "core/sessionservice.h"
#include "fakes/fakemodelserver.h"
#include "fakes/testutil.h"
#include "http/httpserver.h"
#include "provider/demoprovider.h"
#include "provider/openaiprovider.h"
#include "store/memorystore.h"

#include <QLoggingCategory>
#include <QTest>

using namespace holdfast;
using holdfast::test::FakeModelServer;

namespace {

QStringList describe(const QList<ModelInfo> &models)
{
    QStringList out;
    for (const ModelInfo &m : models)
        out << m.id + QStringLiteral(" (") + m.ownedBy + QLatin1Char(')');
    return out;
}

} // namespace

class TestModels : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase()
    {
        QLoggingCategory::setFilterRules(
            QStringLiteral("holdfast.*.debug=false\nholdfast.*.info=false"));
    }

    void bothClientsListTheSameModels()
    {
        FakeModelServer upstream;
        QVERIFY(upstream.listen());
        upstream.models = {QStringLiteral("fake-model"), QStringLiteral("discovered")};

        MemoryStore store;
        ProviderRegistry registry;
        registry.add(new DemoProvider({2, 1}), {QStringLiteral("demo")});
        UpstreamConfig c;
        c.name = QStringLiteral("fake");
        c.baseUrl = QUrl(upstream.openAiBaseUrl());
        c.defaultModel = QStringLiteral("fake-model");
        c.models = {c.defaultModel};
        registry.add(new OpenAiProvider(c), c.models);
        SessionService service(&store, &registry);
        HF_AWAIT(started, service.start());
        QVERIFY(started && started->ok());
        HttpOptions options;
        options.logRequests = false;
        options.token = QStringLiteral("s3cret");
        HttpServer http(&service, options);
        QVERIFY(http.listen(QHostAddress::LocalHost, 0).ok());

        LocalClient local(&service);
        RemoteClient remote(QUrl(QStringLiteral("http://127.0.0.1:%1").arg(http.serverPort())),
                            QStringLiteral("s3cret"));
        HF_AWAIT(inProcess, local.models());
        QVERIFY(inProcess && inProcess->ok());
        HF_AWAIT(overHttp, remote.models());
        QVERIFY(overHttp && overHttp->ok());

        const QStringList expected{QStringLiteral("demo (demo)"),
                                   QStringLiteral("fake/fake-model (fake)"),
                                   QStringLiteral("fake/discovered (fake)")};
        QCOMPARE(describe(inProcess->value()), expected);
        QCOMPARE(describe(overHttp->value()), expected);

        test::awaitVoid(service.shutdown());
    }
};

QTEST_GUILESS_MAIN(TestModels)
#include "tst_models.moc"
