// The headless server's event loop (EpollEventDispatcher): Qt's timer and socket-notifier
// contract, checked through Qt's own classes (QTimer, QSocketNotifier, QTcpServer/QTcpSocket,
// queued calls from other threads) with the dispatcher installed as the application's.

#include "runtime/epolldispatcher.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QSocketNotifier>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTest>
#include <QThread>
#include <QTimer>

#include <sys/socket.h>
#include <unistd.h>

#include <thread>

using namespace holdfast;

namespace {

// Counts the passes of the loop (each pass emits awake()).
struct PassCounter
{
    int passes = 0;
    QMetaObject::Connection connection;
    PassCounter()
    {
        connection = QObject::connect(QCoreApplication::eventDispatcher(),
                                      &QAbstractEventDispatcher::awake, [this] { ++passes; });
    }
    ~PassCounter() { QObject::disconnect(connection); }
};

struct SocketPair
{
    int fds[2] = {-1, -1};
    SocketPair() { ::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds); }
    ~SocketPair()
    {
        for (int fd : fds) {
            if (fd >= 0)
                ::close(fd);
        }
    }
};

} // namespace

class TestEventLoop : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void runsOnEpoll()
    {
        QVERIFY(qobject_cast<EpollEventDispatcher *>(QCoreApplication::eventDispatcher()));
    }

    // Timers fire in the order they are due, never before their interval.
    void timersFireInOrderAndNeverEarly()
    {
        QStringList order;
        QElapsedTimer clock;
        clock.start();
        QList<qint64> firedAt(3, -1);
        QTimer::singleShot(30, [&] {
            order << QStringLiteral("30");
            firedAt[2] = clock.elapsed();
        });
        QTimer::singleShot(10, [&] {
            order << QStringLiteral("10");
            firedAt[1] = clock.elapsed();
        });
        QTimer::singleShot(0, [&] {
            order << QStringLiteral("0");
            firedAt[0] = clock.elapsed();
        });
        QTRY_COMPARE(order.size(), 3);
        QCOMPARE(order,
                 (QStringList{QStringLiteral("0"), QStringLiteral("10"), QStringLiteral("30")}));
        QVERIFY(firedAt[1] >= 10);
        QVERIFY(firedAt[2] >= 30);
    }

    // A repeating timer keeps firing until stopped from its own handler; its remaining time is
    // within its interval; the dispatcher lists it while it runs.
    void repeatingTimerStopsFromItsHandler()
    {
        QTimer timer;
        timer.setInterval(5);
        int fired = 0;
        connect(&timer, &QTimer::timeout, [&] {
            if (++fired == 5)
                timer.stop();
        });
        timer.start();
        const auto listed = QCoreApplication::eventDispatcher()->registeredTimers(&timer);
        QCOMPARE(listed.size(), 1);
        QCOMPARE(listed.first().interval, 5);
        QVERIFY(timer.remainingTime() >= 0 && timer.remainingTime() <= 5);
        QTRY_VERIFY(!timer.isActive());
        QCOMPARE(fired, 5);
        QTest::qWait(30);
        QCOMPARE(fired, 5);
        QCOMPARE(timer.remainingTime(), -1);
    }

    // A nested loop run from a timer's handler goes on serving other timers, but never
    // re-enters the timer whose handler is running, and does not spin on it.
    void nestedLoopDoesNotReenterTheTimer()
    {
        QTimer outer;
        outer.setInterval(0);
        int depth = 0, maxDepth = 0, outerFired = 0, innerFired = 0;
        PassCounter counter;
        connect(&outer, &QTimer::timeout, [&] {
            ++outerFired;
            maxDepth = std::max(maxDepth, ++depth);
            if (outerFired == 1) {
                QEventLoop nested;
                QTimer inner;
                inner.setInterval(2);
                connect(&inner, &QTimer::timeout, [&] {
                    if (++innerFired == 5)
                        nested.quit();
                });
                inner.start();
                nested.exec();
            }
            --depth;
            if (outerFired == 3)
                outer.stop();
        });
        outer.start();
        QTRY_VERIFY(!outer.isActive());
        QCOMPARE(maxDepth, 1);
        QCOMPARE(innerFired, 5);
        QCOMPARE(outerFired, 3);
        // Five 2 ms timeouts took some passes, not a busy spin on the zero timer being handled.
        QVERIFY2(counter.passes < 2000, qPrintable(QString::number(counter.passes)));
    }

    // Read and write notifiers: activated when ready, silent when disabled, and a hang-up
    // reaches the read notifier.
    void socketNotifiers()
    {
        SocketPair pair;
        QVERIFY(pair.fds[0] >= 0);
        QSocketNotifier reader(pair.fds[0], QSocketNotifier::Read);
        int reads = 0;
        QByteArray got;
        bool hungUp = false;
        connect(&reader, &QSocketNotifier::activated, [&] {
            ++reads;
            char buf[256];
            const ssize_t n = ::read(pair.fds[0], buf, sizeof buf);
            if (n > 0)
                got.append(buf, n);
            else if (n == 0) {
                hungUp = true;
                reader.setEnabled(false);
            }
        });
        QTest::qWait(20);
        QCOMPARE(reads, 0); // nothing to read: no activation

        QCOMPARE(::write(pair.fds[1], "hello", 5), ssize_t(5));
        QTRY_COMPARE(got, QByteArray("hello"));

        reader.setEnabled(false);
        QCOMPARE(::write(pair.fds[1], "again", 5), ssize_t(5));
        QTest::qWait(20);
        QCOMPARE(got, QByteArray("hello"));
        reader.setEnabled(true); // level-triggered: what waited is reported now
        QTRY_COMPARE(got, QByteArray("helloagain"));

        QSocketNotifier writer(pair.fds[0], QSocketNotifier::Write);
        int writable = 0;
        connect(&writer, &QSocketNotifier::activated, [&] {
            ++writable;
            writer.setEnabled(false);
        });
        QTRY_COMPARE(writable, 1);

        ::close(pair.fds[1]);
        pair.fds[1] = -1;
        QTRY_VERIFY(hungUp);
    }

    // A socket whose peer hung up, watched only for out-of-band data: the hang-up (which the
    // kernel reports whatever one asks for) has nobody to go to, and must not make every pass
    // of the loop return at once.
    void unheardHangUpDoesNotSpin()
    {
        SocketPair pair;
        QSocketNotifier exceptions(pair.fds[0], QSocketNotifier::Exception);
        int activations = 0;
        connect(&exceptions, &QSocketNotifier::activated, [&] { ++activations; });
        ::close(pair.fds[1]);
        pair.fds[1] = -1;
        PassCounter counter;
        QEventLoop loop;
        QTimer::singleShot(100, &loop, &QEventLoop::quit);
        loop.exec();
        QCOMPARE(activations, 0);
        QVERIFY2(counter.passes < 200, qPrintable(QString::number(counter.passes)));
    }

    // Calls queued from other threads wake the waiting loop.
    void wakesUpForOtherThreads()
    {
        QObject receiver;
        QList<int> got;
        std::thread poster([&] {
            for (int i = 0; i < 100; ++i)
                QMetaObject::invokeMethod(
                    &receiver, [&got, i] { got.append(i); }, Qt::QueuedConnection);
        });
        poster.join();
        QTRY_COMPARE(got.size(), 100);
        for (int i = 0; i < 100; ++i)
            QCOMPARE(got.at(i), i);

        QEventLoop loop;
        std::thread quitter([&] {
            QThread::msleep(20);
            QMetaObject::invokeMethod(&loop, &QEventLoop::quit, Qt::QueuedConnection);
        });
        QTimer::singleShot(10000, &loop, [&] { loop.exit(1); }); // a lost wake-up fails here
        QCOMPARE(loop.exec(), 0);
        quitter.join();
    }

    // Qt's sockets on this loop: 2 MiB each way at once through a real TCP connection, so the
    // write notifiers come and go under back-pressure.
    void tcpBothWays()
    {
        QTcpServer server;
        QVERIFY(server.listen(QHostAddress::LocalHost, 0));
        QTcpSocket client;
        client.connectToHost(QHostAddress::LocalHost, server.serverPort());
        QTRY_VERIFY(server.hasPendingConnections());
        QTcpSocket *peer = server.nextPendingConnection();
        QTRY_COMPARE(client.state(), QAbstractSocket::ConnectedState);

        QByteArray data(2 * 1024 * 1024, Qt::Uninitialized);
        for (qsizetype i = 0; i < data.size(); ++i)
            data[i] = char(i * 7 + i / 4096);
        QByteArray atPeer, atClient;
        connect(peer, &QTcpSocket::readyRead, [&] { atPeer += peer->readAll(); });
        connect(&client, &QTcpSocket::readyRead, [&] { atClient += client.readAll(); });
        client.write(data);
        peer->write(data);
        QTRY_COMPARE_WITH_TIMEOUT(atPeer.size(), data.size(), 20000);
        QTRY_COMPARE_WITH_TIMEOUT(atClient.size(), data.size(), 20000);
        QVERIFY(atPeer == data);
        QVERIFY(atClient == data);

        client.disconnectFromHost();
        QTRY_COMPARE(peer->state(), QAbstractSocket::UnconnectedState);
    }
};

int main(int argc, char **argv)
{
    auto *dispatcher = new EpollEventDispatcher;
    if (!dispatcher->isValid())
        qFatal("no epoll here");
    QCoreApplication::setEventDispatcher(dispatcher);
    QCoreApplication app(argc, argv);
    TestEventLoop test;
    QTEST_SET_MAIN_SOURCE_PATH
    return QTest::qExec(&test, argc, argv);
}

#include "tst_eventloop.moc"
