#include "gui/toolapprovalcard.h"

#include <QFontDatabase>
#include <QHBoxLayout>
#include <QJsonDocument>
#include <QLabel>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QVBoxLayout>

#include <algorithm>

namespace holdfast {

ToolApprovalCard::ToolApprovalCard(QWidget *parent)
    : QFrame(parent), m_title(new QLabel(this)), m_arguments(new QPlainTextEdit(this)),
      m_allow(new QPushButton(tr("&Allow once"), this)),
      m_always(new QPushButton(tr("Al&ways allow in this chat"), this)),
      m_decline(new QPushButton(tr("&Decline"), this)), m_note(new QLabel(this))
{
    setObjectName(QStringLiteral("toolApprovalCard"));
    setFrameShape(QFrame::StyledPanel);
    setAccessibleName(tr("Tool call waiting for approval"));
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(12, 10, 12, 10);
    layout->setSpacing(6);
    m_title->setTextFormat(Qt::PlainText); // the model chose the name
    m_title->setWordWrap(true);
    QFont bold = m_title->font();
    bold.setWeight(QFont::DemiBold);
    m_title->setFont(bold);
    layout->addWidget(m_title);

    m_arguments->setObjectName(QStringLiteral("toolArguments"));
    m_arguments->setReadOnly(true);
    m_arguments->setAccessibleName(tr("Arguments of the tool call"));
    m_arguments->setLineWrapMode(QPlainTextEdit::NoWrap);
    m_arguments->setTabChangesFocus(true);
    m_arguments->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    layout->addWidget(m_arguments);

    auto *buttons = new QHBoxLayout;
    buttons->setContentsMargins(0, 0, 0, 0);
    for (QPushButton *button : {m_allow, m_always, m_decline}) {
        button->setAutoDefault(true); // Enter presses the button that has the focus
        buttons->addWidget(button);
    }
    m_allow->setObjectName(QStringLiteral("allowOnce"));
    m_always->setObjectName(QStringLiteral("alwaysAllow"));
    m_decline->setObjectName(QStringLiteral("declineCall"));
    m_allow->setToolTip(tr("Run this call once (Alt+A)"));
    m_always->setToolTip(
        tr("Run this call, and let the model run tools in this chat without asking (Alt+W)"));
    m_decline->setToolTip(tr("Do not run it: the model is told that you declined (Alt+D)"));
    for (QPushButton *button : {m_allow, m_always, m_decline})
        button->setAccessibleDescription(button->toolTip());
    buttons->addStretch(1);
    layout->addLayout(buttons);
    m_note->setWordWrap(true);
    m_note->setTextFormat(Qt::PlainText);
    m_note->hide();
    layout->addWidget(m_note);
    setFocusProxy(m_allow);

    connect(m_allow, &QPushButton::clicked, this, [this] { Q_EMIT answered(true, false); });
    connect(m_always, &QPushButton::clicked, this, [this] { Q_EMIT answered(true, true); });
    connect(m_decline, &QPushButton::clicked, this, [this] { Q_EMIT answered(false, false); });
}

void ToolApprovalCard::ask(const QString &sid, int tid, const ToolCall &call)
{
    m_sid = sid;
    m_turn = tid;
    m_call = call;
    m_title->setText(tr("The model wants to use the tool %1").arg(call.name));
    m_arguments->setPlainText(
        QString::fromUtf8(QJsonDocument(call.arguments).toJson(QJsonDocument::Indented)).trimmed());
    // As high as the arguments, up to kMaxArgumentLines: then it scrolls.
    const int lines = std::clamp(m_arguments->document()->blockCount(), 1, kMaxArgumentLines);
    const QFontMetrics metrics(m_arguments->font());
    const int frame =
        2 * (m_arguments->frameWidth() + int(m_arguments->document()->documentMargin()));
    m_arguments->setFixedHeight(metrics.lineSpacing() * lines + frame + 2);
    setNote(QString());
    setBusy(false);
}

void ToolApprovalCard::setBusy(bool busy)
{
    for (QPushButton *button : {m_allow, m_always, m_decline})
        button->setEnabled(!busy);
}

void ToolApprovalCard::setNote(const QString &note)
{
    m_note->setText(note);
    m_note->setVisible(!note.isEmpty());
}

QString ToolApprovalCard::note() const
{
    return m_note->text();
}

QString ToolApprovalCard::titleText() const
{
    return m_title->text();
}

} // namespace holdfast
