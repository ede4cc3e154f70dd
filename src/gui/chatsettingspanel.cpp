#include "gui/chatsettingspanel.h"

#include "client/sessionclient.h"

#include <QAbstractItemView>
#include <QComboBox>
#include <QFormLayout>
#include <QKeyEvent>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QToolButton>
#include <QVBoxLayout>

namespace holdfast {

void ChatSettingsPanel::setClient(SessionClient *client)
{
    m_client = client;
}

namespace {
// A number as typed: in the user's locale or with a '.', either way.
std::optional<double> parseDouble(const QString &text)
{
    bool ok = false;
    double value = text.toDouble(&ok);
    if (!ok)
        value = QLocale().toDouble(text, &ok);
    return ok ? std::optional<double>(value) : std::nullopt;
}

std::optional<int> parseInt(const QString &text)
{
    bool ok = false;
    int value = text.toInt(&ok);
    if (!ok)
        value = QLocale().toInt(text, &ok); // "4,096"
    return ok ? std::optional<int>(value) : std::nullopt;
}

QString shown(const std::optional<double> &value)
{
    return value ? QString::number(*value) : QString();
}

QString shown(const std::optional<int> &value)
{
    return value ? QString::number(*value) : QString();
}
} // namespace

ChatSettingsPanel::ChatSettingsPanel(QWidget *parent)
    : QFrame(parent), m_model(new QComboBox(this)), m_system(new QPlainTextEdit(this)),
      m_error(new QLabel(this)), m_status(new QLabel(this)), m_reset(new QPushButton(this))
{
    setObjectName(QStringLiteral("chatSettings"));
    setAccessibleName(tr("Chat settings"));
    setMinimumWidth(250);
    setMaximumWidth(340);

    auto *title = new QLabel(tr("Chat settings"), this);
    title->setObjectName(QStringLiteral("chatSettingsTitle"));
    QFont titleFont = title->font();
    titleFont.setWeight(QFont::DemiBold);
    title->setFont(titleFont);
    auto *close = new QToolButton(this);
    close->setObjectName(QStringLiteral("closeChatSettings"));
    close->setText(QStringLiteral("✕"));
    close->setAutoRaise(true);
    close->setToolTip(tr("Close the chat settings"));
    close->setAccessibleName(tr("Close chat settings"));
    connect(close, &QToolButton::clicked, this, &ChatSettingsPanel::closeRequested);
    auto *top = new QHBoxLayout;
    top->addWidget(title, 1);
    top->addWidget(close);

    m_model->setAccessibleName(tr("Model"));
    m_model->view()->setAccessibleName(tr("Models"));
    m_model->setToolTip(tr("The model that answers in this chat"));
    connect(m_model, &QComboBox::activated, this, [this](int i) {
        if (m_meta.id.isEmpty() || m_model->itemText(i) == m_meta.model)
            return;
        PatchSessionParams params;
        params.model = m_model->itemText(i);
        save(params);
    });

    m_system->setAccessibleName(tr("System prompt"));
    m_system->setPlaceholderText(tr("None: instructions the model gets before the chat"));
    m_system->setTabChangesFocus(true);
    m_system->setMinimumHeight(90);
    m_system->setMaximumHeight(180);
    m_system->installEventFilter(this);

    m_temperature = numberField(tr("Temperature"), tr("model default"));
    m_temperature->setToolTip(tr("0 to 2: lower is more focused, higher more varied"));
    m_topP = numberField(tr("Top-p"), tr("model default"));
    m_topP->setToolTip(tr("0 to 1: the share of likely words the model picks from"));
    m_maxTokens = numberField(tr("Max tokens"), tr("model default"));
    m_maxTokens->setToolTip(tr("The longest answer, in tokens (1 or more)"));
    m_context = numberField(tr("Context budget"), tr("provider default"));
    m_context->setToolTip(tr("How many tokens of the chat go to the model (256 or more); older "
                             "messages that do not fit are left out"));

    for (QLineEdit *field : {m_temperature, m_topP, m_maxTokens, m_context})
        field->setAccessibleDescription(field->toolTip());

    auto *form = new QFormLayout;
    form->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);
    form->setLabelAlignment(Qt::AlignLeft);
    form->setRowWrapPolicy(QFormLayout::DontWrapRows);
    form->setHorizontalSpacing(12);
    form->addRow(tr("&Temperature"), m_temperature);
    form->addRow(tr("Top-&p"), m_topP);
    form->addRow(tr("Max &tokens"), m_maxTokens);
    form->addRow(tr("Context &budget"), m_context);

