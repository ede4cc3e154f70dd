// Soak (issue 9): the real `holdfast --headless` on a SQLite file under mixed traffic from 200
// concurrent clients for HOLDFAST_SOAK_SECONDS (default 20 s in ctest; run it for 600 s locally):
// sessions created and deleted, turns followed over SSE, SSE dropped and resumed with
// Last-Event-ID, /chunks long polls, cancels, deletes of busy sessions, reads and lists.
// Asserts: every answer has a status the API allows for that request; resumed streams go on
// right after the last event seen; every turn reaches its terminal event; the server's RSS at
// the end is within 10% (+ 8 MiB) of its RSS after warm-up; its open file descriptors return
// to their count before the traffic. Prints the figures.
#include "fakes/holdfastprocess.h"
#include "fakes/httptestclient.h"
#include "fakes/testutil.h"

#include <QDir>
#include <QElapsedTimer>
#include <QRandomGenerator>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>

#include <functional>
#include <memory>

using namespace holdfast;
using test::HttpReply;
using test::spinUntil;

namespace {

constexpr int kClients = 200;
constexpr int kRequestTimeoutMs = 60000;

struct Stats
{
    QMap<QByteArray, int> requests; // by kind
    QStringList problems;           // unexpected statuses, broken streams, lost connections
    int cycles = 0;
    int turns = 0;
    void problem(const QString &what)
    {
        if (problems.size() < 50)
            problems.append(what);
        else if (problems.size() == 50)
            problems.append(QStringLiteral("…"));
    }
};

qint64 procValueKb(qint64 pid, const QByteArray &key)
{
    return test::procStatusKb(pid, key);
}

int fdCount(qint64 pid)
{
    return int(QDir(QStringLiteral("/proc/%1/fd").arg(pid))
                   .entryList(QDir::NoDotAndDotDot | QDir::AllEntries | QDir::System)
                   .size());
}

// The first `id: N` of an event stream's bytes (chunked framing does not split an event).
int firstEventId(const QByteArray &bytes)
{
    static const QRegularExpression re(QStringLiteral("(?:^|\\n)id: (\\d+)\\r?\\n"));
    const auto m = re.match(QString::fromUtf8(bytes));
    return m.hasMatch() ? m.captured(1).toInt() : -1;
}

// One simulated client: a loop of cycles (create a session, run three turns read in one of
// four ways, delete it) until told to stop. Callback-driven on the test's event loop.
class SoakClient : public QObject
{
public:
    SoakClient(int index, quint16 port, Stats *stats)
        : m_index(index), m_port(port), m_stats(stats), m_rng(quint32(20261125 + index))
    {
        m_timeout.setSingleShot(true);
        connect(&m_timeout, &QTimer::timeout, this, [this] {
            m_stats->problem(QStringLiteral("client %1: no answer to %2 within %3 ms")
                                 .arg(m_index)
                                 .arg(QString::fromLatin1(m_kind))
                                 .arg(kRequestTimeoutMs));
            dropSocket();
            nextCycle();
        });
    }

    void start()
    {
        QTimer::singleShot(int(m_rng.bounded(1000)), this, [this] { nextCycle(); });
    }
    void stop() { m_stopping = true; }
    bool finished() const { return m_finished; }

private:
    using Then = std::function<void(const HttpReply &)>;

    void nextCycle()
    {
        if (m_stopping) {
            m_finished = true;
            dropSocket();
            return;
        }
        ++m_cycle;
        m_turn = 0;
        m_sid = QStringLiteral("soak-%1-%2").arg(m_index).arg(m_cycle).toUtf8();
        request("create", "POST", "/v1/sessions", "{\"id\":\"" + m_sid + "\",\"title\":\"soak\"}",
                {201}, [this](const HttpReply &) {
                    ++m_stats->cycles;
                    nextTurn();
                });
    }

