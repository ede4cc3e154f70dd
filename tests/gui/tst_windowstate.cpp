// What the window keeps per chat and how it reaches every chat: each chat's own draft (across
// switches and restarts, written off the GUI thread), the sidebar's pages and search, and each
// chat's settings, answer details and draft estimate (issue 21).
#include "gui/answerfooter.h"
#include "gui/chatsettingspanel.h"
#include "gui/draftstore.h"
#include "gui/liveturns.h"
#include "gui/notifier.h"
#include "gui/settingsdialog.h"
#include "gui/turndetails.h"
#include "gui/windowfixture.h"

#include <QComboBox>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QLineEdit>
#include <QListView>
#include <QMenu>
#include <QPlainTextEdit>
#include <QRegularExpression>
#include <QScopeGuard>
#include <QScrollBar>
#include <QSignalSpy>
#include <QSpinBox>
#include <QSplitter>
#include <QSystemTrayIcon>
#include <QTemporaryDir>
#include <QTextBlock>
#include <QTextDocument>
#include <QTimer>
#include <QToolButton>

using namespace holdfast;
using holdfast::test::Fixture;
using holdfast::test::spinUntil;

class TestWindowState : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void init();
    void draftStoreWritesDebouncedAndReadsBack();
    void draftStoreKeepsAttachments();
    void eachChatKeepsItsDraft();
    void draftSurvivesRestart();
    void sidebarPagesInOlderChats();
    void searchFindsAnyChat();
    void settingsPanelByKeyboard();
    void answerDetailsOfHistory();
    void draftEstimate();
    void reopensLastChatAfterCrash();
    void remembersGeometryAndSplitter();
    void trayIconAndClosingToIt();
    void fontAndThemeApplyAtOnce();
    void notifyDecision_data();
    void notifyDecision();
    void notifiesOtherChatsOnly();

private:
    // A chat with `turns` demo answers, made through the service; its id.
    QString chatWithAnswers(Fixture &f, int turns);
    QString draftsFile() const;
    QTemporaryDir m_home;
};

void TestWindowState::initTestCase()
{
    QVERIFY(test::isolateHome(m_home));
    QLocale::setDefault(QLocale::c()); // numbers in the footers without group separators
}

void TestWindowState::init()
{
    QFile::remove(draftsFile()); // each test starts without drafts
}

QString TestWindowState::draftsFile() const
{
    return DraftStore().path();
}

// Many changes in a burst make one write; the file holds the newest text; a new store reads it.
void TestWindowState::draftStoreWritesDebouncedAndReadsBack()
{
    const QString path = m_home.filePath(QStringLiteral("own/drafts.json"));
    {
        DraftStore drafts(path);
        QSignalSpy written(&drafts, &DraftStore::written);
        for (int i = 1; i <= 20; ++i)
            drafts.setDraft(QStringLiteral("s1"), QStringLiteral("draft %1").arg(i));
        drafts.setDraft(QStringLiteral("s2"), QStringLiteral("other"));
        drafts.setDraft(QStringLiteral("s3"), QStringLiteral("gone soon"));
        drafts.setDraft(QStringLiteral("s3"), QString());
        QVERIFY(!QFile::exists(path)); // nothing written yet: it waits for the burst to end
        QVERIFY(written.wait(5000));
        QCOMPARE(written.count(), 1);
        QVERIFY(written.first().first().toBool());
    }
    QFile file(path);
    QVERIFY(file.open(QIODevice::ReadOnly));
    const QJsonObject stored = QJsonDocument::fromJson(file.readAll()).object();
    QCOMPARE(stored.value(QStringLiteral("s1")).toString(), QStringLiteral("draft 20"));
    QVERIFY(!stored.contains(QStringLiteral("s3")));

    DraftStore again(path);
    again.setDraft(QStringLiteral("s2"), QStringLiteral("typed before the file was read"));
    HF_AWAIT_VOID(again.load());
    QCOMPARE(again.draft(QStringLiteral("s1")), QStringLiteral("draft 20"));
    QCOMPARE(again.draft(QStringLiteral("s2")), QStringLiteral("typed before the file was read"));
}

