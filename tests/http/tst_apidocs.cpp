// The API documentation is in step with the router: the (method, path) pairs of the real server
// and of docs/openapi.yaml are the same set, and docs/api.md has a section for each route.
//
// docs/openapi.yaml is read with a small line-based reader of its `paths:` section instead of a
// YAML library: the file keeps path keys at two spaces and method keys at four (its opening
// comment says so), and Debian's Qt has no YAML parser. The document itself is validated by
// tests/api (api_openapi_valid).
#include "core/providerregistry.h"
#include "core/sessionservice.h"
#include "fakes/testutil.h"
#include "http/httpserver.h"
#include "provider/demoprovider.h"
#include "store/memorystore.h"

#include <QFile>
#include <QRegularExpression>
#include <QSet>
#include <QTest>

using namespace holdfast;

namespace {

QString sourceFile(const QString &relative)
{
    return qEnvironmentVariable("HOLDFAST_SOURCE_DIR") + QLatin1Char('/') + relative;
}

QByteArray readSource(const QString &relative)
{
    QFile file(sourceFile(relative));
    if (!file.open(QIODevice::ReadOnly))
        return {};
    return file.readAll();
}

// "GET /v1/sessions/{sid}" for each operation under `paths:`.
QSet<QString> openApiOperations(const QByteArray &yaml)
{
    static const QSet<QString> methods{QStringLiteral("get"),     QStringLiteral("put"),
                                       QStringLiteral("post"),    QStringLiteral("delete"),
                                       QStringLiteral("options"), QStringLiteral("head"),
                                       QStringLiteral("patch"),   QStringLiteral("trace")};
    static const QRegularExpression pathKey(QStringLiteral(R"(^  ["']?(/[^"':]*)["']?:\s*$)"));
    static const QRegularExpression methodKey(QStringLiteral(R"(^    ([a-z]+):(\s.*)?$)"));
    QSet<QString> operations;
    bool inPaths = false;
    QString path;
    for (const QByteArray &raw : yaml.split('\n')) {
        const QString line = QString::fromUtf8(raw).remove(QLatin1Char('\r'));
        if (line.trimmed().isEmpty() || line.trimmed().startsWith(QLatin1Char('#')))
            continue;
        if (!line.startsWith(QLatin1Char(' '))) { // a top-level key
            inPaths = line.startsWith(QLatin1String("paths:"));
            path.clear();
            continue;
        }
        if (!inPaths)
            continue;
        if (const auto m = pathKey.match(line); m.hasMatch()) {
            path = m.captured(1);
        } else if (const auto m = methodKey.match(line);
                   m.hasMatch() && !path.isEmpty() && methods.contains(m.captured(1))) {
            operations.insert(m.captured(1).toUpper() + QLatin1Char(' ') + path);
        }
    }
    return operations;
}

QSet<QString> routerOperations()
{
    MemoryStore store;
    ProviderRegistry registry;
    registry.add(new DemoProvider({2, 0}), {QStringLiteral("demo")});
    SessionService service(&store, &registry);
    HttpOptions options;
    options.logRequests = false;
    HttpServer server(&service, options);
    QSet<QString> operations;
    for (const Router::RouteInfo &route : server.routes())
        operations.insert(QString::fromLatin1(route.method) + QLatin1Char(' ') + route.pattern);
    return operations;
}

QString describe(QSet<QString> set)
{
    QStringList list(set.cbegin(), set.cend());
    list.sort();
    return list.join(QStringLiteral(", "));
}

} // namespace

class TestApiDocs : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY2(!qEnvironmentVariableIsEmpty("HOLDFAST_SOURCE_DIR"),
                 "HOLDFAST_SOURCE_DIR is not set (ctest sets it)");
    }

    // The reader itself: a path with two methods, a path-level `parameters:` that is not a
    // method, the end of the section at the next top-level key.
    void readerFindsOperations()
    {
        const QByteArray yaml = "openapi: 3.1.0\n"
                                "paths:\n"
                                "  /a/{x}:\n"
                                "    parameters:\n"
                                "      - name: x\n"
                                "    get:\n"
                                "      responses: {}\n"
                                "    # a comment\n"
                                "    delete:\n"
                                "      responses: {}\n"
                                "  \"/b\":\n"
                                "    post: {}\n"
                                "components:\n"
                                "  /c:\n"
                                "    get: {}\n";
        const QSet<QString> expected{QStringLiteral("GET /a/{x}"), QStringLiteral("DELETE /a/{x}"),
                                     QStringLiteral("POST /b")};
        QCOMPARE(openApiOperations(yaml), expected);
    }

    // A route added to the router without documentation fails here, and so does a documented
    // path the server does not have.
    void openApiPathsAreTheRoutes()
    {
        const QByteArray yaml = readSource(QStringLiteral("docs/openapi.yaml"));
        QVERIFY2(!yaml.isEmpty(), "cannot read docs/openapi.yaml");
        const QSet<QString> documented = openApiOperations(yaml);
        const QSet<QString> routes = routerOperations();
        QVERIFY(routes.size() >= 12);
        const QSet<QString> undocumented = routes - documented;
        const QSet<QString> unserved = documented - routes;
        QVERIFY2(undocumented.isEmpty(),
                 qPrintable(QStringLiteral("routes missing from docs/openapi.yaml: ") +
                            describe(undocumented)));
        QVERIFY2(unserved.isEmpty(),
                 qPrintable(QStringLiteral("docs/openapi.yaml has operations the server lacks: ") +
                            describe(unserved)));
    }

    // docs/api.md has a heading "### METHOD /path" for each route.
    void apiMdHasEveryRoute()
    {
        const QString md = QString::fromUtf8(readSource(QStringLiteral("docs/api.md")));
        QVERIFY2(!md.isEmpty(), "cannot read docs/api.md");
        QStringList missing;
        for (const QString &operation : routerOperations()) {
            const QRegularExpression heading(
                QStringLiteral("^### `%1`").arg(QRegularExpression::escape(operation)),
                QRegularExpression::MultilineOption);
            if (!heading.match(md).hasMatch())
                missing.append(operation);
        }
        missing.sort();
        QVERIFY2(missing.isEmpty(), qPrintable(QStringLiteral("docs/api.md has no section for: ") +
                                               missing.join(QStringLiteral(", "))));
    }
};

QTEST_GUILESS_MAIN(TestApiDocs)
#include "tst_apidocs.moc"
