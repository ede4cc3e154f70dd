// A turn's tool use (shared/API.md, Tools (MCP)): the tools offered to the model, the calls it
// asks for stored as chunks before anything else happens to them, the user's approvals, the
// calls run in order with each result stored, and the next request to the model.
#include "core/logging.h"
#include "core/store.h"
#include "core/tokens.h"
#include "core/turn.h"

#include <QCoroSignal>
#include <QElapsedTimer>
#include <QSet>

#include <chrono>

namespace holdfast {

namespace {

const QString kDeclined = QStringLiteral("the user declined this tool call");

// The "SERVER/TOOL" names of the calls in the request's messages (earlier answers).
QStringList namesInRequest(const ProviderRequest &request)
{
    QStringList names;
    for (const ChatMessage &m : request.messages) {
        for (const ProviderToolCall &c : m.toolCalls)
            names.append(c.wireName);
    }
    return names;
}

// A call the model gave no id (the provider should have made one up): unique in the turn.
QString madeUpId(int tid, qsizetype seq)
{
    return QStringLiteral("call_%1_%2").arg(tid).arg(seq);
}

// Outside the coroutines: g++ 12 fails on some QStringLiteral uses inside them.
QString notOffered(const QString &name)
{
    return QStringLiteral("the tool '%1' is not offered in this turn").arg(name);
}

QString noHost()
{
    return QStringLiteral("the tool servers are gone");
}

QString assistantRole()
{
    return QStringLiteral("assistant");
}

QString toolRole()
{
    return QStringLiteral("tool");
}

} // namespace

QCoro::Task<QList<ToolSpec>> Turn::offerTools(ProviderRequest &request)
{
    QPointer<Turn> self(this);
    QList<ToolInfo> infos;
    if (m_plan.toolHost && !m_plan.tools.isEmpty() && m_plan.maxToolRounds > 0)
        infos = co_await m_plan.toolHost->toolsFor(m_plan.tools);
    if (!self)
        co_return {};
    // One mapping for the offered tools and the earlier calls, so that a tool keeps its function
    // name across the turn's requests.
    QStringList names = namesInRequest(request);
    for (const ToolInfo &info : std::as_const(infos))
        names.append(info.name);
    const QHash<QString, QString> wire = toolWireNames(names);
    for (auto it = wire.cbegin(); it != wire.cend(); ++it)
        m_fromWire.insert(it.value(), it.key());
    for (ChatMessage &m : request.messages) {
        for (ProviderToolCall &c : m.toolCalls)
            c.wireName = wire.value(c.wireName, c.wireName);
        if (!m.toolName.isEmpty())
            m.toolName = wire.value(m.toolName, m.toolName);
    }
    QList<ToolSpec> offered;
    for (const ToolInfo &info : std::as_const(infos)) {
        ToolSpec spec;
        spec.name = info.name;
        spec.wireName = wire.value(info.name);
        spec.description = info.description;
        spec.parameters = info.inputSchema;
        m_offered.insert(spec.name, spec);
        offered.append(spec);
    }
    co_return offered;
}

QCoro::Task<Status> Turn::setState(TurnRecord::State state)
{
    QPointer<Turn> self(this);
    const Status saved = co_await m_store->saveTurnState(m_record.session, m_record.id, state);
    if (!self || !saved)
        co_return saved;
    m_record.state = state;
    Q_EMIT stateChanged(m_record);
    co_return Ok{};
}

QCoro::Task<Status> Turn::toolRound(QList<ProviderToolCall> wireCalls, QString roundText,
                                    ProviderRequest &request)
{
    QPointer<Turn> self(this);
    // The calls, stored in the model's order in one batch before anything is announced or run.
    QList<Chunk> batch;
    const qsizetype first = m_calls.size();
    for (const ProviderToolCall &wc : std::as_const(wireCalls)) {
        ToolCall call;
        call.id = wc.id.isEmpty() ? madeUpId(m_record.id, m_chunks.size() + batch.size()) : wc.id;
        call.name = m_fromWire.value(wc.wireName, wc.wireName); // unknown: as the model named it
        call.arguments = wc.arguments;
        Chunk chunk(int(m_chunks.size() + batch.size()), QString());
        chunk.toolCall = call;
        batch.append(chunk);
        MessageToolCall listed;
        listed.id = call.id;
        listed.name = call.name;
        listed.arguments = call.arguments;
        listed.offset = m_text.size();
        m_calls.append(listed);
    }
    // Which calls run: a tool that was not offered never does; the others by approval. They
    // wait from before they are announced, so that an answer can come at once.
    QStringList asking;
    for (qsizetype i = first; i < m_calls.size(); ++i) {
        if (m_offered.contains(m_calls.at(i).name))
            asking.append(m_calls.at(i).id);
    }
    const bool ask = m_plan.approval == ToolApproval::Ask && !asking.isEmpty();
    m_pending.clear();
    if (ask) {
        for (const QString &id : std::as_const(asking))
            m_pending.insert(id, std::nullopt);
    }
    const Status stored = co_await storeChunks(batch);
    if (!self || !stored)
        co_return stored;

    QSet<QString> approved;
    if (m_plan.approval == ToolApproval::Auto) {
        approved = QSet<QString>(asking.cbegin(), asking.cend());
    } else if (ask) {
        const Status waited = co_await awaitApprovals();
        if (!self || !waited)
            co_return waited;
        for (const QString &id : std::as_const(asking)) {
            if (m_pending.value(id).value_or(false))
                approved.insert(id);
        }
        m_pending.clear();
    }

    // Each result in the order of the calls, stored before the next call runs.
    for (qsizetype i = first; i < m_calls.size() && !m_cancelReason; ++i) {
        const MessageToolCall call = m_calls.at(i);
        ToolResult result;
        result.id = call.id;
        result.approved = approved.contains(call.id);
        if (!m_offered.contains(call.name)) {
            result.content = notOffered(call.name);
            result.isError = true;
        } else if (!result.approved) {
            result.content = kDeclined;
            result.isError = true;
        } else if (!m_plan.toolHost) {
            result.content = noHost();
            result.isError = true;
        } else {
            auto *cancel = new ToolCallCancel(this);
            m_toolCancel = cancel;
            const ToolOutcome outcome = co_await m_plan.toolHost->call(
                call.name, call.arguments, m_plan.toolTimeoutMs, cancel);
            if (!self)
                co_return Ok{};
            delete cancel;
            result.content = outcome.content;
            result.isError = outcome.isError;
        }
        Chunk chunk(int(m_chunks.size()), QString());
        chunk.toolResult = result;
        QList<Chunk> one; // no braced list: g++ 12 cannot keep one across a co_await
        one.append(chunk);
        const Status saved = co_await storeChunks(one);
        if (!self || !saved)
            co_return saved;
        m_calls[i].result = result.content;
        m_calls[i].isError = result.isError;
        m_calls[i].approved = result.approved;
    }
    if (m_cancelReason)
        co_return Ok{};

    // The next request: what the model said and asked for, then each call's result.
    ChatMessage said(assistantRole(), roundText);
    for (const ProviderToolCall &wc : std::as_const(wireCalls)) {
        ProviderToolCall c = wc;
        c.id = m_calls.at(first + said.toolCalls.size()).id;
        said.toolCalls.append(c);
    }
    request.messages.append(said);
    for (qsizetype i = first; i < m_calls.size(); ++i) {
        ChatMessage result(toolRole(), m_calls.at(i).result.value_or(QString()));
        result.toolCallId = m_calls.at(i).id;
        result.toolName = wireCalls.at(i - first).wireName;
        request.messages.append(result);
    }
    spendRoom(roundText, first, request);
    co_return Ok{};
}

void Turn::spendRoom(const QString &roundText, qsizetype firstCall, ProviderRequest &request)
{
    if (!m_plan.room)
        return;
    *m_plan.room -= tokens::estimate(roundText) + tokens::kPerMessage +
                    tokens::estimateToolCalls(m_calls.mid(firstCall));
    while (*m_plan.room < 0 && !m_plan.history.isEmpty()) {
        const TurnPlan::Earlier oldest = m_plan.history.takeFirst();
        request.messages.remove(m_plan.historyStart, oldest.messages);
        *m_plan.room += oldest.tokens;
        if (m_record.context) {
            m_record.context->messages -= 1;
            m_record.context->dropped += 1;
        }
    }
}

QCoro::Task<Status> Turn::awaitApprovals()
{
    QPointer<Turn> self(this);
    const Status waiting = co_await setState(TurnRecord::State::Waiting);
    if (!self || !waiting)
        co_return waiting;
    const auto answered = [this] {
        return std::all_of(m_pending.cbegin(), m_pending.cend(),
                           [](const std::optional<bool> &a) { return a.has_value(); });
    };
    QElapsedTimer clock;
    clock.start();
    while (!m_cancelReason && !answered()) {
        const qint64 left = qint64(m_plan.approvalTimeoutMs) - clock.elapsed();
        if (left <= 0)
            break; // nobody answered in time: the calls left are declined
        Waiter wake;
        m_wake = &wake;
        co_await qCoro(&wake, &Waiter::fired, std::chrono::milliseconds(left));
        if (!self)
            co_return Ok{};
        m_wake = nullptr;
    }
    if (m_cancelReason) // the turn ends as it is: no state to restore
        co_return Ok{};
    for (auto it = m_pending.begin(); it != m_pending.end(); ++it) {
        if (!it->has_value()) {
            qCInfo(lcCore) << "tool call" << it.key() << "of turn" << m_record.id << "of"
                           << m_record.session << "was not answered in time: declined";
            *it = false;
        }
    }
    co_return co_await setState(TurnRecord::State::Streaming);
}

Status Turn::answerToolCall(const QString &cid, bool approve)
{
    const bool known = std::any_of(m_calls.cbegin(), m_calls.cend(),
                                   [&](const MessageToolCall &c) { return c.id == cid; });
    if (!known)
        return makeError(ErrorCode::NotFound,
                         QStringLiteral("turn %1 of session '%2' has no tool call '%3'")
                             .arg(m_record.id)
                             .arg(m_record.session, cid));
    const auto pending = m_pending.find(cid);
    if (pending == m_pending.end() || pending->has_value() || m_cancelReason || m_ending)
        return makeError(ErrorCode::Conflict,
                         QStringLiteral("tool call '%1' of turn %2 of session '%3' does not wait "
                                        "for approval")
                             .arg(cid)
                             .arg(m_record.id)
                             .arg(m_record.session));
    *pending = approve;
    if (m_wake)
        m_wake->fire();
    return Ok{};
}

QList<MessageToolCall> Turn::answerToolCalls() const
{
    QList<MessageToolCall> calls = m_calls;
    for (MessageToolCall &c : calls) {
        if (!c.result) // cut off (cancelled, shutdown, a store failure): it gave nothing back
            c.isError = true;
    }
    return calls;
}

} // namespace holdfast
