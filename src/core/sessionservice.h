#pragma once

#include "core/error.h"
#include "core/parameters.h"
#include "core/providerregistry.h"
#include "core/types.h"

#include <QCoroTask>
#include <QHash>
#include <QObject>
#include <QTimer>

#include <list>
#include <memory>
#include <optional>

namespace holdfast {

class Session;
class Store;
class Turn;

struct ServiceConfig
{
    int maxLoadedSessions = 256; // idle sessions past this bound are unloaded, least recent first
    int cacheMessages = 30;      // newest messages kept in memory per loaded session
    int contextMessages = 200;   // newest messages of the history sent to the model
    // Once a session's context was read from the store, its cache keeps the context (up to
    // contextMessages) while its text stays under this many bytes, so that the next turns of a
    // long chat do not read it again.
    qint64 contextCacheBytes = 256 * 1024;
    qint64 maxPromptBytes = 262144;
    int shutdownTimeoutMs = 5000;
    int sweepIntervalMs = 2000; // shared stores: how often to look for turns of crashed instances
};

// A completion without a session: the messages go to the model as they are; nothing is stored.
struct StatelessParams
{
    QString model; // as the client named it; empty: the default model
    QList<ChatMessage> messages;
    TurnOptions options;
};

struct StatelessCompletion
{
    QString model; // the model as clients name it (the default one filled in)
    // The generation: co_await next() until it returns {}, then error() says how it ended.
    // Cancelling or destroying it stops the model (a client that left).
    std::unique_ptr<ProviderStream> stream;
};

// The session service: everything shared/API.md offers, as coroutines returning Result.
// It owns the loaded sessions (children), loads them on demand and unloads idle ones.
class SessionService final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(SessionService)
public:
    SessionService(Store *store, ProviderRegistry *providers, ServiceConfig config = {},
                   QObject *parent = nullptr);
    ~SessionService() override;

    // Opens the store and recovers turns a crash left unfinished. Call once, before anything else.
    QCoro::Task<Status> start();
    // Refuses new turns, interrupts running ones (their answers saved), waits for the saves.
    QCoro::Task<> shutdown();
    bool stopping() const { return m_stopping; }

    Store *store() const { return m_store; }
    ProviderRegistry *providers() const { return m_providers; }
    const ServiceConfig &config() const { return m_config; }

    QCoro::Task<Result<SessionPage>> listSessions(QString query, int limit, int offset);
    QCoro::Task<Result<SessionSnapshot>> createSession(CreateSessionParams params);
    // The session with the newest `window` messages of its active branch.
    QCoro::Task<Result<SessionSnapshot>> session(QString sid, int window = 30);
    QCoro::Task<Result<SessionSnapshot>> patchSession(QString sid, PatchSessionParams params);
    QCoro::Task<Status> deleteSession(QString sid);
    // The newest `limit` messages of the active branch whose index is below `before` (before < 0
    // or past the end: `total`), oldest first; on a session nobody branched the indexes
    // [max(0, before - limit), before).
    QCoro::Task<Result<MessagePage>> messages(QString sid, qint64 before, int limit);

    // A new prompt after params.parent (default: head), or a new answer to params.regenerate.
    QCoro::Task<Result<TurnRecord>> startTurn(QString sid, StartTurnParams params);
    // Starts a stateless completion: the model resolved (422 if unknown) and the last message
    // held to maxPromptBytes (422) before anything reaches the model.
    Result<StatelessCompletion> completeStateless(StatelessParams params);
    QCoro::Task<Result<TurnRecord>> turn(QString sid, int tid);
    // Chunks with seq >= from (at most 1000); waits up to waitMs for one if there is none yet.
    QCoro::Task<Result<ChunkPage>> chunks(QString sid, int tid, int from, int waitMs);
    QCoro::Task<Result<TurnRecord>> cancelTurn(QString sid, int tid);

