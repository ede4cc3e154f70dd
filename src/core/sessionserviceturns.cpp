// SessionService and the conversation tree: starting turns (where a prompt goes, what goes to
// the model), reading and switching the active branch, and saving the turns a crash cut off.
// The rules are shared/API.md's "Branches" section.
#include "core/logging.h"
#include "core/session.h"
#include "core/sessionservice.h"
#include "core/store.h"
#include "core/tokens.h"
#include "core/turn.h"

#include <QPointer>

#include <limits>

namespace holdfast {

namespace {

Error invalid(const QString &message)
{
    return makeError(ErrorCode::Invalid, message);
}

Error badRequest(const QString &message)
{
    return makeError(ErrorCode::BadRequest, message);
}

// Clears a session's `starting` flag on every way out of startTurn.
class StartingFlag
{
public:
    explicit StartingFlag(Session *session) : m_session(session) { m_session->setStarting(true); }
    ~StartingFlag() { release(); }
    StartingFlag(const StartingFlag &) = delete;
    StartingFlag &operator=(const StartingFlag &) = delete;
    void release()
    {
        if (m_session)
            m_session->setStarting(false);
        m_session = nullptr;
    }

private:
    Session *m_session;
};

// Where a new turn's prompt is, and the branch before it.
struct Placement
{
    QList<Message> path;    // the branch up to the prompt's parent, oldest first (bounded)
    qint64 parent = -1;     // the prompt's parent (a new prompt), -1: a first message
    qint64 promptDepth = 0; // depth of the prompt (new, or the regenerated one)
    Message regenerated;    // the user message answered again (regenerate only)
};

// A message's files as they go to the model, their bytes filled in by fillAttachments().
QList<AttachmentContent> filesOf(const QList<Attachment> &attachments)
{
    QList<AttachmentContent> files;
    for (const Attachment &a : attachments)
        files.append(AttachmentContent{a, {}});
    return files;
}

// What of the branch goes to the model (shared/API.md, Usage and context budget).
struct ContextChoice
{
    QList<Message> kept;        // the newest messages of the path that fit, oldest first
    QList<qint64> costs;        // the tokens of each of `kept`
    std::optional<qint64> room; // what is left of the budget (none: no budget)
    ContextUse use;
};

// The newest messages of `path` (the branch before the prompt, `ancestors` messages in all, of
// which `path` holds the newest) that fit in `budget` tokens together with the system prompt and
// the prompt, which always go. Error answers never go and count in neither figure. An answer
// whose turn's completion_tokens the session remembers counts exactly; the rest is estimated.
ContextChoice fitContext(const Session &session, const SessionMeta &meta,
                         const QList<Message> &path, qint64 ancestors, const Message &prompt,
                         std::optional<int> budget)
{
    const auto cost = [&session](const Message &m) {
        std::optional<qint64> exact;
        if (m.role == QLatin1String("assistant") && m.turn > 0)
            exact = session.completionTokens(m.turn);
        // The model's own count covers what it wrote (its calls too), not the tools' results.
        return exact ? *exact + tokens::kPerMessage + tokens::estimateToolCalls(m.toolCalls)
                     : tokens::estimate(m);
    };
    ContextChoice choice;
    qint64 left = budget ? qint64(*budget) : std::numeric_limits<qint64>::max();
    if (!meta.system.isEmpty())
        left -= tokens::estimate(meta.system) + tokens::kPerMessage;
    left -= tokens::estimate(prompt);
    qint64 errors = 0;
    qsizetype first = path.size(); // the oldest message that goes
    bool full = false;
    for (qsizetype i = path.size(); i-- > 0;) {
        const Message &m = path.at(i);
        if (m.state == Message::State::Error) {
            ++errors;
            continue;
        }
        if (full)
            continue; // only the newest ones go: nothing older after a message that did not fit
        const qint64 c = cost(m);
        if (c > left) {
            full = true;
            continue;
        }
        left -= c;
        first = i;
    }
    for (qsizetype i = first; i < path.size(); ++i) {
        if (path.at(i).state != Message::State::Error) {
            choice.kept.append(path.at(i));
            choice.costs.append(cost(path.at(i)));
        }
    }
    if (budget)
        choice.room = left;
    choice.use.messages = int(choice.kept.size());
    choice.use.dropped = int(std::max<qint64>(0, ancestors - errors - choice.kept.size()));
    return choice;
}

} // namespace

std::optional<Error> SessionService::invalidOptions(const TurnOptions &options)
{
    const auto outOfRange = [](const char *name, const QString &range) {
        return makeError(ErrorCode::Invalid,
                         QStringLiteral("'%1' must be %2").arg(QLatin1String(name), range));
    };
    if (options.temperature && !(*options.temperature >= 0 && *options.temperature <= 2))
        return outOfRange("temperature", QStringLiteral("between 0 and 2"));
    if (options.topP && !(*options.topP >= 0 && *options.topP <= 1))
        return outOfRange("top_p", QStringLiteral("between 0 and 1"));
    if (options.maxTokens && *options.maxTokens < 1)
        return outOfRange("max_tokens", QStringLiteral("at least 1"));
    if (options.contextTokens && *options.contextTokens < kMinContextTokens)
        return outOfRange("context_tokens", QStringLiteral("at least %1").arg(kMinContextTokens));
    return std::nullopt;
}

QList<ChatMessage> SessionService::context(const SessionMeta &meta, const QList<Message> &path,
                                           QList<int> *sizes) const
{
    QList<ChatMessage> messages;
    if (!meta.system.isEmpty())
        messages.append(ChatMessage{QStringLiteral("system"), meta.system});
    for (const Message &m : path) {
        if (m.state == Message::State::Error)
            continue; // a failed answer is not something the model said
        const qsizetype before = messages.size();
        if (!m.toolCalls.isEmpty())
            appendAnswer(messages, m);
        else
            messages.append(ChatMessage{m.role, m.content, filesOf(m.attachments)});
        if (sizes)
            sizes->append(int(messages.size() - before));
    }
    return messages;
}

QCoro::Task<Result<TurnRecord>> SessionService::startTurn(QString sid, StartTurnParams params)
{
    if (!isValidSessionId(sid))
        co_return badId(sid);
    const bool regenerating = params.regenerate != -1;
    // 400s come before the 409 (API.md's order).
    if (regenerating && !params.prompt.isEmpty())
        co_return badRequest(QStringLiteral("'regenerate' takes no 'prompt'"));
    if (regenerating && params.parent)
        co_return badRequest(QStringLiteral("'regenerate' cannot be combined with 'parent'"));
    if (regenerating && !params.attachments.isEmpty())
        co_return badRequest(QStringLiteral("'regenerate' takes no 'attachments'"));
    if (m_stopping)
        co_return makeError(ErrorCode::Unavailable, QStringLiteral("the server is shutting down"));
    const auto acquired = co_await acquire(sid);
    if (!acquired)
        co_return acquired.error();
    Session *s = *acquired;
    if (s->activeTurn() || s->starting()) {
        co_return makeError(
            ErrorCode::Conflict,
            QStringLiteral("session '%1' already has an active turn (%2)")
                .arg(sid)
                .arg(s->activeTurn() ? s->activeTurn()->record().id : s->meta().lastTurn + 1));
    }
    // After the 409 (API.md's order: 409, then 422).
    if (!regenerating) {
        // Files alone (an image to describe) are a prompt too.
        if (params.prompt.trimmed().isEmpty() && params.attachments.isEmpty())
            co_return invalid(QStringLiteral("the prompt is empty"));
        if (auto tooLong = promptTooLong(params.prompt, QStringLiteral("the prompt")))
            co_return *tooLong;
    }
    if (auto invalidOption = invalidOptions(params.options))
        co_return *invalidOption;
    if (params.tools) {
        if (auto invalid = invalidTools(*params.tools))
            co_return *invalid;
    }
    const QString model =
        params.model && !params.model->isEmpty() ? *params.model : s->meta().model;
    auto resolved = m_providers->resolve(model);
    if (!resolved)
        co_return resolved.error();

    StartingFlag starting(s);
    // The turn's options override the session's one by one; without context_tokens, the
    // provider's context size of the model is the budget (it may ask the model server once).
    const TurnOptions options = s->meta().options.overriddenBy(params.options);
    std::optional<int> budget = options.contextTokens;
    if (!budget) // resolved->provider keeps the provider alive while this waits
        budget = co_await resolved->provider->contextTokens(resolved->model);
    const SessionMeta before = s->meta();
    const int contextMessages = std::max(0, m_config.contextMessages);
    Placement place;
    if (regenerating) {
        const qint64 u = params.regenerate;
        const QString notUser =
            QStringLiteral("message %1 is not a user message of session '%2'").arg(u).arg(sid);
        if (u < 0 || u >= before.total)
            co_return invalid(notUser);
        const auto loaded = co_await m_store->loadBranch(sid, u, contextMessages + 1);
        if (!loaded)
            co_return loaded.error();
        if (loaded->isEmpty() || loaded->last().index != u ||
            loaded->last().role != QLatin1String("user"))
            co_return invalid(notUser);
        place.regenerated = loaded->last();
        place.path = loaded->mid(0, loaded->size() - 1);
        place.promptDepth = place.regenerated.depth;
    } else {
        place.parent = params.parent ? *params.parent : before.head;
        const bool chosen = params.parent && *params.parent != -1;
        const QString notAnswer =
            QStringLiteral("message %1 is not an assistant message of session '%2'")
                .arg(place.parent)
                .arg(sid);
        if (chosen && (place.parent < 0 || place.parent >= before.total))
            co_return invalid(notAnswer);
        if (place.parent >= 0) {
            const auto loaded = co_await branch(s, place.parent, contextMessages);
            if (!loaded)
                co_return loaded.error();
            if (loaded->isEmpty() || loaded->last().index != place.parent) {
                if (chosen)
                    co_return invalid(notAnswer);
                co_return makeError(ErrorCode::Internal,
                                    QStringLiteral("message %1 (head of session '%2') is missing")
                                        .arg(place.parent)
                                        .arg(sid));
            }
            if (chosen && loaded->last().role != QLatin1String("assistant"))
                co_return invalid(notAnswer);
            place.promptDepth = loaded->last().depth + 1;
            place.path = *loaded;
            // The context read from the store stays cached while it is still the active branch.
            if (place.parent == before.head && s->meta().head == before.head &&
                s->meta().total == before.total && !s->cacheCovers(place.path.size()))
                s->keepContext(place.path);
        }
        if (contextMessages == 0)
            place.path.clear();
    }
    // The prompt's files (a regenerated prompt keeps its own), and every file's bytes for the
    // model, read while the session is still `starting`: nothing is stored if a read fails.
    QList<Attachment> files = place.regenerated.attachments;
    if (!regenerating) {
        auto listed = co_await promptAttachments(sid, params.attachments);
        if (!listed)
            co_return listed.error();
        files = *listed;
    }
    const auto fileBytes = co_await attachmentBytes(sid, place.path, files);
    if (!fileBytes)
        co_return fileBytes.error();

    SessionMeta meta = s->meta();
    const QDateTime now = QDateTime::currentDateTimeUtc();
    TurnRecord record;
    record.id = meta.lastTurn + 1;
    record.session = sid;
    record.state = TurnRecord::State::Streaming;
    record.promptIndex = regenerating ? place.regenerated.index : meta.total;
    record.model = model;
    record.createdAt = now;
    std::optional<Message> prompt;
    if (!regenerating) {
        prompt.emplace();
        prompt->index = meta.total;
        prompt->role = QStringLiteral("user");
        prompt->content = params.prompt;
        prompt->createdAt = now;
        prompt->turn = record.id;
        prompt->parent = place.parent;
        prompt->depth = place.promptDepth;
        prompt->attachments = files;
        // After head (a leaf), it is an only child; elsewhere the store knows its siblings.
        if (place.parent == meta.head)
            prompt->siblings = {prompt->index};
        meta.total += 1;
    }
    // The budget is applied before anything is stored: the turn's record says what went.
    const ContextChoice fitted = fitContext(*s, meta, place.path, place.promptDepth,
                                            prompt ? *prompt : place.regenerated, budget);
    record.context = fitted.use;
    meta.head = record.promptIndex;
    meta.length = place.promptDepth + 1;
    meta.lastTurn = record.id;
    meta.activeTurn = record.id;
    meta.updatedAt = now;

    s->beginSave(1);
    const Status stored = co_await m_store->beginTurn(meta, prompt, record);
    s->endSave(1);
    starting.release();
    if (!stored)
        co_return stored.error();

    SessionMeta current = s->meta();
    current.total = meta.total;
    current.head = meta.head;
    current.length = meta.length;
    current.lastTurn = meta.lastTurn;
    current.activeTurn = meta.activeTurn;
    current.updatedAt = meta.updatedAt;
    s->setMeta(current);
    if (prompt && !prompt->siblings.isEmpty())
        s->appendMessage(*prompt);
    else
        s->replaceCache({}); // a new branch: the next read loads it, siblings and all

    ProviderRequest request;
    request.model = resolved->model;
    QList<int> sizes;
    request.messages = context(meta, fitted.kept, &sizes);
    request.messages.append(ChatMessage{QStringLiteral("user"),
                                        regenerating ? place.regenerated.content : params.prompt,
                                        filesOf(files)});
    fillAttachments(request.messages, *fileBytes);
    request.options = options;
    TurnPlan plan;
    plan.provider = *resolved;
    plan.request = std::move(request);
    plan.toolHost = m_toolHost;
    plan.tools = params.tools ? *params.tools : meta.tools;
    plan.approval = meta.toolApproval;
    plan.maxToolRounds = m_config.maxToolRounds;
    plan.approvalTimeoutMs = m_config.toolApprovalTimeoutMs;
    plan.toolTimeoutMs = m_config.toolTimeoutMs;
    plan.room = fitted.room;
    plan.historyStart = meta.system.isEmpty() ? 0 : 1;
    for (qsizetype i = 0; i < sizes.size(); ++i)
        plan.history.append({sizes.at(i), fitted.costs.at(i)});
    auto *turn = new Turn(record, std::move(plan), m_store, s);
    turn->setBranch(place.promptDepth, regenerating);
    s->setActiveTurn(turn);
    connect(turn, &Turn::chunkReady, this, [this, sid, tid = record.id](int seq, const QString &t) {
        Q_EMIT chunkReady(sid, tid, seq, t);
    });
    connect(turn, &Turn::toolStepReady, this,
            [this, sid, tid = record.id](const Chunk &c) { Q_EMIT toolStepReady(sid, tid, c); });
    connect(turn, &Turn::stateChanged, this, &SessionService::turnStateChanged);
    connect(turn, &Turn::chunkBatchEnded, this,
            [this, sid, tid = record.id] { Q_EMIT chunkBatchEnded(sid, tid); });
    connect(turn, &Turn::finished, this, [this, sid](const TurnRecord &r) {
        Q_EMIT turnFinished(r);
        if (Session *session = m_sessions.value(sid))
            Q_EMIT sessionChanged(session->meta());
        generateTitle(sid, r); // runs on its own
    });
    Q_EMIT turnStarted(record);
    Q_EMIT sessionChanged(current);
    turn->start();
    if (m_stopping) // shutdown began while the prompt was being stored
        turn->cancel(TurnRecord::State::Interrupted);
    co_return record;
}

QCoro::Task<Result<QList<Message>>> SessionService::branch(Session *session, qint64 last, int limit)
{
    if (last < 0 || limit <= 0)
        co_return QList<Message>{};
    if (last == session->meta().head && session->cacheCovers(limit)) {
        const QList<Message> &h = session->cachedHistory();
        co_return h.mid(std::max<qsizetype>(0, h.size() - limit));
    }
    SessionPin pin(session);
    co_return co_await m_store->loadBranch(session->id(), last, limit);
}

QCoro::Task<Result<QList<Message>>> SessionService::switchBranch(Session *s, qint64 from)
{
    const auto busy = [s]() -> std::optional<Error> {
        // A turn of this instance, or (shared store) of another one: acquire() read the metadata
        // again, so meta().activeTurn is the store's.
        if (!s->activeTurn() && !s->starting() && s->meta().activeTurn == 0)
            return std::nullopt;
        return makeError(
            ErrorCode::Conflict,
            QStringLiteral("session '%1' has an active turn (%2): its branch cannot "
                           "change until it ends")
                .arg(s->id())
                .arg(s->activeTurn() ? s->activeTurn()->record().id : s->meta().activeTurn));
    };
    if (auto conflict = busy())
        co_return *conflict;
    const Error unknown = makeError(
        ErrorCode::Invalid,
        QStringLiteral("message %1 does not exist in session '%2'").arg(from).arg(s->id()));
    if (from < 0 || from >= s->meta().total)
        co_return unknown;
    SessionPin pin(s);
    const auto leaf = co_await m_store->latestLeaf(s->id(), from);
    if (!leaf)
        co_return leaf.error().code == ErrorCode::NotFound ? unknown : leaf.error();
    auto window = co_await m_store->loadBranch(s->id(), *leaf, m_config.cacheMessages);
    if (!window)
        co_return window.error();
    if (window->isEmpty())
        co_return unknown;
    if (auto conflict = busy()) // a turn started while we read
        co_return *conflict;
    co_return *window;
}

QCoro::Task<Result<qint64>> SessionService::pageEnd(Session *s, qint64 before)
{
    const SessionMeta meta = s->meta();
    if (before >= meta.total)
        co_return meta.head;
    // Indexes grow along a branch: its messages below `before` are a first part of it.
    if (meta.length == meta.total) // one path, nobody branched: message i follows i - 1
        co_return before - 1;
    for (const Message &m : s->cachedHistory()) {
        if (m.index == before) // on the branch (a client's oldest loaded message): O(limit)
            co_return m.parent;
    }
    // Elsewhere: walk up from head until the branch goes below `before`.
    qint64 last = meta.head;
    while (last >= 0) {
        const auto part = co_await m_store->loadBranch(meta.id, last, 256);
        if (!part)
            co_return part.error();
        if (part->isEmpty())
            co_return qint64(-1);
        for (qsizetype i = part->size(); i-- > 0;) {
            if (part->at(i).index < before)
                co_return part->at(i).index;
        }
        last = part->first().parent;
    }
    co_return qint64(-1);
}

QCoro::Task<Status> SessionService::recover(TurnRecord turn)
{
    const auto meta = co_await m_store->loadSession(turn.session);
    if (!meta)
        co_return meta.error();
    if (!*meta)
        co_return Ok{}; // the session is gone: nothing to recover
    // The answer as far as it got: the text chunks are its content, the tool steps its calls
    // (a call whose result was not stored is not run again: it has none).
    Message answer;
    int count = 0;
    while (true) {
        const auto chunks = co_await m_store->loadChunks(turn.session, turn.id, count, 1000);
        if (!chunks)
            co_return chunks.error();
        for (const Chunk &c : *chunks) {
            if (c.isToolStep())
                addToolStep(answer, c);
            else
                answer.content += c.text;
        }
        count += int(chunks->size());
        if (chunks->size() < 1000)
            break;
    }
    // The interrupted answer goes on the branch where its turn ran: after its prompt.
    const auto prompt = co_await m_store->loadBranch(turn.session, turn.promptIndex, 1);
    if (!prompt)
        co_return prompt.error();
    SessionMeta m = **meta;
    answer.index = m.total;
    answer.role = QStringLiteral("assistant");
    answer.turn = turn.id;
    answer.state = Message::State::Interrupted;
    answer.createdAt = QDateTime::currentDateTimeUtc();
    answer.parent = turn.promptIndex;
    answer.depth = prompt->isEmpty() ? 0 : prompt->last().depth + 1;
    m.total += 1;
    m.head = answer.index; // nothing moves head while a turn runs (409)
    m.length = answer.depth + 1;
    if (m.activeTurn == turn.id)
        m.activeTurn = 0;
    m.updatedAt = answer.createdAt;
    turn.state = TurnRecord::State::Interrupted;
    turn.chunks = count;
    turn.responseIndex = answer.index;
    turn.finishedAt = answer.createdAt;
    qCInfo(lcCore) << "turn" << turn.id << "of session" << turn.session
                   << "was cut off by a crash: saved as interrupted with" << count << "chunk(s)";
    co_return co_await m_store->finishTurn(m, answer, turn);
}

std::optional<Error> SessionService::promptTooLong(const QString &text, const QString &what) const
{
    const qint64 bytes = text.toUtf8().size();
    if (bytes <= m_config.maxPromptBytes)
        return std::nullopt;
    return makeError(ErrorCode::Invalid,
                     QStringLiteral("%1 is %2 bytes long; the limit is %3 bytes")
                         .arg(what)
                         .arg(bytes)
                         .arg(m_config.maxPromptBytes));
}

Result<StatelessCompletion> SessionService::completeStateless(StatelessParams params)
{
    if (m_stopping)
        return makeError(ErrorCode::Unavailable, QStringLiteral("the server is shutting down"));
    if (auto invalidOption = invalidOptions(params.options))
        return *invalidOption;
    const auto resolved = m_providers->resolve(params.model);
    if (!resolved)
        return resolved.error();
    if (!params.messages.isEmpty()) {
        if (auto tooLong =
                promptTooLong(params.messages.last().content, QStringLiteral("the last message")))
            return *tooLong;
    }
    StatelessCompletion completion;
    completion.model = params.model.isEmpty() ? m_providers->defaultModel() : params.model;
    ProviderRequest request;
    request.model = resolved->model;
    request.messages = std::move(params.messages);
    request.options = params.options;
    completion.stream = resolved->start(request);
    return completion;
}

} // namespace holdfast
