// Raw bytes as requests to RequestParser, the socket-free HTTP/1.x framing HttpConnection uses:
// heads, header count, body and trailer limits, chunked framing. No socket and no event loop.
// Input: byte 0 seeds the split points, and its top bit picks small limits (so that every limit
// is reached often); the rest is the bytes a client sent on one connection.
// Checks (besides no crash or sanitizer report):
//  1. the limits hold: a head has at most maxHeaderCount fields, a body at most maxBodyBytes,
//     and what the parser keeps while waiting for more is bounded by its line limits;
//  2. the bytes fed whole and fed in pieces cut at input-derived points give the same events
//     (each request's head, its body bytes, its end, the error), so the same requests, and as
//     many of them: parsing does not depend on how TCP cut the stream.
#include "fuzzsupport.h"
#include "http/requestparser.h"

using namespace holdfast;

namespace {

struct Trace
{
    QByteArrayList events; // "H …" a head, "C <body>" a complete request, "E …" the error
    int completed = 0;
};

QByteArray describe(const HttpRequest &r)
{
    QByteArray out = "H " + r.method + ' ' + r.target + " 1." + QByteArray::number(r.minorVersion);
    out += " len=" + QByteArray::number(r.contentLength) + (r.chunked ? " chunked" : "") +
           (r.keepAlive ? " keep" : " close") + (r.expectContinue ? " expect" : "");
    out += " segs=" + r.segments.join(QLatin1Char('/')).toUtf8();
    for (const auto &h : r.headers)
        out += '\n' + h.first + ": " + h.second;
    return out;
}

class Runner
{
public:
    explicit Runner(RequestParser::Limits limits) : m_limits(limits), m_parser(limits) {}

    // Feeds one piece and takes every event it makes. False once the parser failed.
    bool feed(QByteArrayView piece)
    {
        m_parser.feed(piece);
        while (true) {
            switch (m_parser.next()) {
            case RequestParser::Event::NeedMore:
                FUZZ_CHECK(m_parser.buffered() <=
                           std::max(m_limits.maxHeadBytes + 3, RequestParser::kMaxChunkLine + 1));
                return true;
            case RequestParser::Event::Head:
                FUZZ_CHECK(m_parser.request().headers.size() <= m_limits.maxHeaderCount);
                m_trace.events.append(describe(m_parser.request()));
                m_body.clear();
                if (!m_parser.continueBody()) {
                    FUZZ_CHECK(m_parser.error().code == ErrorCode::PayloadTooLarge);
                    m_trace.events.append("E continue " + m_parser.error().message.toUtf8());
                    return false;
                }
                break;
            case RequestParser::Event::Body: {
                const QByteArray bytes = m_parser.takeBody();
                FUZZ_CHECK(!bytes.isEmpty());
                m_body += bytes;
                FUZZ_CHECK(m_body.size() <= m_limits.maxBodyBytes);
                if (!m_parser.request().chunked)
                    FUZZ_CHECK(m_body.size() <= m_parser.request().contentLength);
                break;
            }
            case RequestParser::Event::Complete:
                if (!m_parser.request().chunked)
                    FUZZ_CHECK(m_body.size() ==
                               std::max<qint64>(0, m_parser.request().contentLength));
                m_trace.events.append("C " + m_body);
                ++m_trace.completed;
                break;
            case RequestParser::Event::Error:
                FUZZ_CHECK(m_parser.failed());
                FUZZ_CHECK(m_parser.buffered() == 0); // nothing kept after an error
                m_trace.events.append("E " + QByteArray::number(int(m_parser.error().code)) + ' ' +
                                      m_parser.error().message.toUtf8());
                return false;
            }
        }
    }
    const Trace &trace() const { return m_trace; }

private:
    RequestParser::Limits m_limits;
    RequestParser m_parser;
    Trace m_trace;
    QByteArray m_body;
};

} // namespace

extern "C" int LLVMFuzzerInitialize(int *, char ***)
{
    fuzz::initQt();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    RequestParser::Limits limits;
    if (data[0] & 0x80)
        limits = {200, 6, 64};
    else
        limits = {4096, 100, 8192};

    Runner whole(limits);
    whole.feed(QByteArrayView(reinterpret_cast<const char *>(data + 1), qsizetype(size - 1)));

    Runner split(limits);
    for (QByteArrayView piece : fuzz::pieces(data, size)) {
        if (!split.feed(piece))
            break;
    }

    if (whole.trace().events != split.trace().events) {
        fprintf(stderr, "whole and split feeds differ:\n");
        for (const QByteArray &e : whole.trace().events)
            fprintf(stderr, "  whole: %s\n", e.left(200).toPercentEncoding(" :/").constData());
        for (const QByteArray &e : split.trace().events)
            fprintf(stderr, "  split: %s\n", e.left(200).toPercentEncoding(" :/").constData());
        abort();
    }
    FUZZ_CHECK(whole.trace().completed == split.trace().completed);
    return 0;
}
