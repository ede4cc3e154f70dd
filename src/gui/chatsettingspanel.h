#pragma once

#include "core/error.h"
#include "core/parameters.h"
#include "core/types.h"

#include <QCoroTask>
#include <QFrame>
#include <QPointer>

class QComboBox;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QPushButton;

namespace holdfast {

class SessionClient;

// The open chat's settings, at the side of the conversation: model, system prompt and the
// generation options of shared/API.md (temperature, top-p, max tokens, context budget). An
// empty field means the default, which its placeholder names. Each field is saved through
// SessionClient::patchSession when it is committed (Enter or leaving it; the model when
// chosen); what the service refuses (a 422) is shown under the fields, the text left for the
// user to fix. A turn already running keeps its options; the next one gets the new ones.
class ChatSettingsPanel final : public QFrame
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ChatSettingsPanel)
public:
    explicit ChatSettingsPanel(QWidget *parent = nullptr);

    void setClient(SessionClient *client);
    // Shows the chat's settings (an id "": no chat, the fields are disabled). A field the user
    // is changing keeps its text.
    void setSession(const SessionMeta &meta);
    void setModels(const QStringList &models);
    const SessionMeta &session() const { return m_meta; }

    // The options the four fields say; an error naming the field that holds no number.
    Result<TurnOptions> fieldOptions() const;
    // Whether a save is on its way (for tests and the busy state).
    bool isSaving() const { return m_saving > 0; }

    QComboBox *modelField() const { return m_model; }
    QPlainTextEdit *systemField() const { return m_system; }
    QLineEdit *temperatureField() const { return m_temperature; }
    QLineEdit *topPField() const { return m_topP; }
    QLineEdit *maxTokensField() const { return m_maxTokens; }
    QLineEdit *contextField() const { return m_context; }
    QLabel *errorLabel() const { return m_error; }

public Q_SLOTS:
    void saveOptions();
    void saveSystem();
    void resetOptions();
    // Puts the keyboard focus on the first field.
    void focusFirstField();

Q_SIGNALS:
    void closeRequested();
    // The service took a change: the chat's settings are now `meta`'s.
    void saved(const holdfast::SessionMeta &meta);

protected:
    bool eventFilter(QObject *watched, QEvent *event) override;

private:
    QCoro::Task<> save(PatchSessionParams params);
    void showOptions(const TurnOptions &options);
    void showError(const QString &message);
    QLineEdit *numberField(const QString &accessibleName, const QString &placeholder);

    QPointer<SessionClient> m_client;
    SessionMeta m_meta;
    quint64 m_generation = 0; // bumped when another chat is shown: its saves' replies are dropped
    int m_saving = 0;
    std::optional<TurnOptions> m_sentOptions; // the options of the save on its way

    QComboBox *m_model;
    QPlainTextEdit *m_system;
    QLineEdit *m_temperature;
    QLineEdit *m_topP;
    QLineEdit *m_maxTokens;
    QLineEdit *m_context;
    QLabel *m_error;
    QLabel *m_status;
    QPushButton *m_reset;
};

} // namespace holdfast
