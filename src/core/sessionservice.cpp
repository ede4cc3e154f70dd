#include "core/sessionservice.h"

#include "core/logging.h"
#include "core/session.h"
#include "core/store.h"
#include "core/turn.h"
#include "runtime/waiter.h"

#include <QCoroSignal>
#include <QCoroTimer>
#include <QElapsedTimer>
#include <QPointer>
#include <QUuid>

#include <algorithm>
#include <chrono>
#include <vector>

namespace holdfast {

using namespace std::chrono_literals;

namespace {
constexpr int kMaxWindow = 1000;
constexpr int kMaxChunksPerPage = 1000;

Error notFound(const QString &sid)
{
    return makeError(ErrorCode::NotFound, QStringLiteral("session '%1' does not exist").arg(sid));
}

Error turnNotFound(const QString &sid, int tid)
{
    return makeError(ErrorCode::NotFound,
                     QStringLiteral("turn %1 of session '%2' does not exist").arg(tid).arg(sid));
}

// Uploads that no message uses are deleted once they are a day old (README, Storage).
constexpr auto kUnlinkedUploadAge = 24h;

QCoro::Task<> deleteOldUploads(QPointer<Store> store)
{
    if (!store)
        co_return;
    const auto deleted =
        co_await store->deleteUnlinkedAttachments(QDateTime::currentDateTimeUtc().addMSecs(
            -std::chrono::milliseconds(kUnlinkedUploadAge).count()));
    if (!deleted)
        qCWarning(lcCore) << "could not delete unused uploads:" << deleted.error().message;
    else if (*deleted > 0)
        qCInfo(lcCore) << "deleted" << *deleted << "upload(s) no message used for a day";
}

} // namespace

Error SessionService::badId(const QString &sid)
{
    return makeError(ErrorCode::BadRequest,
                     QStringLiteral("invalid session id '%1': it must match %2")
                         .arg(sid.left(80), SessionService::sessionIdPattern()));
}

SessionService::SessionService(Store *store, ProviderRegistry *providers, ServiceConfig config,
                               QObject *parent)
    : QObject(parent), m_store(store), m_providers(providers), m_config(config)
{
    connect(m_store, &Store::cancelRequested, this, [this](const QString &sid, int tid) {
        if (Turn *t = liveTurn(sid, tid))
            t->cancel(TurnRecord::State::Cancelled);
    });
    connect(m_store, &Store::toolDecisionRequested, this, &SessionService::decideToolCall);
}

SessionService::~SessionService()
{
    for (const QPointer<ProviderStream> &title : std::as_const(m_titleStreams)) {
        if (title)
            title->cancel(); // its job then ends without touching the service
    }
    // Whoever destroys the service should have awaited shutdown(); a session still busy here
    // would lose its answer, so say it loudly.
    for (Session *s : std::as_const(m_sessions)) {
        if (s->busy())
            qCCritical(lcCore) << "session" << s->id() << "destroyed while busy";
    }
}

bool SessionService::isValidSessionId(const QString &sid)
{
    // A plain loop over API.md's ^[A-Za-z0-9_-]{1,64}$: a regular expression's `$` also matches
    // before a final "\n", and an id with a line feed ends up in a Location header.
    if (sid.isEmpty() || sid.size() > 64)
        return false;
    return std::all_of(sid.cbegin(), sid.cend(), [](QChar c) {
        const char16_t u = c.unicode();
        return (u >= u'a' && u <= u'z') || (u >= u'A' && u <= u'Z') || (u >= u'0' && u <= u'9') ||
               u == u'_' || u == u'-';
    });
}

QCoro::Task<Status> SessionService::start()
{
    const Status opened = co_await m_store->open();
    if (!opened)
        co_return opened;
    const auto unfinished = co_await m_store->unfinishedTurns();
    if (!unfinished)
        co_return unfinished.error();
    for (const TurnRecord &t : *unfinished) {
        const Status recovered = co_await recover(t);
        if (!recovered)
            co_return recovered;
    }
    if (!unfinished->isEmpty())
        qCInfo(lcCore) << "recovered" << unfinished->size() << "interrupted turn(s)";
    // Unused uploads: now, then daily.
    co_await deleteOldUploads(m_store);
    auto *uploadsTimer = new QTimer(this);
    connect(uploadsTimer, &QTimer::timeout, this, [this] { deleteOldUploads(m_store); });
    uploadsTimer->start(24h);
    if (m_store->isShared() && !m_sweepTimer) {
        // Other instances may crash at any time, not only before we start: their turns are found
        // by their expired leases, and the first instance to see one saves it as interrupted.
        m_sweepTimer = new QTimer(this);
        connect(m_sweepTimer, &QTimer::timeout, this, [this] { sweep(); });
        m_sweepTimer->start(m_config.sweepIntervalMs);
    }
    co_return Ok{};
}

QCoro::Task<> SessionService::sweep()
{
    if (m_sweeping || m_stopping)
        co_return;
    m_sweeping = true;
    QPointer<SessionService> self(this);
    const auto orphaned = co_await m_store->unfinishedTurns();
    if (!self)
        co_return;
    if (orphaned) {
        for (const TurnRecord &t : *orphaned) {
            if (liveTurn(t.session, t.id))
                continue;
            const Status recovered = co_await recover(t);
            if (!self)
                co_return;
            if (!recovered)
                qCWarning(lcCore) << "could not save turn" << t.id << "of" << t.session
                                  << "as interrupted:" << recovered.error().message;
        }
    }
    m_sweeping = false;
}

QCoro::Task<> SessionService::waitForStoreUpdate(QString sid, int tid, int timeoutMs)
{
    Waiter waiter;
    connect(m_store, &Store::turnUpdated, &waiter, [&waiter, sid, tid](const QString &s, int t) {
        if (t == tid && s == sid)
            waiter.fire();
    });
    co_await qCoro(&waiter, &Waiter::fired, std::chrono::milliseconds(std::max(0, timeoutMs)));
}

QCoro::Task<> SessionService::shutdown()
{
    m_stopping = true;
    QList<QPointer<Turn>> turns;
    for (Session *s : std::as_const(m_sessions)) {
        if (Turn *t = s->activeTurn())
            turns.append(t);
    }
    for (const QPointer<Turn> &t : turns) {
        if (t)
            t->cancel(TurnRecord::State::Interrupted);
    }
    for (const QPointer<ProviderStream> &title : std::as_const(m_titleStreams)) {
        if (title)
            title->cancel();
    }
    QElapsedTimer clock;
    clock.start();
    while (activeTurnCount() > 0 || std::any_of(m_sessions.cbegin(), m_sessions.cend(),
                                                [](Session *s) { return s->busy(); })) {
        if (clock.elapsed() > m_config.shutdownTimeoutMs) {
            for (const QPointer<Turn> &t : turns) {
                if (t)
                    t->stopRetrying();
            }
        }
        if (clock.elapsed() > 2 * m_config.shutdownTimeoutMs) {
            qCCritical(lcCore) << "shutdown: gave up waiting for" << activeTurnCount()
                               << "turn(s) to save";
            break;
        }
        co_await QCoro::sleepFor(10ms);
    }
}

int SessionService::activeTurnCount() const
{
    int n = 0;
    for (Session *s : std::as_const(m_sessions))
        n += s->activeTurn() ? 1 : 0;
    return n;
}

Turn *SessionService::liveTurn(const QString &sid, int tid) const
{
    Session *s = m_sessions.value(sid);
    if (!s || !s->activeTurn() || s->activeTurn()->record().id != tid)
        return nullptr;
    return s->activeTurn();
}

void SessionService::touch(Session *session)
{
    // A busy session is not in the list: it goes back in at the front when it becomes idle.
    if (session->inLru)
        m_lru.splice(m_lru.begin(), m_lru, session->lruPosition);
}

void SessionService::evictIdle()
{
    // The list holds idle sessions only, so its end is what goes: a thousand sessions with turns
    // running cost nothing here (walking past them, on every session that went idle, did).
    while (qsizetype(m_sessions.size()) > m_config.maxLoadedSessions && !m_lru.empty()) {
        Session *s = m_lru.back();
        Q_ASSERT(!s->busy());
        m_lru.pop_back();
        s->inLru = false;
        m_sessions.remove(s->id());
        delete s;
    }
}

void SessionService::queueEviction()
{
    if (std::exchange(m_evictionQueued, true))
        return;
    QMetaObject::invokeMethod(
        this,
        [this] {
            m_evictionQueued = false;
            evictIdle();
        },
        Qt::QueuedConnection);
}

void SessionService::unload(Session *session)
{
    Q_ASSERT(!session->busy());
    if (std::exchange(session->inLru, false))
        m_lru.erase(session->lruPosition);
    m_sessions.remove(session->id());
    delete session;
}

QCoro::Task<Result<Session *>> SessionService::acquire(QString sid)
{
    if (!isValidSessionId(sid))
        co_return badId(sid);
    if (Session *s = m_sessions.value(sid)) {
        if (m_store->isShared() && !s->busy()) {
            // Another instance may have changed it: read the metadata again.
            std::optional<Result<std::optional<SessionMeta>>> meta;
            {
                SessionPin pin(s);
                meta.emplace(co_await m_store->loadSession(sid));
            }
            if (!*meta)
                co_return meta->error();
            if (!**meta) {
                if (!s->busy())
                    unload(s); // deleted through another instance
                co_return notFound(sid);
            }
            if ((**meta)->total != s->meta().total || (**meta)->head != s->meta().head)
                s->replaceCache({});
            s->setMeta(***meta);
        }
        touch(s);
        co_return s;
    }
    const auto meta = co_await m_store->loadSession(sid);
    if (!meta)
        co_return meta.error();
    if (!*meta)
        co_return notFound(sid);
    const qint64 head = (*meta)->head;
    // No co_await inside a conditional expression: g++ 12 destroys its temporaries too early.
    Result<QList<Message>> window = QList<Message>{};
    if (head >= 0)
        window = co_await m_store->loadBranch(sid, head, m_config.cacheMessages);
    if (!window)
        co_return window.error();
    if (Session *s = m_sessions.value(sid)) { // loaded by someone else meanwhile
        touch(s);
        co_return s;
    }
    auto *s = new Session(
        **meta, *window,
        {m_config.cacheMessages, m_config.contextMessages, m_config.contextCacheBytes}, this);
    m_sessions.insert(sid, s);
    m_lru.push_front(s);
    s->lruPosition = m_lru.begin();
    s->inLru = true;
    connect(s, &Session::becameBusy, this, [this](Session *session) {
        if (std::exchange(session->inLru, false))
            m_lru.erase(session->lruPosition);
    });
    connect(s, &Session::becameIdle, this, [this](Session *session) {
        if (!session->inLru) {
            m_lru.push_front(session);
            session->lruPosition = m_lru.begin();
            session->inLru = true;
        }
        queueEviction(); // not from inside the session's own signal
    });
    s->pin(); // not evicted by the eviction below
    evictIdle();
    s->unpin();
    co_return s;
}

QCoro::Task<Result<SessionPage>> SessionService::listSessions(QString query, int limit, int offset)
{
    if (limit < 0 || offset < 0)
        co_return makeError(ErrorCode::BadRequest, QStringLiteral("limit and offset must be >= 0"));
    co_return co_await m_store->listSessions(query, limit, offset);
}

QCoro::Task<Result<SessionSnapshot>> SessionService::createSession(CreateSessionParams params)
{
    if (m_stopping)
        co_return makeError(ErrorCode::Unavailable, QStringLiteral("the server is shutting down"));
    SessionMeta meta;
    meta.id = params.id.isEmpty() ? QUuid::createUuid().toString(QUuid::Id128) : params.id;
    if (!isValidSessionId(meta.id))
        co_return badId(meta.id);
    if (params.title)
        meta.title = *params.title;
    if (params.system)
        meta.system = *params.system;
    meta.model =
        params.model && !params.model->isEmpty() ? *params.model : m_providers->defaultModel();
    if (auto resolved = m_providers->resolve(meta.model); !resolved)
        co_return resolved.error();
    meta.createdAt = meta.updatedAt = QDateTime::currentDateTimeUtc();
    const Status created = co_await m_store->createSession(meta);
    if (!created)
        co_return created.error();
    Q_EMIT sessionChanged(meta);
    co_return SessionSnapshot{meta, {}};
}

QCoro::Task<Result<SessionSnapshot>> SessionService::session(QString sid, int window)
{
    if (window < 0 || window > kMaxWindow)
        co_return makeError(ErrorCode::BadRequest,
                            QStringLiteral("window must be between 0 and %1").arg(kMaxWindow));
    const auto acquired = co_await acquire(sid);
    if (!acquired)
        co_return acquired.error();
    Session *s = *acquired;
    SessionPin pin(s);
    const SessionMeta meta = s->meta();
    const auto messages = co_await branch(s, meta.head, window);
    if (!messages)
        co_return messages.error();
    co_return SessionSnapshot{meta, *messages};
}

QCoro::Task<Result<SessionSnapshot>> SessionService::patchSession(QString sid,
                                                                  PatchSessionParams params)
{
    // Marked before any wait: a title job that ends meanwhile must not overwrite this one.
    if (params.title) {
        if (auto job = m_titleJobs.find(sid); job != m_titleJobs.end())
            *job = true;
    }
    return patch(std::move(sid), std::move(params), std::nullopt);
}

QCoro::Task<Result<SessionSnapshot>> SessionService::patch(QString sid, PatchSessionParams params,
                                                           std::optional<QString> titleWas)
{
    const auto acquired = co_await acquire(sid);
    if (!acquired)
        co_return acquired.error();
    Session *s = *acquired;
    std::optional<QList<Message>> newBranch;
    if (params.head) {
        auto switched = co_await switchBranch(s, *params.head);
        if (!switched)
            co_return switched.error();
        newBranch = std::move(*switched);
    }
    SessionMeta meta = s->meta();
    if (params.title)
        meta.title = *params.title;
    if (params.system)
        meta.system = *params.system;
    if (params.model) {
        if (params.model->isEmpty())
            co_return makeError(ErrorCode::Invalid, QStringLiteral("model must not be empty"));
        if (auto resolved = m_providers->resolve(*params.model); !resolved)
            co_return resolved.error();
        meta.model = *params.model;
    }
    if (titleWas && (m_titleJobs.value(sid, true) || s->meta().title != *titleWas)) {
        co_return makeError(ErrorCode::Conflict,
                            QStringLiteral("the title of session '%1' was set meanwhile").arg(sid));
    }
    if (params.options) {
        if (auto invalidOption = invalidOptions(*params.options))
            co_return *invalidOption;
        meta.options = *params.options; // replaces the defaults: {} clears them
    }
    if (params.tools) {
        if (auto invalid = invalidTools(*params.tools))
            co_return *invalid;
        meta.tools = *params.tools;
    }
    if (params.toolApproval)
        meta.toolApproval = *params.toolApproval;
    meta.updatedAt = QDateTime::currentDateTimeUtc();
    SessionPin pin(s);
    // Other fields may move while we save (a turn ending): only write what the PATCH owns.
    SessionMeta current = s->meta();
    current.title = meta.title;
    current.system = meta.system;
    current.model = meta.model;
    current.options = meta.options;
    current.tools = meta.tools;
    current.toolApproval = meta.toolApproval;
    current.updatedAt = meta.updatedAt;
    if (newBranch) {
        current.head = newBranch->last().index;
        current.length = newBranch->last().depth + 1;
    }
    const SessionMeta before = s->meta();
    s->setMeta(current);
    if (newBranch)
        s->replaceCache(*newBranch);
    const Status saved = co_await m_store->saveSessionMeta(current);
    if (!saved) {
        SessionMeta restored = s->meta();
        restored.title = before.title;
        restored.system = before.system;
        restored.model = before.model;
        restored.options = before.options;
        restored.tools = before.tools;
        restored.toolApproval = before.toolApproval;
        if (newBranch && restored.head == current.head) {
            restored.head = before.head;
            restored.length = before.length;
            s->replaceCache({});
        }
        s->setMeta(restored);
        co_return saved.error();
    }
    Q_EMIT sessionChanged(s->meta());
    const QList<Message> &h = s->cachedHistory();
    co_return SessionSnapshot{s->meta(), h.mid(std::max<qsizetype>(0, h.size() - 30))};
}

QCoro::Task<Status> SessionService::deleteSession(QString sid)
{
    const auto acquired = co_await acquire(sid);
    if (!acquired)
        co_return acquired.error();
    QPointer<Session> s = *acquired;
    if (Turn *t = s->activeTurn()) {
        const int tid = t->record().id;
        t->cancel(TurnRecord::State::Cancelled);
        co_await waitForTurn(sid, tid, 2 * m_config.shutdownTimeoutMs);
    } else if (m_store->isShared() && s->meta().activeTurn != 0) {
        // Another instance runs a turn of it: have it stop and save first.
        const int tid = s->meta().activeTurn;
        co_await m_store->requestCancel(sid, tid);
        co_await waitForTurn(sid, tid, 2 * m_config.shutdownTimeoutMs);
    }
    if (s) {
        s->pin();
        const Status deleted = co_await m_store->deleteSession(sid);
        s->unpin();
        if (!deleted)
            co_return deleted;
        if (s && !s->busy())
            unload(s);
    } else {
        const Status deleted = co_await m_store->deleteSession(sid);
        if (!deleted)
            co_return deleted;
    }
    Q_EMIT sessionDeleted(sid);
    co_return Ok{};
}

QCoro::Task<Result<MessagePage>> SessionService::messages(QString sid, qint64 before, int limit)
{
    if (limit < 1 || limit > 200)
        co_return makeError(ErrorCode::BadRequest,
                            QStringLiteral("limit must be between 1 and 200"));
    const auto acquired = co_await acquire(sid);
    if (!acquired)
        co_return acquired.error();
    Session *s = *acquired;
    SessionPin pin(s);
    const qint64 total = s->meta().total;
    if (before < 0 || before > total)
        before = total;
    const auto end = co_await pageEnd(s, before);
    if (!end)
        co_return end.error();
    const auto messages = co_await branch(s, *end, limit);
    if (!messages)
        co_return messages.error();
    MessagePage page;
    page.messages = *messages;
    page.total = total;
    page.length = s->meta().length;
    co_return page;
}

QCoro::Task<QList<ModelInfo>> SessionService::models()
{
    QList<ModelInfo> entries = m_providers->models();
    const QList<Provider *> providers = m_providers->providers();
    QList<QPointer<Provider>> alive;
    std::vector<QCoro::Task<Result<QStringList>>> queries;
    for (Provider *p : providers) {
        alive.append(p);
        queries.push_back(p->models()); // they all run at once
    }
    // Only locals from here: the service may be destroyed while a provider answers.
    for (qsizetype i = 0; i < alive.size(); ++i) {
        const auto names = co_await queries[i];
        if (!alive[i])
            continue;
        if (!names) {
            qCDebug(lcCore).noquote()
                << "models of" << alive[i]->name() << ":" << names.error().message;
            continue;
        }
        const QString provider = alive[i]->name();
        for (const QString &name : *names) {
            const QString id = name == provider ? name : provider + QLatin1Char('/') + name;
            const bool known = std::any_of(entries.cbegin(), entries.cend(),
                                           [&](const ModelInfo &e) { return e.id == id; });
            if (!known)
                entries.append(ModelInfo{id, provider});
        }
    }
    co_return entries;
}

QCoro::Task<Result<TurnRecord>> SessionService::turn(QString sid, int tid)
{
    if (!isValidSessionId(sid))
        co_return badId(sid);
    if (Turn *t = liveTurn(sid, tid))
        co_return t->record();
    const auto acquired = co_await acquire(sid);
    if (!acquired)
        co_return acquired.error();
    if (Turn *t = liveTurn(sid, tid))
        co_return t->record();
    const auto record = co_await m_store->loadTurn(sid, tid);
    if (!record)
        co_return record.error();
    if (!*record)
        co_return turnNotFound(sid, tid);
    co_return **record;
}

QCoro::Task<Result<ChunkPage>> SessionService::chunks(QString sid, int tid, int from, int waitMs)
{
    if (from < 0)
        co_return makeError(ErrorCode::BadRequest, QStringLiteral("from must be >= 0"));
    waitMs = std::clamp(waitMs, 0, kMaxWaitMs);
    QElapsedTimer clock;
    clock.start();
    while (true) {
        const int remaining = waitMs - int(clock.elapsed());
        if (Turn *t = liveTurn(sid, tid)) {
            if (t->chunkCount() > from || remaining <= 0) {
                ChunkPage page;
                page.chunks = t->chunks(from, kMaxChunksPerPage);
                page.next = page.chunks.isEmpty() ? from : page.chunks.last().seq + 1;
                page.state = t->record().state;
                page.done = false;
                co_return page;
            }
            Waiter waiter;
            t->addWaiter(&waiter);
            co_await qCoro(&waiter, &Waiter::fired, std::chrono::milliseconds(remaining));
            continue;
        }
        const auto record = co_await turn(sid, tid);
        if (!record)
            co_return record.error();
        if (liveTurn(sid, tid))
            continue; // started meanwhile (shared store)
        const auto stored = co_await m_store->loadChunks(sid, tid, from, kMaxChunksPerPage);
        if (!stored)
            co_return stored.error();
        ChunkPage page;
        page.chunks = *stored;
        page.next = page.chunks.isEmpty() ? from : page.chunks.last().seq + 1;
        page.state = record->state;
        page.done = record->ended() && page.next >= record->chunks;
        const int left = waitMs - int(clock.elapsed());
        if (!page.chunks.isEmpty() || record->ended() || left <= 0)
            co_return page;
        // Generated by another instance sharing the store: wait for its news, or poll.
        co_await waitForStoreUpdate(sid, tid, std::min(left, 250));
    }
}

QCoro::Task<Result<TurnRecord>> SessionService::waitForTurn(QString sid, int tid, int timeoutMs)
{
    QElapsedTimer clock;
    clock.start();
    while (true) {
        const int remaining = timeoutMs - int(clock.elapsed());
        if (Turn *t = liveTurn(sid, tid)) {
            if (remaining <= 0)
                co_return t->record();
            Waiter waiter;
            t->addWaiter(&waiter);
            co_await qCoro(&waiter, &Waiter::fired, std::chrono::milliseconds(remaining));
            continue;
        }
        auto record = co_await turn(sid, tid);
        if (liveTurn(sid, tid))
            continue;
        if (!record || record->ended() || !m_store->isShared() || remaining <= 0)
            co_return record;
        // Another instance runs it (shared store): wait for it in the store.
        co_await waitForStoreUpdate(sid, tid, std::min(remaining, 250));
    }
}

QCoro::Task<Result<TurnRecord>> SessionService::cancelTurn(QString sid, int tid)
{
    const auto current = co_await turn(sid, tid);
    if (!current)
        co_return current.error();
    if (current->ended())
        co_return *current;
    if (Turn *t = liveTurn(sid, tid)) {
        t->cancel(TurnRecord::State::Cancelled);
        co_return co_await waitForTurn(sid, tid, m_config.shutdownTimeoutMs);
    }
    if (m_store->isShared()) {
        // Another instance runs it: ask it through the store, then wait for it to end there.
        const Status asked = co_await m_store->requestCancel(sid, tid);
        if (!asked)
            co_return asked.error();
        co_return co_await waitForTurn(sid, tid, m_config.shutdownTimeoutMs);
    }
    co_return *current;
}

} // namespace holdfast