    void nextTurn()
    {
        if (++m_turn > 3 || m_stopping) {
            request("delete", "DELETE", "/v1/sessions/" + m_sid, {}, {204},
                    [this](const HttpReply &) { nextCycle(); });
            return;
        }
        const QByteArray body =
            "{\"prompt\":\"soak " + m_sid + " turn " + QByteArray::number(m_turn) + "\"}";
        request("turn", "POST", "/v1/sessions/" + m_sid + "/turns", body, {202},
                [this](const HttpReply &) {
                    ++m_stats->turns;
                    m_path = "/v1/sessions/" + m_sid + "/turns/" + QByteArray::number(m_turn);
                    switch (m_rng.bounded(10)) {
                    case 0:
                    case 1:
                    case 2:
                        follow();
                        break;
                    case 3:
                    case 4:
                        followAndResume();
                        break;
                    case 5:
                    case 6:
                        poll(0);
                        break;
                    case 7:
                    case 8:
                        cancelThenPoll();
                        break;
                    default: // delete while the turn runs: it is cancelled, then everything goes
                        request("delete busy", "DELETE", "/v1/sessions/" + m_sid, {}, {204},
                                [this](const HttpReply &) { nextCycle(); });
                        break;
                    }
                });
    }

    void afterTurn()
    {
        if (m_rng.bounded(3) == 0) {
            request("read", "GET", "/v1/sessions/" + m_sid + "?window=5", {}, {200},
                    [this](const HttpReply &) {
                        request("list", "GET", "/v1/sessions?limit=5", {}, {200},
                                [this](const HttpReply &) { nextTurn(); });
                    });
            return;
        }
        nextTurn();
    }

    void checkTerminal(const HttpReply &r, const char *what)
    {
        if (!r.body.contains("event: done") && !r.body.contains("event: error"))
            m_stats->problem(QStringLiteral("%1 %2: no terminal event")
                                 .arg(QString::fromLatin1(what), QString::fromUtf8(m_path)));
    }

    void follow()
    {
        request("events", "GET", m_path + "/events", {}, {200}, [this](const HttpReply &r) {
            checkTerminal(r, "events");
            afterTurn();
        });
    }

    // Reads the stream until its first event, drops the connection, and resumes after it.
    void followAndResume()
    {
        m_resumeAfterFirstEvent = true;
        request("events", "GET", m_path + "/events", {}, {200}, [this](const HttpReply &r) {
            // The turn ended before an event was cut off: a whole stream, nothing to resume.
            checkTerminal(r, "events");
            afterTurn();
        });
    }

    void resume(int lastId)
    {
        request("events resumed", "GET", m_path + "/events", {}, {200},
                [this, lastId](const HttpReply &r) {
                    checkTerminal(r, "resumed events");
                    const int first = firstEventId(r.body);
                    if (first >= 0 && first != lastId + 1)
                        m_stats->problem(QStringLiteral("%1: resumed after id %2 at id %3")
                                             .arg(QString::fromUtf8(m_path))
                                             .arg(lastId)
                                             .arg(first));
                    afterTurn();
                },
                {{"Last-Event-ID", QByteArray::number(lastId)}});
    }

    void poll(int from)
    {
        request("chunks", "GET", m_path + "/chunks?from=" + QByteArray::number(from) + "&wait=1000",
                {}, {200}, [this](const HttpReply &r) {
                    const QJsonObject o = r.json();
                    if (o.value(QStringLiteral("done")).toBool()) {
                        afterTurn();
                        return;
                    }
                    poll(o.value(QStringLiteral("next")).toInt());
                });
    }

    void cancelThenPoll()
    {
        request("chunks", "GET", m_path + "/chunks?from=0&wait=300", {}, {200},
                [this](const HttpReply &) {
                    request("cancel", "POST", m_path + "/cancel", {}, {202},
                            [this](const HttpReply &) { poll(0); });
                });
    }

    void request(const char *kind, const QByteArray &method, const QByteArray &target,
                 const QByteArray &body, QList<int> allowed, Then then,
                 const QList<QPair<QByteArray, QByteArray>> &headers = {})
    {
        ++m_stats->requests[kind];
        m_kind = kind;
        m_allowed = std::move(allowed);
        m_then = std::move(then);
        QByteArray bytes = method + ' ' + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
        if (!body.isEmpty())
            bytes += "Content-Type: application/json\r\n";
        if (method == "POST" || method == "PATCH")
            bytes += "Content-Length: " + QByteArray::number(body.size()) + "\r\n";
        for (const auto &h : headers)
            bytes += h.first + ": " + h.second + "\r\n";
        bytes += "\r\n" + body;
        // Event streams get a connection of their own; other requests reuse one (keep-alive).
        const bool stream = target.endsWith("/events");
        if (stream || !m_socket || m_socket->state() != QAbstractSocket::ConnectedState)
            newSocket();
        m_buffer.clear();
        m_pendingWrite = bytes;
        if (m_socket->state() == QAbstractSocket::ConnectedState)
            flushWrite();
        m_timeout.start(kRequestTimeoutMs);
    }

