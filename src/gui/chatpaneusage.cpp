// The chat pane's part of issue 21 (a second file of ChatPane, as the pane's own file is long): the
// chat settings panel beside the conversation, the turn records behind the answers' footers, and
// the draft's token estimate under the composer.
#include "gui/chatpane.h"

#include "gui/answerfooter.h"
#include "gui/chatsettingspanel.h"
#include "gui/chatview.h"
#include "gui/composer.h"
#include "gui/icons.h"
#include "gui/turndetails.h"

#include <QLabel>
#include <QLayout>
#include <QTimer>
#include <QToolButton>

namespace holdfast {

void ChatPane::buildUsageWidgets(QLayout *header, QLayout *bottom)
{
    m_settings = new ChatSettingsPanel(this);
    m_settings->hide();
    m_settingsButton = new QToolButton(this);
    m_settingsButton->setObjectName(QStringLiteral("chatSettingsButton"));
    m_settingsButton->setIcon(icons::icon(icons::Name::Settings));
    m_settingsButton->setCheckable(true);
    m_settingsButton->setAutoRaise(true);
    m_settingsButton->setToolTip(tr("Chat settings: model, system prompt, temperature, context "
                                    "budget (Ctrl+Shift+S)"));
    m_settingsButton->setAccessibleName(tr("Chat settings"));
    header->addWidget(m_settingsButton);
    connect(m_settingsButton, &QToolButton::toggled, this, &ChatPane::showSettings);
    connect(m_settings, &ChatSettingsPanel::closeRequested, this, [this] {
        showSettings(false);
        m_settingsButton->setFocus(Qt::OtherFocusReason);
    });
    connect(m_settings, &ChatSettingsPanel::saved, this, &ChatPane::onSessionChanged);

    m_estimate = new QLabel(this);
    m_estimate->setObjectName(QStringLiteral("tokenEstimate"));
    m_estimate->setAccessibleName(tr("Token estimate of the message"));
    m_estimate->setAlignment(Qt::AlignRight);
    m_estimate->setForegroundRole(QPalette::PlaceholderText);
    QFont small = m_estimate->font();
    small.setPointSizeF(small.pointSizeF() * 0.85);
    m_estimate->setFont(small);
    // Its line stays when it is empty: the conversation does not move at the first keystroke.
    QSizePolicy keep = m_estimate->sizePolicy();
    keep.setRetainSizeWhenHidden(true);
    m_estimate->setSizePolicy(keep);
    m_estimate->hide();
    bottom->addWidget(m_estimate);
    m_estimateTimer = new QTimer(this);
    m_estimateTimer->setSingleShot(true);
    m_estimateTimer->setInterval(150);
    connect(m_estimateTimer, &QTimer::timeout, this, &ChatPane::updateEstimate);
    connect(m_composer, &QPlainTextEdit::textChanged, m_estimateTimer, qOverload<>(&QTimer::start));

    m_details = new TurnDetails(this);
    connect(m_details, &TurnDetails::known, this, [this](const TurnRecord &turn) {
        if (turn.session == m_meta.id)
            m_view->setTurnDetails(turn);
    });
    // A page comes in as many messages: one look at the view once they are all there.
    connect(m_view, &ChatView::answersShown, this, [this] {
        if (m_detailsQueued)
            return;
        m_detailsQueued = true;
        QTimer::singleShot(0, this, [this] {
            m_detailsQueued = false;
            requestDetails();
        });
    });
}

void ChatPane::showSettings(bool shown)
{
    m_settings->setVisible(shown);
    if (m_settingsButton->isChecked() != shown)
        m_settingsButton->setChecked(shown);
    if (shown)
        m_settings->focusFirstField();
}

void ChatPane::toggleSettings()
{
    showSettings(!m_settings->isVisible());
}

// The records of the answers shown whose footers are missing: from the cache, else fetched.
void ChatPane::requestDetails()
{
    if (m_meta.id.isEmpty())
        return;
    QList<int> missing;
    for (const int turn : m_view->answerTurnsWithoutDetails()) {
        if (const TurnRecord *known = m_details->cached(m_meta.id, turn))
            m_view->setTurnDetails(*known);
        else
            missing << turn;
    }
    m_details->request(m_meta.id, missing);
}

void ChatPane::updateEstimate()
{
    m_estimateTimer->stop();
    const QString draft = m_composer->toPlainText();
    if (draft.trimmed().isEmpty()) {
        m_estimate->hide();
        return;
    }
    const qint64 tokens = AnswerFooter::estimateTokens(draft);
    const qint64 budget = m_meta.options.contextTokens.value_or(0);
    m_estimate->setText(AnswerFooter::estimateText(tokens, budget));
    const bool over = budget > 0 && tokens > budget;
    QPalette colours = palette();
    if (over)
        colours.setColor(QPalette::PlaceholderText, QColor(0xc0, 0x39, 0x2b));
    m_estimate->setPalette(colours);
    m_estimate->setToolTip(over ? tr("The message alone is larger than the chat's context budget")
                                : tr("About one token per 4 bytes of text"));
    m_estimate->show();
}

} // namespace holdfast
