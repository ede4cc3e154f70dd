// A long chat in the window's chat pane: it opens on its newest page at once, older and newer
// pages come and go as the reader scrolls, and the document never holds more than a bounded
// window of messages, however long the chat (the in-process service on a memory store).
#include "client/localclient.h"
#include "core/providerregistry.h"
#include "core/sessionservice.h"
#include "fakes/longchat.h"
#include "fakes/testutil.h"
#include "gui/chatpane.h"
#include "gui/chatview.h"
#include "gui/liveturns.h"
#include "provider/demoprovider.h"
#include "store/memorystore.h"

#include <QApplication>
#include <QScrollBar>
#include <QSignalSpy>
#include <QTest>
#include <QTextFrame>

using namespace holdfast;
using holdfast::test::spinUntil;

namespace {

constexpr int kMessages = 100000;

struct Fixture
{
    MemoryStore store;
    ProviderRegistry registry;
    std::unique_ptr<SessionService> service;
    std::unique_ptr<LocalClient> client;
    std::unique_ptr<LiveTurns> live;
    std::unique_ptr<ChatPane> pane;
    QString failure; // set when the constructor failed (HF_CHECK_FIXTURE)

    explicit Fixture(int messages, int demoChunks = 8, int demoDelayMs = 15)
    {
        if (!test::fillLongChat(&store, QStringLiteral("long"), messages))
            failure = QStringLiteral("the long chat was not stored");
        registry.add(new DemoProvider({demoChunks, demoDelayMs}), {QStringLiteral("demo")});
        service = std::make_unique<SessionService>(&store, &registry);
        if (!test::awaitResult(service->start()).ok())
            failure = QStringLiteral("the service did not start");
        client = std::make_unique<LocalClient>(service.get());
        live = std::make_unique<LiveTurns>(client.get());
        pane = std::make_unique<ChatPane>();
        pane->setClient(client.get(), live.get());
        pane->resize(900, 700);
        pane->show();
        if (!QTest::qWaitForWindowExposed(pane.get()))
            failure = QStringLiteral("the pane was not exposed");
        QSignalSpy opened(pane.get(), &ChatPane::sessionOpened);
        pane->openSession(QStringLiteral("long"));
        if (!spinUntil([&] { return !opened.isEmpty(); }))
            failure = QStringLiteral("the session did not open");
    }
    ~Fixture()
    {
        pane.reset();
        live.reset();
        client.reset();
        if (service)
            test::awaitVoid(service->shutdown());
    }

    ChatView *view() const { return pane->view(); }
    QScrollBar *bar() const { return view()->verticalScrollBar(); }
    int frames() const { return int(view()->document()->rootFrame()->childFrames().size()); }

    // Scrolls to the top (or bottom) as the reader would and waits for the page it loads.
    bool scrollForPage(bool up)
    {
        const qint64 first = view()->firstIndex();
        const qint64 last = view()->lastIndex();
        const bool answering = view()->answering();
        bar()->setValue(up ? bar()->minimum() : bar()->maximum());
        return spinUntil(
            [&] {
                return view()->firstIndex() != first || view()->lastIndex() != last ||
                       view()->answering() != answering;
            },
            10000);
    }
};

} // namespace

class TestLongChat : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void opensOnTheNewestPage();
    void pagesComeAndGoWithinABound();
    void liveAnswerLeavesAndComesBack();
};

// 100,000 messages: only the newest page is fetched and laid out.
void TestLongChat::opensOnTheNewestPage()
{
    Fixture f(kMessages);
    HF_CHECK_FIXTURE(f);
    QCOMPARE(f.view()->messageCount(), ChatPane::kPageSize);
    QCOMPARE(f.frames(), ChatPane::kPageSize);
    QCOMPARE(f.view()->lastIndex(), qint64(kMessages - 1));
    QCOMPARE(f.view()->firstIndex(), qint64(kMessages - ChatPane::kPageSize));
    QVERIFY(f.view()->hasOlder());
    QVERIFY(!f.view()->hasNewer());
    QVERIFY(f.view()->followsBottom());
    QCOMPARE(f.bar()->value(), f.bar()->maximum()); // shows the end of the chat
}

