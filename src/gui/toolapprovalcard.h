#pragma once

#include "core/types.h"

#include <QFrame>

class QLabel;
class QPlainTextEdit;
class QPushButton;

namespace holdfast {

// The question the window asks when a tool call waits for approval (shared/API.md, Tools
// (MCP)): the tool's name, its arguments pretty-printed (monospace, in a box of bounded height
// that scrolls), and Allow once / Always allow in this chat / Decline. It sits between the
// conversation and the composer and never takes the keyboard by itself, so that an Enter meant
// for the composer cannot approve a call; Tab (or Alt+A, Alt+W, Alt+D) reaches its buttons,
// where Enter or Space presses the one with the focus.
class ToolApprovalCard final : public QFrame
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ToolApprovalCard)
public:
    explicit ToolApprovalCard(QWidget *parent = nullptr);

    // Asks about `call` of turn `tid` of session `sid` (the buttons enabled again).
    void ask(const QString &sid, int tid, const ToolCall &call);
    QString sessionId() const { return m_sid; }
    int turn() const { return m_turn; }
    QString callId() const { return m_call.id; }
    const ToolCall &call() const { return m_call; }
    // The answer is on its way: the buttons wait.
    void setBusy(bool busy);
    // A short note under the buttons (the call was answered elsewhere, or timed out), "" none.
    void setNote(const QString &note);
    QString note() const;

    QPushButton *allowButton() const { return m_allow; }
    QPushButton *alwaysButton() const { return m_always; }
    QPushButton *declineButton() const { return m_decline; }
    QPlainTextEdit *argumentsView() const { return m_arguments; }
    QString titleText() const;

    static constexpr int kMaxArgumentLines = 8; // then the box scrolls

Q_SIGNALS:
    // approve: Allow once or Always allow; always: Always allow in this chat.
    void answered(bool approve, bool always);

private:
    QString m_sid;
    int m_turn = 0;
    ToolCall m_call;
    QLabel *m_title;
    QPlainTextEdit *m_arguments;
    QPushButton *m_allow;
    QPushButton *m_always;
    QPushButton *m_decline;
    QLabel *m_note;
};

} // namespace holdfast
