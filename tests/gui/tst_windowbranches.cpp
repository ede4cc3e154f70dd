// Conversation branches in the window (shared/API.md "Branches"): the pencil edits a sent prompt
// into a new version, Regenerate (and Retry) answer again, ‹ n/N › and Alt+Left/Right switch
// versions, the bounded view stays bounded and in branch order; screenshots of both.
#include "client/remoteclient.h"
#include "fakes/holdfastprocess.h"
#include "gui/darkpalette.h"
#include "gui/sessionexport.h"
#include "gui/windowfixture.h"

#include <QApplication>
#include <QComboBox>
#include <QDir>
#include <QFile>
#include <QFrame>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QScopeGuard>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTextBlock>
#include <QTextDocument>
#include <QTextFragment>

using namespace holdfast;
using holdfast::test::Fixture;
using holdfast::test::spinUntil;

namespace {

// The hrefs of the view's own links that start with `prefix` ("hf-edit:0?"), in document order.
QStringList linksStartingWith(const QTextDocument *document, const QString &prefix)
{
    QStringList found;
    for (QTextBlock block = document->begin(); block.isValid(); block = block.next()) {
        for (auto it = block.begin(); !it.atEnd(); ++it) {
            const QString href = it.fragment().charFormat().anchorHref();
            if (href.startsWith(prefix))
                found << href;
        }
    }
    return found;
}

// Clicks the view's link `scheme:target` as the reader would (the href with the view's key).
bool click(ChatView *view, const QString &scheme, qint64 target)
{
    const QStringList links =
        linksStartingWith(view->document(), QStringLiteral("%1:%2?").arg(scheme).arg(target));
    if (links.isEmpty())
        return false;
    Q_EMIT view->anchorClicked(QUrl(links.last()));
    return true;
}

QString shotsDir()
{
    const QString dir =
        qEnvironmentVariable("HOLDFAST_SHOTS_DIR", QStringLiteral(HOLDFAST_TEST_OUTPUT_DIR));
    QDir().mkpath(dir);
    return dir;
}

} // namespace

class TestWindowBranches : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void editMakesANewVersion();
    void upEditsLastPromptAndEscCancels();
    void regenerateAndSwitchVersions();
    void versionSwitchKeepsTheViewBounded();
    void remoteWindowEditsAndSwitches();
    void forgedControlLinksDoNothing();
    void exportBranchAndTree();
    void screenshots_data();
    void screenshots();

private:
    QTemporaryDir m_home;
};

void TestWindowBranches::initTestCase()
{
    QVERIFY(test::isolateHome(m_home));
}

void TestWindowBranches::editMakesANewVersion()
{
    Fixture f;
    HF_CHECK_FIXTURE(f);
    QSignalSpy finished(f.client, &SessionClient::turnFinished);
    f.type(QStringLiteral("What is the capitl of France?"));
    QVERIFY(spinUntil([&] { return finished.count() == 1; }));
    const QString sid = f.pane()->sessionId();

    // The pencil under the prompt: the composer shows it, with the Editing bar.
    QVERIFY(click(f.view(), QStringLiteral("hf-edit"), 0));
    QVERIFY(f.pane()->isEditing());
    QVERIFY(f.pane()->editBar()->isVisible());
    QCOMPARE(f.composer()->toPlainText(), QStringLiteral("What is the capitl of France?"));
    f.composer()->selectAll();
    QTest::keyClicks(f.composer(), QStringLiteral("What is the capital of France?"));
    QTest::keyClick(f.composer(), Qt::Key_Return);
    QVERIFY(spinUntil([&] { return finished.count() == 2; }));
    QVERIFY(!f.pane()->isEditing());
    QCOMPARE(f.composer()->toPlainText(), QString());

    // Stored: a second first message next to the old one, and its answer; the old one is kept.
    const QList<Message> branch = f.stored(sid);
    QCOMPARE(branch.size(), 2);
    QCOMPARE(branch.at(0).content, QStringLiteral("What is the capital of France?"));
    QCOMPARE(branch.at(0).parent, -1);
    QCOMPARE(branch.at(0).siblings, (QList<qint64>{0, 2}));
    HF_AWAIT(session, f.service->session(sid, 0));
    QVERIFY(session->ok());
    QCOMPARE(session->value().meta.total, 4);
    // The sidebar counts the messages of the branch shown (2), not of every branch (4).
    QVERIFY(spinUntil([&] {
        const int row = f.list()->rowOf(sid);
        return row >= 0 && f.list()->at(row).total == 4;
    }));
    const QModelIndex listed = f.list()->index(f.list()->rowOf(sid));
    QCOMPARE(f.list()->data(listed, SessionListModel::LengthRole).toLongLong(), 2);
    // The tooltip is rich text: its spaces may come as no-break spaces.
    const QString tip =
        f.list()->data(listed, Qt::ToolTipRole).toString().replace(QChar::Nbsp, u' ');
    QVERIFY2(tip.contains(QLatin1String("2 messages")), qPrintable(tip));
    // The view: the new version only, once, with ‹ 2/2 ›.
    QVERIFY(spinUntil([&] { return f.view()->toPlainText().contains(QLatin1String("2/2")); }));
    const QString shown = f.view()->toPlainText();
    QVERIFY(!shown.contains(QLatin1String("capitl")));
    QCOMPARE(f.view()->messageCount(), 2);
    QCOMPARE(f.view()->shownMessage(2)->content, QStringLiteral("What is the capital of France?"));

    // ‹ goes back to the first version: its prompt and its answer.
    QVERIFY(click(f.view(), QStringLiteral("hf-version"), 0));
    QVERIFY(spinUntil([&] { return f.view()->toPlainText().contains(QLatin1String("capitl")); }));
    QVERIFY(f.view()->toPlainText().contains(QLatin1String("1/2")));
    QVERIFY(!f.view()->toPlainText().contains(QLatin1String("capital of France")));
    QCOMPARE(f.view()->messageCount(), 2);
    HF_AWAIT(switched, f.service->session(sid, 0));
    QCOMPARE(switched->value().meta.head, 1);
}