    m_error->setObjectName(QStringLiteral("chatSettingsError"));
    m_error->setWordWrap(true);
    m_error->setTextFormat(Qt::PlainText); // the service's words
    m_error->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_error->setAccessibleName(tr("Settings error"));
    m_error->hide();
    m_status->setObjectName(QStringLiteral("chatSettingsStatus"));
    m_status->setWordWrap(true);
    m_status->setText(tr("Changes apply from the next answer. An empty field uses the default."));

    m_reset->setText(tr("&Reset to defaults"));
    m_reset->setAccessibleName(tr("Reset options to defaults"));
    m_reset->setToolTip(tr("Clear temperature, top-p, max tokens and context budget"));
    m_reset->setAccessibleDescription(m_reset->toolTip());
    connect(m_reset, &QPushButton::clicked, this, &ChatSettingsPanel::resetOptions);

    auto *modelLabel = new QLabel(tr("&Model"), this);
    modelLabel->setBuddy(m_model);
    auto *systemLabel = new QLabel(tr("&System prompt"), this);
    systemLabel->setBuddy(m_system);

    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(14, 10, 14, 14);
    layout->setSpacing(6);
    layout->addLayout(top);
    layout->addSpacing(4);
    layout->addWidget(modelLabel);
    layout->addWidget(m_model);
    layout->addSpacing(6);
    layout->addWidget(systemLabel);
    layout->addWidget(m_system);
    layout->addSpacing(6);
    layout->addLayout(form);
    layout->addWidget(m_error);
    layout->addWidget(m_reset, 0, Qt::AlignLeft);
    layout->addWidget(m_status);
    layout->addStretch(1);
    // Top to bottom, as the panel reads (the close button last).
    setTabOrder(m_model, m_system);
    setTabOrder(m_system, m_temperature);
    setTabOrder(m_temperature, m_topP);
    setTabOrder(m_topP, m_maxTokens);
    setTabOrder(m_maxTokens, m_context);
    setTabOrder(m_context, m_reset);
    setTabOrder(m_reset, close);
    setSession(SessionMeta{});
}

QLineEdit *ChatSettingsPanel::numberField(const QString &accessibleName, const QString &placeholder)
{
    auto *field = new QLineEdit(this);
    field->setAccessibleName(accessibleName);
    field->setPlaceholderText(placeholder);
    field->setClearButtonEnabled(true);
    // Qt's clear button has no text: name it for screen readers.
    const auto iconButtons = field->findChildren<QToolButton *>();
    for (QToolButton *button : iconButtons)
        button->setAccessibleName(tr("Clear %1").arg(accessibleName));
    field->setInputMethodHints(Qt::ImhFormattedNumbersOnly);
    connect(field, &QLineEdit::editingFinished, this, &ChatSettingsPanel::saveOptions);
    return field;
}

void ChatSettingsPanel::setSession(const SessionMeta &meta)
{
    if (meta.id != m_meta.id) {
        ++m_generation;
        m_error->hide();
        for (QLineEdit *field : {m_temperature, m_topP, m_maxTokens, m_context})
            field->setModified(false);
        m_system->document()->setModified(false);
    }
    m_meta = meta;
    const bool open = !meta.id.isEmpty();
    for (QWidget *w : std::initializer_list<QWidget *>{m_model, m_system, m_temperature, m_topP,
                                                       m_maxTokens, m_context, m_reset})
        w->setEnabled(open);
    if (!meta.model.isEmpty()) {
        if (m_model->findText(meta.model) < 0)
            m_model->addItem(meta.model);
        m_model->setCurrentText(meta.model);
    }
    // What the user is typing stays; everything else shows the chat's values.
    if (!m_system->document()->isModified() && m_system->toPlainText() != meta.system)
        m_system->setPlainText(meta.system);
    showOptions(meta.options);
}

void ChatSettingsPanel::showOptions(const TurnOptions &options)
{
    const auto put = [](QLineEdit *field, const QString &text) {
        if (!field->isModified() && field->text() != text)
            field->setText(text);
    };
    put(m_temperature, shown(options.temperature));
    put(m_topP, shown(options.topP));
    put(m_maxTokens, shown(options.maxTokens));
    put(m_context, shown(options.contextTokens));
}