// Scrolling up loads older pages one at a time; past maxShown() messages the newest leave the
// document, and scrolling down brings them back. The document never holds more than maxShown()
// messages, always a contiguous run, whatever the reader does.
void TestLongChat::pagesComeAndGoWithinABound()
{
    Fixture f(kMessages);
    HF_CHECK_FIXTURE(f);
    ChatView *view = f.view();
    const int bound = view->maxShown();
    const int pagesUp = 10;
    for (int page = 1; page <= pagesUp; ++page) {
        QVERIFY2(f.scrollForPage(true), qPrintable(QStringLiteral("older page %1").arg(page)));
        QCOMPARE(view->firstIndex(), qint64(kMessages - (page + 1) * ChatPane::kPageSize));
        QVERIFY(view->messageCount() <= bound);
        QCOMPARE(f.frames(), view->messageCount());
        QCOMPARE(view->lastIndex() - view->firstIndex() + 1, qint64(view->messageCount()));
        QVERIFY(f.bar()->value() > f.bar()->minimum()); // the reader's place moved down with it
    }
    QCOMPARE(view->messageCount(), bound);
    QVERIFY(view->hasNewer());
    QVERIFY(!view->followsBottom());
    const qint64 topText = view->document()->characterCount();
    QVERIFY(view->toPlainText().contains(
        QStringLiteral("Question %1:").arg(kMessages - (pagesUp + 1) * ChatPane::kPageSize)));
    QVERIFY(!view->toPlainText().contains(QStringLiteral("Answer %1").arg(kMessages - 1)));

    for (int page = 1; view->hasNewer(); ++page) {
        QVERIFY2(page <= pagesUp, "more newer pages than older ones were loaded");
        QVERIFY2(f.scrollForPage(false), qPrintable(QStringLiteral("newer page %1").arg(page)));
        QVERIFY(view->messageCount() <= bound);
        QCOMPARE(f.frames(), view->messageCount());
        QCOMPARE(view->lastIndex() - view->firstIndex() + 1, qint64(view->messageCount()));
    }
    QCOMPARE(view->lastIndex(), qint64(kMessages - 1));
    QVERIFY(view->hasOlder());
    QVERIFY(view->toPlainText().contains(QStringLiteral("Answer %1").arg(kMessages - 1)));
    // What is laid out is the same size at both ends of the chat.
    QVERIFY(view->document()->characterCount() < topText * 2);
}

// An answer generating while the reader scrolls far up leaves the document with the newest
// messages, and comes back, with everything it produced meanwhile, at the bottom.
void TestLongChat::liveAnswerLeavesAndComesBack()
{
    Fixture f(400, 400, 10);
    HF_CHECK_FIXTURE(f);
    ChatView *view = f.view();
    f.pane->send(QStringLiteral("Tell me more"));
    QVERIFY(spinUntil([&] { return view->answering(); }));
    for (int page = 0; page < 3 && view->answering(); ++page)
        QVERIFY(f.scrollForPage(true));
    QVERIFY2(!view->answering(), "the answer should have left with the newest messages");
    QVERIFY(view->hasNewer());
    QVERIFY(f.pane->isGenerating());
    while (view->hasNewer())
        QVERIFY(f.scrollForPage(false));
    QVERIFY(spinUntil([&] { return !f.pane->isGenerating(); }, 20000));
    QVERIFY(!view->answering());
    const QString answer = view->lastAnswerText();
    QVERIFY(!answer.isEmpty());
    HF_AWAIT(page, f.service->messages(QStringLiteral("long"), -1, 1));
    QVERIFY(page && page->ok());
    QCOMPARE(answer, page->value().messages.last().content);
}

QTEST_MAIN(TestLongChat)
#include "tst_longchat.moc"