void TestWindowBranches::upEditsLastPromptAndEscCancels()
{
    Fixture f;
    HF_CHECK_FIXTURE(f);
    QSignalSpy finished(f.client, &SessionClient::turnFinished);
    f.type(QStringLiteral("First prompt"));
    QVERIFY(spinUntil([&] { return finished.count() == 1; }));
    f.type(QStringLiteral("Second prompt"));
    QVERIFY(spinUntil([&] { return finished.count() == 2; }));

    // Up in the empty composer edits the last prompt; Esc leaves it, the composer empty again.
    QTest::keyClick(f.composer(), Qt::Key_Up);
    QVERIFY(f.pane()->isEditing());
    QCOMPARE(f.pane()->editedIndex(), 2);
    QCOMPARE(f.composer()->toPlainText(), QStringLiteral("Second prompt"));
    QTest::keyClick(f.composer(), Qt::Key_Escape);
    QVERIFY(!f.pane()->isEditing());
    QVERIFY(!f.pane()->editBar()->isVisible());
    QCOMPARE(f.composer()->toPlainText(), QString());

    // A draft is put aside while editing and comes back after Esc; it is not overwritten.
    QTest::keyClicks(f.composer(), QStringLiteral("half-written"));
    QVERIFY(click(f.view(), QStringLiteral("hf-edit"), 0));
    QCOMPARE(f.composer()->toPlainText(), QStringLiteral("First prompt"));
    QTest::keyClick(f.composer(), Qt::Key_Escape);
    QCOMPARE(f.composer()->toPlainText(), QStringLiteral("half-written"));
    QCOMPARE(f.stored(f.pane()->sessionId()).size(), 4); // nothing was sent
}

