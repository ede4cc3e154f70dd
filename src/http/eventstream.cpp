#include "http/eventstream.h"

#include "core/json.h"
#include "core/sessionservice.h"
#include "http/httpconnection.h"
#include "http/httplog.h"

#include <QCoroTimer>
#include <QElapsedTimer>
#include <QJsonDocument>
#include <QPointer>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <string_view>
#include <utility>

namespace holdfast {

namespace {
constexpr int kSharedStorePollMs = 250;
constexpr qsizetype kReplayWriteBytes = 64 * 1024;
constexpr qsizetype kKeptBufferBytes = 4 * 1024;

QByteArray compact(const QJsonObject &object)
{
    return QJsonDocument(object).toJson(QJsonDocument::Compact);
}

// Appends "id: N\nevent: chunk\ndata: {"seq":N,"text":"..."}\n\n" to `out`, the JSON as the
// session body writes it (json::appendString): no document and no temporary per chunk, so that a
// stream's reused buffer takes a chunk without a heap allocation.
void appendChunkEvent(QByteArray &out, int seq, QStringView text)
{
    // The part before the text, put together on the stack and appended at once.
    char head[80];
    char *p = head;
    const auto put = [&p](std::string_view part) { p = std::copy(part.begin(), part.end(), p); };
    put("id: ");
    char *const number = p;
    p = std::to_chars(p, p + 12, seq).ptr;
    const std::string_view digits(number, size_t(p - number));
    put("\nevent: chunk\ndata: {\"seq\":");
    put(digits);
    put(",\"text\":");
    out.append(head, p - head);
    json::appendString(out, text);
    out.append("}\n\n", 3);
}

// A step of tool use (shared/API.md, Tools (MCP)): its own event type, the chunk as /chunks has
// it, and an id like any chunk's so that it resumes the same way.
QByteArray toolEvent(const Chunk &chunk)
{
    return "id: " + QByteArray::number(chunk.seq) + "\nevent: " +
           (chunk.toolCall ? QByteArrayLiteral("tool_call") : QByteArrayLiteral("tool_result")) +
           "\ndata: " + compact(json::toJson(chunk)) + "\n\n";
}
} // namespace

EventStream::EventStream(SessionService *service, QString sid, int tid, int from,
                         HttpResponder responder, int keepAliveMs, EventStreams *parent)
    : QObject(parent), m_service(service), m_sid(std::move(sid)), m_tid(tid), m_next(from),
      m_responder(std::move(responder)), m_streams(parent)
{
    m_keepAlive.setInterval(keepAliveMs);
    connect(&m_keepAlive, &QTimer::timeout, this, [this] {
        // The keep-alive is for quiet spells only. Restarting the timer on every chunk would
        // cost a walk of the thread's timer list per chunk: a flag is enough.
        if (std::exchange(m_wroteSinceTick, false))
            return;
        flush();
        if (!backedUp()) // a backed-up socket is not quiet, and must not grow
            m_responder.writeStream(": keep-alive\n\n");
        pump();
    });
    m_poll.setSingleShot(true);
    connect(&m_poll, &QTimer::timeout, this, [this] { pump(); });
}

EventStream::~EventStream() = default;

void EventStream::start()
{
    HttpConnection *connection = m_responder.connection();
    if (!connection ||
        !m_responder.beginStream(200, "text/event-stream",
                                 {{"Cache-Control", "no-cache"}, {"X-Accel-Buffering", "no"}})) {
        stop();
        return;
    }
    connect(connection, &HttpConnection::closed, this, &EventStream::stop);
    connect(connection, &QObject::destroyed, this, &EventStream::stop);
    connect(connection, &HttpConnection::drained, this, [this] { pump(); });
    m_streams->route(this);
    m_keepAlive.start();
    pump();
}

void EventStream::onChunk(int seq, const QString &text)
{
    if (m_stopped)
        return;
    if (!m_pumping && !m_finishing && seq == m_next && !backedUp()) {
        writeChunk(seq, text); // the common case: the next chunk, straight from the turn
        return;                // (written out at the end of its batch)
    }
    pump();
}

void EventStream::onToolStep(const Chunk &chunk)
{
    if (m_stopped)
        return;
    if (!m_pumping && !m_finishing && chunk.seq == m_next && !backedUp()) {
        writeChunk(chunk);
        flush(); // a tool step may be followed by a long wait (approval, the tool): send it now
        return;
    }
    pump();
}

void EventStream::onTurnFinished(const TurnRecord &turn)
{
    // Every chunk of the turn was announced before this: once the client has them all, the
    // terminal event needs no trip to the store.
    m_ended = turn;
    pump();
}

void EventStream::writeChunk(int seq, const QString &text)
{
    if (seq < m_next)
        return;
    m_next = seq + 1;
    appendChunkEvent(m_out, seq, text);
    m_wroteSinceTick = true;
}

void EventStream::writeChunk(const Chunk &chunk)
{
    if (!chunk.isToolStep()) {
        writeChunk(chunk.seq, chunk.text);
        return;
    }
    if (chunk.seq < m_next)
        return;
    m_next = chunk.seq + 1;
    m_out += toolEvent(chunk);
    m_wroteSinceTick = true;
}

// A client that does not read: chunks stop here (they are in the store) and the stream goes on
// from m_next when the connection has drained, so the server holds a bounded amount per client.
bool EventStream::backedUp() const
{
    HttpConnection *connection = m_responder.connection();
    return connection && connection->backedUp();
}

// One write (one send() when the socket takes it) for the chunk events gathered.
void EventStream::flush()
{
    if (m_out.isEmpty())
        return;
    m_responder.writeStream(m_out);
    // Kept for the next batch (the connection copies what the kernel does not take), unless a
    // replay made it large.
    if (m_out.capacity() > kKeptBufferBytes)
        m_out = QByteArray();
    else
        m_out.resize(0);
}

QCoro::Task<> EventStream::pump()
{
    if (m_stopped || m_finishing)
        co_return;
    if (m_pumping) {
        m_dirty = true;
        co_return;
    }
    if (backedUp())
        co_return; // drained() pumps again
    m_pumping = true;
    QPointer<EventStream> self(this);
    SessionService *service = m_service;
    do {
        m_dirty = false;
        while (true) {
            if (m_ended && m_next >= m_ended->chunks) {
                m_pumping = false;
                co_await finish(m_ended);
                co_return;
            }
            const auto page = co_await service->chunks(m_sid, m_tid, m_next, 0);
            if (!self || m_stopped)
                co_return;
            if (!page) {
                qCInfo(lcHttp) << "event stream of turn" << m_tid << "of" << m_sid
                               << "ends early:" << page.error().message;
                stop(); // the client reconnects with Last-Event-ID and resumes
                co_return;
            }
            for (const Chunk &chunk : page->chunks) {
                writeChunk(chunk);
                // A page may be large: written in parts, so that a slow client's queue stops
                // near the bound rather than a page past it.
                if (m_out.size() >= kReplayWriteBytes) {
                    flush();
                    if (backedUp())
                        break;
                }
            }
            flush();
            if (backedUp()) {
                m_pumping = false;
                co_return;
            }
            if (page->done) {
                m_pumping = false;
                co_await finish(m_ended);
                co_return;
            }
            if (page->chunks.isEmpty())
                break;
        }
    } while (m_dirty);
    m_pumping = false;
    // A turn generated by another instance sharing the store sends no signal here: poll it.
    if (!service->liveTurn(m_sid, m_tid))
        m_poll.start(kSharedStorePollMs);
}

QCoro::Task<> EventStream::finish(std::optional<TurnRecord> ended)
{
    m_finishing = true;
    QPointer<EventStream> self(this);
    std::optional<Result<TurnRecord>> known;
    if (ended)
        known.emplace(*ended);
    else
        known.emplace(co_await m_service->turn(m_sid, m_tid));
    if (!self || m_stopped)
        co_return;
    const Result<TurnRecord> &turn = *known;
    QByteArray event;
    if (!turn) {
        stop();
        co_return;
    }
    if (turn->state == TurnRecord::State::Error) {
        event = "event: error\ndata: " +
                compact(QJsonObject{{QStringLiteral("state"), turnStateName(turn->state)},
                                    {QStringLiteral("error"),
                                     json::toJson(*turn).value(QStringLiteral("error"))}}) +
                "\n\n";
    } else {
        // {"chunks":N,"response_index":N|null,"state":"...","usage"?:{...}}: what QJsonDocument
        // would write; usage when the model server reported one.
        event = "event: done\ndata: {\"chunks\":" + QByteArray::number(turn->chunks) +
                ",\"response_index\":" +
                (turn->responseIndex >= 0 ? QByteArray::number(turn->responseIndex)
                                          : QByteArray("null")) +
                ",\"state\":\"" + turnStateName(turn->state).toLatin1() + '"' +
                (turn->usage ? ",\"usage\":" + compact(json::toJson(*turn->usage)) : QByteArray()) +
                "}\n\n";
    }
    QByteArray last = std::exchange(m_out, {}); // the gathered chunks, the event, the end:
    last += event;                              // one send()
    m_responder.endStream(last);
    stop();
}

void EventStream::stop()
{
    if (m_stopped)
        return;
    m_stopped = true;
    m_keepAlive.stop();
    m_poll.stop();
    m_streams->unroute(this);
    flush();                 // what was gathered is valid: the client resumes after it
    m_responder.endStream(); // no-op when already ended or the client left
    Q_EMIT ended();
    deleteLater();
}

EventStreams::EventStreams(SessionService *service, int keepAliveMs, int maxPerClient,
                           QObject *parent)
    : QObject(parent), m_service(service), m_keepAliveMs(keepAliveMs), m_maxPerClient(maxPerClient)
{
    connect(service, &SessionService::chunkReady, this,
            [this](const QString &sid, int tid, int seq, const QString &text) {
                const auto it = m_byTurn.constFind(TurnKey(sid, tid));
                if (it == m_byTurn.cend())
                    return;
                const QList<EventStream *> streams = *it; // a stream may leave while we deliver
                for (EventStream *stream : streams)
                    stream->onChunk(seq, text);
            });
    connect(service, &SessionService::toolStepReady, this,
            [this](const QString &sid, int tid, const Chunk &chunk) {
                const auto it = m_byTurn.constFind(TurnKey(sid, tid));
                if (it == m_byTurn.cend())
                    return;
                const QList<EventStream *> streams = *it;
                for (EventStream *stream : streams)
                    stream->onToolStep(chunk);
            });
    connect(service, &SessionService::chunkBatchEnded, this, [this](const QString &sid, int tid) {
        const auto it = m_byTurn.constFind(TurnKey(sid, tid));
        if (it == m_byTurn.cend())
            return;
        const QList<EventStream *> streams = *it;
        for (EventStream *stream : streams)
            stream->onChunkBatchEnded();
    });
    connect(service, &SessionService::turnFinished, this, [this](const TurnRecord &turn) {
        const auto it = m_byTurn.constFind(TurnKey(turn.session, turn.id));
        if (it == m_byTurn.cend())
            return;
        const QList<EventStream *> streams = *it;
        for (EventStream *stream : streams)
            stream->onTurnFinished(turn);
    });
}

EventStreams::~EventStreams()
{
    // The streams go first, while the routing table they leave from still exists.
    qDeleteAll(findChildren<EventStream *>(Qt::FindDirectChildrenOnly));
}

void EventStreams::route(EventStream *stream)
{
    m_byTurn[TurnKey(stream->session(), stream->turnId())].append(stream);
}

void EventStreams::unroute(EventStream *stream)
{
    const TurnKey key(stream->session(), stream->turnId());
    auto it = m_byTurn.find(key);
    if (it == m_byTurn.end())
        return;
    it->removeOne(stream);
    if (it->isEmpty())
        m_byTurn.erase(it);
}

void EventStreams::open(const QString &sid, int tid, int from, HttpResponder responder)
{
    if (!responder.isOpen())
        return;
    const QString client = responder.connection()->peer().toString();
    if (m_perClient.value(client) >= m_maxPerClient) {
        responder.sendError(makeError(
            ErrorCode::RateLimited,
            QStringLiteral("this client already has %1 open event streams").arg(m_maxPerClient)));
        return;
    }
    auto *stream = new EventStream(m_service, sid, tid, from, responder, m_keepAliveMs, this);
    ++m_count;
    ++m_perClient[client];
    connect(stream, &EventStream::ended, this, [this, client] {
        --m_count;
        if (--m_perClient[client] <= 0)
            m_perClient.remove(client);
    });
    stream->start();
}

QCoro::Task<> EventStreams::waitForAll(int timeoutMs)
{
    QPointer<EventStreams> self(this);
    QElapsedTimer clock;
    clock.start();
    while (self && m_count > 0 && clock.elapsed() < timeoutMs)
        co_await QCoro::sleepFor(std::chrono::milliseconds(20));
}

} // namespace holdfast
