// The conversation tree at the store level (issue 19, W3 branches): in each store (memory,
// SQLite, Redis when redis-server is installed), a session of 100,000 messages over 1,000
// branches against one of 10 messages: loading the active branch's newest 30 messages (the
// session's metadata, then loadBranch from head, as a GET ?window=30 does) and saving one more
// turn (beginTurn + finishTurn) must cost the same, within 2x, whatever the history.
//
// Tree: branch 0 is 50 turns from a first message; branch b forks from the answer of turn 25 of
// branch b - 1 (an edited prompt), so the active branch's head is ~50,000 messages deep and
// every fork point has two children. Sizes are measured in 5 interleaved rounds (200 loads of
// each, then 10 turns of each, per round); a figure is the median of the rounds' medians.
//
// Attachments (issue 20): a session of 10 messages whose 5 prompts link 100 attachments of 1 MiB
// each against the same session without any: loading it (metadata, then the branch of 30) never
// reads attachment bytes, so it must cost the same, within 2x. `--attachments` runs only this.
//
// `cmake --build B --target storetree_bench && B/tests/bench/storetree_bench [--attachments]
// [kinds...]`
#include "fakes/redisserver.h"
#include "fakes/storedata.h"
#include "store/memorystore.h"
#include "store/redisstore.h"
#include "store/sqlitestore.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QTemporaryDir>

#include <algorithm>
#include <cstdio>
#include <vector>

using namespace holdfast;

namespace {

constexpr int kWindow = 30;
constexpr int kBranches = 1000;
constexpr int kTurnsPerBranch = 50;
constexpr int kForkTurn = 25;
constexpr int kRounds = 5;
constexpr int kLoadsPerRound = 200;
constexpr int kTurnsPerRound = 10;

Message message(qint64 index, bool user, qint64 parent, qint64 depth, int turn)
{
    Message m =
        test::message(index, user ? QStringLiteral("user") : QStringLiteral("assistant"),
                      user ? QStringLiteral("A question of a few words, number %1?").arg(index)
                           : QStringLiteral("An answer of a sentence or two, as a model "
                                            "would give it, for message %1.")
                                 .arg(index),
                      turn);
    m.parent = parent;
    m.depth = depth;
    return m;
}

double median(std::vector<double> v)
{
    std::sort(v.begin(), v.end());
    return v.empty() ? 0 : v[v.size() / 2];
}

// One session being grown turn by turn, the way the service saves a turn.
struct Grower
{
    Store *store;
    SessionMeta meta;

