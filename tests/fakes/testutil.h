#pragma once

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
