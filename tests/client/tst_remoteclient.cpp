// RemoteClient (the window's --connect client) against a server that redirects: no request, and
// so no token, ever goes to the other origin, and the redirect is an error that names it.
#include "client/remoteclient.h"
#include "fakes/fakemodelserver.h"
#include "fakes/testutil.h"

#include <QSignalSpy>
#include <QTest>

using namespace holdfast;
using holdfast::test::FakeModelServer;

class TestRemoteClient : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase() { qRegisterMetaType<TurnRecord>(); }

    void redirectsAreNotFollowed_data()
    {
        QTest::addColumn<int>("status");
        for (int status : {301, 302, 307, 308})
            QTest::addRow("%d", status) << status;
    }

    void redirectsAreNotFollowed()
    {
        QFETCH(int, status);
        FakeModelServer server;    // answers every request with the redirect
        FakeModelServer elsewhere; // another origin: must see nothing
        QVERIFY(server.listen());
        QVERIFY(elsewhere.listen());
        const QString origin = QStringLiteral("http://localhost:%1").arg(elsewhere.port());
        server.script.status = status;
        server.script.location = (origin + QStringLiteral("/v1/sessions")).toUtf8();
        RemoteClient client(QUrl(QStringLiteral("http://127.0.0.1:%1").arg(server.port())),
                            QStringLiteral("s3cret"));

        const auto check = [&](const Error &error) {
            QCOMPARE(error.code, ErrorCode::UpstreamError);
            QVERIFY2(error.message.contains(QStringLiteral("redirected to %1").arg(origin)),
                     qPrintable(error.message));
        };
        HF_AWAIT(listed, client.listSessions({}, 50, 0));
        QVERIFY(listed && !listed->ok());
        check(listed->error());
        HF_AWAIT(created, client.createSession({})); // a POST
        QVERIFY(created && !created->ok());
        check(created->error());
        StartTurnParams p;
        p.prompt = QStringLiteral("secret prompt");
        HF_AWAIT(started, client.startTurn(QStringLiteral("s1"), p));
        QVERIFY(started && !started->ok());
        check(started->error());

        // The event stream of a turn ends with the redirect as its error, without retrying.
        QSignalSpy finished(&client, &SessionClient::turnFinished);
        client.watchTurn(QStringLiteral("s1"), 1, 0);
        QVERIFY(finished.wait(10000));
        const auto turn = finished.first().first().value<TurnRecord>();
        QCOMPARE(turn.state, TurnRecord::State::Error);
        QCOMPARE(turn.errorCode, QStringLiteral("upstream_error"));
        QVERIFY2(turn.errorMessage.contains(origin), qPrintable(turn.errorMessage));

        QTest::qWait(300);
        QCOMPARE(elsewhere.requests.size(), 0);
        QVERIFY(server.requests.size() >= 4);
        QCOMPARE(server.requests.first().headers.value("authorization"),
                 QByteArray("Bearer s3cret"));
    }
};

QTEST_GUILESS_MAIN(TestRemoteClient)
#include "tst_remoteclient.moc"
