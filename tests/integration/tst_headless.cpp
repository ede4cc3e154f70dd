// The real `holdfast --headless` binary, driven over HTTP: the port-0 announcement, durability
// across SIGTERM and kill -9 on a SQLite file, the refusal to serve a network (or any web page)
// without a token, and the Host check with --allowed-host, in headless and window mode.
#include "fakes/holdfastprocess.h"
#include "fakes/httptestclient.h"
#include "fakes/testutil.h"

#include <QJsonArray>
#include <QProcess>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTest>

#include <csignal>

using namespace holdfast;
using test::HttpReply;
using test::HttpTestClient;
using test::spinUntil;
using test::SseReader;

namespace {

using Holdfast = test::HoldfastProcess;

QStringList slowDemo(const QString &db)
{
    return {QStringLiteral("--listen"),        QStringLiteral("127.0.0.1:0"),
            QStringLiteral("--store"),         QStringLiteral("sqlite:") + db,
            QStringLiteral("--demo-delay-ms"), QStringLiteral("100"),
            QStringLiteral("--demo-chunks"),   QStringLiteral("200")};
}

QStringList quickServer(const QString &db)
{
    return {QStringLiteral("--listen"), QStringLiteral("127.0.0.1:0"), QStringLiteral("--store"),
            QStringLiteral("sqlite:") + db};
}

} // namespace

class TestHeadless : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY2(!qEnvironmentVariableIsEmpty("HOLDFAST_BINARY"),
                 "run through ctest (HOLDFAST_BINARY)");
    }
    void announcesPortAndServes();
    void interruptedAcrossRestart_data();
    void interruptedAcrossRestart();
    void refusesNetworkWithoutToken();
    void tokenFromEnvironment();
    void anyOriginNeedsToken();
    void allowedHost_data();
    void allowedHost();
    void windowListenHasTheSameRules();
};

void TestHeadless::announcesPortAndServes()
{
    QTemporaryDir home;
    Holdfast hf(home.path(), quickServer(home.filePath(QStringLiteral("h.db"))));
    const quint16 port = hf.waitForPort();
    QVERIFY(port != 0);
    HttpTestClient c(port);
    QCOMPARE(c.get("/healthz").status, 200);
    HttpReply r = c.post("/v1/sessions", {{QStringLiteral("id"), QStringLiteral("walk")}});
    QCOMPARE(r.status, 201);
    r = c.post("/v1/sessions/walk/turns", {{QStringLiteral("prompt"), QStringLiteral("hello")}});
    QCOMPARE(r.status, 202);
    SseReader events(port, "/v1/sessions/walk/turns/1/events");
    QVERIFY(events.waitForEnd());
    QCOMPARE(events.lastEvent().event, QByteArray("done"));
    QCOMPARE(c.get("/v1/sessions/walk").json().value(QStringLiteral("total")).toInt(), 2);
    hf.signal(SIGTERM);
    QVERIFY(hf.waitForExit());
    QCOMPARE(hf.process().exitStatus(), QProcess::NormalExit);
    QCOMPARE(hf.process().exitCode(), 0);
}

void TestHeadless::interruptedAcrossRestart_data()
{
    QTest::addColumn<int>("sig");
    QTest::addRow("SIGTERM") << int(SIGTERM);
    QTest::addRow("SIGINT") << int(SIGINT);
    QTest::addRow("SIGKILL") << int(SIGKILL);
}