    // Saves one turn after message `parent` (-1: a new first message); returns the answer's index.
    // The writes are queued, not awaited: `pending` collects them.
    qint64 turn(qint64 parent, qint64 parentDepth, std::vector<QCoro::Task<Status>> &pending)
    {
        const int tid = meta.lastTurn + 1;
        const qint64 p = meta.total;
        const Message prompt = message(p, true, parent, parentDepth + 1, tid);
        const Message answer = message(p + 1, false, p, parentDepth + 2, tid);
        meta.lastTurn = tid;
        meta.activeTurn = tid;
        meta.total = p + 1;
        meta.head = p;
        meta.length = prompt.depth + 1;
        TurnRecord t = test::turnRecord(meta.id, tid, p);
        pending.push_back(store->beginTurn(meta, prompt, t));
        meta.total = p + 2;
        meta.head = p + 1;
        meta.length = answer.depth + 1;
        meta.activeTurn = 0;
        t.state = TurnRecord::State::Done;
        t.responseIndex = p + 1;
        t.chunks = 1;
        t.finishedAt = t.createdAt;
        pending.push_back(store->finishTurn(meta, answer, t));
        return p + 1;
    }
};

bool settle(std::vector<QCoro::Task<Status>> &pending)
{
    bool good = true;
    for (auto &task : pending)
        good = test::ok(std::move(task)) && good;
    pending.clear();
    return good;
}

// A grown session and the depth of its head.
struct Built
{
    SessionMeta meta;
    qint64 headDepth = 0;
};

std::optional<Built> build(Store *store, const QString &id, int branches, int turnsPerBranch)
{
    Grower g{store, test::meta(id)};
    if (!test::ok(store->createSession(g.meta)))
        return std::nullopt;
    std::vector<QCoro::Task<Status>> pending;
    qint64 forkFrom = -1, forkDepth = -1;
    qint64 lastDepth = -1;
    for (int b = 0; b < branches; ++b) {
        qint64 parent = forkFrom, depth = forkDepth;
        for (int t = 0; t < turnsPerBranch; ++t) {
            parent = g.turn(parent, depth, pending);
            depth += 2;
            if (t + 1 == kForkTurn) {
                forkFrom = parent;
                forkDepth = depth;
            }
        }
        lastDepth = depth;
        if (pending.size() >= 2000 && !settle(pending))
            return std::nullopt;
    }
    if (!settle(pending))
        return std::nullopt;
    return Built{g.meta, lastDepth};
}

// The time of one load of the window: the session's metadata, then the branch from its head.
double loadMs(Store *store, const QString &id)
{
    QElapsedTimer clock;
    clock.start();
    const std::optional<SessionMeta> meta = test::value(store->loadSession(id));
    const QList<Message> window = test::value(store->loadBranch(id, meta->head, kWindow));
    const double ms = double(clock.nsecsElapsed()) / 1e6;
    if (window.size() != std::min<qint64>(kWindow, meta->length))
        qFatal("the window of %s has %lld messages", qPrintable(id), qint64(window.size()));
    return ms;
}

constexpr int kAttachments = 100;
constexpr int kAttachmentBytes = 1 << 20;

// A session of 5 turns; with `attachments`, its prompts link 100 uploads of 1 MiB, 20 each.
bool buildWithAttachments(Store *store, const QString &id, bool attachments)
{
    SessionMeta meta = test::meta(id);
    if (!test::ok(store->createSession(meta)))
        return false;
    QByteArray bytes(kAttachmentBytes, 'x');
    QList<Attachment> uploads;
    for (int i = 0; attachments && i < kAttachments; ++i) {
        Attachment a;
        a.id = QStringLiteral("file-%1").arg(i);
        a.name = QStringLiteral("photo-%1.png").arg(i);
        a.type = QStringLiteral("image/png");
        a.size = bytes.size();
        a.createdAt = meta.createdAt;
        bytes[0] = char(i); // every upload its own bytes
        if (!test::ok(store->putAttachment(id, a, bytes)))
            return false;
        uploads.append(a);
    }
    Grower g{store, meta};
    std::vector<QCoro::Task<Status>> pending;
    qint64 parent = -1;
    for (int t = 0; t < 5; ++t) {
        const int tid = g.meta.lastTurn + 1;
        const qint64 p = g.meta.total;
        Message prompt = message(p, true, parent, p, tid);
        prompt.attachments = uploads.mid(t * 20, 20);
        g.meta.lastTurn = tid;
        g.meta.total = p + 1;
        g.meta.head = p;
        g.meta.length = p + 1;
        TurnRecord turn = test::turnRecord(id, tid, p);
        pending.push_back(store->beginTurn(g.meta, prompt, turn));
        g.meta.total = p + 2;
        g.meta.head = p + 1;
        g.meta.length = p + 2;
        turn.state = TurnRecord::State::Done;
        turn.responseIndex = p + 1;
        pending.push_back(store->finishTurn(g.meta, message(p + 1, false, p, p + 1, tid), turn));
        parent = p + 1;
        if (!settle(pending))
            return false;
    }
    return true;
}

void runAttachments(const QString &kind, Store *store)
{
    const QString with = QStringLiteral("attached"), without = QStringLiteral("plain");
    QElapsedTimer clock;
    clock.start();
    if (!buildWithAttachments(store, without, false) || !buildWithAttachments(store, with, true))
        qFatal("building the attachment sessions in %s failed", qPrintable(kind));
    std::printf("%s: stored %d attachments of %d bytes in %.1f s\n", qPrintable(kind), kAttachments,
                kAttachmentBytes, double(clock.elapsed()) / 1000);
    const auto branch = test::value(store->loadBranch(with, 9, kWindow));
    qsizetype linked = 0;
    for (const Message &m : branch)
        linked += m.attachments.size();
    if (linked != kAttachments)
        qFatal("the branch of %s lists %lld attachments", qPrintable(with), qint64(linked));
    std::vector<double> loads[2];
    const QString ids[2] = {without, with};
    for (int round = 0; round < kRounds; ++round) {
        for (int s = 0; s < 2; ++s) {
            std::vector<double> v;
            for (int i = 0; i < kLoadsPerRound; ++i)
                v.push_back(loadMs(store, ids[s]));
            loads[s].push_back(median(v));
        }
    }
    const double l0 = median(loads[0]), l1 = median(loads[1]);
    std::printf("| %s | GET session, no attachments | %.3f |\n", qPrintable(kind), l0);
    std::printf("| %s | GET session, %d x 1 MiB attachments | %.3f |\n", qPrintable(kind),
                kAttachments, l1);
    std::printf("%s: load with attachments %.3f / %.3f ms = %.2fx\n", qPrintable(kind), l1, l0,
                l1 / l0);
    std::printf("JSON-W3A {\"store\": \"%s\", \"attachments\": %d, \"attachment_bytes\": %d, "
                "\"plain_load_ms\": %.4f, \"attached_load_ms\": %.4f}\n",
                qPrintable(kind), kAttachments, kAttachmentBytes, l0, l1);
    std::fflush(stdout);
}

void run(const QString &kind, Store *store, bool attachmentsOnly)
{
    if (!test::ok(store->open()))
        qFatal("cannot open the %s store", qPrintable(kind));
    runAttachments(kind, store);
    if (attachmentsOnly)
        return;
    QElapsedTimer clock;
    clock.start();
    auto small = build(store, QStringLiteral("small"), 1, 5);
    const double smallMs = double(clock.restart());
    auto big = build(store, QStringLiteral("big"), kBranches, kTurnsPerBranch);
    const double bigMs = double(clock.restart());
    if (!small || !big)
        qFatal("building the sessions in %s failed", qPrintable(kind));
    std::printf("%s: built 10 messages in %.0f ms, %lld messages over %d branches (head at depth "
                "%lld) in %.1f s\n",
                qPrintable(kind), smallMs, big->meta.total, kBranches, big->headDepth,
                bigMs / 1000);

    std::vector<double> loads[2], saves[2];
    Grower growers[2] = {{store, small->meta}, {store, big->meta}};
    qint64 depths[2] = {small->headDepth, big->headDepth};
    for (int round = 0; round < kRounds; ++round) {
        for (int s = 0; s < 2; ++s) {
            std::vector<double> v;
            for (int i = 0; i < kLoadsPerRound; ++i)
                v.push_back(loadMs(store, growers[s].meta.id));
            loads[s].push_back(median(v));
        }
        for (int s = 0; s < 2; ++s) {
            std::vector<double> v;
            for (int i = 0; i < kTurnsPerRound; ++i) {
                std::vector<QCoro::Task<Status>> pending;
                clock.restart();
                growers[s].turn(growers[s].meta.head, depths[s], pending);
                if (!settle(pending))
                    qFatal("saving a turn failed");
                v.push_back(double(clock.nsecsElapsed()) / 1e6);
                depths[s] += 2;
            }
            saves[s].push_back(median(v));
        }
    }
    const double l0 = median(loads[0]), l1 = median(loads[1]);
    const double s0 = median(saves[0]), s1 = median(saves[1]);
    std::printf("| %s | 10 | %.3f | %.3f |\n", qPrintable(kind), l0, s0);
    std::printf("| %s | %lld over %d branches | %.3f | %.3f |\n", qPrintable(kind), big->meta.total,
                kBranches, l1, s1);
    std::printf("%s: load %.3f / %.3f ms = %.2fx, save %.3f / %.3f ms = %.2fx\n", qPrintable(kind),
                l1, l0, l1 / l0, s1, s0, s1 / s0);
    // For tests/bench/run.
    std::printf(
        "JSON-W3B {\"store\": \"%s\", \"messages\": %lld, \"branches\": %d, \"window\": %d, "
        "\"head_depth\": %lld, \"build_s\": %.1f, \"small_load_ms\": %.4f, "
        "\"big_load_ms\": %.4f, \"small_save_ms\": %.4f, \"big_save_ms\": %.4f}\n",
        qPrintable(kind), big->meta.total, kBranches, kWindow, big->headDepth, bigMs / 1000, l0, l1,
        s0, s1);
    std::fflush(stdout);
}

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    QStringList kinds = app.arguments().mid(1);
    const bool attachmentsOnly = kinds.removeAll(QStringLiteral("--attachments")) > 0;
    if (kinds.isEmpty())
        kinds = {QStringLiteral("memory"), QStringLiteral("sqlite"), QStringLiteral("redis")};
    QTemporaryDir dir;
    for (const QString &kind : std::as_const(kinds)) {
        if (kind == QLatin1String("memory")) {
            MemoryStore store;
            run(kind, &store, attachmentsOnly);
        } else if (kind == QLatin1String("sqlite")) {
            SqliteStore store(dir.filePath(QStringLiteral("tree.db")));
            run(kind, &store, attachmentsOnly);
        } else if (kind == QLatin1String("redis")) {
            if (test::RedisServer::executable().isEmpty()) {
                std::printf("redis: redis-server is not installed, left out\n");
                continue;
            }
            test::RedisServer server;
            if (!server.start())
                qFatal("redis-server did not start");
            RedisStore store(*RedisStore::parseUrl(server.url()));
            run(kind, &store, attachmentsOnly);
        }
    }
    return 0;
}