    void newSocket()
    {
        dropSocket();
        m_socket = new QTcpSocket(this);
        connect(m_socket, &QTcpSocket::connected, this, [this] { flushWrite(); });
        connect(m_socket, &QTcpSocket::readyRead, this, [this] { onData(); });
        connect(m_socket, &QTcpSocket::disconnected, this, [this] { onData(); });
        connect(m_socket, &QTcpSocket::errorOccurred, this, [this] { onData(); });
        m_socket->connectToHost(QHostAddress::LocalHost, m_port);
    }

    void dropSocket()
    {
        if (!m_socket)
            return;
        m_socket->disconnect(this);
        m_socket->abort();
        m_socket->deleteLater();
        m_socket = nullptr;
    }

    void flushWrite()
    {
        if (!m_pendingWrite.isEmpty())
            m_socket->write(std::exchange(m_pendingWrite, {}));
    }

    void onData()
    {
        if (!m_then || !m_socket)
            return;
        m_buffer += m_socket->readAll();
        const bool eof = m_socket->state() == QAbstractSocket::UnconnectedState;
        if (m_resumeAfterFirstEvent) {
            const qsizetype head = m_buffer.indexOf("\r\n\r\n");
            const int id = head < 0 ? -1 : firstEventId(m_buffer.mid(head));
            if (id >= 0 && !m_buffer.contains("event: done") &&
                !m_buffer.contains("event: error")) {
                m_resumeAfterFirstEvent = false;
                m_timeout.stop();
                m_then = {};
                dropSocket(); // the client goes away mid-stream, as a dropped network would
                resume(id);
                return;
            }
        }
        HttpReply reply;
        const qsizetype used = test::parseReply(m_buffer, eof, &reply);
        if (used == 0) {
            if (!eof)
                return;
            m_stats->problem(QStringLiteral("client %1: connection closed during %2: %3")
                                 .arg(m_index)
                                 .arg(QString::fromLatin1(m_kind), m_socket->errorString()));
            m_timeout.stop();
            m_then = {};
            m_resumeAfterFirstEvent = false;
            dropSocket();
            QTimer::singleShot(0, this, [this] { nextCycle(); });
            return;
        }
        m_buffer.remove(0, used);
        m_timeout.stop();
        m_resumeAfterFirstEvent = false;
        if (!m_allowed.contains(reply.status)) {
            m_stats->problem(QStringLiteral("%1 %2: status %3 %4")
                                 .arg(QString::fromLatin1(m_kind), QString::fromUtf8(m_sid))
                                 .arg(reply.status)
                                 .arg(QString::fromUtf8(reply.body.left(200))));
        }
        Then then = std::exchange(m_then, {});
        // Next step from a fresh stack frame: a callback may replace this very socket.
        QTimer::singleShot(0, this, [then, reply] { then(reply); });
    }

    int m_index;
    quint16 m_port;
    Stats *m_stats;
    QRandomGenerator m_rng;
    QTcpSocket *m_socket = nullptr;
    QByteArray m_buffer;
    QByteArray m_pendingWrite;
    QTimer m_timeout;
    const char *m_kind = "";
    QList<int> m_allowed;
    Then m_then;
    QByteArray m_sid;
    QByteArray m_path;
    int m_cycle = 0;
    int m_turn = 0;
    bool m_resumeAfterFirstEvent = false;
    bool m_stopping = false;
    bool m_finished = false;
};

void spinFor(int ms)
{
    QElapsedTimer clock;
    clock.start();
    while (clock.elapsed() < ms)
        QCoreApplication::processEvents(QEventLoop::AllEvents, 20);
}

} // namespace