// A draft's uploaded files are kept with its text (and alone, without text), and read back; a
// file written before attachments existed (text only) still reads.
void TestWindowState::draftStoreKeepsAttachments()
{
    const QString path = m_home.filePath(QStringLiteral("files/drafts.json"));
    Attachment photo;
    photo.id = QStringLiteral("a1");
    photo.name = QStringLiteral("photo one.png");
    photo.type = QStringLiteral("image/png");
    photo.size = 4321;
    Attachment notes;
    notes.id = QStringLiteral("a2");
    notes.name = QStringLiteral("notes.txt");
    notes.type = QStringLiteral("text/plain");
    notes.size = 12;
    {
        DraftStore drafts(path);
        QSignalSpy written(&drafts, &DraftStore::written);
        drafts.setDraft(QStringLiteral("s1"), QStringLiteral("look at these"));
        drafts.setAttachments(QStringLiteral("s1"), {photo, notes});
        drafts.setAttachments(QStringLiteral("s2"), {notes});
        drafts.setDraft(QStringLiteral("s3"), QStringLiteral("text only"));
        HF_AWAIT_VOID(drafts.flush());
        QVERIFY(written.count() >= 1);
    }
    DraftStore again(path);
    HF_AWAIT_VOID(again.load());
    QCOMPARE(again.draft(QStringLiteral("s1")), QStringLiteral("look at these"));
    QCOMPARE(again.attachments(QStringLiteral("s1")), (QList<Attachment>{photo, notes}));
    QCOMPARE(again.draft(QStringLiteral("s2")), QString());
    QCOMPARE(again.attachments(QStringLiteral("s2")), QList<Attachment>{notes});
    QCOMPARE(again.draft(QStringLiteral("s3")), QStringLiteral("text only"));
    QVERIFY(again.attachments(QStringLiteral("s3")).isEmpty());
    // Removing the files leaves the text (stored as before: a plain string).
    again.setAttachments(QStringLiteral("s1"), {});
    HF_AWAIT_VOID(again.flush());
    QFile file(path);
    QVERIFY(file.open(QIODevice::ReadOnly));
    const QJsonObject stored = QJsonDocument::fromJson(file.readAll()).object();
    QCOMPARE(stored.value(QStringLiteral("s1")).toString(), QStringLiteral("look at these"));
}

// A draft typed in chat A stays with A: chat B shows its own, and Enter in B sends B's.
void TestWindowState::eachChatKeepsItsDraft()
{
    Fixture f;
    HF_CHECK_FIXTURE(f);
    QStringList ids;
    for (const QString &title : {QStringLiteral("Chat A"), QStringLiteral("Chat B")}) {
        CreateSessionParams p;
        p.title = title;
        HF_AWAIT(created, f.service->createSession(p));
        QVERIFY(created->ok());
        ids << created->value().meta.id;
    }
    QVERIFY(spinUntil([&] { return f.list()->rowCount() == 2; }));
    QListView *list = f.window->sidebar()->list();
    const auto open = [&](const QString &sid) {
        list->setCurrentIndex(f.list()->index(f.list()->rowOf(sid)));
        return spinUntil([&] { return f.pane()->sessionId() == sid; });
    };
    QVERIFY(open(ids[0]));
    f.composer()->setFocus();
    QTest::keyClicks(f.composer(), QStringLiteral("half a thought for A"));
    QVERIFY(open(ids[1]));
    QCOMPARE(f.composer()->toPlainText(), QString());
    QTest::keyClicks(f.composer(), QStringLiteral("Question for B"));
    QVERIFY(open(ids[0]));
    QCOMPARE(f.composer()->toPlainText(), QStringLiteral("half a thought for A"));
    QVERIFY(open(ids[1]));
    QCOMPARE(f.composer()->toPlainText(), QStringLiteral("Question for B"));
    QSignalSpy finished(f.client, &SessionClient::turnFinished);
    QTest::keyClick(f.composer(), Qt::Key_Return);
    QVERIFY(spinUntil([&] { return finished.count() == 1; }));
    QCOMPARE(f.stored(ids[0]).size(), 0);
    const QList<Message> sent = f.stored(ids[1]);
    QCOMPARE(sent.size(), 2);
    QCOMPARE(sent.first().content, QStringLiteral("Question for B"));
    QCOMPARE(f.composer()->toPlainText(), QString());
    QVERIFY(open(ids[0]));
    QCOMPARE(f.composer()->toPlainText(), QStringLiteral("half a thought for A"));

    // The new chat (nothing open) has its own draft too.
    QTest::keySequence(f.window.get(), QKeySequence::New);
    QCOMPARE(f.composer()->toPlainText(), QString());
}