// Mid-answer the process is stopped; after a restart on the same file the prompt is there, the
// turn is interrupted, and its message holds at least every chunk a client had seen.
void TestHeadless::interruptedAcrossRestart()
{
    QFETCH(int, sig);
    QTemporaryDir home;
    const QString db = home.filePath(QStringLiteral("h.db"));
    QString seen;
    {
        Holdfast hf(home.path(), slowDemo(db));
        const quint16 port = hf.waitForPort();
        QVERIFY(port != 0);
        HttpTestClient c(port);
        QCOMPARE(c.post("/v1/sessions", {{QStringLiteral("id"), QStringLiteral("d")}}).status, 201);
        HttpReply r = c.post("/v1/sessions/d/turns",
                             {{QStringLiteral("prompt"), QStringLiteral("keep this")}});
        QCOMPARE(r.status, 202);
        SseReader events(port, "/v1/sessions/d/turns/1/events");
        QVERIFY(events.waitForEvents(3));
        hf.signal(sig);
        QVERIFY(hf.waitForExit());
        if (sig != SIGKILL) {
            QCOMPARE(hf.process().exitStatus(), QProcess::NormalExit);
            QCOMPARE(hf.process().exitCode(), 0);
            // The open stream was told before the process went.
            QVERIFY(events.waitForEnd());
            QVERIFY(!events.events.isEmpty());
            QCOMPARE(events.lastEvent().event, QByteArray("done"));
            QCOMPARE(events.lastEvent().json().value(QStringLiteral("state")).toString(),
                     QStringLiteral("interrupted"));
        } else {
            QVERIFY(events.waitForEnd());
        }
        for (const auto &e : events.chunkEvents())
            seen += e.json().value(QStringLiteral("text")).toString();
        QVERIFY(!seen.isEmpty());
    }

    Holdfast again(home.path(), quickServer(db));
    const quint16 port = again.waitForPort();
    QVERIFY(port != 0);
    HttpTestClient c(port);
    const HttpReply turn = c.get("/v1/sessions/d/turns/1");
    QCOMPARE(turn.status, 200);
    QCOMPARE(turn.json().value(QStringLiteral("state")).toString(), QStringLiteral("interrupted"));
    QCOMPARE(turn.json().value(QStringLiteral("response_index")).toInt(), 1);
    const QJsonObject session = c.get("/v1/sessions/d").json();
    QCOMPARE(session.value(QStringLiteral("total")).toInt(), 2);
    QVERIFY(session.value(QStringLiteral("active_turn")).isNull());
    const QJsonArray history = session.value(QStringLiteral("history")).toArray();
    QCOMPARE(history.at(0).toObject().value(QStringLiteral("content")).toString(),
             QStringLiteral("keep this"));
    const QJsonObject answer = history.at(1).toObject();
    QCOMPARE(answer.value(QStringLiteral("state")).toString(), QStringLiteral("interrupted"));
    QVERIFY2(answer.value(QStringLiteral("content")).toString().startsWith(seen),
             qPrintable(answer.value(QStringLiteral("content")).toString()));
    // The stream of the ended turn replays what was saved, then ends.
    SseReader replay(port, "/v1/sessions/d/turns/1/events");
    QVERIFY(replay.waitForEnd());
    QCOMPARE(replay.lastEvent().event, QByteArray("done"));
    QCOMPARE(replay.lastEvent().json().value(QStringLiteral("state")).toString(),
             QStringLiteral("interrupted"));
    again.signal(SIGTERM);
    QVERIFY(again.waitForExit());
    QCOMPARE(again.process().exitCode(), 0);
}

void TestHeadless::refusesNetworkWithoutToken()
{
    QTemporaryDir home;
    Holdfast hf(home.path(), {QStringLiteral("--listen"), QStringLiteral("0.0.0.0:0"),
                              QStringLiteral("--store"), QStringLiteral("memory:")});
    QVERIFY(hf.waitForExit());
    QVERIFY(hf.process().exitCode() != 0);
    const QString out = QString::fromLocal8Bit(hf.process().readAllStandardOutput());
    const QString err = QString::fromLocal8Bit(hf.process().readAllStandardError());
    QVERIFY2(!out.contains(QStringLiteral("listening on")), qPrintable(out));
    QVERIFY2(err.contains(QStringLiteral("token")), qPrintable(err));
    QVERIFY2(err.contains(QStringLiteral("0.0.0.0")), qPrintable(err));
}

void TestHeadless::tokenFromEnvironment()
{
    QTemporaryDir home;
    QProcessEnvironment env;
    env.insert(QStringLiteral("HOLDFAST_TOKEN"), QStringLiteral("from-env"));
    // With a token, a non-loopback address is allowed.
    Holdfast hf(home.path(),
                {QStringLiteral("--listen"), QStringLiteral("0.0.0.0:0"), QStringLiteral("--store"),
                 QStringLiteral("memory:")},
                env);
    const QString line = hf.firstLine();
    QVERIFY2(line.startsWith(QStringLiteral("listening on http://0.0.0.0:")), qPrintable(line));
    const quint16 port = quint16(line.section(QLatin1Char(':'), -1).toUInt());
    HttpTestClient anon(port);
    QCOMPARE(anon.get("/healthz").status, 200);
    const HttpReply r = anon.get("/v1/sessions");
    QCOMPARE(r.status, 401);
    QVERIFY(r.hasErrorShape());
    HttpTestClient c(port, "from-env");
    QCOMPARE(c.get("/v1/sessions").status, 200);
    hf.signal(SIGTERM);
    QVERIFY(hf.waitForExit());
    QCOMPARE(hf.process().exitCode(), 0);
}

// `--cors-origin '*'` without a token would let any web page use the service: a usage error.
void TestHeadless::anyOriginNeedsToken()
{
    QTemporaryDir home;
    Holdfast hf(home.path(), {QStringLiteral("--listen"), QStringLiteral("127.0.0.1:0"),
                              QStringLiteral("--store"), QStringLiteral("memory:"),
                              QStringLiteral("--cors-origin"), QStringLiteral("*")});
    QVERIFY(hf.waitForExit());
    QCOMPARE(hf.process().exitStatus(), QProcess::NormalExit);
    const QString out = QString::fromLocal8Bit(hf.process().readAllStandardOutput());
    const QString err = QString::fromLocal8Bit(hf.process().readAllStandardError());
    QVERIFY2(hf.process().exitCode() == 2, qPrintable(err));
    QVERIFY2(!out.contains(QStringLiteral("listening on")), qPrintable(out));
    QVERIFY2(err.contains(QStringLiteral("--cors-origin '*'")), qPrintable(err));
    QVERIFY2(err.contains(QStringLiteral("--token")), qPrintable(err));

    QProcessEnvironment env;
    env.insert(QStringLiteral("HOLDFAST_TOKEN"), QStringLiteral("t"));
    Holdfast locked(home.path(),
                    {QStringLiteral("--listen"), QStringLiteral("127.0.0.1:0"),
                     QStringLiteral("--store"), QStringLiteral("memory:"),
                     QStringLiteral("--cors-origin"), QStringLiteral("*")},
                    env);
    const quint16 port = locked.waitForPort();
    QVERIFY(port != 0);
    HttpTestClient c(port, "t");
    QCOMPARE(c.call("GET", "/v1/sessions", {}, {{"Origin", "https://any.example"}}).status, 200);
}

