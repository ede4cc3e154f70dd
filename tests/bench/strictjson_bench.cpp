// The strict JSON check (json::strictError) against Qt's own parse of the same request body: the
// check must stay a small fraction of it (nlohmann's validator, which it replaced, cost 5-7x).
// `cmake --build B --target strictjson_bench && B/tests/bench/strictjson_bench` (a Release B).
#include "core/strictjson.h"

#include <QJsonDocument>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <vector>

using namespace holdfast;

namespace {

// Median over 7 rounds of the time per call, in µs.
template <class F> double perCall(F f, int reps)
{
    std::vector<double> rounds;
    for (int r = 0; r < 7; ++r) {
        const auto start = std::chrono::steady_clock::now();
        for (int i = 0; i < reps; ++i)
            f();
        const std::chrono::duration<double, std::micro> took =
            std::chrono::steady_clock::now() - start;
        rounds.push_back(took.count() / reps);
    }
    std::sort(rounds.begin(), rounds.end());
    return rounds[rounds.size() / 2];
}

QByteArray repeated(const QByteArray &piece, qsizetype size)
{
    QByteArray out;
    while (out.size() < size)
        out += piece;
    return out.left(size);
}

} // namespace

int main()
{
    const QByteArray words =
        "The quick brown fox jumps over the lazy dog, caf\xc3\xa9 \xe2\x82\xac. ";
    // Whole escapes only: 1 MiB of them, cut after the last complete one.
    const QByteArray escape = R"(line\n\"quoted\" tab\t caf\u00e9 \ud83d\ude00 back\\slash )";
    QByteArray numbers = "{\"prompt\":\"x\",\"n\":[";
    for (int i = 0; numbers.size() < (1 << 20); ++i)
        numbers += QByteArray::number(i * 1.25) + ',';
    numbers += "0]}";
    const struct
    {
        const char *name;
        QByteArray body;
        int reps;
    } bodies[] = {
        {"1 MiB plain prompt", "{\"prompt\":\"" + repeated(words, 1 << 20) + "\"}", 50},
        {"1 MiB escape-heavy",
         "{\"prompt\":\"" + repeated(escape, ((1 << 20) / escape.size()) * escape.size()) + "\"}",
         50},
        {"1 MiB numbers array", numbers, 20},
        {"1 KB prompt", "{\"prompt\":\"" + repeated(words, 1000) + "\",\"temperature\":0.7}",
         20000},
    };
    for (const auto &b : bodies) {
        if (json::strictError(b.body) || !QJsonDocument::fromJson(b.body).isObject()) {
            std::printf("%s: not a valid body\n", b.name);
            return 1;
        }
        volatile bool sink = false;
        const double check = perCall([&] { sink = json::strictError(b.body).has_value(); }, b.reps);
        const double qt = perCall([&] { sink = QJsonDocument::fromJson(b.body).isNull(); }, b.reps);
        std::printf(
            "%-20s %8lld B  strictError %9.2f us  QJsonDocument::fromJson %9.2f us  %5.1f %%\n",
            b.name, static_cast<long long>(b.body.size()), check, qt, 100 * check / qt);
    }
    return 0;
}