void TestWindowBranches::regenerateAndSwitchVersions()
{
    Fixture f;
    HF_CHECK_FIXTURE(f);
    f.pane()->modelPicker()->setCurrentText(QStringLiteral("scripted"));
    f.scripted->script.chunks = {QStringLiteral("Answer one.")};
    QSignalSpy finished(f.client, &SessionClient::turnFinished);
    f.type(QStringLiteral("Tell me something"));
    QVERIFY(spinUntil([&] { return finished.count() == 1; }));
    const QString sid = f.pane()->sessionId();

    f.scripted->script.chunks = {QStringLiteral("Answer two.")};
    QVERIFY(click(f.view(), QStringLiteral("hf-regen"), 1));
    QVERIFY(spinUntil([&] { return finished.count() == 2; }));
    QCOMPARE(finished.last().first().value<TurnRecord>().promptIndex, 0);
    QVERIFY(spinUntil([&] { return f.view()->toPlainText().contains(QLatin1String("2/2")); }));
    QVERIFY(f.view()->toPlainText().contains(QLatin1String("Answer two.")));
    QVERIFY(!f.view()->toPlainText().contains(QLatin1String("Answer one.")));
    QCOMPARE(f.view()->toPlainText().count(QLatin1String("Tell me something")), 1);

    // Ctrl+Shift+R: a third version.
    f.scripted->script.chunks = {QStringLiteral("Answer three.")};
    QTest::keySequence(f.window.get(), QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_R));
    QVERIFY(spinUntil([&] { return finished.count() == 3; }));
    QVERIFY(spinUntil([&] { return f.view()->toPlainText().contains(QLatin1String("3/3")); }));
    QCOMPARE(f.stored(sid).size(), 2);

    // Alt+Left twice: the first answer; Alt+Right: the second.
    QTest::keySequence(f.window.get(), QKeySequence(Qt::ALT | Qt::Key_Left));
    QVERIFY(spinUntil([&] { return f.view()->toPlainText().contains(QLatin1String("2/3")); }));
    QVERIFY(f.view()->toPlainText().contains(QLatin1String("Answer two.")));
    QTest::keySequence(f.window.get(), QKeySequence(Qt::ALT | Qt::Key_Left));
    QVERIFY(spinUntil([&] { return f.view()->toPlainText().contains(QLatin1String("1/3")); }));
    QVERIFY(f.view()->toPlainText().contains(QLatin1String("Answer one.")));
    QTest::keySequence(f.window.get(), QKeySequence(Qt::ALT | Qt::Key_Right));
    QVERIFY(spinUntil([&] { return f.view()->toPlainText().contains(QLatin1String("2/3")); }));
    QCOMPARE(f.view()->messageCount(), 2);
    HF_AWAIT(session, f.service->session(sid, 0));
    QCOMPARE(session->value().meta.head, 2);
}

// A chat longer than the view holds: switching the version of a message high up keeps the view
// within maxShown() messages, each shown message the parent of the next.
void TestWindowBranches::versionSwitchKeepsTheViewBounded()
{
    Fixture f(1, 0);
    HF_CHECK_FIXTURE(f);
    f.view()->setMaxShown(6);
    QSignalSpy finished(f.client, &SessionClient::turnFinished);
    for (int i = 0; i < 6; ++i) {
        f.type(QStringLiteral("Prompt %1").arg(i));
        QVERIFY(spinUntil([&] { return finished.count() == i + 1; }));
    }
    const QString sid = f.pane()->sessionId();
    // Edit prompt 4 (index 8): a second version, then back to the first.
    QVERIFY(click(f.view(), QStringLiteral("hf-edit"), 8));
    f.composer()->selectAll();
    QTest::keyClicks(f.composer(), QStringLiteral("Prompt 4, again"));
    QTest::keyClick(f.composer(), Qt::Key_Return);
    QVERIFY(spinUntil([&] { return finished.count() == 7; }));
    QVERIFY(spinUntil([&] { return f.view()->toPlainText().contains(QLatin1String("2/2")); }));
    QVERIFY(click(f.view(), QStringLiteral("hf-version"), 8));
    QVERIFY(spinUntil([&] { return f.view()->toPlainText().contains(QLatin1String("1/2")); }));
    QVERIFY(spinUntil([&] { return f.view()->toPlainText().contains(QLatin1String("Prompt 5")); }));
    QVERIFY(f.view()->messageCount() <= 6);
    QVERIFY(f.view()->hasOlder());
    const QList<Message> branch = f.stored(sid);
    QCOMPARE(branch.size(), 12);
    // What the view shows is the newest part of the active branch, in its order.
    QCOMPARE(f.view()->lastIndex(), branch.last().index);
    for (qint64 i = f.view()->firstIndex(); i != f.view()->lastIndex();) {
        const auto next = std::find_if(branch.cbegin(), branch.cend(),
                                       [i](const Message &m) { return m.parent == i; });
        QVERIFY(next != branch.cend());
        QVERIFY2(f.view()->shownMessage(next->index), qPrintable(QString::number(next->index)));
        i = next->index;
    }
    QVERIFY(!f.view()->toPlainText().contains(QLatin1String("again")));
}