void TestWindowState::draftSurvivesRestart()
{
    Fixture f;
    HF_CHECK_FIXTURE(f);
    CreateSessionParams p;
    p.title = QStringLiteral("Kept");
    HF_AWAIT(created, f.service->createSession(p));
    QVERIFY(created->ok());
    const QString sid = created->value().meta.id;
    QVERIFY(spinUntil([&] { return f.list()->rowCount() == 1; }));
    f.window->sidebar()->list()->setCurrentIndex(f.list()->index(0));
    QVERIFY(spinUntil([&] { return f.pane()->sessionId() == sid; }));
    f.composer()->setFocus();
    QTest::keyClicks(f.composer(), QStringLiteral("unsent words"));
    f.window->close(); // writes what is pending at once (on a worker thread)
    QVERIFY(spinUntil([&] {
        QFile file(draftsFile());
        return file.open(QIODevice::ReadOnly) &&
               QJsonDocument::fromJson(file.readAll()).object().value(sid).toString() ==
                   QLatin1String("unsent words");
    }));

    f.openWindow(); // reopens the last chat
    HF_CHECK_FIXTURE(f);
    QVERIFY(spinUntil([&] { return f.pane()->sessionId() == sid; }));
    QVERIFY(
        spinUntil([&] { return f.composer()->toPlainText() == QLatin1String("unsent words"); }));
}

// More chats than one page: scrolling to the end of the list brings the older ones.
void TestWindowState::sidebarPagesInOlderChats()
{
    Fixture f;
    HF_CHECK_FIXTURE(f);
    constexpr int kChats = SessionSidebar::kPageSize * 2 + 30;
    for (int i = 0; i < kChats; ++i) {
        CreateSessionParams p;
        p.title = QStringLiteral("Chat %1").arg(i, 3, 10, QLatin1Char('0'));
        HF_AWAIT_OK(f.service->createSession(p));
    }
    f.window->sidebar()->reload();
    QVERIFY(spinUntil([&] { return f.list()->total() == kChats; }));
    QCOMPARE(f.list()->rowCount(), SessionSidebar::kPageSize);
    QListView *list = f.window->sidebar()->list();
    for (int round = 0; round < 10 && f.list()->rowCount() < kChats; ++round) {
        const int before = f.list()->rowCount();
        list->scrollToBottom();
        list->verticalScrollBar()->setValue(list->verticalScrollBar()->maximum());
        QVERIFY(spinUntil([&] { return f.list()->rowCount() > before; }));
    }
    QCOMPARE(f.list()->rowCount(), kChats);
    QSet<QString> titles;
    for (int row = 0; row < kChats; ++row)
        titles.insert(f.list()->data(f.list()->index(row), Qt::DisplayRole).toString());
    QCOMPARE(titles.size(), kChats);
    QVERIFY(titles.contains(QStringLiteral("Chat 000"))); // the oldest
}

// The search asks the service, so it finds a chat far beyond the first page.
void TestWindowState::searchFindsAnyChat()
{
    Fixture f;
    HF_CHECK_FIXTURE(f);
    CreateSessionParams oldest;
    oldest.title = QStringLiteral("Ancient recipe");
    HF_AWAIT(created, f.service->createSession(oldest));
    QVERIFY(created->ok());
    QTest::qWait(5); // every later chat is newer (the list orders by the time of the change)
    for (int i = 0; i < SessionSidebar::kPageSize + 20; ++i) {
        CreateSessionParams p;
        p.title = QStringLiteral("Filler %1").arg(i);
        HF_AWAIT_OK(f.service->createSession(p));
    }
    f.window->sidebar()->reload();
    QVERIFY(spinUntil([&] { return f.list()->rowCount() == SessionSidebar::kPageSize; }));
    QCOMPARE(f.list()->rowOf(created->value().meta.id), -1); // not on the first page
    QTest::keyClicks(f.window->sidebar()->searchField(), QStringLiteral("recipe"));
    QVERIFY(spinUntil([&] { return f.list()->rowCount() == 1; }));
    QCOMPARE(f.list()->data(f.list()->index(0), Qt::DisplayRole).toString(),
             QStringLiteral("Ancient recipe"));
    f.window->sidebar()->list()->setCurrentIndex(f.list()->index(0));
    QVERIFY(spinUntil([&] { return f.pane()->sessionId() == created->value().meta.id; }));
}

