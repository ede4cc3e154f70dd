// chatview_bench: the chat view's GUI-thread cost, on the offscreen platform (issue 5).
//
//   cmake --build B --target chatview_bench && QT_QPA_PLATFORM=offscreen
//   B/tests/bench/chatview_bench
//
// 1. Streams a 1 MiB Markdown answer into the view in 16-byte chunks, letting the event loop
//    lay out and paint after each chunk, and prints the GUI-thread time per chunk at 32 KiB,
//    64 KiB, 128 KiB … 1 MiB (the 2,048 chunks before each): it must stay flat. The last column
//    is the p50 of the thread's CPU time, which other processes on the machine do not inflate as
//    they do the wall-clock figures. tests/bench/run (workload V) parses the table's rows.
//    Options: --quick (20 older pages instead of 200), --no-stream (part 2 only), --no-long
//    (part 1 only), --unbounded (part 2 with every loaded page kept in the document, to compare),
//    --code (part 1 only, the answer being one long C++ code block, highlighted as it streams;
//    add --lang text for the same block in monochrome, or --lang NAME for another fence label),
//    --max-kib N (part 1 stops after N KiB, 32 … 1024: a shorter run, for a smoke test).
// 2. Opens a 100,000-message chat (memory store, in-process service), then scrolls to the top
//    again and again (each time one older page loads) and page-steps through what is shown;
//    prints the open time, the time per older page, the time per scroll step, and the RSS.
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
#include <QElapsedTimer>
#include <QFile>
#include <QScrollBar>
#include <QSignalSpy>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <limits>

using namespace holdfast;