// The same window on a real `holdfast --headless` over HTTP: edit, then the other version.
void TestWindowBranches::remoteWindowEditsAndSwitches()
{
    if (qEnvironmentVariableIsEmpty("HOLDFAST_BINARY"))
        QSKIP("HOLDFAST_BINARY is not set (run through ctest)");
    QTemporaryDir home;
    QVERIFY(home.isValid());
    test::HoldfastProcess server(home.path(),
                                 {QStringLiteral("--listen"), QStringLiteral("127.0.0.1:0"),
                                  QStringLiteral("--store"), QStringLiteral("memory:"),
                                  QStringLiteral("--demo-chunks"), QStringLiteral("4"),
                                  QStringLiteral("--demo-delay-ms"), QStringLiteral("5")});
    const quint16 port = server.waitForPort();
    QVERIFY(port > 0);
    QVERIFY(test::forgetLastChat()); // the earlier tests' chats are not on this server
    MainWindow window;
    auto *client =
        new RemoteClient(QUrl(QStringLiteral("http://127.0.0.1:%1").arg(port)), QString(), &window);
    window.setClient(client);
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    QSignalSpy finished(client, &SessionClient::turnFinished);
    ChatPane *pane = window.chatPane();
    pane->composer()->setFocus();
    QTest::keyClicks(pane->composer(), QStringLiteral("First wording"));
    QTest::keyClick(pane->composer(), Qt::Key_Return);
    QVERIFY(spinUntil([&] { return finished.count() == 1; }));
    QVERIFY(spinUntil([&] { return click(pane->view(), QStringLiteral("hf-edit"), 0); }));
    pane->composer()->selectAll();
    QTest::keyClicks(pane->composer(), QStringLiteral("Second wording"));
    QTest::keyClick(pane->composer(), Qt::Key_Return);
    QVERIFY(spinUntil([&] { return finished.count() == 2; }));
    QVERIFY(spinUntil([&] { return pane->view()->toPlainText().contains(QLatin1String("2/2")); }));
    QVERIFY(!pane->view()->toPlainText().contains(QLatin1String("First wording")));
    QVERIFY(click(pane->view(), QStringLiteral("hf-version"), 0));
    QVERIFY(spinUntil([&] { return pane->view()->toPlainText().contains(QLatin1String("1/2")); }));
    QVERIFY(pane->view()->toPlainText().contains(QLatin1String("First wording")));
    QVERIFY(!pane->view()->toPlainText().contains(QLatin1String("Second wording")));
}

// A message cannot write the view's control links: without the key they do nothing.
void TestWindowBranches::forgedControlLinksDoNothing()
{
    ChatView view;
    view.setBranchControls(true);
    Message m;
    m.index = 0;
    m.role = QStringLiteral("assistant");
    m.content = QStringLiteral("[e](hf-edit:0) [r](hf-regen:0) [v](hf-version:1)");
    view.appendMessage(m);
    QSignalSpy edits(&view, &ChatView::editRequested);
    QSignalSpy regens(&view, &ChatView::regenerateRequested);
    QSignalSpy versions(&view, &ChatView::versionRequested);
    for (const QString &href : {QStringLiteral("hf-edit:0"), QStringLiteral("hf-regen:0"),
                                QStringLiteral("hf-version:1"), QStringLiteral("hf-regen:0?x")})
        Q_EMIT view.anchorClicked(QUrl(href));
    QCOMPARE(edits.count() + regens.count() + versions.count(), 0);
    QVERIFY(click(&view, QStringLiteral("hf-regen"), 0)); // the view's own link works
    QCOMPARE(regens.count(), 1);
}

