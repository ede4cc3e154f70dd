// Settings: file < environment < flags, where each value came from, errors that name the file
// and the key, secrets never printed; and the real binary's exit codes and request log lines.

#include "app/settings.h"

#include <QProcess>
#include <QRegularExpression>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>

using namespace holdfast;

namespace {

QProcessEnvironment cleanEnvironment()
{
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    const QStringList keys = env.keys();
    for (const QString &key : keys) {
        if (key.startsWith(QLatin1String("HOLDFAST_")))
            env.remove(key);
    }
    return env;
}

QString binary()
{
    return qEnvironmentVariable("HOLDFAST_BINARY");
}

} // namespace

class TestSettings : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_dir;

    QString writeConfig(const QString &name, const QByteArray &text)
    {
        const QString path = m_dir.filePath(name);
        QFile f(path);
        if (!f.open(QIODevice::WriteOnly | QIODevice::Truncate))
            return {};
        f.write(text);
        return path;
    }

private Q_SLOTS:
    void initTestCase() { QVERIFY(m_dir.isValid()); }

    void precedence()
    {
        const QString file = writeConfig(
            QStringLiteral("p.conf"),
            "demo-chunks = 3\ndemo-delay-ms = 7\nmodel = from-file\nlog-level = error\n");
        QProcessEnvironment env = cleanEnvironment();
        env.insert(QStringLiteral("HOLDFAST_DEMO_DELAY_MS"), QStringLiteral("8"));
        env.insert(QStringLiteral("HOLDFAST_MODEL"), QStringLiteral("from-env"));
        Settings s;
        QString error;
        QVERIFY2(s.load({QStringLiteral("holdfast"), QStringLiteral("--config"), file,
                         QStringLiteral("--model=from-flag")},
                        env, &error),
                 qPrintable(error));
        // file only
        QCOMPARE(s.integer(QStringLiteral("demo-chunks")), 3);
        QVERIFY(s.source(QStringLiteral("demo-chunks")).startsWith(QLatin1String("file ")));
        QVERIFY(s.source(QStringLiteral("demo-chunks")).contains(file));
        // environment beats file
        QCOMPARE(s.integer(QStringLiteral("demo-delay-ms")), 8);
        QCOMPARE(s.source(QStringLiteral("demo-delay-ms")),
                 QStringLiteral("environment HOLDFAST_DEMO_DELAY_MS"));
        // flag beats both
        QCOMPARE(s.value(QStringLiteral("model")), QStringLiteral("from-flag"));
        QCOMPARE(s.source(QStringLiteral("model")), QStringLiteral("flag --model"));
        // nothing said: the default
        QCOMPARE(s.value(QStringLiteral("provider")), QStringLiteral("demo"));
        QCOMPARE(s.source(QStringLiteral("provider")), QStringLiteral("default"));
        QCOMPARE(s.value(QStringLiteral("log-level")), QStringLiteral("error"));

        const QString printed = s.printConfig();
        QVERIFY(printed.contains(QStringLiteral("model = from-flag    # flag --model")));
        QVERIFY(printed.contains(
            QStringLiteral("demo-delay-ms = 8    # environment HOLDFAST_DEMO_DELAY_MS")));
    }

    void badValues_data()
    {
        QTest::addColumn<QByteArray>("file");
        QTest::addColumn<QStringList>("flags");
        QTest::addColumn<QString>("envName");
        QTest::addColumn<QString>("envValue");
        QTest::addColumn<QStringList>("mentions");

        QTest::newRow("file: not a number")
            << QByteArray("demo-chunks = many\n") << QStringList() << QString() << QString()
            << QStringList{QStringLiteral("b.conf"), QStringLiteral("'demo-chunks'"),
                           QStringLiteral("many")};
        QTest::newRow("file: unknown provider")
            << QByteArray("provider = gpt\n") << QStringList() << QString() << QString()
            << QStringList{QStringLiteral("b.conf"), QStringLiteral("'provider'"),
                           QStringLiteral("gpt")};
        QTest::newRow("environment: out of range")
            << QByteArray() << QStringList() << QStringLiteral("HOLDFAST_DEMO_CHUNKS")
            << QStringLiteral("-4")
            << QStringList{QStringLiteral("HOLDFAST_DEMO_CHUNKS"), QStringLiteral("-4")};
        QTest::newRow("flag: bad log level")
            << QByteArray() << QStringList{QStringLiteral("--log-level=loud")} << QString()
            << QString() << QStringList{QStringLiteral("--log-level"), QStringLiteral("loud")};
        QTest::newRow("flag: unknown option")
            << QByteArray() << QStringList{QStringLiteral("--colour")} << QString() << QString()
            << QStringList{QStringLiteral("--colour")};
        QTest::newRow("flag: missing value")
            << QByteArray() << QStringList{QStringLiteral("--store")} << QString() << QString()
            << QStringList{QStringLiteral("--store"), QStringLiteral("needs a value")};
        QTest::newRow("flag: allowed-host with a port")
            << QByteArray() << QStringList{QStringLiteral("--allowed-host=holdfast.test:8080")}
            << QString() << QString()
            << QStringList{QStringLiteral("--allowed-host"), QStringLiteral("holdfast.test:8080"),
                           QStringLiteral("without a port")};
        QTest::newRow("environment: allowed-host URL")
            << QByteArray() << QStringList() << QStringLiteral("HOLDFAST_ALLOWED_HOST")
            << QStringLiteral("a.test, http://b.test")
            << QStringList{QStringLiteral("HOLDFAST_ALLOWED_HOST"),
                           QStringLiteral("'http://b.test'")};
        QTest::newRow("file: allowed-host with a space")
            << QByteArray("allowed-host = a.test, b c\n") << QStringList() << QString() << QString()
            << QStringList{QStringLiteral("b.conf"), QStringLiteral("'allowed-host'"),
                           QStringLiteral("'b c'")};
    }

    void badValues()
    {
        QFETCH(QByteArray, file);
        QFETCH(QStringList, flags);
        QFETCH(QString, envName);
        QFETCH(QString, envValue);
        QFETCH(QStringList, mentions);
        const QString path = writeConfig(QStringLiteral("b.conf"), file);
        QProcessEnvironment env = cleanEnvironment();
        if (!envName.isEmpty())
            env.insert(envName, envValue);
        Settings s;
        QString error;
        QVERIFY(!s.load(QStringList{QStringLiteral("holdfast"), QStringLiteral("--config"), path} +
                            flags,
                        env, &error));
        for (const QString &m : mentions)
            QVERIFY2(error.contains(m), qPrintable(error));
    }

    // A list option: repeatable flags gather, the environment and the file give comma-separated
    // lists, and the highest source replaces the lower ones' list as for any option.
    void listOption_data()
    {
        QTest::addColumn<QByteArray>("file");
        QTest::addColumn<QString>("env"); // HOLDFAST_ALLOWED_HOST; null: not set
        QTest::addColumn<QStringList>("flags");
        QTest::addColumn<QStringList>("expected");
        QTest::addColumn<QString>("source");

        const QByteArray file = "allowed-host = a.test, B.test\n";
        QTest::addRow("default") << QByteArray() << QString() << QStringList() << QStringList()
                                 << QStringLiteral("default");
        QTest::addRow("file") << file << QString() << QStringList()
                              << QStringList{QStringLiteral("a.test"), QStringLiteral("B.test")}
                              << QStringLiteral("file ");
        QTest::addRow("file, one item")
            << QByteArray("allowed-host = solo.test\n") << QString() << QStringList()
            << QStringList{QStringLiteral("solo.test")} << QStringLiteral("file ");
        QTest::addRow("environment beats file")
            << file << QStringLiteral(" x.test,y.test ,, ") << QStringList()
            << QStringList{QStringLiteral("x.test"), QStringLiteral("y.test")}
            << QStringLiteral("environment HOLDFAST_ALLOWED_HOST");
        QTest::addRow("repeated flags beat both")
            << file << QStringLiteral("x.test")
            << QStringList{QStringLiteral("--allowed-host"), QStringLiteral("f1.test"),
                           QStringLiteral("--allowed-host=f2.test")}
            << QStringList{QStringLiteral("f1.test"), QStringLiteral("f2.test")}
            << QStringLiteral("flag --allowed-host");
        QTest::addRow("a flag with commas")
            << QByteArray() << QString()
            << QStringList{QStringLiteral("--allowed-host"), QStringLiteral("c1.test,c2.test"),
                           QStringLiteral("--allowed-host"), QStringLiteral("c3.test")}
            << QStringList{QStringLiteral("c1.test"), QStringLiteral("c2.test"),
                           QStringLiteral("c3.test")}
            << QStringLiteral("flag --allowed-host");
        QTest::addRow("addresses")
            << QByteArray() << QStringLiteral("10.0.0.7, [fd00::7], fe80::1") << QStringList()
            << QStringList{QStringLiteral("10.0.0.7"), QStringLiteral("[fd00::7]"),
                           QStringLiteral("fe80::1")}
            << QStringLiteral("environment HOLDFAST_ALLOWED_HOST");
    }
    void listOption()
    {
        QFETCH(QByteArray, file);
        QFETCH(QString, env);
        QFETCH(QStringList, flags);
        QFETCH(QStringList, expected);
        QFETCH(QString, source);
        const QString path = writeConfig(QStringLiteral("l.conf"), file);
        QProcessEnvironment environment = cleanEnvironment();
        if (!env.isNull())
            environment.insert(QStringLiteral("HOLDFAST_ALLOWED_HOST"), env);
        Settings s;
        QString error;
        QVERIFY2(s.load(QStringList{QStringLiteral("holdfast"), QStringLiteral("--config"), path} +
                            flags,
                        environment, &error),
                 qPrintable(error));
        QCOMPARE(s.list(QStringLiteral("allowed-host")), expected);
        QVERIFY2(s.source(QStringLiteral("allowed-host")).startsWith(source),
                 qPrintable(s.source(QStringLiteral("allowed-host"))));
        const QString line =
            QStringLiteral("\nallowed-host = %1    # ").arg(expected.join(QStringLiteral(", ")));
        QVERIFY2(s.printConfig().contains(line), qPrintable(s.printConfig()));
    }

    void listOptionInHelp()
    {
        const QString help = Settings::helpText();
        QVERIFY2(help.contains(QRegularExpression(QStringLiteral("--allowed-host NAME +\\S"))),
                 qPrintable(help));
        QVERIFY(help.contains(QStringLiteral("repeatable")));
    }

    void unknownKeyIsReported()
    {
        const QString path =
            writeConfig(QStringLiteral("u.conf"), "demo-chunks = 2\ncolour = blue\n");
        Settings s;
        QString error;
        QVERIFY2(s.load({QStringLiteral("holdfast"), QStringLiteral("--config"), path},
                        cleanEnvironment(), &error),
                 qPrintable(error));
        QCOMPARE(s.integer(QStringLiteral("demo-chunks")), 2);
        QCOMPARE(s.warnings().size(), 1);
        QVERIFY(s.warnings().first().contains(path));
        QVERIFY(s.warnings().first().contains(QStringLiteral("'colour'")));
    }

    void missingConfigFileGivenExplicitly()
    {
        Settings s;
        QString error;
        QVERIFY(!s.load({QStringLiteral("holdfast"), QStringLiteral("--config"),
                         m_dir.filePath(QStringLiteral("absent.conf"))},
                        cleanEnvironment(), &error));
        QVERIFY(error.contains(QStringLiteral("absent.conf")));
    }

    void secretsAreMasked()
    {
        // A quoted value may hold line breaks (found by fuzz_settings): printed escaped, on its
        // own line, it cannot pass for other settings. A provider URL's password is masked too.
        const QString path = writeConfig(QStringLiteral("s.conf"),
                                         "model = \"m1\ntoken = fake\"\n"
                                         "[provider.lab]\nkind = openai\napi-key = filekey123\n"
                                         "base-url = http://u:urlpw111@10.0.0.7:8000/v1\n"
                                         "[provider.typo]\nkind = openai\n"
                                         "base-url = http://u:urlpw222@[10.0.0.7:8000/v1\n");
        QProcessEnvironment env = cleanEnvironment();
        env.insert(QStringLiteral("HOLDFAST_TOKEN"), QStringLiteral("envtoken456"));
        Settings s;
        QString error;
        QVERIFY2(s.load({QStringLiteral("holdfast"), QStringLiteral("--config"), path,
                         QStringLiteral("--api-key=flagkey789"),
                         QStringLiteral("--store=redis://:redispw000@127.0.0.1:6379/0")},
                        env, &error),
                 qPrintable(error));
        QCOMPARE(s.value(QStringLiteral("token")), QStringLiteral("envtoken456"));
        const QString printed = s.printConfig();
        for (const char *secret :
             {"filekey123", "envtoken456", "flagkey789", "redispw000", "urlpw111", "urlpw222"})
            QVERIFY2(!printed.contains(QLatin1String(secret)), secret);
        QCOMPARE(s.value(QStringLiteral("model")), QStringLiteral("m1\ntoken = fake"));
        QVERIFY2(printed.contains(QStringLiteral("model = m1\\ntoken = fake    # file")),
                 qPrintable(printed));
        for (const QString &line : printed.split(u'\n')) {
            if (line.startsWith(QLatin1String("token = ")))
                QVERIFY2(line.startsWith(QLatin1String("token = ********")), qPrintable(line));
        }
        QVERIFY(printed.contains(QStringLiteral("127.0.0.1:6379/0")));
        QVERIFY(printed.contains(QStringLiteral("[provider.lab]")));
    }

    // The real program: exit codes as the man page documents them.
    void binaryExitCodes()
    {
        if (binary().isEmpty())
            QSKIP("HOLDFAST_BINARY is not set (run through ctest)");
        const QString bad = writeConfig(QStringLiteral("x.conf"), "max-body-bytes = lots\n");
        struct Case
        {
            QStringList args;
            int code;
            QString stdoutHas;
            QString stderrHas;
        };
        const QList<Case> cases{
            {{QStringLiteral("--version")}, 0, QStringLiteral("holdfast "), {}},
            {{QStringLiteral("--help")}, 0, QStringLiteral("Usage: holdfast"), {}},
            {{QStringLiteral("--frobnicate")}, 2, {}, QStringLiteral("--frobnicate")},
            {{QStringLiteral("--config"), bad, QStringLiteral("--print-config")},
             2,
             {},
             QStringLiteral("'max-body-bytes'")},
            {{QStringLiteral("--headless"), QStringLiteral("--listen"), QStringLiteral("0.0.0.0:0"),
              QStringLiteral("--store"), QStringLiteral("memory:")},
             2,
             {},
             QStringLiteral("token")},
        };
        for (const Case &c : cases) {
            QProcess p;
            p.setProcessEnvironment(cleanEnvironment());
            p.start(binary(), c.args);
            QVERIFY(p.waitForFinished(20000));
            const QString out = QString::fromLocal8Bit(p.readAllStandardOutput());
            const QString err = QString::fromLocal8Bit(p.readAllStandardError());
            QVERIFY2(
                p.exitCode() == c.code,
                qPrintable(c.args.join(u' ') + QStringLiteral(" -> %1: ").arg(p.exitCode()) + err));
            if (!c.stdoutHas.isEmpty())
                QVERIFY2(out.contains(c.stdoutHas), qPrintable(out));
            if (!c.stderrHas.isEmpty())
                QVERIFY2(err.contains(c.stderrHas), qPrintable(err));
        }
    }

    // Headless mode logs one line per request (method, path, status, duration) and never the
    // prompt's text or the token.
    void requestLogLines()
    {
        if (binary().isEmpty())
            QSKIP("HOLDFAST_BINARY is not set (run through ctest)");
        QProcess p;
        QProcessEnvironment env = cleanEnvironment();
        env.insert(QStringLiteral("HOLDFAST_TOKEN"), QStringLiteral("tok-SECRET-42"));
        p.setProcessEnvironment(env);
        p.start(binary(), {QStringLiteral("--headless"), QStringLiteral("--listen"),
                           QStringLiteral("127.0.0.1:0"), QStringLiteral("--store"),
                           QStringLiteral("memory:"), QStringLiteral("--demo-delay-ms"),
                           QStringLiteral("0")});
        QVERIFY(p.waitForStarted());
        QVERIFY(p.waitForReadyRead(20000));
        const QString first = QString::fromLocal8Bit(p.readLine()).trimmed();
        const QRegularExpression re(QRegularExpression::anchoredPattern(
            QStringLiteral("listening on http://127\\.0\\.0\\.1:(\\d+)")));
        const auto m = re.match(first);
        QVERIFY2(m.hasMatch(), qPrintable(first));
        const quint16 port = quint16(m.captured(1).toUInt());

        const QByteArray body = R"({"prompt":"my very private prompt text"})";
        QTcpSocket socket;
        socket.connectToHost(QStringLiteral("127.0.0.1"), port);
        QVERIFY(socket.waitForConnected(5000));
        socket.write(
            "POST /v1/sessions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer tok-SECRET-42"
            "\r\nContent-Type: application/json\r\nContent-Length: 10\r\n\r\n{\"id\":\"s\"}");
        socket.write("POST /v1/sessions/s/turns HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
                     "tok-SECRET-42\r\nContent-Type: application/json\r\nConnection: close\r\n"
                     "Content-Length: " +
                     QByteArray::number(body.size()) + "\r\n\r\n" + body);
        QByteArray answer;
        while (socket.state() == QAbstractSocket::ConnectedState && socket.waitForReadyRead(5000))
            answer += socket.readAll();
        answer += socket.readAll();
        QVERIFY2(answer.startsWith("HTTP/1.1 201"), answer.constData());
        QVERIFY2(answer.contains("HTTP/1.1 202"), answer.constData());

        p.terminate();
        QVERIFY(p.waitForFinished(20000));
        QCOMPARE(p.exitCode(), 0);
        const QString log = QString::fromLocal8Bit(p.readAllStandardError());
        QVERIFY2(QRegularExpression(QStringLiteral("POST /v1/sessions 201 \\d+ ms"))
                     .match(log)
                     .hasMatch(),
                 qPrintable(log));
        QVERIFY2(QRegularExpression(QStringLiteral("POST /v1/sessions/s/turns 202 \\d+ ms"))
                     .match(log)
                     .hasMatch(),
                 qPrintable(log));
        QVERIFY(log.contains(QStringLiteral("holdfast.http")));
        QVERIFY(!log.contains(QStringLiteral("private prompt")));
        QVERIFY(!log.contains(QStringLiteral("SECRET")));
    }
};

QTEST_GUILESS_MAIN(TestSettings)
#include "tst_settings.moc"