QString TestWindowState::chatWithAnswers(Fixture &f, int turns)
{
    CreateSessionParams p;
    p.title = QStringLiteral("Measured");
    const auto created = test::awaitResult(f.service->createSession(p));
    if (!created.ok())
        return {};
    const QString sid = created.value().meta.id;
    QSignalSpy finished(f.service.get(), &SessionService::turnFinished);
    for (int i = 0; i < turns; ++i) {
        StartTurnParams turn;
        turn.prompt = QStringLiteral("Question %1").arg(i);
        if (!test::awaitResult(f.service->startTurn(sid, turn)).ok() ||
            !spinUntil([&] { return finished.count() == i + 1; }))
            return {};
    }
    return sid;
}

// The panel opens from the keyboard (Ctrl+Shift+S) with the focus in it, names its fields for
// assistive tools, shows "default" for what is unset, and says what is wrong with a value
// without asking the service.
void TestWindowState::settingsPanelByKeyboard()
{
    Fixture f;
    HF_CHECK_FIXTURE(f);
    const QString sid = chatWithAnswers(f, 1);
    QVERIFY(!sid.isEmpty());
    f.pane()->openSession(sid);
    QVERIFY(spinUntil([&] { return f.pane()->sessionId() == sid; }));
    ChatSettingsPanel *panel = f.pane()->settingsPanel();
    QVERIFY(!panel->isVisible());
    QVERIFY(f.pane()->settingsButton()->isEnabled());
    QVERIFY(!f.pane()->settingsButton()->accessibleName().isEmpty());

    QTest::keySequence(f.window.get(), QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_S));
    QVERIFY(spinUntil([&] { return panel->isVisible(); }));
    QVERIFY(f.pane()->settingsButton()->isChecked());
    QVERIFY(spinUntil([&] { return panel->modelField()->hasFocus(); }));
    QCOMPARE(panel->modelField()->currentText(), QStringLiteral("demo"));
    for (QWidget *field : std::initializer_list<QWidget *>{
             panel->modelField(), panel->systemField(), panel->temperatureField(),
             panel->topPField(), panel->maxTokensField(), panel->contextField()}) {
        QVERIFY(!field->accessibleName().isEmpty());
        QVERIFY(field->isEnabled());
    }
    QCOMPARE(panel->temperatureField()->text(), QString());
    QCOMPARE(panel->temperatureField()->placeholderText(), QStringLiteral("model default"));
    QCOMPARE(panel->maxTokensField()->placeholderText(), QStringLiteral("model default"));
    QVERIFY(panel->contextField()->placeholderText().contains(QLatin1String("default")));

    // Tab walks from the model to the system prompt and on to the numbers.
    QTest::keyClick(QApplication::focusWidget(), Qt::Key_Tab);
    QVERIFY(panel->systemField()->hasFocus());
    QTest::keyClick(QApplication::focusWidget(), Qt::Key_Tab);
    QVERIFY(panel->temperatureField()->hasFocus());

    // Not a number: said at once, under the fields, and nothing sent.
    QTest::keyClicks(panel->temperatureField(), QStringLiteral("warm"));
    QTest::keyClick(panel->temperatureField(), Qt::Key_Return);
    QVERIFY(panel->errorLabel()->isVisible());
    QVERIFY2(panel->errorLabel()->text().contains(QLatin1String("Temperature must be a number")),
             qPrintable(panel->errorLabel()->text()));
    QVERIFY(!panel->isSaving());
    QCOMPARE(panel->temperatureField()->text(), QStringLiteral("warm")); // left to fix

    // A system prompt is saved when the field is left, and the header says so.
    panel->systemField()->setFocus();
    QTest::keyClicks(panel->systemField(), QStringLiteral("Answer in French."));
    panel->maxTokensField()->setFocus();
    QVERIFY(spinUntil([&] {
        const auto s = test::awaitResult(f.service->session(sid, 0));
        return s.ok() && s.value().meta.system == QLatin1String("Answer in French.");
    }));
    QVERIFY(
        spinUntil([&] { return f.pane()->meta().system == QLatin1String("Answer in French."); }));

    // The shortcut hides it again; the system prompt's shortcut opens it at that field.
    QTest::keySequence(f.window.get(), QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_S));
    QVERIFY(!panel->isVisible());
    QTest::keySequence(f.window.get(), QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_P));
    QVERIFY(panel->isVisible());
    QVERIFY(spinUntil([&] { return panel->systemField()->hasFocus(); }));
    QCOMPARE(panel->systemField()->toPlainText(), QStringLiteral("Answer in French."));
    // Esc in the panel closes it, and the keyboard goes back to the composer.
    QTest::keyClick(panel->systemField(), Qt::Key_Escape);
    QVERIFY(!panel->isVisible());
    QVERIFY(spinUntil([&] { return f.composer()->hasFocus(); }));
    f.pane()->showSettings(true);

    // Another chat shows its own settings; the close button hides the panel.
    QTest::keySequence(f.window.get(), QKeySequence::New);
    QVERIFY(spinUntil([&] { return f.pane()->sessionId().isEmpty(); }));
    QCOMPARE(panel->systemField()->toPlainText(), QString());
    QVERIFY(!panel->temperatureField()->isEnabled());
    QVERIFY(!panel->errorLabel()->isVisible());
    QToolButton *close = panel->findChild<QToolButton *>(QStringLiteral("closeChatSettings"));
    QVERIFY(close);
    close->click();
    QVERIFY(!panel->isVisible());
    QVERIFY(!f.pane()->settingsButton()->isChecked());
}

