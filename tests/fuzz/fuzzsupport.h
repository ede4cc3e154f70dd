#pragma once

// What every libFuzzer target here shares: a QCoreApplication that lives for the whole run, Qt's
// log output silenced (a fuzzer prints millions of inputs' worth of warnings otherwise), and a
// way to feed one input in pieces cut where the input's own first bytes say.

#include <QCoreApplication>
#include <QCoroTask>
#include <QElapsedTimer>
#include <QList>
#include <QLoggingCategory>

#include <cstddef>
#include <cstdint>
#include <optional>

namespace holdfast::fuzz {

inline void initQt()
{
    static int argc = 1;
    static char name[] = "holdfast-fuzz";
    static char *argv[] = {name, nullptr};
    if (!QCoreApplication::instance())
        new QCoreApplication(argc, argv); // lives until exit, as the fuzzer's process does
    qInstallMessageHandler([](QtMsgType, const QMessageLogContext &, const QString &) {});
}

// Splits [data, size) into a few pieces: byte 0 seeds the cut points, the rest is the payload.
// The same payload cut differently must parse the same way (the parsers are incremental).
inline QList<QByteArrayView> pieces(const uint8_t *data, size_t size)
{
    QList<QByteArrayView> out;
    if (size == 0)
        return out;
    unsigned seed = data[0];
    const char *payload = reinterpret_cast<const char *>(data + 1);
    qsizetype left = qsizetype(size - 1);
    while (left > 0) {
        seed = seed * 1103515245u + 12345u;
        const qsizetype take = std::min<qsizetype>(left, 1 + qsizetype((seed >> 16) % 17));
        out.append(QByteArrayView(payload, take));
        payload += take;
        left -= take;
    }
    return out;
}

inline QByteArray payload(const uint8_t *data, size_t size)
{
    return size == 0 ? QByteArray()
                     : QByteArray(reinterpret_cast<const char *>(data + 1), qsizetype(size - 1));
}

// Runs the event loop until `task` has finished; nullopt after `timeoutMs`.
template <typename T> std::optional<T> await(QCoro::Task<T> task, int timeoutMs = 10000)
{
    auto result = std::make_shared<std::optional<T>>();
    task.then([result](T value) { *result = std::move(value); });
    QElapsedTimer clock;
    clock.start();
    while (!result->has_value() && clock.elapsed() < timeoutMs)
        QCoreApplication::processEvents(QEventLoop::AllEvents, 5);
    return *result;
}

inline bool awaitVoid(QCoro::Task<> task, int timeoutMs = 10000)
{
    auto done = std::make_shared<bool>(false);
    task.then([done] { *done = true; });
    QElapsedTimer clock;
    clock.start();
    while (!*done && clock.elapsed() < timeoutMs)
        QCoreApplication::processEvents(QEventLoop::AllEvents, 5);
    return *done;
}

} // namespace holdfast::fuzz

// A property that must hold for every input: abort (a crash libFuzzer reports) if it does not.
#define FUZZ_CHECK(condition)                                                                      \
    do {                                                                                           \
        if (!(condition)) {                                                                        \
            fprintf(stderr, "FUZZ_CHECK failed: %s (%s:%d)\n", #condition, __FILE__, __LINE__);    \
            abort();                                                                               \
        }                                                                                          \
    } while (false)
