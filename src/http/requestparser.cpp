#include "http/requestparser.h"

namespace holdfast {

namespace {

bool isTokenChar(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           QByteArrayView("!#$%&'*+-.^_`|~").contains(c);
}

bool isToken(QByteArrayView text)
{
    if (text.isEmpty())
        return false;
    for (char c : text) {
        if (!isTokenChar(c))
            return false;
    }
    return true;
}

bool hasControlChars(QByteArrayView text)
{
    for (char c : text) {
        const auto u = static_cast<unsigned char>(c);
        if ((u < 0x20 && c != '\t') || u == 0x7f)
            return true;
    }
    return false;
}

bool isHexDigit(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

} // namespace

RequestParser::RequestParser(Limits limits) : m_limits(limits), m_bodyLimit(limits.maxBodyBytes) {}

void RequestParser::feed(QByteArrayView bytes)
{
    if (m_state == State::Failed || bytes.isEmpty())
        return;
    if (m_pos > 0) {
        m_buffer.remove(0, m_pos); // m_scanFrom counts from m_pos, so it stays right
        m_pos = 0;
    }
    m_buffer.append(bytes);
}

void RequestParser::clear()
{
    m_buffer.clear();
    m_pos = 0;
    m_scanFrom = 0;
}

RequestParser::Event RequestParser::next()
{
    switch (m_state) {
    case State::Head:
        return parseHeadFromBuffer();
    case State::AwaitingContinue:
        return Event::NeedMore;
    case State::Body:
        return m_request.chunked ? readChunkedBody() : readLengthBody();
    case State::Failed:
        return Event::Error;
    }
    return Event::Error;
}

RequestParser::Event RequestParser::fail(ErrorCode code, const QString &message)
{
    m_state = State::Failed;
    m_error = makeError(code, message);
    clear();
    return Event::Error;
}

RequestParser::Event RequestParser::complete()
{
    m_state = State::Head;
    m_scanFrom = 0;
    return Event::Complete;
}

RequestParser::Event RequestParser::parseHeadFromBuffer()
{
    // Empty lines before a request line are allowed (RFC 9112, 2.2).
    while (m_pos < m_buffer.size() && (m_buffer[m_pos] == '\r' || m_buffer[m_pos] == '\n')) {
        ++m_pos;
        m_scanFrom = 0;
    }
    const QByteArrayView rest = pending();
    if (rest.isEmpty())
        return Event::NeedMore;
    // The head ends at its first empty line; a line ends with LF, a CR before it is dropped.
    // The search goes on from where it stopped, so a head fed byte by byte costs O(n).
    qsizetype end = -1;
    qsizetype markerLength = 0;
    qsizetype i = m_scanFrom;
    for (; (i = rest.indexOf('\n', i)) >= 0; ++i) {
        if (i + 1 >= rest.size())
            break; // the line after it is not here yet
        if (rest[i + 1] == '\n') {
            end = i;
            markerLength = 2;
            break;
        }
        if (rest[i + 1] == '\r') {
            if (i + 2 >= rest.size())
                break;
            if (rest[i + 2] == '\n') {
                end = i;
                markerLength = 3;
                break;
            }
        }
    }
    // The head's length without the last line's end: the limit applies to that, and it is at
    // least this much while the end is still to come (an LF at i, maybe with a CR before it).
    const auto headLength = [&rest](qsizetype lf) {
        return lf > 0 && rest[lf - 1] == '\r' ? lf - 1 : lf;
    };
    if (end < 0) {
        m_scanFrom = i < 0 ? rest.size() : i;
        if (headLength(m_scanFrom) <= m_limits.maxHeadBytes)
            return Event::NeedMore;
    }
    if (end < 0 || headLength(end) > m_limits.maxHeadBytes) {
        return fail(
            ErrorCode::BadRequest,
            QStringLiteral("the request head is larger than %1 bytes").arg(m_limits.maxHeadBytes));
    }
    const QByteArrayView head = rest.first(end);
    m_pos += end + markerLength;
    m_scanFrom = 0;
    m_request = HttpRequest{};
    m_body.clear();
    m_bodyBytes = 0;
    if (!parseHead(head))
        return Event::Error;
    m_bodyLimit = m_limits.maxBodyBytes;
    if (m_pickBodyLimit) {
        if (const qint64 picked = m_pickBodyLimit(m_request); picked >= 0)
            m_bodyLimit = picked;
    }
    m_state = State::AwaitingContinue;
    return Event::Head;
}

bool RequestParser::parseHead(QByteArrayView head)
{
    auto bad = [this](const QString &message) {
        fail(ErrorCode::BadRequest, message);
        return false;
    };
    QList<QByteArray> lines = head.toByteArray().split('\n');
    for (QByteArray &line : lines) {
        if (line.endsWith('\r'))
            line.chop(1);
    }
    const QList<QByteArray> parts = lines.first().split(' ');
    if (parts.size() != 3 || !isToken(parts[0]) || !parts[1].startsWith('/') ||
        hasControlChars(parts[1]))
        return bad(QStringLiteral("malformed request line"));
    if (parts[2] == "HTTP/1.1")
        m_request.minorVersion = 1;
    else if (parts[2] == "HTTP/1.0")
        m_request.minorVersion = 0;
    else
        return bad(
            QStringLiteral("unsupported protocol version (HTTP/1.0 and HTTP/1.1 are served)"));
    m_request.method = parts[0];
    m_request.target = parts[1];
    const qsizetype question = m_request.target.indexOf('?');
    m_request.path = question < 0 ? m_request.target : m_request.target.left(question);
    if (question >= 0)
        m_request.query = QUrlQuery(QString::fromUtf8(m_request.target.mid(question + 1)));
    if (m_request.path != "/") {
        const QList<QByteArray> segments = m_request.path.mid(1).split('/');
        for (const QByteArray &s : segments)
            m_request.segments.append(QString::fromUtf8(QByteArray::fromPercentEncoding(s)));
    }

    if (lines.size() - 1 > m_limits.maxHeaderCount) {
        return bad(QStringLiteral("the request has more than %1 header fields")
                       .arg(m_limits.maxHeaderCount));
    }
    bool keepAlive = m_request.minorVersion >= 1;
    QByteArrayList transferEncodings;
    int hosts = 0;
    for (qsizetype i = 1; i < lines.size(); ++i) {
        const QByteArray &line = lines[i];
        const qsizetype colon = line.indexOf(':');
        if (colon <= 0 || !isToken(QByteArrayView(line).first(colon)))
            return bad(QStringLiteral("malformed header line"));
        const QByteArray name = line.left(colon).toLower();
        const QByteArray value = line.mid(colon + 1).trimmed();
        if (hasControlChars(value)) {
            return bad(
                QStringLiteral("control characters in header '%1'").arg(QString::fromLatin1(name)));
        }
        if (name == "content-length") {
            bool ok = value.size() <= 18 && !value.isEmpty();
            for (char c : value)
                ok = ok && c >= '0' && c <= '9';
            const qint64 length = ok ? value.toLongLong() : -1;
            if (!ok || (m_request.contentLength >= 0 && m_request.contentLength != length))
                return bad(QStringLiteral("invalid Content-Length"));
            m_request.contentLength = length;
        } else if (name == "transfer-encoding") {
            transferEncodings.append(value);
        } else if (name == "host") {
            ++hosts;
        } else if (name == "connection") {
            const QList<QByteArray> options = value.toLower().split(',');
            for (const QByteArray &o : options) {
                if (o.trimmed() == "close")
                    keepAlive = false;
                else if (o.trimmed() == "keep-alive")
                    keepAlive = true;
            }
        } else if (name == "expect") {
            m_request.expectContinue = value.toLower() == "100-continue";
        }
        m_request.headers.append({name, value});
    }
    // Which request a Host names must be beyond doubt (RFC 9112, 3.2): one, and on 1.1 always.
    if (hosts > 1)
        return bad(QStringLiteral("more than one Host header"));
    if (hosts == 0 && m_request.minorVersion >= 1)
        return bad(QStringLiteral("an HTTP/1.1 request needs a Host header"));
    if (!transferEncodings.isEmpty()) {
        // Every value, of every Transfer-Encoding field, read as one list: anything but exactly
        // "chunked" is a framing this server does not do, and guessing is how smuggling works.
        const QByteArray joined = transferEncodings.join(", ");
        if (m_request.minorVersion == 0)
            return bad(QStringLiteral("Transfer-Encoding on an HTTP/1.0 request"));
        if (joined.toLower() != "chunked") {
            return bad(QStringLiteral("unsupported Transfer-Encoding '%1' (only 'chunked' is)")
                           .arg(QString::fromLatin1(joined.left(100))));
        }
        if (m_request.contentLength >= 0)
            return bad(QStringLiteral("both Content-Length and Transfer-Encoding were sent"));
        m_request.chunked = true;
    }
    m_request.keepAlive = keepAlive;
    return true;
}

bool RequestParser::continueBody()
{
    Q_ASSERT(m_state == State::AwaitingContinue);
    if (m_state != State::AwaitingContinue)
        return false;
    if (m_request.contentLength > m_bodyLimit) {
        fail(ErrorCode::PayloadTooLarge,
             QStringLiteral("the request body is %1 bytes; the limit is %2 bytes")
                 .arg(m_request.contentLength)
                 .arg(m_bodyLimit));
        return false;
    }
    m_state = State::Body;
    m_chunkState = ChunkState::Size;
    m_chunkLeft = 0;
    m_trailerBytes = 0;
    return true;
}

void RequestParser::skipEmptyBody()
{
    if (m_state != State::AwaitingContinue)
        return;
    if (m_request.hasBody()) {
        fail(ErrorCode::Internal, QStringLiteral("the body of an answered request was not read"));
        return;
    }
    m_state = State::Head;
    m_scanFrom = 0;
}

RequestParser::Event RequestParser::readLengthBody()
{
    const qint64 missing = std::max<qint64>(0, m_request.contentLength) - m_bodyBytes;
    if (missing <= 0)
        return complete();
    if (buffered() == 0)
        return Event::NeedMore;
    const qsizetype take = qsizetype(std::min<qint64>(missing, buffered()));
    if (m_pos == 0 && take == m_buffer.size()) {
        m_body = std::exchange(m_buffer, {}); // all of it is body: handed over, not copied
    } else {
        m_body = pending().first(take).toByteArray();
        m_pos += take;
    }
    m_bodyBytes += take;
    return Event::Body;
}

RequestParser::Event RequestParser::readChunkedBody()
{
    auto malformed = [this](const QString &what) {
        return fail(ErrorCode::BadRequest,
                    QStringLiteral("malformed chunked request body: ") + what);
    };
    while (true) {
        const QByteArrayView rest = pending();
        switch (m_chunkState) {
        case ChunkState::Size: {
            // chunk-size [ chunk-ext ] CRLF (RFC 9112, 7.1), the whole line bounded.
            const qsizetype newline = rest.indexOf('\n');
            if ((newline < 0 ? rest.size() : newline) > kMaxChunkLine + 1)
                return malformed(
                    QStringLiteral("a chunk-size line over %1 bytes").arg(kMaxChunkLine));
            if (newline < 0)
                return Event::NeedMore;
            if (newline == 0 || rest[newline - 1] != '\r')
                return malformed(QStringLiteral("a chunk-size line not ended by CRLF"));
            const QByteArrayView line = rest.first(newline - 1);
            qsizetype digits = 0;
            while (digits < line.size() && isHexDigit(line[digits]))
                ++digits;
            if (digits == 0 || digits > 15)
                return malformed(QStringLiteral("a bad chunk size"));
            QByteArrayView extension = line.sliced(digits);
            while (!extension.isEmpty() && (extension[0] == ' ' || extension[0] == '\t'))
                extension = extension.sliced(1);
            if (!extension.isEmpty() && (extension[0] != ';' || hasControlChars(extension)))
                return malformed(QStringLiteral("a bad chunk extension"));
            const qint64 size = line.first(digits).toByteArray().toLongLong(nullptr, 16);
            m_pos += newline + 1;
            if (size == 0) {
                m_chunkState = ChunkState::Trailer;
                break;
            }
            if (m_bodyBytes + size > m_bodyLimit) {
                return fail(
                    ErrorCode::PayloadTooLarge,
                    QStringLiteral("the request body is larger than %1 bytes").arg(m_bodyLimit));
            }
            m_chunkLeft = size;
            m_chunkState = ChunkState::Data;
            break;
        }
        case ChunkState::Data: {
            if (rest.isEmpty())
                return Event::NeedMore;
            const qsizetype take = qsizetype(std::min<qint64>(m_chunkLeft, rest.size()));
            m_body = rest.first(take).toByteArray();
            m_pos += take;
            m_bodyBytes += take;
            m_chunkLeft -= take;
            if (m_chunkLeft == 0)
                m_chunkState = ChunkState::DataEnd;
            return Event::Body;
        }
        case ChunkState::DataEnd:
            if (!rest.isEmpty() && rest[0] != '\r')
                return malformed(QStringLiteral("chunk data not followed by CRLF"));
            if (rest.size() < 2)
                return Event::NeedMore;
            if (rest[1] != '\n')
                return malformed(QStringLiteral("chunk data not followed by CRLF"));
            m_pos += 2;
            m_chunkState = ChunkState::Size;
            break;
        case ChunkState::Trailer: {
            // Trailer fields are read and dropped; their section is bounded like a head. The
            // bound is checked before a line is complete, and counted the same way either way.
            const qsizetype newline = rest.indexOf('\n');
            if (newline < 0) {
                if (rest.isEmpty() || rest == "\r")
                    return Event::NeedMore; // nothing yet, or perhaps the section's end
                if (m_trailerBytes + rest.size() + 1 > m_limits.maxHeadBytes)
                    return malformed(QStringLiteral("a trailer section over %1 bytes")
                                         .arg(m_limits.maxHeadBytes));
                return Event::NeedMore;
            }
            if (newline == 1 && rest[0] == '\r') {
                m_pos += 2;
                return complete();
            }
            m_trailerBytes += newline + 1;
            if (m_trailerBytes > m_limits.maxHeadBytes) {
                return malformed(
                    QStringLiteral("a trailer section over %1 bytes").arg(m_limits.maxHeadBytes));
            }
            if (newline == 0 || rest[newline - 1] != '\r')
                return malformed(QStringLiteral("a trailer line not ended by CRLF"));
            const QByteArrayView line = rest.first(newline - 1);
            const qsizetype colon = line.indexOf(':');
            if (colon <= 0 || !isToken(line.first(colon)) || hasControlChars(line.sliced(colon)))
                return malformed(QStringLiteral("a malformed trailer field"));
            m_pos += newline + 1;
            break;
        }
        }
    }
}

} // namespace holdfast