// Answers loaded from history get their footers and notices from the turn records, fetched in
// the background a few at a time, each once.
void TestWindowState::answerDetailsOfHistory()
{
    Fixture f(2, 1);
    HF_CHECK_FIXTURE(f);
    constexpr int kTurns = 12;
    const QString sid = chatWithAnswers(f, kTurns);
    QVERIFY(!sid.isEmpty());
    // What a model server would have reported (the store keeps it with each turn).
    HF_AWAIT(meta, f.store->loadSession(sid));
    QVERIFY(meta->ok() && meta->value());
    for (int tid = 1; tid <= kTurns; ++tid) {
        HF_AWAIT(loaded, f.store->loadTurn(sid, tid));
        QVERIFY(loaded->ok() && loaded->value());
        TurnRecord turn = *loaded->value();
        TokenUsage usage;
        usage.promptTokens = 100 + tid;
        usage.completionTokens = 40;
        turn.usage = usage;
        // The store keeps the first chunk's time it wrote: the others are set around it.
        if (!turn.firstChunkAt.isValid())
            turn.firstChunkAt = turn.createdAt.addMSecs(250);
        turn.createdAt = turn.firstChunkAt.addMSecs(-250);
        turn.finishedAt = turn.firstChunkAt.addMSecs(2000);
        ContextUse context;
        context.messages = 2 * (tid - 1);
        context.dropped = tid == kTurns ? 9 : 0;
        turn.context = context;
        HF_AWAIT_OK(f.store->finishTurn(meta->value().value(), std::nullopt, turn));
    }

    f.openWindow(); // as after a restart: nothing known yet
    HF_CHECK_FIXTURE(f);
    TurnDetails *details = f.pane()->turnDetails();
    f.pane()->openSession(sid);
    int most = 0;
    QVERIFY(spinUntil([&] {
        most = std::max(most, details->inFlight());
        return f.view()->answerTurnsWithoutDetails().isEmpty() && f.view()->messageCount() > 0;
    }));
    QVERIFY2(most <= TurnDetails::kParallel, qPrintable(QString::number(most)));
    const QString text = f.view()->toPlainText();
    for (int tid = 1; tid <= kTurns; ++tid) {
        const QString footer =
            QStringLiteral("demo · %1 in · 40 out · 20.0 tok/s · 0.25 s to first token")
                .arg(100 + tid);
        QVERIFY2(text.count(footer) == 1, qPrintable(footer));
        QVERIFY(details->cached(sid, tid));
    }
    QCOMPARE(text.count(QLatin1String("older messages were left out")), 1);
    QVERIFY(
        text.indexOf(QLatin1String("Question 11")) <
        text.indexOf(QLatin1String("9 older messages were left out to fit the context budget")));

    // Shown again: from the cache, with no request.
    f.pane()->showEmpty();
    f.pane()->openSession(sid);
    QVERIFY(spinUntil([&] { return f.view()->messageCount() == 2 * kTurns; }));
    QVERIFY(spinUntil([&] { return f.view()->answerTurnsWithoutDetails().isEmpty(); }));
    QCOMPARE(details->inFlight(), 0);
}