class TestSoak : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void mixedTraffic()
    {
        const int seconds = qEnvironmentVariableIsSet("HOLDFAST_SOAK_SECONDS")
                                ? qEnvironmentVariableIntValue("HOLDFAST_SOAK_SECONDS")
                                : 20;
        QVERIFY(seconds >= 4);
        // Under AddressSanitizer, freed memory sits in a quarantine that fills for minutes; keep
        // it small so that RSS tells about leaks, not about the quarantine filling up.
        QByteArray asan = qgetenv("ASAN_OPTIONS");
        qputenv("ASAN_OPTIONS", asan + (asan.isEmpty() ? "" : ":") +
                                    "quarantine_size_mb=4:thread_local_quarantine_size_kb=64");
        QTemporaryDir home;
        test::HoldfastProcess server(
            home.path(),
            {QStringLiteral("--listen"), QStringLiteral("127.0.0.1:0"), QStringLiteral("--store"),
             QStringLiteral("sqlite:") + home.path() + QStringLiteral("/soak.db"),
             QStringLiteral("--demo-chunks"), QStringLiteral("8"),
             QStringLiteral("--demo-delay-ms"), QStringLiteral("25"), QStringLiteral("--log-level"),
             QStringLiteral("warning")});
        qputenv("ASAN_OPTIONS", asan);
        const quint16 port = server.waitForPort();
        QVERIFY(port != 0);
        const qint64 pid = server.process().processId();
        // stderr is read and dropped as it comes, so that a pipe never fills.
        connect(&server.process(), &QProcess::readyReadStandardError, this,
                [&] { server.process().readAllStandardError(); });

        const int fdStart = fdCount(pid);
        const qint64 rssStart = procValueKb(pid, "VmRSS");

        Stats stats;
        std::vector<std::unique_ptr<SoakClient>> clients;
        for (int i = 0; i < kClients; ++i) {
            clients.push_back(std::make_unique<SoakClient>(i, port, &stats));
            clients.back()->start();
        }
        const int warmupMs = std::max(3000, seconds * 1000 / 4);
        spinFor(warmupMs);
        const qint64 rssWarm = procValueKb(pid, "VmRSS");
        const int fdWarm = fdCount(pid);
        spinFor(seconds * 1000 - warmupMs);
        const qint64 rssPeakLoad = procValueKb(pid, "VmRSS");

        // Stop: every client finishes its cycle (its session deleted), then closes.
        for (auto &c : clients)
            c->stop();
        const bool drained = spinUntil(
            [&] {
                return std::all_of(clients.begin(), clients.end(),
                                   [](const auto &c) { return c->finished(); });
            },
            90000);
        clients.clear();
        spinUntil([&] { return fdCount(pid) <= fdStart; }, 10000);
        spinFor(500);
        const int fdEnd = fdCount(pid);
        const qint64 rssEnd = procValueKb(pid, "VmRSS");
        const qint64 hwm = procValueKb(pid, "VmHWM");

        QString counts;
        for (auto it = stats.requests.cbegin(); it != stats.requests.cend(); ++it)
            counts += QStringLiteral(" %1=%2").arg(QString::fromLatin1(it.key())).arg(it.value());
        qInfo("soak: %d clients, %d s: %d cycles, %d turns; requests:%s", kClients, seconds,
              stats.cycles, stats.turns, qPrintable(counts));
        qInfo("soak: server RSS %lld kB at start, %lld kB after %d ms warm-up, %lld kB under "
              "load at the end, %lld kB after the traffic (peak %lld kB)",
              rssStart, rssWarm, warmupMs, rssPeakLoad, rssEnd, hwm);
        qInfo("soak: server fds %d at start, %d during the traffic, %d at the end", fdStart, fdWarm,
              fdEnd);
        for (const QString &p : std::as_const(stats.problems))
            qWarning("soak problem: %s", qPrintable(p));

        QVERIFY(drained);
        QVERIFY2(stats.problems.isEmpty(), qPrintable(stats.problems.value(0)));
        QVERIFY(stats.turns >= kClients); // the traffic did happen
        QVERIFY(server.process().state() == QProcess::Running);
        QVERIFY2(rssEnd <= rssWarm + rssWarm / 10 + 8 * 1024,
                 qPrintable(QStringLiteral("RSS %1 kB after warm-up, %2 kB at the end")
                                .arg(rssWarm)
                                .arg(rssEnd)));
        QCOMPARE(fdEnd, fdStart);

        server.signal(SIGTERM);
        QVERIFY(server.waitForExit());
        QCOMPARE(server.process().exitCode(), 0);
    }
};

int main(int argc, char **argv)
{
    // QTest stops a test function after 5 minutes; a local soak of 10 runs longer than that.
    if (!qEnvironmentVariableIsSet("QTEST_FUNCTION_TIMEOUT")) {
        const int seconds = qEnvironmentVariableIntValue("HOLDFAST_SOAK_SECONDS");
        qputenv("QTEST_FUNCTION_TIMEOUT", QByteArray::number((std::max(seconds, 20) + 300) * 1000));
    }
    QCoreApplication app(argc, argv);
    TestSoak test;
    QTEST_SET_MAIN_SOURCE_PATH
    return QTest::qExec(&test, argc, argv);
}
#include "tst_soak.moc"