// Markdown has the active branch only; JSON every message of every branch with its parent, and
// reading them all leaves the active branch as it was.
void TestWindowBranches::exportBranchAndTree()
{
    Fixture f(2, 0);
    HF_CHECK_FIXTURE(f);
    HF_AWAIT(created, f.service->createSession(CreateSessionParams{}));
    QVERIFY(created->ok());
    const QString sid = created->value().meta.id;
    QSignalSpy finished(f.service.get(), &SessionService::turnFinished);
    const auto turn = [&](StartTurnParams params) {
        const int before = int(finished.count());
        const auto started = test::awaitResult(f.service->startTurn(sid, params));
        return started.ok() && spinUntil([&] { return finished.count() > before; });
    };
    StartTurnParams first;
    first.prompt = QStringLiteral("Old question");
    QVERIFY(turn(first));
    StartTurnParams second;
    second.prompt = QStringLiteral("Follow-up");
    QVERIFY(turn(second)); // 2, 3
    StartTurnParams edit;
    edit.prompt = QStringLiteral("New question");
    edit.parent = -1; // 4, 5: a second first message
    QVERIFY(turn(edit));
    StartTurnParams again;
    again.regenerate = 4; // 6: another answer to it
    QVERIFY(turn(again));

    HF_AWAIT(branch, sessionexport::readBranch(f.client, sid));
    QVERIFY(branch->ok());
    QCOMPARE(branch->value().size(), 2);
    const QString markdown =
        QString::fromUtf8(sessionexport::toMarkdown(created->value().meta, branch->value()));
    QVERIFY(markdown.contains(QLatin1String("New question")));
    QVERIFY(!markdown.contains(QLatin1String("Old question")));

    HF_AWAIT(tree, sessionexport::readTree(f.client, sid));
    QVERIFY(tree->ok());
    QCOMPARE(tree->value().size(), 7);
    const QJsonObject json =
        QJsonDocument::fromJson(sessionexport::toJson(created->value().meta, tree->value()))
            .object();
    const QJsonArray history = json.value(QStringLiteral("history")).toArray();
    QCOMPARE(history.size(), 7);
    const QList<int> parents{-1, 0, 1, 2, -1, 4, 4};
    for (int i = 0; i < 7; ++i) {
        const QJsonObject m = history.at(i).toObject();
        QCOMPARE(m.value(QStringLiteral("index")).toInt(), i);
        QCOMPARE(m.value(QStringLiteral("parent")).toInt(-1), parents.at(i));
    }
    HF_AWAIT(after, f.service->session(sid, 0));
    QCOMPARE(after->value().meta.head, 6); // as before the export
}

// A message showing ‹ 2/3 ›, and the edit mode: saved as PNGs to look at.
void TestWindowBranches::screenshots_data()
{
    QTest::addColumn<bool>("dark");
    QTest::addRow("light") << false;
    QTest::addRow("dark") << true;
}

void TestWindowBranches::screenshots()
{
    QFETCH(bool, dark);
    const QPalette original = QApplication::palette();
    if (dark)
        QApplication::setPalette(test::darkPalette());
    const auto restore = qScopeGuard([&] { QApplication::setPalette(original); });
    const QString suffix = dark ? QStringLiteral("-dark") : QString();
    Fixture f;
    HF_CHECK_FIXTURE(f);
    f.pane()->modelPicker()->setCurrentText(QStringLiteral("scripted"));
    QSignalSpy finished(f.client, &SessionClient::turnFinished);
    f.scripted->script.chunks = {QStringLiteral("Lisbon in two days: the **Alfama**, then Belém.")};
    f.type(QStringLiteral("Plan a weekend in Lisbon"));
    QVERIFY(spinUntil([&] { return finished.count() == 1; }));
    for (const QString &text :
         {QStringLiteral("Day one: *Baixa* and the river. Day two: **Sintra** by train."),
          QStringLiteral("Start at the **Castelo**, walk down through the Alfama, and end the day "
                         "with fado. On day two, take tram 15 to Belém.")}) {
        f.scripted->script.chunks = {text};
        const int before = int(finished.count());
        QVERIFY(click(f.view(), QStringLiteral("hf-regen"), f.view()->lastIndex()));
        QVERIFY(spinUntil([&] { return finished.count() == before + 1; }));
    }
    QVERIFY(spinUntil([&] { return f.view()->toPlainText().contains(QLatin1String("3/3")); }));
    QTest::keySequence(f.window.get(), QKeySequence(Qt::ALT | Qt::Key_Left));
    QVERIFY(spinUntil([&] { return f.view()->toPlainText().contains(QLatin1String("2/3")); }));
    QTest::qWait(100);
    const QString versions = shotsDir() + QStringLiteral("/branch-versions%1.png").arg(suffix);
    QVERIFY(f.window->grab().save(versions));
    qInfo("screenshot: %s", qPrintable(versions));

    QVERIFY(click(f.view(), QStringLiteral("hf-edit"), 0));
    f.composer()->moveCursor(QTextCursor::End);
    QTest::keyClicks(f.composer(), QStringLiteral(" with kids"));
    QTest::qWait(100);
    const QString editing = shotsDir() + QStringLiteral("/branch-editing%1.png").arg(suffix);
    QVERIFY(f.window->grab().save(editing));
    qInfo("screenshot: %s", qPrintable(editing));
}

QTEST_MAIN(TestWindowBranches)
#include "tst_windowbranches.moc"