// The composer says about how many tokens the draft is, once the typing pauses.
void TestWindowState::draftEstimate()
{
    Fixture f;
    HF_CHECK_FIXTURE(f);
    QLabel *estimate = f.pane()->tokenEstimate();
    QVERIFY(!estimate->isVisible());
    f.composer()->setFocus();
    QTest::keyClicks(f.composer(), QStringLiteral("Twelve bytes"));
    QVERIFY(spinUntil([&] { return estimate->isVisible(); }));
    QCOMPARE(estimate->text(), QStringLiteral("~3 tokens")); // no budget set: no "of"
    QTest::keyClicks(f.composer(), QStringLiteral(" and then some more words"));
    QVERIFY(spinUntil([&] { return estimate->text() == QLatin1String("~10 tokens"); }));
    f.composer()->clear();
    QVERIFY(spinUntil([&] { return !estimate->isVisible(); }));
}

// The chat is remembered when it is opened, not only at close: a window that never closed (the
// program crashed, leaving an interrupted answer) reopens on it too.
void TestWindowState::reopensLastChatAfterCrash()
{
    Fixture f(200, 20); // a long answer, still streaming when the window goes
    HF_CHECK_FIXTURE(f);
    CreateSessionParams p;
    p.title = QStringLiteral("Interrupted");
    HF_AWAIT(created, f.service->createSession(p));
    QVERIFY(created->ok());
    const QString sid = created->value().meta.id;
    QVERIFY(spinUntil([&] { return f.list()->rowCount() == 1; }));
    f.window->sidebar()->list()->setCurrentIndex(f.list()->index(0));
    QVERIFY(spinUntil([&] { return f.pane()->sessionId() == sid; }));
    f.type(QStringLiteral("Tell me a long story"));
    QVERIFY(spinUntil([&] { return f.view()->messageCount() == 2; }));
    QVERIFY(spinUntil([] { return windowStateWritten(); }));

    f.window.reset(); // gone without a close event, as in a crash
    f.openWindow();
    HF_CHECK_FIXTURE(f);
    QVERIFY(spinUntil([&] { return f.pane()->sessionId() == sid; }));
    QCOMPARE(f.window->sidebar()->currentSession(), sid);
}

// Size, position and the splitter between the list and the chat come back after a restart.
void TestWindowState::remembersGeometryAndSplitter()
{
    Fixture f;
    HF_CHECK_FIXTURE(f);
    auto *splitter = f.window->findChild<QSplitter *>();
    QVERIFY(splitter);
    f.window->resize(880, 610);
    splitter->setSizes({333, 547});
    const QList<int> sizes = splitter->sizes();
    QVERIFY(spinUntil([&] { return f.window->size() == QSize(880, 610); }));
    f.window->close();
    QVERIFY(spinUntil([] { return windowStateWritten(); }));

    MainWindow again; // as the program makes it: the stored state, nothing resized after
    QCOMPARE(again.size(), QSize(880, 610));
    again.show();
    QVERIFY(QTest::qWaitForWindowExposed(&again));
    auto *restored = again.findChild<QSplitter *>();
    QVERIFY(restored);
    QCOMPARE(restored->sizes(), sizes);
}

