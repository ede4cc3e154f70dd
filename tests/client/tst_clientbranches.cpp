// Branches through both clients (SessionClient): edit a prompt, regenerate an answer and switch
// the active branch, with LocalClient in-process and RemoteClient over a real socket against a
// real HttpServer on port 0; both must see the same tree.
#include "client/clientserver.h"
#include "client/localclient.h"
#include "client/remoteclient.h"
#include "core/providerregistry.h"
#include "core/sessionservice.h"
#include "core/store.h"
#include "fakes/branchpaths.h"
#include "fakes/testutil.h"
#include "http/httpserver.h"
#include "provider/demoprovider.h"

#include <QTest>

using namespace holdfast;
using holdfast::test::indexes;
using holdfast::test::list;

namespace {

// No token; a demo model of three chunks.
struct Server : test::ClientServer
{
    Server() : ClientServer({}, 3) {}
};

} // namespace

class TestClientBranches : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void editRegenerateAndSwitch_data()
    {
        QTest::addColumn<QString>("kind");
        QTest::addRow("local") << QStringLiteral("local");
        QTest::addRow("remote") << QStringLiteral("remote");
    }
    void editRegenerateAndSwitch()
    {
        QFETCH(QString, kind);
        Server srv;
        HF_CHECK_FIXTURE(srv);
        SessionClient *c = srv.client(kind);
        CreateSessionParams create;
        create.id = QStringLiteral("b");
        HF_AWAIT_OK(c->createSession(create));
        const auto run = [&](StartTurnParams p) -> TurnRecord {
            const auto started = test::awaitResult(c->startTurn(QStringLiteral("b"), p));
            if (!started.ok()) {
                qWarning() << started.error().message;
                return {};
            }
            const auto ended = test::awaitResult(
                srv.service->waitForTurn(QStringLiteral("b"), started->id, 20000));
            return ended.ok() ? ended.value() : TurnRecord{};
        };
        StartTurnParams p;
        p.prompt = QStringLiteral("Q0");
        QCOMPARE(run(p).responseIndex, 1);
        p.prompt = QStringLiteral("Q2");
        QCOMPARE(run(p).responseIndex, 3);

        // Edit Q2: a sibling of 2 after answer 1.
        p.prompt = QStringLiteral("Q2 edited");
        p.parent = 1;
        const TurnRecord edited = run(p);
        QCOMPARE(edited.promptIndex, 4);
        QCOMPARE(edited.responseIndex, 5);
        // Regenerate Q4's answer: no prompt.
        StartTurnParams r;
        r.regenerate = 4;
        const TurnRecord again = run(r);
        QCOMPARE(again.promptIndex, 4);
        QCOMPARE(again.responseIndex, 6);

        HF_AWAIT(s, c->session(QStringLiteral("b"), 30));
        QCOMPARE(s->value().meta.head, 6);
        QCOMPARE(s->value().meta.length, 4);
        QCOMPARE(s->value().meta.total, 7);
        QCOMPARE(indexes(s->value().history), list({0, 1, 4, 6}));
        QCOMPARE(s->value().history.at(2).parent, 1);
        QCOMPARE(s->value().history.at(2).siblings, list({2, 4}));
        QCOMPARE(s->value().history.at(3).siblings, list({5, 6}));

        // Switch back to the first version of Q2.
        PatchSessionParams patch;
        patch.head = 2;
        HF_AWAIT(patched, c->patchSession(QStringLiteral("b"), patch));
        QCOMPARE(patched->value().meta.head, 3);
        QCOMPARE(indexes(patched->value().history), list({0, 1, 2, 3}));
        HF_AWAIT(page, c->messages(QStringLiteral("b"), -1, 50));
        QCOMPARE(indexes(page->value().messages), list({0, 1, 2, 3}));
        QCOMPARE(page->value().total, 7);
        QCOMPARE(page->value().length, 4);

        // Errors travel as they are: a user message as parent is 422, regenerate + parent 400.
        StartTurnParams bad;
        bad.prompt = QStringLiteral("x");
        bad.parent = 0;
        HF_AWAIT(refused, c->startTurn(QStringLiteral("b"), bad));
        QVERIFY(!refused->ok());
        QCOMPARE(refused->error().code, ErrorCode::Invalid);
        StartTurnParams both;
        both.regenerate = 0;
        both.parent = -1;
        HF_AWAIT(refused2, c->startTurn(QStringLiteral("b"), both));
        QVERIFY(!refused2->ok());
        QCOMPARE(refused2->error().code, ErrorCode::BadRequest);
        patch.head = 99;
        HF_AWAIT(refused3, c->patchSession(QStringLiteral("b"), patch));
        QVERIFY(!refused3->ok());
        QCOMPARE(refused3->error().code, ErrorCode::Invalid);
    }
};

QTEST_GUILESS_MAIN(TestClientBranches)
#include "tst_clientbranches.moc"