    // Attachments (shared/API.md, Attachments): stores one upload after its checks (media type,
    // magic numbers, UTF-8, name), and reads one file back with its bytes.
    QCoro::Task<Result<Attachment>> uploadAttachment(QString sid, UploadParams params);
    QCoro::Task<Result<AttachmentContent>> attachment(QString sid, QString aid);

    // Waits up to timeoutMs for the turn to end; returns its record as it is then.
    QCoro::Task<Result<TurnRecord>> waitForTurn(QString sid, int tid, int timeoutMs);

    // What a running turn of this process knows; nullptr when it does not run here.
    Turn *liveTurn(const QString &sid, int tid) const;
    int loadedSessionCount() const { return int(m_sessions.size()); }
    int activeTurnCount() const;
    bool isLoaded(const QString &sid) const { return m_sessions.contains(sid); }

    // Every model clients can name: the configured ones, then those each provider lists now and
    // that were not configured (a provider that cannot be reached adds nothing). Both clients
    // and GET /v1/models list these.
    QCoro::Task<QList<ModelInfo>> models();

    // API.md's option ranges (Usage and context budget): 422 for a value out of range.
    static std::optional<Error> invalidOptions(const TurnOptions &options);
    static constexpr int kMinContextTokens = 256;

    // The longest one call may wait for a turn's chunks or its end (API.md's `wait` cap).
    static constexpr int kMaxWaitMs = 30000;
    // API.md's session id rule, and its pattern for error messages.
    static bool isValidSessionId(const QString &sid);
    static QString sessionIdPattern() { return QStringLiteral("^[A-Za-z0-9_-]{1,64}$"); }

Q_SIGNALS:
    void sessionChanged(const holdfast::SessionMeta &meta);
    void sessionDeleted(const QString &sid);
    void turnStarted(const holdfast::TurnRecord &turn);
    void chunkReady(const QString &sid, int tid, int seq, const QString &text);
    // After the chunkReady signals of one batch of a turn's chunks (as it was stored).
    void chunkBatchEnded(const QString &sid, int tid);
    void turnFinished(const holdfast::TurnRecord &turn);

private:
    static Error badId(const QString &sid);
    QCoro::Task<Result<Session *>> acquire(QString sid);
    // Up to `limit` messages of the branch that ends at `last`, oldest first: from the session's
    // cache when `last` is its head and the cache holds enough, else from the store.
    QCoro::Task<Result<QList<Message>>> branch(Session *session, qint64 last, int limit);
    // Where a page of /messages below `before` ends: the newest message of the active branch
    // whose index is below `before` (-1: none).
    QCoro::Task<Result<qint64>> pageEnd(Session *session, qint64 before);
    // A PATCH's new head: 409 while a turn runs, 422 for an unknown message; else the latest leaf
    // below `from` and its branch's newest messages (the new cache).
    QCoro::Task<Result<QList<Message>>> switchBranch(Session *session, qint64 from);
    // The prompt limit, for a turn's prompt and a stateless completion's last message.
    std::optional<Error> promptTooLong(const QString &text, const QString &what) const;
    QCoro::Task<Status> recover(TurnRecord turn);
    QCoro::Task<> sweep();
    QCoro::Task<> waitForStoreUpdate(QString sid, int tid, int timeoutMs);
    // What goes to the model before the prompt: the system prompt, then `path` (the branch up to
    // the prompt's parent) without its error answers.
    QList<ChatMessage> context(const SessionMeta &meta, const QList<Message> &path) const;
    void touch(Session *session);
    void evictIdle();
    void unload(Session *session);

    Store *m_store;
    ProviderRegistry *m_providers;
    ServiceConfig m_config;
    QHash<QString, Session *> m_sessions;
    std::list<Session *> m_lru; // most recently used first
    bool m_stopping = false;
    bool m_sweeping = false;
    QTimer *m_sweepTimer = nullptr;
};

} // namespace holdfast