void ChatSettingsPanel::setModels(const QStringList &models)
{
    m_model->clear();
    m_model->addItems(models);
    if (!m_meta.model.isEmpty()) {
        if (m_model->findText(m_meta.model) < 0)
            m_model->addItem(m_meta.model);
        m_model->setCurrentText(m_meta.model);
    }
}

Result<TurnOptions> ChatSettingsPanel::fieldOptions() const
{
    TurnOptions options;
    const auto wrong = [](const QString &field) {
        return makeError(ErrorCode::BadRequest,
                         tr("%1 must be a number, or empty for the default").arg(field));
    };
    if (const QString t = m_temperature->text().trimmed(); !t.isEmpty()) {
        if (!(options.temperature = parseDouble(t)))
            return wrong(tr("Temperature"));
    }
    if (const QString t = m_topP->text().trimmed(); !t.isEmpty()) {
        if (!(options.topP = parseDouble(t)))
            return wrong(tr("Top-p"));
    }
    if (const QString t = m_maxTokens->text().trimmed(); !t.isEmpty()) {
        if (!(options.maxTokens = parseInt(t)))
            return wrong(tr("Max tokens"));
    }
    if (const QString t = m_context->text().trimmed(); !t.isEmpty()) {
        if (!(options.contextTokens = parseInt(t)))
            return wrong(tr("Context budget"));
    }
    return options;
}

void ChatSettingsPanel::saveOptions()
{
    if (m_meta.id.isEmpty())
        return;
    const auto options = fieldOptions();
    if (!options) {
        showError(options.error().message);
        return;
    }
    if (m_sentOptions && *options == *m_sentOptions)
        return; // on its way already (Enter, then leaving the field)
    if (*options == m_meta.options) {
        for (QLineEdit *field : {m_temperature, m_topP, m_maxTokens, m_context})
            field->setModified(false);
        if (m_error->isVisible())
            showOptions(m_meta.options); // what the user fixed back is the chat's value again
        m_error->hide();
        return;
    }
    PatchSessionParams params;
    params.options = *options;
    save(params);
}

void ChatSettingsPanel::saveSystem()
{
    if (m_meta.id.isEmpty() || !m_system->document()->isModified())
        return;
    const QString text = m_system->toPlainText();
    PatchSessionParams params;
    params.system = text.trimmed().isEmpty() ? QString() : text; // a null QString clears it
    save(params);
}

void ChatSettingsPanel::resetOptions()
{
    for (QLineEdit *field : {m_temperature, m_topP, m_maxTokens, m_context}) {
        field->clear();
        field->setModified(true);
    }
    saveOptions();
}

void ChatSettingsPanel::focusFirstField()
{
    m_model->setFocus(Qt::ShortcutFocusReason);
}

QCoro::Task<> ChatSettingsPanel::save(PatchSessionParams params)
{
    QPointer<ChatSettingsPanel> self(this);
    if (!m_client)
        co_return;
    const quint64 generation = m_generation;
    const bool options = params.options.has_value();
    const bool system = params.system.has_value();
    ++m_saving;
    if (options)
        m_sentOptions = params.options;
    const auto patched = co_await m_client->patchSession(m_meta.id, params);
    if (!self)
        co_return;
    --m_saving;
    if (options && m_sentOptions == params.options)
        m_sentOptions.reset();
    if (generation != m_generation)
        co_return;
    if (!patched) {
        showError(patched.error().message); // the text stays, for the user to fix
        co_return;
    }
    m_error->hide();
    if (options) {
        for (QLineEdit *field : {m_temperature, m_topP, m_maxTokens, m_context})
            field->setModified(false);
    }
    if (system)
        m_system->document()->setModified(false);
    setSession(patched->meta);
    Q_EMIT saved(patched->meta);
}

void ChatSettingsPanel::showError(const QString &message)
{
    m_error->setText(QStringLiteral("⚠ ") + message);
    m_error->show();
}

bool ChatSettingsPanel::eventFilter(QObject *watched, QEvent *event)
{
    if (watched == m_system) {
        if (event->type() == QEvent::FocusOut) {
            saveSystem();
        } else if (event->type() == QEvent::KeyPress) {
            // Ctrl+Enter saves the prompt; Enter alone starts a new line.
            const auto *key = static_cast<QKeyEvent *>(event);
            if ((key->key() == Qt::Key_Return || key->key() == Qt::Key_Enter) &&
                (key->modifiers() & Qt::ControlModifier)) {
                saveSystem();
                return true;
            }
        }
    }
    return QFrame::eventFilter(watched, event);
}

} // namespace holdfast
