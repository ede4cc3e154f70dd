// What the window keeps per chat and how it reaches every chat: each chat's own draft (across
// switches and restarts, written off the GUI thread), and the sidebar's pages and search.
#include "gui/draftstore.h"
#include "gui/windowfixture.h"

#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLineEdit>
#include <QListView>
#include <QScrollBar>
#include <QSignalSpy>
#include <QTemporaryDir>

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

private:
    QString draftsFile() const;
    QTemporaryDir m_home;
};

void TestWindowState::initTestCase()
{
    QVERIFY(test::isolateHome(m_home));
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

QTEST_MAIN(TestWindowState)
#include "tst_windowstate.moc"
