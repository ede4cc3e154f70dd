// Crash consistency of the conversation tree: the real binary on a SQLite file is killed with
// SIGKILL while an answer streams on an edited branch (and on a regenerated one), then restarted
// on the same file. After the restart `head` is a message that exists, the interrupted answer
// follows its turn's prompt (on the branch where the turn ran), and the other branch is intact.
#include "fakes/branchpaths.h"
#include "fakes/holdfastprocess.h"
#include "fakes/httptestclient.h"
#include "fakes/testutil.h"

#include <QJsonArray>
#include <QTemporaryDir>
#include <QTest>

#include <csignal>

using namespace holdfast;
using holdfast::test::HoldfastProcess;
using holdfast::test::HttpReply;
using holdfast::test::HttpTestClient;
using holdfast::test::indexes;
using holdfast::test::list;
using holdfast::test::spinUntil;

namespace {

QStringList serverArgs(const QString &db, int delayMs)
{
    return {QStringLiteral("--listen"),        QStringLiteral("127.0.0.1:0"),
            QStringLiteral("--store"),         QStringLiteral("sqlite:") + db,
            QStringLiteral("--log-level"),     QStringLiteral("warning"),
            QStringLiteral("--demo-delay-ms"), QString::number(delayMs),
            QStringLiteral("--demo-chunks"),   QStringLiteral("40")};
}

} // namespace

class TestCrashBranches : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void killedMidAnswer_data()
    {
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<qint64>("prompt");      // the turn's prompt_index
        QTest::addColumn<QList<qint64>>("path"); // the branch after the restart
        // The session holds Q0 A1 Q2 A3 before the killed turn.
        QTest::addRow("edited prompt") << QByteArray(R"({"prompt":"Q2 edited","parent":1})")
                                       << qint64(4) << list({0, 1, 4, 5});
        QTest::addRow("regenerated answer")
            << QByteArray(R"({"regenerate":2})") << qint64(2) << list({0, 1, 2, 4});
    }
    void killedMidAnswer()
    {
        QFETCH(QByteArray, body);
        QFETCH(qint64, prompt);
        QFETCH(QList<qint64>, path);
        QTemporaryDir home;
        QVERIFY(home.isValid());
        const QString db = home.filePath(QStringLiteral("tree.db"));
        {
            HoldfastProcess hf(home.path(), serverArgs(db, 1));
            const quint16 port = hf.waitForPort();
            QVERIFY(port != 0);
            HttpTestClient c(port);
            QCOMPARE(c.post("/v1/sessions", {{QStringLiteral("id"), QStringLiteral("t")}}).status,
                     201);
            for (const QString &q : {QStringLiteral("Q0"), QStringLiteral("Q2")}) {
                const HttpReply r = c.post("/v1/sessions/t/turns", {{QStringLiteral("prompt"), q}});
                QCOMPARE(r.status, 202);
                const QByteArray turn =
                    "/v1/sessions/t/turns/" +
                    QByteArray::number(r.json().value(QStringLiteral("id")).toInt());
                QVERIFY(spinUntil(
                    [&] {
                        return c.get(turn).json().value(QStringLiteral("state")).toString() ==
                               QLatin1String("done");
                    },
                    20000));
            }
            hf.kill9();
            QVERIFY(hf.waitForExit());
        }
        {
            // Slow now: the killed turn has some chunks stored, not all.
            HoldfastProcess hf(home.path(), serverArgs(db, 50));
            const quint16 port = hf.waitForPort();
            QVERIFY(port != 0);
            HttpTestClient c(port);
            const HttpReply r = c.call("POST", "/v1/sessions/t/turns", body);
            QCOMPARE(r.status, 202);
            QCOMPARE(r.json().value(QStringLiteral("prompt_index")).toInteger(), prompt);
            const QByteArray chunks =
                "/v1/sessions/t/turns/" +
                QByteArray::number(r.json().value(QStringLiteral("id")).toInt()) +
                "/chunks?from=2&wait=5000";
            QVERIFY(!c.get(chunks).json().value(QStringLiteral("chunks")).toArray().isEmpty());
            hf.kill9();
            QVERIFY(hf.waitForExit());
        }
        HoldfastProcess hf(home.path(), serverArgs(db, 1));
        const quint16 port = hf.waitForPort();
        QVERIFY(port != 0);
        HttpTestClient c(port);
        const QJsonObject s = c.get("/v1/sessions/t").json();
        QCOMPARE(s.value(QStringLiteral("total")).toInt(), 6 - (prompt == 2 ? 1 : 0));
        const QJsonArray history = s.value(QStringLiteral("history")).toArray();
        QCOMPARE(indexes(history), path);
        QCOMPARE(s.value(QStringLiteral("head")).toInteger(), path.last());
        QCOMPARE(s.value(QStringLiteral("length")).toInteger(), path.size());
        const QJsonObject answer = history.last().toObject();
        QCOMPARE(answer.value(QStringLiteral("parent")).toInteger(), prompt);
        QCOMPARE(answer.value(QStringLiteral("state")).toString(), QStringLiteral("interrupted"));
        QVERIFY(!answer.value(QStringLiteral("content")).toString().isEmpty());
        // The branch the edit or the regeneration left is intact.
        const HttpReply switched = c.patch("/v1/sessions/t", {{QStringLiteral("head"), 3}});
        QCOMPARE(switched.status, 200);
        QCOMPARE(indexes(switched.json().value(QStringLiteral("history")).toArray()),
                 list({0, 1, 2, 3}));
    }
};

QTEST_GUILESS_MAIN(TestCrashBranches)
#include "tst_crashbranches.moc"
