#pragma once

#include "core/error.h"
#include "core/parameters.h"
#include "core/providerregistry.h"
#include "core/tools.h"
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
    qint64 maxAttachmentBytes = 20 * 1024 * 1024; // one upload (API.md: --max-attachment-bytes)
    int shutdownTimeoutMs = 5000;
    int sweepIntervalMs = 2000; // shared stores: how often to look for turns of crashed instances
    // After the first answer of a chat, ask its model for a short title (never the demo model's;
    // a title set by hand stays). The program turns it on (--auto-title, on by default).
    bool autoTitle = false;
    // Tools (shared/API.md, Tools (MCP)): rounds of model -> tools -> model in one turn
    // (--max-tool-rounds), how long a call waits for the user's approval before it is declined
    // (--tool-approval-timeout-ms), and how long one tool call may run (--tool-timeout-ms).
    int maxToolRounds = 8;
    int toolApprovalTimeoutMs = 600000;
    int toolTimeoutMs = 120000;
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
    void setAutoTitle(bool on) { m_config.autoTitle = on; } // the settings dialog, while running
    // Where tools come from (the MCP servers); none: no tool is configured. Not owned.
    void setToolHost(ToolHost *host) { m_toolHost = host; }
    ToolHost *toolHost() const { return m_toolHost; }

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
    // GET /v1/tools: the configured servers' tools and states ({} without a tool host).
    ToolList tools() const;
    // POST .../tool-calls/{cid}: approves or declines a call that waits for approval (404 for a
    // call the turn does not have, 409 when it does not wait); the turn as it is then.
    QCoro::Task<Result<TurnRecord>> answerToolCall(QString sid, int tid, QString cid, bool approve);

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
    // What a model answered to "name this chat", made a title: its first line without quotes or
    // markup, at most kMaxTitle characters (cut at a word); "" when nothing is left.
    static QString cleanTitle(const QString &answer);
    static constexpr int kMaxTitle = 60;
    // The title the window gives a new chat: the first line of its first prompt.
    static QString firstLineTitle(const QString &prompt);

Q_SIGNALS:
    void sessionChanged(const holdfast::SessionMeta &meta);
    void sessionDeleted(const QString &sid);
    void turnStarted(const holdfast::TurnRecord &turn);
    void chunkReady(const QString &sid, int tid, int seq, const QString &text);
    // A chunk that records a step of tool use (a call or its result), in seq order with the text
    // chunks (chunkReady carries only those).
    void toolStepReady(const QString &sid, int tid, const holdfast::Chunk &chunk);
    // After the chunkReady signals of one batch of a turn's chunks (as it was stored).
    void chunkBatchEnded(const QString &sid, int tid);
    // A running turn went from streaming to waiting (a tool call waits for approval) or back.
    void turnStateChanged(const holdfast::TurnRecord &turn);
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
    // The PATCH; with `titleWas`, the service's own title, written only while the title still is
    // `titleWas` and nobody set one by hand since the title job began (409 otherwise).
    QCoro::Task<Result<SessionSnapshot>> patch(QString sid, PatchSessionParams params,
                                               std::optional<QString> titleWas);
    // After a turn ended: the title job of sessiontitle.cpp, when it is a chat's first answer.
    QCoro::Task<> generateTitle(QString sid, TurnRecord turn);
    // What goes to the model before the prompt: the system prompt, then `path` (the branch up to
    // the prompt's parent) without its error answers. `sizes`: how many messages each message of
    // `path` that went became (an answer with tool calls becomes several).
    QList<ChatMessage> context(const SessionMeta &meta, const QList<Message> &path,
                               QList<int> *sizes = nullptr) const;
    // sessionservicetools.cpp: 422 unless every name is "*" or "SERVER/TOOL" of a configured
    // server (shared/API.md, Tools (MCP)).
    std::optional<Error> invalidTools(const QStringList &names) const;
    // An earlier answer as it goes to the model: its text split at its calls' offsets, each group
    // of calls an assistant message with tool_calls followed by one tool message per call (a call
    // cut off by a crash or a cancel gets an error result: every call id has its tool message).
    // Calls carry their "SERVER/TOOL" name; the turn gives them function names (TurnPlan).
    static void appendAnswer(QList<ChatMessage> &messages, const Message &answer);
    // recover(): a stored tool step of an interrupted turn, into its answer's toolCalls.
    static void addToolStep(Message &answer, const Chunk &chunk);
    // Store::toolDecisionRequested: an answer given through another instance.
    void decideToolCall(const QString &sid, int tid, const QString &cid, bool approve);
    // A new prompt's attachments (sessionserviceattachments.cpp): the metadata of `ids`, which
    // must be at most 10 distinct attachments of the session (else 422).
    QCoro::Task<Result<QList<Attachment>>> promptAttachments(QString sid, QStringList ids);
    // The bytes of every attachment of `path` and of the prompt, by id, read before the prompt is
    // stored; fillAttachments() puts them into the request's messages.
    QCoro::Task<Result<QHash<QString, QByteArray>>>
    attachmentBytes(QString sid, QList<Message> path, QList<Attachment> prompt);
    static void fillAttachments(QList<ChatMessage> &messages,
                                const QHash<QString, QByteArray> &bytes);
    void touch(Session *session);
    void evictIdle();
    void queueEviction(); // one evictIdle() per pass of the event loop, however many went idle
    void unload(Session *session);

    Store *m_store;
    ProviderRegistry *m_providers;
    ToolHost *m_toolHost = nullptr;
    ServiceConfig m_config;
    QHash<QString, Session *> m_sessions;
    std::list<Session *> m_lru; // the idle sessions, most recently used first
    bool m_evictionQueued = false;
    bool m_stopping = false;
    bool m_sweeping = false;
    QTimer *m_sweepTimer = nullptr;
    // Sessions whose title job runs: true once a title was set by hand meanwhile.
    QHash<QString, bool> m_titleJobs;
    QList<QPointer<ProviderStream>> m_titleStreams; // cancelled at shutdown
};

} // namespace holdfast
