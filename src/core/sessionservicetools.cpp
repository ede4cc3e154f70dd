// SessionService and tools (shared/API.md, Tools (MCP)): the list of tools, the check of the
// tool names a session or a turn allows, the answers to tool calls that wait for approval, and
// earlier answers' tool calls as they go to the model again or come back after a crash.
#include "core/logging.h"
#include "core/session.h"
#include "core/sessionservice.h"
#include "core/store.h"
#include "core/turn.h"

namespace holdfast {

namespace {

constexpr int kChunkPage = 1000;

// What the model is told of a call that gave nothing back (a crash or a cancel cut it off).
const QString kNoResult = QStringLiteral("the tool call was interrupted before it gave a result");

} // namespace

ToolList SessionService::tools() const
{
    return m_toolHost ? m_toolHost->list() : ToolList{};
}

std::optional<Error> SessionService::invalidTools(const QStringList &names) const
{
    for (const QString &name : names) {
        const QString server = toolServerOf(name);
        const bool shaped =
            name == QLatin1String("*") || (!server.isEmpty() && name.size() > server.size() + 1);
        if (!shaped)
            return makeError(ErrorCode::Invalid,
                             QStringLiteral("tool '%1' must be named \"SERVER/TOOL\" or \"*\"")
                                 .arg(name.left(200)));
        if (!m_toolHost)
            return makeError(
                ErrorCode::Invalid,
                QStringLiteral("tool '%1': no tool server is configured").arg(name.left(200)));
        if (name != QLatin1String("*") && !m_toolHost->hasServer(server))
            return makeError(ErrorCode::Invalid,
                             QStringLiteral("tool '%1': server '%2' is not configured")
                                 .arg(name.left(200), server.left(200)));
    }
    return std::nullopt;
}

void SessionService::appendAnswer(QList<ChatMessage> &messages, const Message &answer)
{
    const QString &text = answer.content;
    const QList<MessageToolCall> &calls = answer.toolCalls;
    qsizetype at = 0; // the text sent so far
    for (qsizetype i = 0; i < calls.size();) {
        const qsizetype offset = std::clamp<qsizetype>(calls.at(i).offset, at, text.size());
        ChatMessage said(answer.role, text.mid(at, offset - at));
        qsizetype j = i;
        // The calls asked for at the same point went together.
        for (; j < calls.size() &&
               std::clamp<qsizetype>(calls.at(j).offset, at, text.size()) == offset;
             ++j) {
            ProviderToolCall call;
            call.id = calls.at(j).id;
            call.wireName = calls.at(j).name;
            call.arguments = calls.at(j).arguments;
            said.toolCalls.append(call);
        }
        messages.append(said);
        for (; i < j; ++i) {
            ChatMessage result(QStringLiteral("tool"), calls.at(i).result.value_or(kNoResult));
            result.toolCallId = calls.at(i).id;
            result.toolName = calls.at(i).name;
            messages.append(result);
        }
        at = offset;
    }
    if (calls.isEmpty() || at < text.size())
        messages.append(ChatMessage(answer.role, text.mid(at)));
}

void SessionService::addToolStep(Message &answer, const Chunk &chunk)
{
    if (chunk.toolCall) {
        MessageToolCall call;
        call.id = chunk.toolCall->id;
        call.name = chunk.toolCall->name;
        call.arguments = chunk.toolCall->arguments;
        call.offset = answer.content.size();
        // No result yet: a call the crash cut off gave none, which reads as an error (result
        // null) in the answer and to the model.
        call.isError = true;
        answer.toolCalls.append(call);
        return;
    }
    if (!chunk.toolResult)
        return;
    for (qsizetype i = answer.toolCalls.size(); i-- > 0;) {
        MessageToolCall &call = answer.toolCalls[i];
        if (call.id == chunk.toolResult->id) {
            call.result = chunk.toolResult->content;
            call.isError = chunk.toolResult->isError;
            call.approved = chunk.toolResult->approved;
            return;
        }
    }
}

QCoro::Task<Result<TurnRecord>> SessionService::answerToolCall(QString sid, int tid, QString cid,
                                                               bool approve)
{
    if (!isValidSessionId(sid))
        co_return badId(sid);
    const auto answerLive = [&](Turn *t) -> Result<TurnRecord> {
        const Status answered = t->answerToolCall(cid, approve);
        if (!answered)
            return answered.error();
        return t->record();
    };
    if (Turn *t = liveTurn(sid, tid))
        co_return answerLive(t);
    const auto current = co_await turn(sid, tid); // 404 for an unknown session or turn
    if (!current)
        co_return current.error();
    if (Turn *t = liveTurn(sid, tid))
        co_return answerLive(t);

    // Not running here: the call as the store has it. It waits only while it has no result and
    // its turn, run by another instance, is waiting.
    bool found = false;
    bool hasResult = false;
    for (int from = 0;; from += kChunkPage) {
        const auto page = co_await m_store->loadChunks(sid, tid, from, kChunkPage);
        if (!page)
            co_return page.error();
        for (const Chunk &c : *page) {
            found = found || (c.toolCall && c.toolCall->id == cid);
            hasResult = hasResult || (c.toolResult && c.toolResult->id == cid);
        }
        if (page->size() < kChunkPage)
            break;
    }
    if (!found)
        co_return makeError(
            ErrorCode::NotFound,
            QStringLiteral("turn %1 of session '%2' has no tool call '%3'").arg(tid).arg(sid, cid));
    if (hasResult || current->state != TurnRecord::State::Waiting || !m_store->isShared())
        co_return makeError(ErrorCode::Conflict,
                            QStringLiteral("tool call '%1' of turn %2 of session '%3' does not "
                                           "wait for approval")
                                .arg(cid)
                                .arg(tid)
                                .arg(sid));
    const Status asked = co_await m_store->requestToolDecision(sid, tid, cid, approve);
    if (!asked)
        co_return asked.error();
    co_return *current;
}

void SessionService::decideToolCall(const QString &sid, int tid, const QString &cid, bool approve)
{
    Turn *t = liveTurn(sid, tid);
    if (!t)
        return; // another instance runs it
    const Status answered = t->answerToolCall(cid, approve);
    if (!answered)
        qCDebug(lcCore) << "an answer to tool call" << cid
                        << "through the store was not taken:" << answered.error().message;
}

} // namespace holdfast
