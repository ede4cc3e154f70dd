#pragma once

#include "core/error.h"
#include "runtime/epolldispatcher.h"

#include <QCoreApplication>
#include <QCoroTask>
#include <QElapsedTimer>
#include <QTest>

#include <functional>
#include <memory>
#include <optional>

namespace holdfast::test {

namespace detail {
// Runs the event loop until `task` has finished (or the timeout); empty when it did not finish.
// Private: test functions use HF_AWAIT (which fails the test on a timeout), helpers awaitInto
// or awaitResult (which report it), so that a missing result is never dereferenced.
template <typename T> std::optional<T> awaitOptional(QCoro::Task<T> task, int timeoutMs)
{
    auto result = std::make_shared<std::optional<T>>();
    task.then([result](T value) { *result = std::move(value); });
    QElapsedTimer clock;
    clock.start();
    while (!result->has_value() && clock.elapsed() < timeoutMs)
        QCoreApplication::processEvents(QEventLoop::AllEvents, 10);
    return *result;
}

inline QByteArray timeoutMessage(const char *expression, int timeoutMs)
{
    return QByteArray("no result within ") + QByteArray::number(timeoutMs) + " ms: " + expression;
}
} // namespace detail

constexpr int kAwaitTimeoutMs = 20000;

// For helpers that cannot fail a test themselves: false (and `out` untouched) on a timeout.
template <typename T>
[[nodiscard]] bool awaitInto(QCoro::Task<T> task, T *out, int timeoutMs = kAwaitTimeoutMs)
{
    std::optional<T> result = detail::awaitOptional(std::move(task), timeoutMs);
    if (!result)
        return false;
    *out = std::move(*result);
    return true;
}

// For helpers that return what a store or service call gave: a timeout comes back as an Error
// (which the helper's own ok() check turns into its failure value).
template <typename T>
Result<T> awaitResult(QCoro::Task<Result<T>> task, int timeoutMs = kAwaitTimeoutMs)
{
    std::optional<Result<T>> result = detail::awaitOptional(std::move(task), timeoutMs);
    if (!result) {
        qWarning("test: a call gave no result within %d ms", timeoutMs);
        return Error{ErrorCode::Internal, QStringLiteral("test: no result in time")};
    }
    return std::move(*result);
}

// Runs the event loop until `task` has finished; false on a timeout.
inline bool awaitVoid(QCoro::Task<> task, int timeoutMs = kAwaitTimeoutMs)
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

// HF_AWAIT(var, task): runs the event loop until `task` has finished and declares `var`, a
// std::optional that holds its result; when the task does not finish in time the test FAILS
// (QFAIL: returns from the current, void, function) instead of going on with an empty optional.
// In the spirit of QCoro's QCORO_* test macros.
#define HF_AWAIT_TIMEOUT(var, task, timeoutMs)                                                     \
    const auto var = ::holdfast::test::detail::awaitOptional((task), (timeoutMs));                 \
    if (!(var))                                                                                    \
    QFAIL(::holdfast::test::detail::timeoutMessage(#task, (timeoutMs)).constData())
#define HF_AWAIT(var, task) HF_AWAIT_TIMEOUT(var, task, ::holdfast::test::kAwaitTimeoutMs)

// Awaits a task whose result has ok() (a Status or Result<T>) and fails the test unless it
// finished in time and is ok.
#define HF_AWAIT_OK(task)                                                                          \
    do {                                                                                           \
        HF_AWAIT(hfResult_, task);                                                                 \
        QVERIFY2(hfResult_->ok(), #task);                                                          \
    } while (false)

// Awaits a QCoro::Task<> and fails the test when it does not finish in time.
#define HF_AWAIT_VOID(task)                                                                        \
    QVERIFY2(::holdfast::test::awaitVoid(task),                                                    \
             ::holdfast::test::detail::timeoutMessage(#task, ::holdfast::test::kAwaitTimeoutMs)    \
                 .constData())

// A fixture cannot fail the test from its constructor (QVERIFY there only returns from the
// constructor): it records `failure`, and each test checks it right after construction.
#define HF_CHECK_FIXTURE(fixture)                                                                  \
    QVERIFY2((fixture).failure.isEmpty(),                                                          \
             qPrintable(QStringLiteral(#fixture ": ") + (fixture).failure))

// Runs a void helper that checks with QVERIFY (which returns only from the helper) and stops
// the calling test too when the helper failed it.
#define HF_CALL(call)                                                                              \
    do {                                                                                           \
        call;                                                                                      \
        if (QTest::currentTestFailed())                                                            \
            return;                                                                                \
    } while (false)