namespace {

double rssMiB()
{
    QFile status(QStringLiteral("/proc/self/status"));
    if (!status.open(QIODevice::ReadOnly))
        return 0;
    for (const QByteArray &line : status.readAll().split('\n')) {
        if (line.startsWith("VmRSS:"))
            return line.mid(6).trimmed().split(' ').value(0).toDouble() / 1024.0;
    }
    return 0;
}

QString answerOf(qsizetype bytes)
{
    QString answer;
    for (int i = 0; answer.size() < bytes; ++i) {
        answer += QStringLiteral("Paragraph %1 has some **bold** words and `code` in it, and goes "
                                 "on for a while so that it spans a few lines of text.\n\n")
                      .arg(i);
        if (i % 7 == 0)
            answer += QStringLiteral("- item one\n- item two\n\n```\nline a\nline b\n```\n\n");
        if (i % 11 == 0)
            answer += QStringLiteral("| a | b |\n|---|---|\n| 1 | 2 |\n\n");
    }
    answer.truncate(bytes);
    return answer;
}

// CPU time of the calling thread: what the GUI thread spent, whatever else the machine runs.
qint64 threadCpuNs()
{
    timespec t{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return qint64(t.tv_sec) * 1000000000 + t.tv_nsec;
}

struct Stats
{
    double meanUs = 0;
    double p50Us = 0;
    double p99Us = 0;
    double maxUs = 0;
};

Stats statsOf(std::vector<qint64> ns)
{
    Stats s;
    if (ns.empty())
        return s;
    std::sort(ns.begin(), ns.end());
    double sum = 0;
    for (const qint64 v : ns)
        sum += double(v);
    s.meanUs = sum / double(ns.size()) / 1000.0;
    s.p50Us = double(ns[ns.size() / 2]) / 1000.0;
    s.p99Us = double(ns[ns.size() * 99 / 100]) / 1000.0;
    s.maxUs = double(ns.back()) / 1000.0;
    return s;
}

// One code block of `bytes` (lines of code, as a model writes a long file).
QString codeOf(qsizetype bytes, const QString &language)
{
    QString answer = QStringLiteral("```") + language + u'\n';
    for (int i = 0; answer.size() < bytes; ++i)
        answer +=
            QStringLiteral("    total += compute(values[%1], offset * %1); // step %1\n").arg(i);
    answer.truncate(bytes);
    return answer;
}

void streamBench(bool code, const QString &language, qsizetype answerBytes)
{
    constexpr qsizetype kChunk = 16;
    constexpr qsizetype kWindow = 2048; // chunks measured before each mark
    const QString answer = code ? codeOf(answerBytes, language) : answerOf(answerBytes);
    if (code)
        std::printf("the answer is one code block (```%s)\n", qPrintable(language));
    ChatView view;
    view.resize(900, 700);
    view.show();
    QCoreApplication::processEvents();
    view.beginAnswer(1, QStringLiteral("demo"), QString());
    std::printf("streaming a %lld-byte answer in %lld-byte chunks (layout and paint after each)\n",
                qlonglong(answerBytes), qlonglong(kChunk));
    std::printf("%10s %10s %10s %10s %10s %12s\n", "at", "mean us", "p50 us", "p99 us", "max us",
                "cpu p50 us");
    // Every doubling of the answer, for the report's chart of cost against size.
    const qsizetype marks[] = {32 * 1024,  64 * 1024,  128 * 1024,
                               256 * 1024, 512 * 1024, 1024 * 1024};
    std::vector<qint64> window;
    std::vector<qint64> cpuWindow;
    QElapsedTimer clock;
    QElapsedTimer total;
    total.start();
    for (qsizetype at = 0; at < answerBytes; at += kChunk) {
        const qsizetype end = at + kChunk;
        const bool measured = std::any_of(std::begin(marks), std::end(marks), [&](qsizetype m) {
            return end <= m && end > m - kWindow * kChunk;
        });
        clock.start();
        const qint64 cpu = threadCpuNs();
        view.appendAnswer(answer.mid(at, kChunk));
        QCoreApplication::processEvents();
        if (measured) {
            window.push_back(clock.nsecsElapsed());
            cpuWindow.push_back(threadCpuNs() - cpu);
        }
        for (const qsizetype m : marks) {
            if (end == m) {
                const Stats s = statsOf(window);
                std::printf("%7lld KiB %10.1f %10.1f %10.1f %10.1f %12.1f\n", qlonglong(m / 1024),
                            s.meanUs, s.p50Us, s.p99Us, s.maxUs, statsOf(cpuWindow).p50Us);
                window.clear();
                cpuWindow.clear();
            }
        }
    }
    std::printf("whole stream: %.1f s, RSS %.0f MiB\n\n", double(total.elapsed()) / 1000.0,
                rssMiB());
}

void longChatBench(int messages, int pages, bool unbounded)
{
    QElapsedTimer clock;
    clock.start();
    MemoryStore store;
    if (!test::fillLongChat(&store, QStringLiteral("long"), messages)) {
        std::printf("could not fill the store\n");
        return;
    }
    std::printf("%d-message chat stored in %.1f s (RSS %.0f MiB)\n", messages,
                double(clock.elapsed()) / 1000.0, rssMiB());
    ProviderRegistry registry;
    registry.add(new DemoProvider({8, 15}), {QStringLiteral("demo")});
    SessionService service(&store, &registry);
    if (!test::awaitResult(service.start()).ok()) {
        std::printf("the service did not start\n");
        return;
    }
    LocalClient client(&service);
    LiveTurns live(&client);
    ChatPane pane;
    pane.setClient(&client, &live);
    pane.resize(900, 700);
    pane.show();
    QCoreApplication::processEvents();
    ChatView *view = pane.view();
    if (unbounded) // every page loaded stays in the document, as before the view was bounded
        view->setMaxShown(std::numeric_limits<int>::max());
    QScrollBar *bar = view->verticalScrollBar();

    QSignalSpy opened(&pane, &ChatPane::sessionOpened);
    clock.start();
    pane.openSession(QStringLiteral("long"));
    test::spinUntil([&] { return !opened.isEmpty(); });
    view->repaint();
    std::printf("open: %.1f ms to the first paint (%d messages shown, RSS %.0f MiB)\n",
                double(clock.nsecsElapsed()) / 1e6, view->messageCount(), rssMiB());

    std::printf("%8s %12s %10s %12s %12s\n", "page", "page ms", "shown", "laid out", "RSS MiB");
    std::vector<qint64> pageNs;
    for (int page = 1; page <= pages; ++page) {
        const qint64 first = view->firstIndex();
        clock.start();
        bar->setValue(bar->minimum());
        if (!test::spinUntil([&] { return view->firstIndex() != first; }, 10000)) {
            std::printf("page %d did not load\n", page);
            break;
        }
        view->repaint();
        pageNs.push_back(clock.nsecsElapsed());
        if (page == 1 || page % (pages / 5) == 0)
            std::printf("%8d %12.1f %10d %12d %12.0f\n", page, double(pageNs.back()) / 1e6,
                        view->messageCount(), view->document()->blockCount(), rssMiB());
    }
    const Stats pageStats = statsOf(pageNs);
    std::printf("older page: mean %.1f ms, p50 %.1f ms, max %.1f ms\n", pageStats.meanUs / 1000,
                pageStats.p50Us / 1000, pageStats.maxUs / 1000);

    // Smooth scrolling: a page step down then up through what is shown, painting each time.
    std::vector<qint64> stepNs;
    bar->blockSignals(true); // steps within the shown messages only; no paging here
    for (int i = 0; i < 100; ++i) {
        const int step = (i / 10) % 2 == 0 ? bar->pageStep() / 3 : -bar->pageStep() / 3;
        clock.start();
        bar->setValue(std::clamp(bar->value() + step, bar->minimum() + 1, bar->maximum() - 1));
        view->viewport()->repaint();
        stepNs.push_back(clock.nsecsElapsed());
    }
    bar->blockSignals(false);
    const Stats stepStats = statsOf(stepNs);
    std::printf("scroll step (1/3 page, with paint): mean %.2f ms, p99 %.2f ms\n",
                stepStats.meanUs / 1000, stepStats.p99Us / 1000);
    test::awaitVoid(service.shutdown());
}

} // namespace

int main(int argc, char **argv)
{
    if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM"))
        qputenv("QT_QPA_PLATFORM", "offscreen");
    QApplication app(argc, argv);
    const QStringList args = app.arguments();
    const bool quick = args.contains(QStringLiteral("--quick"));
    const qsizetype maxKib = args.indexOf(QStringLiteral("--max-kib"));
    const qsizetype total =
        maxKib > 0 && maxKib + 1 < args.size()
            ? std::clamp<qsizetype>(args.at(maxKib + 1).toLongLong(), 32, 1024) * 1024
            : 1024 * 1024;
    if (args.contains(QStringLiteral("--code"))) {
        const qsizetype lang = args.indexOf(QStringLiteral("--lang"));
        streamBench(true,
                    lang > 0 && lang + 1 < args.size() ? args.at(lang + 1) : QStringLiteral("cpp"),
                    total);
        return 0;
    }
    if (!args.contains(QStringLiteral("--no-stream")))
        streamBench(false, QStringLiteral("cpp"), total);
    if (args.contains(QStringLiteral("--no-long")))
        return 0;
    longChatBench(100000, quick ? 20 : 200, args.contains(QStringLiteral("--unbounded")));
    return 0;
}
