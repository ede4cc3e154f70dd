// The chat pane's part of issue 24 (a third file of ChatPane, as the pane's own file is long):
// the tool steps of the live answer, the card that asks before a call runs, and the chat's tools
// menu by the composer.
#include "gui/chatpane.h"

#include "client/sessionclient.h"
#include "gui/chatview.h"
#include "gui/composer.h"
#include "gui/liveturns.h"
#include "gui/toolapprovalcard.h"
#include "gui/toolsbutton.h"

#include <QApplication>
#include <QBoxLayout>
#include <QPushButton>

namespace holdfast {

void ChatPane::buildToolWidgets(QBoxLayout *composerRow, QBoxLayout *conversation)
{
    m_tools = new ToolsButton(this);
    composerRow->addWidget(m_tools, 0, Qt::AlignBottom);
    connect(m_tools, &ToolsButton::changeRequested, this, [this](const PatchSessionParams &p) {
        if (!m_meta.id.isEmpty())
            patchTools(m_meta.id, p);
    });
    connect(m_tools, &ToolsButton::failed, this, &ChatPane::statusMessage);
    connect(m_tools, &ToolsButton::configureRequested, this, &ChatPane::mcpServersRequested);

    m_approval = new ToolApprovalCard(this);
    m_approval->hide();
    auto *row = new QHBoxLayout;
    row->setContentsMargins(18, 6, 18, 0);
    row->addWidget(m_approval);
    conversation->addLayout(row);
    connect(m_approval, &ToolApprovalCard::answered, this,
            [this](bool approve, bool always) { answerCall(approve, always); });
}

void ChatPane::connectTools(LiveTurns *live)
{
    m_tools->setClient(m_client);
    connect(live, &LiveTurns::toolStep, this, &ChatPane::onToolStep);
    connect(live, &LiveTurns::waitingChanged, this, [this](const QString &sid) {
        if (sid == m_meta.id)
            updateApproval();
    });
}

void ChatPane::onToolStep(const QString &sid, int tid, const Chunk &chunk)
{
    if (sid != m_meta.id || m_sending)
        return; // as for text: a new answer is shown with all its steps once the turn is known
    if (!m_view->answering())
        followLiveAnswer(); // includes this step
    else if (m_view->answerTurn() == tid)
        m_view->appendToolStep(chunk);
    updateApproval();
}

// The card shows while the open chat's turn waits, for the first call without a result.
void ChatPane::updateApproval()
{
    const LiveTurns::Live *live =
        m_live && !m_meta.id.isEmpty() ? m_live->live(m_meta.id) : nullptr;
    const ToolCall *call = live && live->waiting ? live->openCall() : nullptr;
    if (!call || !m_view->answering() || m_view->answerTurn() != live->turn) {
        if (!m_waitingCall.isEmpty())
            m_view->setToolCallWaiting(m_waitingCall, false);
        m_waitingCall.clear();
        if (m_approval->isVisible()) {
            const bool focused = m_approval->isAncestorOf(QApplication::focusWidget());
            m_approval->hide();
            if (focused) // the keyboard goes back where the user writes
                m_composer->setFocus(Qt::OtherFocusReason);
        }
        return;
    }
    if (m_waitingCall == call->id && m_approval->isVisible())
        return;
    if (!m_waitingCall.isEmpty())
        m_view->setToolCallWaiting(m_waitingCall, false);
    m_waitingCall = call->id;
    m_view->setToolCallWaiting(call->id, true);
    m_approval->ask(m_meta.id, live->turn, *call);
    m_approval->show();
    Q_EMIT statusMessage(tr("The model wants to use %1: allow it or decline").arg(call->name));
}

QCoro::Task<> ChatPane::answerCall(bool approve, bool always)
{
    QPointer<ChatPane> self(this);
    QPointer<SessionClient> client = m_client;
    const QString sid = m_approval->sessionId();
    const int tid = m_approval->turn();
    const QString cid = m_approval->callId();
    if (!client || sid.isEmpty() || cid.isEmpty())
        co_return;
    m_approval->setBusy(true);
    if (always) { // the chat's setting first: the calls after this one run without asking
        PatchSessionParams params;
        params.toolApproval = ToolApproval::Auto;
        const auto patched = co_await client->patchSession(sid, params);
        if (!self || !client)
            co_return;
        if (!patched) {
            m_approval->setBusy(false);
            showError(tr("Could not change the chat: %1").arg(patched.error().message));
            co_return;
        }
        if (sid == m_meta.id) {
            m_meta = patched->meta;
            updateHeader();
        }
    }
    const auto answered = co_await client->answerToolCall(sid, tid, cid, approve);
    if (!self || m_approval->callId() != cid)
        co_return;
    if (answered) {
        Q_EMIT statusMessage(approve ? tr("Allowed") : tr("Declined"));
        co_return; // the card goes once the turn goes on (waitingChanged, or the result)
    }
    const bool gone = answered.error().code == ErrorCode::Conflict ||
                      answered.error().code == ErrorCode::NotFound;
    if (gone) { // the card goes once the turn's new state arrives; the status bar keeps why
        const QString note = tr("This tool call no longer waits: it was answered elsewhere or "
                                "timed out.");
        m_approval->setNote(note);
        Q_EMIT statusMessage(note);
    } else
        showError(tr("Could not answer the tool call: %1").arg(answered.error().message));
    m_approval->setBusy(gone);
}

QCoro::Task<> ChatPane::patchTools(QString sid, PatchSessionParams params)
{
    QPointer<ChatPane> self(this);
    if (!m_client)
        co_return;
    const auto patched = co_await m_client->patchSession(sid, params);
    if (!self)
        co_return;
    if (!patched) {
        showError(tr("Could not change the chat's tools: %1").arg(patched.error().message));
        m_tools->setSession(m_meta); // the menu shows what the chat has
        co_return;
    }
    if (sid == m_meta.id) {
        m_meta = patched->meta;
        updateHeader();
    }
}

} // namespace holdfast
