#pragma once

#include "core/provider.h"
#include "core/providerregistry.h"
#include "core/tools.h"
#include "core/types.h"
#include "runtime/waiter.h"

#include <QCoroTask>
#include <QHash>
#include <QObject>
#include <QPointer>

#include <memory>
#include <optional>

namespace holdfast {

class Session;
class Store;

// What a turn generates with: the model, the first request, and the tools it may use
// (shared/API.md, Tools (MCP)).
struct TurnPlan
{
    ProviderRegistry::Resolved provider; // keeps the provider alive for every round
    // The first request, without tools. Earlier answers' calls carry their "SERVER/TOOL" name in
    // ProviderToolCall::wireName and ChatMessage::toolName: the turn gives them function names
    // once it knows the tools it offers.
    ProviderRequest request;
    QPointer<ToolHost> toolHost; // null: no tool is offered
    QStringList tools;           // allowed ("SERVER/TOOL" or "*"); empty: none offered
    ToolApproval approval = ToolApproval::Ask;
    int maxToolRounds = 8;
    int approvalTimeoutMs = 600000;
    int toolTimeoutMs = 120000;
    // The context budget (shared/API.md, Usage and context budget): what is left of it after the
    // first request, and the earlier messages in that request, oldest first, from
    // request.messages[historyStart] on: how many chat messages each became and its tokens. The
    // tool steps of the turn always go: they push the oldest earlier messages out.
    std::optional<qint64> room;
    int historyStart = 0;
    struct Earlier
    {
        int messages = 0;
        qint64 tokens = 0;
    };
    QList<Earlier> history;
};

// One answer being generated: a child of its Session. Its coroutine drains the provider,
// stores each chunk before announcing it, runs the tool calls the model asks for and asks the
// model again (turntools.cpp), then appends the assistant message exactly once and awaits that
// save; only then does it report its end state and delete itself.
class Turn final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(Turn)
public:
    Turn(TurnRecord record, TurnPlan plan, Store *store, Session *session);
    ~Turn() override;

    // Where the answer goes: after the prompt (record().promptIndex), whose depth is given. A turn
    // that regenerates an answer adds a sibling to older answers, whose list the turn does not
    // know: the session's cache is reset instead of extended when it is saved.
    void setBranch(qint64 promptDepth, bool regenerating)
    {
        m_promptDepth = promptDepth;
        m_regenerating = regenerating;
    }
    void start();

    const TurnRecord &record() const { return m_record; }
    int chunkCount() const { return int(m_chunks.size()); }
    QList<Chunk> chunks(int from, int limit) const;

    // Stops the generation (or the wait for approvals, or the running tool call); the turn ends
    // in `reason` (Cancelled or Interrupted) with the partial answer saved as an interrupted
    // message.
    void cancel(TurnRecord::State reason = TurnRecord::State::Cancelled);
    // Shutdown: after this, a failing final save is not retried any more.
    void stopRetrying() { m_retrySaves = false; }
    // The user's answer to a call that waits for approval: NotFound for a call this turn does not
    // have, Conflict for one that does not wait (answered, or the turn is not waiting).
    Status answerToolCall(const QString &cid, bool approve);

    // Fires `waiter` on the next chunk or when the turn has ended.
    void addWaiter(Waiter *waiter) { m_waiters.add(waiter); }

Q_SIGNALS:
    void chunkReady(int seq, const QString &text);
    // A chunk that records a tool call or its result, in seq order with chunkReady's.
    void toolStepReady(const holdfast::Chunk &chunk);
    // After chunkReady/toolStepReady for every chunk of one stored batch: listeners that write
    // the chunks out can send them together.
    void chunkBatchEnded();
    // Streaming <-> waiting, once stored.
    void stateChanged(const holdfast::TurnRecord &record);
    void finished(const holdfast::TurnRecord &record);

private:
    QCoro::Task<> run();
    QCoro::Task<bool> saveEnd(Message answer, TurnRecord end);
    Session *session() const;
    // Stores `batch` (consecutive seqs from chunkCount()), then announces it.
    QCoro::Task<Status> storeChunks(QList<Chunk> batch);

    // turntools.cpp: the tools offered to the model (with their function names), and the names
    // of the request's earlier calls mapped to function names too.
    QCoro::Task<QList<ToolSpec>> offerTools(ProviderRequest &request);
    // One round of tool use: stores the calls, waits for approvals (ask), runs them in order and
    // stores each result; then appends the assistant message and the tool messages to `request`.
    // An error: the store failed.
    QCoro::Task<Status> toolRound(QList<ProviderToolCall> calls, QString roundText,
                                  ProviderRequest &request);
    // ask: waits (state Waiting) until every call of m_pending is answered, the approval
    // timeout (the rest declined), or a cancel.
    QCoro::Task<Status> awaitApprovals();
    QCoro::Task<Status> setState(TurnRecord::State state);
    // Counts a round's text, calls and results against the budget; drops the oldest earlier
    // messages from `request` while it is exceeded.
    void spendRoom(const QString &roundText, qsizetype firstCall, ProviderRequest &request);
    // The answer's tool calls: results missing (cut off) marked as errors.
    QList<MessageToolCall> answerToolCalls() const;

    TurnRecord m_record;
    TurnPlan m_plan;
    std::unique_ptr<ProviderStream> m_stream;
    Store *m_store;
    QList<Chunk> m_chunks;
    QString m_text; // the text chunks so far: the answer's content
    std::optional<TokenUsage> m_usage;
    // Tool use: every call so far, the offered tools by name, function name -> "SERVER/TOOL".
    QList<MessageToolCall> m_calls;
    QHash<QString, ToolSpec> m_offered;
    QHash<QString, QString> m_fromWire;
    QHash<QString, std::optional<bool>> m_pending; // calls waiting for approval: their answers
    QPointer<Waiter> m_wake;                       // the approvals' wait
    QPointer<ToolCallCancel> m_toolCancel;         // the running call
    std::optional<TurnRecord::State> m_cancelReason;
    bool m_retrySaves = true;
    bool m_ending = false; // the stream is over; the end is being saved
    qint64 m_promptDepth = 0;
    bool m_regenerating = false;
    WaiterList m_waiters;
};

} // namespace holdfast
