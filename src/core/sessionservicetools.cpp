// SessionService and tools (shared/API.md, Tools (MCP)): the list of tools and the answers to
// tool calls that wait for approval.
#include "core/session.h"
#include "core/sessionservice.h"
#include "core/store.h"
#include "core/turn.h"

namespace holdfast {

ToolList SessionService::tools() const
{
    return m_toolHost ? m_toolHost->list() : ToolList{};
}

QCoro::Task<Result<TurnRecord>> SessionService::answerToolCall(QString sid, int tid, QString cid,
                                                               bool approve)
{
    // TODO(core): the turn loop's approvals.
    Q_UNUSED(approve);
    co_return makeError(
        ErrorCode::NotFound,
        QStringLiteral("turn %1 of session '%2' has no tool call '%3'").arg(tid).arg(sid, cid));
}

} // namespace holdfast
