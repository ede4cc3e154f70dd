#pragma once

#include "runtime/epolldispatcher.h"

#include <QCoreApplication>
#include <QCoroTask>
#include <QElapsedTimer>
#include <QTest>

#include <functional>
#include <memory>
#include <optional>

namespace holdfast::test {

// Runs the event loop until `task` has finished (or the timeout), then returns its result.
template <typename T> std::optional<T> await(QCoro::Task<T> task, int timeoutMs = 20000)
{
    auto result = std::make_shared<std::optional<T>>();
    task.then([result](T value) { *result = std::move(value); });
    QElapsedTimer clock;
    clock.start();
    while (!result->has_value() && clock.elapsed() < timeoutMs)
        QCoreApplication::processEvents(QEventLoop::AllEvents, 10);
    return *result;
}

inline bool awaitVoid(QCoro::Task<> task, int timeoutMs = 20000)
{
    auto done = std::make_shared<bool>(false);
    task.then([done] { *done = true; });
    QElapsedTimer clock;
    clock.start();
    while (!*done && clock.elapsed() < timeoutMs)
        QCoreApplication::processEvents(QEventLoop::AllEvents, 10);
    return *done;
}

// Spins the event loop until `condition` holds or the timeout expires.
inline bool spinUntil(const std::function<bool()> &condition, int timeoutMs = 20000)
{
    QElapsedTimer clock;
    clock.start();
    while (!condition()) {
        if (clock.elapsed() > timeoutMs)
            return false;
        QCoreApplication::processEvents(QEventLoop::AllEvents, 10);
    }
    return true;
}

} // namespace holdfast::test

// Like QTEST_GUILESS_MAIN, but with HOLDFAST_TEST_EVENT_LOOP=epoll the suite runs on the headless
// server's event loop (EpollEventDispatcher) instead of Qt's.
#define HOLDFAST_TEST_MAIN(TestObject)                                                             \
    int main(int argc, char **argv)                                                                \
    {                                                                                              \
        if (qEnvironmentVariable("HOLDFAST_TEST_EVENT_LOOP") == QLatin1String("epoll"))            \
            QCoreApplication::setEventDispatcher(new holdfast::EpollEventDispatcher);              \
        QCoreApplication app(argc, argv);                                                          \
        app.setAttribute(Qt::AA_Use96Dpi, true);                                                   \
        TestObject tc;                                                                             \
        QTEST_SET_MAIN_SOURCE_PATH                                                                 \
        return QTest::qExec(&tc, argc, argv);                                                      \
    }