// The setting turns the tray icon on and off at once; closing hides the window to it only while it
// is on (and the desktop has a tray), else the window closes as before. Its menu shows and hides
// the window, starts a new chat and quits.
void TestWindowState::trayIconAndClosingToIt()
{
    MainWindow::overrideTrayAvailable(true);
    const auto restore = qScopeGuard([] { MainWindow::overrideTrayAvailable(std::nullopt); });
    Fixture f;
    HF_CHECK_FIXTURE(f);
    QVERIFY(!f.window->trayIcon());
    QVERIFY(!f.window->closesToTray());
    QVERIFY(f.window->close()); // closed, as today
    f.openWindow();
    HF_CHECK_FIXTURE(f);

    SettingsDialog::Values values = f.window->settingsValues();
    values.tray = true;
    f.window->setSettingsValues(values, {});
    QSystemTrayIcon *tray = f.window->trayIcon();
    QVERIFY(tray);
    QVERIFY(tray->contextMenu());
    const auto action = [&](const char *name) {
        return tray->contextMenu()->findChild<QAction *>(QString::fromLatin1(name));
    };
    for (const char *name : {"trayShowHide", "trayNewChat", "trayQuit"})
        QVERIFY2(action(name) && !action(name)->text().isEmpty(), name);

    QVERIFY(!f.window->close()); // hidden, not closed
    QVERIFY(f.window->isHidden());
    action("trayShowHide")->trigger();
    QVERIFY(f.window->isVisible());
    action("trayShowHide")->trigger();
    QVERIFY(f.window->isHidden());

    const QString sid = chatWithAnswers(f, 1);
    QVERIFY(!sid.isEmpty());
    f.pane()->openSession(sid);
    QVERIFY(spinUntil([&] { return f.pane()->sessionId() == sid; }));
    action("trayNewChat")->trigger();
    QVERIFY(f.window->isVisible());
    QVERIFY(f.pane()->sessionId().isEmpty());

    // Quit from the tray while hidden: the application is told to end.
    QVERIFY(!f.window->close());
    QSignalSpy quit(f.window.get(), &MainWindow::quitRequested);
    action("trayQuit")->trigger();
    QCOMPARE(quit.count(), 1);

    // Off again: no icon, and closing closes.
    f.openWindow();
    HF_CHECK_FIXTURE(f);
    f.window->setSettingsValues(values, {});
    QVERIFY(f.window->closesToTray());
    values.tray = false;
    f.window->setSettingsValues(values, {});
    QVERIFY(!f.window->trayIcon());
    QVERIFY(f.window->close());

    // No tray on this desktop: the setting does not hide the window where nothing shows it.
    f.openWindow();
    HF_CHECK_FIXTURE(f);
    values.tray = true;
    f.window->setSettingsValues(values, {});
    MainWindow::overrideTrayAvailable(false);
    QVERIFY(!f.window->closesToTray());
    QVERIFY(f.window->close());
}

namespace {
// The point size a piece of the chat was written with.
qreal pointSizeOf(const QTextDocument *doc, const QString &text)
{
    for (QTextBlock block = doc->begin(); block.isValid(); block = block.next()) {
        for (auto it = block.begin(); !it.atEnd(); ++it) {
            if (it.fragment().text().contains(text))
                return it.fragment().charFormat().font().pointSizeF();
        }
    }
    return -1;
}

// The point size of the first message's time ("   12:34").
qreal timeSizeOf(const QTextDocument *doc)
{
    static const QRegularExpression time(QStringLiteral("^\\s+\\d{1,2}:\\d\\d"));
    for (QTextBlock block = doc->begin(); block.isValid(); block = block.next()) {
        for (auto it = block.begin(); !it.atEnd(); ++it) {
            if (time.match(it.fragment().text()).hasMatch())
                return it.fragment().charFormat().font().pointSizeF();
        }
    }
    return -1;
}
} // namespace