void TestHeadless::allowedHost_data()
{
    QTest::addColumn<QStringList>("arguments");
    QTest::addColumn<QString>("environment"); // HOLDFAST_ALLOWED_HOST; null: not set
    QTest::addRow("flags") << QStringList{QStringLiteral("--allowed-host"),
                                          QStringLiteral("holdfast.test"),
                                          QStringLiteral("--allowed-host=other.test")}
                           << QString();
    QTest::addRow("environment") << QStringList() << QStringLiteral("holdfast.test, other.test");
}

// Without a token only a Host naming the server, or a name given with --allowed-host, is served.
void TestHeadless::allowedHost()
{
    QFETCH(QStringList, arguments);
    QFETCH(QString, environment);
    QTemporaryDir home;
    QProcessEnvironment env;
    if (!environment.isNull())
        env.insert(QStringLiteral("HOLDFAST_ALLOWED_HOST"), environment);
    Holdfast hf(home.path(), quickServer(home.filePath(QStringLiteral("h.db"))) + arguments, env);
    const quint16 port = hf.waitForPort();
    QVERIFY(port != 0);
    const QByteArray p = QByteArray::number(port);
    const QList<QPair<QByteArray, int>> cases{{"holdfast.test:" + p, 200},
                                              {"OTHER.test", 200},
                                              {"localhost:" + p, 200},
                                              {"evil.example:" + p, 403},
                                              {"holdfast.test:1", 403}};
    for (const auto &[host, status] : cases) {
        HttpTestClient c(port);
        c.sendRaw("GET /v1/sessions HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n");
        const HttpReply r = c.readReply();
        QVERIFY2(r.status == status,
                 qPrintable(QString::fromLatin1(host) + QStringLiteral(": %1 ").arg(r.status) +
                            QString::fromUtf8(r.body)));
        if (status == 403)
            QCOMPARE(r.errorCode(), QStringLiteral("forbidden"));
    }
    hf.signal(SIGTERM);
    QVERIFY(hf.waitForExit());
    QCOMPARE(hf.process().exitCode(), 0);
}

// The window's --listen goes through the same ServiceHost and HttpServer: the same rules.
void TestHeadless::windowListenHasTheSameRules()
{
    QTemporaryDir home;
    Holdfast window(home.path(),
                    {QStringLiteral("--listen"), QStringLiteral("127.0.0.1:0"),
                     QStringLiteral("--store"), QStringLiteral("memory:"),
                     QStringLiteral("--allowed-host"), QStringLiteral("holdfast.test")},
                    {}, false, Holdfast::Mode::Window);
    const QString line = window.firstLine();
    if (window.process().state() == QProcess::NotRunning &&
        window.process().readAllStandardError().contains("built without the window"))
        QSKIP("built without the window");
    const QRegularExpression re(QStringLiteral("^listening on http://127\\.0\\.0\\.1:(\\d+)$"));
    const auto match = re.match(line);
    QVERIFY2(match.hasMatch(), qPrintable(line));
    const QByteArray port = match.captured(1).toLatin1();
    auto status = [&](const QByteArray &fields) {
        HttpTestClient c(quint16(port.toUInt()));
        c.sendRaw("GET /v1/sessions HTTP/1.1\r\n" + fields + "Connection: close\r\n\r\n");
        return c.readReply().status;
    };
    QCOMPARE(status("Host: 127.0.0.1:" + port + "\r\n"), 200);
    QCOMPARE(status("Host: holdfast.test:" + port + "\r\n"), 200);
    QCOMPARE(status("Host: evil.example:" + port + "\r\n"), 403);
    QCOMPARE(status("Host: localhost\r\nOrigin: https://evil.example\r\n"), 403);
    window.signal(SIGTERM);
    QVERIFY(window.waitForExit());

    // '*' without a token: the window stays (it shows the error), the API is not served.
    Holdfast refused(home.path(),
                     {QStringLiteral("--listen"), QStringLiteral("127.0.0.1:0"),
                      QStringLiteral("--store"), QStringLiteral("memory:"),
                      QStringLiteral("--cors-origin"), QStringLiteral("*")},
                     {}, false, Holdfast::Mode::Window);
    QByteArray err;
    QVERIFY(spinUntil([&] {
        err += refused.process().readAllStandardError();
        return err.contains("--cors-origin '*'");
    }));
    QVERIFY(!refused.process().readAllStandardOutput().contains("listening on"));
}

QTEST_GUILESS_MAIN(TestHeadless)
#include "tst_headless.moc"
