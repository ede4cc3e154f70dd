#pragma once

#include "core/error.h"
#include "http/httpmessage.h"

#include <QByteArray>
#include <QByteArrayView>

#include <functional>

namespace holdfast {

// HTTP/1.x request framing with no socket, timer or event loop: bytes go in with feed(), and
// next() hands out what they make, one event at a time: a request's head, pieces of its body,
// its end, or an error. The hard limits (head bytes, header count, body bytes, chunk framing,
// trailer bytes) hold here, so the connection and the fuzz target share one parser.
//
// After a head the parser stops until continueBody(): the connection admits the head (auth,
// route, 413 on a declared length) before a byte of the body is consumed. An error is final:
// the bytes after it cannot be framed, so the connection answers it and closes.
class RequestParser
{
public:
    struct Limits
    {
        qint64 maxHeadBytes = 64 * 1024; // the head, and separately the trailer section
        int maxHeaderCount = 100;
        qint64 maxBodyBytes = 1048576;
    };

    enum class Event {
        NeedMore, // nothing more from the bytes fed so far (or waiting for continueBody())
        Head,     // request() holds the new request's head
        Body,     // takeBody() holds the next bytes of the body
        Complete, // the request's body has ended; the next request may follow
        Error,    // error() says why; final
    };

    // A chunk-size line (size and extensions) longer than this is malformed.
    static constexpr qsizetype kMaxChunkLine = 1024;

    explicit RequestParser(Limits limits);

    // Picks the body limit of each request from its head (a route whose body is a file has a
    // larger one); a negative answer, or no picker, means Limits::maxBodyBytes.
    using BodyLimitPicker = std::function<qint64(const HttpRequest &head)>;
    void setBodyLimitPicker(BodyLimitPicker picker) { m_pickBodyLimit = std::move(picker); }
    // The body limit of the current request (known from its head on).
    qint64 bodyLimit() const { return m_bodyLimit; }

    void feed(QByteArrayView bytes);
    Event next();

    // The head of the request being read (its body is not collected here).
    const HttpRequest &request() const { return m_request; }
    QByteArray takeBody() { return std::exchange(m_body, {}); }
    const Error &error() const { return m_error; }

    // After Head: go on and read the body. False (and the parser failed, with a 413 error) when
    // the declared Content-Length is over the limit, so the caller can answer before any 100.
    bool continueBody();
    // After Head, when the request had no body and was answered without continueBody(): go on
    // to the next request.
    void skipEmptyBody();

    bool failed() const { return m_state == State::Failed; }
    bool awaitingContinue() const { return m_state == State::AwaitingContinue; }
    // Bytes fed and not yet parsed.
    qsizetype buffered() const { return m_buffer.size() - m_pos; }
    // Drops everything buffered (the connection is closing).
    void clear();

private:
    enum class State { Head, AwaitingContinue, Body, Failed };
    enum class ChunkState { Size, Data, DataEnd, Trailer };

    Event parseHeadFromBuffer();
    bool parseHead(QByteArrayView head);
    Event readLengthBody();
    Event readChunkedBody();
    Event fail(ErrorCode code, const QString &message);
    Event complete();
    void compact();
    QByteArrayView pending() const { return QByteArrayView(m_buffer).sliced(m_pos); }

    Limits m_limits;
    BodyLimitPicker m_pickBodyLimit;
    qint64 m_bodyLimit = 0;
    State m_state = State::Head;
    QByteArray m_buffer;
    qsizetype m_pos = 0;      // where the unparsed bytes of m_buffer begin
    qsizetype m_scanFrom = 0; // how far (from m_pos) the head's end was searched for already
    HttpRequest m_request;
    QByteArray m_body;
    qint64 m_bodyBytes = 0; // body bytes handed out for this request
    ChunkState m_chunkState = ChunkState::Size;
    qint64 m_chunkLeft = 0;
    qint64 m_trailerBytes = 0;
    Error m_error;
};

} // namespace holdfast
