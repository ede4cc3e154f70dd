// Our own scanner rather than a Debian library: nlohmann_json's validator (sax_parse) was measured
// at 5-7x the cost of Qt's own parse, on the event loop for every request body. Qt's parser
// already rejects structural errors, trailing bytes and invalid UTF-8; this single pass, with no
// allocation, adds only what Qt lets through: unknown escapes, raw control characters in strings,
// lone or misordered surrogate escapes, numbers like "1." or ".5", and a raw NUL anywhere.
// tests/fuzz/fuzz_json_body checks "this + Qt" against nlohmann::json::accept.
#include "core/strictjson.h"

#include <array>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace holdfast::json {

namespace {

using Byte = unsigned char;

// Bytes that end a run of plain string content: the closing quote, an escape, a control byte.
constexpr std::array<bool, 256> stringStops = [] {
    std::array<bool, 256> stops{};
    for (int c = 0; c < 0x20; ++c)
        stops[c] = true;
    stops['"'] = stops['\\'] = true;
    return stops;
}();

// Skips plain string content (no stop byte) 16 bytes at a time, where SSE2 is there (always on
// x86-64); the byte loop after it finds the stop.
inline const Byte *skipPlain(const Byte *p, [[maybe_unused]] const Byte *end)
{
#if defined(__SSE2__)
    const __m128i quote = _mm_set1_epi8('"');
    const __m128i backslash = _mm_set1_epi8('\\');
    const __m128i maxControl = _mm_set1_epi8(0x1f);
    while (end - p >= 16) {
        const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i *>(p));
        const __m128i control = _mm_cmpeq_epi8(_mm_min_epu8(v, maxControl), v); // v <= 0x1f
        const __m128i stop = _mm_or_si128(
            control, _mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash)));
        if (_mm_movemask_epi8(stop) != 0)
            break;
        p += 16;
    }
#endif
    return p;
}

inline bool isDigit(Byte c)
{
    return c >= '0' && c <= '9';
}

// The 4 hex digits of a \u escape at `p`; on failure `bad` is the first byte that is not one.
inline std::optional<unsigned> hex4(const Byte *p, const Byte *end, const Byte *&bad)
{
    unsigned value = 0;
    for (int i = 0; i < 4; ++i, ++p) {
        if (p == end) {
            bad = p;
            return std::nullopt;
        }
        const Byte c = *p;
        unsigned digit;
        if (isDigit(c))
            digit = c - '0';
        else if (c >= 'a' && c <= 'f')
            digit = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
            digit = c - 'A' + 10;
        else {
            bad = p;
            return std::nullopt;
        }
        value = value << 4 | digit;
    }
    return value;
}

} // namespace

std::optional<StrictError> strictError(QByteArrayView text)
{
    const auto *const begin = reinterpret_cast<const Byte *>(text.data());
    const Byte *const end = begin + text.size();
    const Byte *p = begin;
    const auto fail = [begin](const char *problem, const Byte *at) {
        return StrictError{problem, qsizetype(at - begin)};
    };
    while (p < end) {
        const Byte c = *p;
        if (c == '"') {
            ++p;
            for (;;) {
                p = skipPlain(p, end);
                while (p < end && !stringStops[*p])
                    ++p;
                if (p == end)
                    return std::nullopt; // unterminated: Qt's to report
                if (*p == '"') {
                    ++p;
                    break;
                }
                if (*p == 0)
                    return fail("a NUL byte", p);
                if (*p < 0x20)
                    return fail("a raw control character in a string", p);
                const Byte *const escape = p; // a backslash
                if (end - p < 2)
                    return std::nullopt; // unterminated
                switch (p[1]) {
                case '"':
                case '\\':
                case '/':
                case 'b':
                case 'f':
                case 'n':
                case 'r':
                case 't':
                    p += 2;
                    continue;
                case 'u':
                    break;
                default:
                    return fail("an invalid escape", p + 1);
                }
                const Byte *bad = nullptr;
                const std::optional<unsigned> unit = hex4(p + 2, end, bad);
                if (!unit)
                    return fail("an invalid \\u escape", bad);
                p += 6;
                if (*unit >= 0xdc00 && *unit <= 0xdfff)
                    return fail("a low surrogate escape without a high one", escape);
                if (*unit >= 0xd800 && *unit <= 0xdbff) {
                    if (end - p < 2 || p[0] != '\\' || p[1] != 'u')
                        return fail("a high surrogate escape without a low one", escape);
                    const std::optional<unsigned> low = hex4(p + 2, end, bad);
                    if (!low)
                        return fail("an invalid \\u escape", bad);
                    if (*low < 0xdc00 || *low > 0xdfff)
                        return fail("a high surrogate escape without a low one", escape);
                    p += 6;
                }
            }
        } else if (c == '-' || c == '.' || isDigit(c)) {
            // -? (0 | [1-9][0-9]*) (.[0-9]+)? ([eE][+-]?[0-9]+)?  Qt also takes "1.", ".5", "-.5".
            if (c == '-')
                ++p;
            if (p < end && *p == '0')
                ++p;
            else if (p < end && isDigit(*p))
                while (p < end && isDigit(*p))
                    ++p;
            else
                return fail("an invalid number", p);
            if (p < end && *p == '.') {
                ++p;
                if (p == end || !isDigit(*p))
                    return fail("an invalid number", p);
                while (p < end && isDigit(*p))
                    ++p;
            }
            if (p < end && (*p == 'e' || *p == 'E')) {
                ++p;
                if (p < end && (*p == '+' || *p == '-'))
                    ++p;
                if (p == end || !isDigit(*p))
                    return fail("an invalid number", p);
                while (p < end && isDigit(*p))
                    ++p;
            }
        } else if (c == 0) {
            return fail("a NUL byte", p);
        } else {
            ++p; // structure, whitespace and literals: Qt checks them
        }
    }
    return std::nullopt;
}

} // namespace holdfast::json