// Saved in the settings dialog, the font size and a forced theme apply at once, to the messages
// already shown too; "As the desktop" gives the desktop's palette back.
void TestWindowState::fontAndThemeApplyAtOnce()
{
    Fixture f;
    HF_CHECK_FIXTURE(f);
    const QString sid = chatWithAnswers(f, 1);
    QVERIFY(!sid.isEmpty());
    f.pane()->openSession(sid);
    QVERIFY(spinUntil([&] { return f.view()->messageCount() == 2; }));
    const QColor desktopBase = QApplication::palette().color(QPalette::Base);
    QVERIFY(desktopBase.lightnessF() > 0.5); // the offscreen platform's palette is light
    QVERIFY(pointSizeOf(f.view()->document(), QStringLiteral("Question 0")) < 20);

    const auto choose = [&](int points, const QString &theme) {
        QTimer::singleShot(0, f.window.get(), [&f, points, theme] {
            auto *dialog = f.window->findChild<SettingsDialog *>();
            QVERIFY(dialog);
            dialog->findChild<QSpinBox *>(QStringLiteral("fontSize"))->setValue(points);
            auto *box = dialog->findChild<QComboBox *>(QStringLiteral("theme"));
            box->setCurrentIndex(box->findData(theme));
            dialog->accept();
        });
        f.window->openSettings();
    };
    choose(20, QStringLiteral("system"));
    QVERIFY(spinUntil(
        [&] { return pointSizeOf(f.view()->document(), QStringLiteral("Question 0")) == 20; }));
    // The line under a message (its time) is written smaller: at the new size too.
    QVERIFY(spinUntil([&] { return timeSizeOf(f.view()->document()) == 20 * 0.85; }));
    QCOMPARE(QApplication::palette().color(QPalette::Base), desktopBase);

    choose(20, QStringLiteral("dark"));
    QVERIFY(QApplication::palette().color(QPalette::Base).lightnessF() < 0.5);
    QVERIFY(f.view()->palette().color(QPalette::Base).lightnessF() < 0.5);
    QCOMPARE(f.view()->messageCount(), 2);

    choose(11, QStringLiteral("system"));
    QVERIFY(spinUntil(
        [&] { return pointSizeOf(f.view()->document(), QStringLiteral("Question 0")) == 11; }));
    QCOMPARE(QApplication::palette().color(QPalette::Base), desktopBase);
    QVERIFY(spinUntil([] { return windowStateWritten(); }));
}

void TestWindowState::notifyDecision_data()
{
    QTest::addColumn<QString>("finished");
    QTest::addColumn<QString>("shown");
    QTest::addColumn<bool>("active");
    QTest::addColumn<bool>("notify");
    QTest::addRow("the chat looked at") << "s1"
                                        << "s1" << true << false;
    QTest::addRow("another chat, window active") << "s2"
                                                 << "s1" << true << true;
    QTest::addRow("the shown chat, window in the background") << "s1"
                                                              << "s1" << false << true;
    QTest::addRow("another chat, window in the background") << "s2"
                                                            << "s1" << false << true;
    QTest::addRow("the new chat shown") << "s1"
                                        << "" << true << true;
}

void TestWindowState::notifyDecision()
{
    QFETCH(QString, finished);
    QFETCH(QString, shown);
    QFETCH(bool, active);
    QFETCH(bool, notify);
    QCOMPARE(Notifier::shouldNotify(finished, shown, active), notify);
}

// In the window: an answer that finishes in the chat on screen says nothing; one in another chat
// goes out (through D-Bus where there is a notification service, else the tray's balloon).
void TestWindowState::notifiesOtherChatsOnly()
{
    Fixture f(4, 5);
    HF_CHECK_FIXTURE(f);
    CreateSessionParams p;
    HF_AWAIT(shownChat, f.service->createSession(p));
    QVERIFY(shownChat->ok());
    HF_AWAIT(otherChat, f.service->createSession(p));
    QVERIFY(otherChat->ok());
    const QString shown = shownChat->value().meta.id;
    const QString other = otherChat->value().meta.id;
    f.pane()->openSession(shown);
    QVERIFY(spinUntil([&] { return f.pane()->sessionId() == shown; }));
    f.window->activateWindow();
    QVERIFY(QTest::qWaitForWindowActive(f.window.get()));

    QSignalSpy sent(f.window->notifier(), &Notifier::sent);
    QSignalSpy finished(f.window->liveTurns(), &LiveTurns::finished);
    const auto answer = [&](const QString &sid) {
        StartTurnParams turn;
        turn.prompt = QStringLiteral("Hello");
        const int before = finished.count();
        return test::awaitResult(f.service->startTurn(sid, turn)).ok() &&
               spinUntil([&] { return finished.count() == before + 1; });
    };
    QVERIFY(answer(shown));
    QCOMPARE(sent.count(), 0);
    QVERIFY(answer(other));
    QVERIFY(spinUntil([&] { return sent.count() == 1; }));
}

QTEST_MAIN(TestWindowState)
#include "tst_windowstate.moc"
