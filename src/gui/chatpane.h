#pragma once

#include "core/error.h"
#include "core/parameters.h"
#include "core/types.h"

#include <QCoroTask>
#include <QHash>
#include <QImage>
#include <QPointer>
#include <QWidget>

#include <functional>

class QBoxLayout;
class QComboBox;
class QFrame;
class QLabel;
class QTimer;
class QToolButton;

namespace holdfast {

class AttachmentBar;
class AttachmentCache;
class AttachmentOpener;
class ChatSettingsPanel;
class ChatView;
class Composer;
class DraftStore;
class LiveTurns;
class SessionClient;
class ToolApprovalCard;
class ToolsButton;
class TurnDetails;

// The open chat: its header (title, model, system prompt), the conversation, the composer with
// Send/Stop, and the errors of what happened here. Loading, sending and stopping are
// asynchronous; a result that arrives after the user opened another chat is dropped.
//
// Files (paperclip, drop on the chat, paste of a picture) are read on a worker thread and uploaded
// at once, shown as chips above the composer, kept with the chat's draft, and sent with the next
// prompt. Attaching in a new chat creates the chat (files belong to a session).
class ChatPane final : public QWidget
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ChatPane)
public:
    explicit ChatPane(QWidget *parent = nullptr);

    void setClient(SessionClient *client, LiveTurns *live);
    // Where each chat's unsent text is kept; without one, drafts live as long as the pane.
    void setDrafts(DraftStore *drafts);
    QString sessionId() const { return m_meta.id; }
    const SessionMeta &meta() const { return m_meta; }
    bool isGenerating() const;
    bool isEditing() const { return m_editIndex >= 0; }
    qint64 editedIndex() const { return m_editIndex; }
    QFrame *editBar() const { return m_editBar; }

    ChatView *view() const { return m_view; }
    Composer *composer() const { return m_composer; }
    QComboBox *modelPicker() const { return m_model; }
    AttachmentBar *attachmentBar() const { return m_attachments; }
    QToolButton *attachButton() const { return m_attach; }
    AttachmentOpener *opener() const { return m_opener; }
    AttachmentCache *attachmentCache() const { return m_cache; }

    // The uploaded files that go with the next prompt sent from the composer.
    QList<Attachment> composerFiles() const;
    // A file of the composer is still being read or uploaded (sending waits for it).
    bool isUploading() const;
    // Tests: what the paperclip asks for files with (default a QFileDialog; empty: cancelled).
    using ChooseFilesFn = std::function<QStringList(QWidget *parent)>;
    void setFileChooser(ChooseFilesFn choose) { m_chooseFiles = std::move(choose); }

    static constexpr int kMaxFiles = 10; // per message (shared/API.md, Attachments)
    // The chat settings panel (issue 21), the button in the header that shows it, the draft's
    // token estimate under the composer, and the turn records of the answers shown.
    ChatSettingsPanel *settingsPanel() const { return m_settings; }
    QToolButton *settingsButton() const { return m_settingsButton; }
    QLabel *tokenEstimate() const { return m_estimate; }
    TurnDetails *turnDetails() const { return m_details; }
    // Issue 24: the chat's tools menu by the composer, and the card that asks before a call.
    ToolsButton *toolsButton() const { return m_tools; }
    ToolApprovalCard *approvalCard() const { return m_approval; }
    // A hidden live region: when an answer of the open chat ends, its name becomes "Answer
    // finished: <its start>" and screen readers are told (NameChanged, then Alert), once; then
    // announced() (assistive technology is off under the tests' offscreen platform).
    QLabel *announcer() const { return m_announcer; }

    static constexpr int kPageSize = 50;

public Q_SLOTS:
    void openSession(const QString &sid);
    void showEmpty();
    void reload(); // the open chat written again (a new font or palette)
    void send(const QString &prompt);
    void stop();
    void editSystemPrompt();
    void refreshModels();
    void showError(const QString &message);
    void chooseFiles();
    void attachFiles(const QStringList &paths);
    void attachImage(const QImage &image);
    // Branches (shared/API.md): edit a sent prompt (Enter sends the new text as a new version,
    // Esc cancels), answer a prompt again, show another version of a message.
    void editMessage(qint64 index);
    void cancelEdit();
    void regenerate(qint64 answerIndex);
    void regenerateLast();
    void showVersion(qint64 index);
    // The previous (-1) or next (+1) version of the newest message shown that has versions.
    void stepVersion(int step);
    // Shows or hides the chat settings panel (the keyboard goes to it when it opens).
    void showSettings(bool shown);
    void toggleSettings();

Q_SIGNALS:
    // What announcer() was given for screen readers (an answer of the open chat ended).
    void announced(const QString &text);
    void sessionOpened(const QString &sid);
    void statusMessage(const QString &message);
    // The tools menu asks for the MCP servers' configuration.
    void mcpServersRequested();

protected:
    bool eventFilter(QObject *watched, QEvent *event) override;

private:
    struct PendingFile
    {
        quint64 key = 0;
        QString sid;          // the chat it is for ("" until a new chat is created)
        bool forEdit = false; // added while a sent prompt was edited: it goes with the edit
        QString path;         // a file from disk, or:
        QImage image;         // a pasted picture
        QString name;
        QString type;
        qint64 size = 0;
        QImage thumbnail;
        bool busy = true;
        QString error;
    };
    QCoro::Task<> addFiles(QStringList paths, QList<QImage> images);
    QCoro::Task<bool> ensureChat();
    QCoro::Task<> upload(quint64 key);
    PendingFile *pendingFile(quint64 key);
    QList<Attachment> storedFiles(const QString &key) const;
    void storeFiles(const QString &key, const QList<Attachment> &files);
    void removeAttachment(const QString &chip);
    void clearSentFiles(const QString &sid, const QList<Attachment> &sent);
    void refreshChips();
    void adoptNewChat(const SessionMeta &meta);
    QCoro::Task<> load(QString sid);
    QCoro::Task<> loadOlder();
    QCoro::Task<> loadNewer();
    QCoro::Task<> sendTask(QString prompt, qint64 replaces, QList<Attachment> files);
    QCoro::Task<> regenerateTask(qint64 prompt);
    bool turnStarted(const Result<TurnRecord> &turn, const QString &failure);
    QCoro::Task<> versionTask(qint64 index);
    QCoro::Task<> refreshVersions(QString sid);
    void endEdit();
    QCoro::Task<> stopTask();
    QCoro::Task<> fetchModels();
    QCoro::Task<> patch(QString sid, PatchSessionParams params);
    void onText(const QString &sid, int tid, const QString &text);
    void onFinished(const TurnRecord &turn);
    void announceFinished(const TurnRecord &turn);
    void onSessionChanged(const SessionMeta &meta);
    void updateHeader();
    void updateControls();
    void followLiveAnswer();
    // The composer shows the draft of `key` (a session id, "" for a new chat) from now on.
    void switchDraft(const QString &key);
    void onComposerChanged();
    void clearSentDraft(const QString &sid, const QString &prompt);
    QString storedDraft(const QString &key) const;
    void storeDraft(const QString &key, const QString &text);
    // Issue 21: the settings panel, the answers' details, the draft's estimate.
    void buildUsageWidgets(QLayout *header, QLayout *bottom);
    void requestDetails();
    void updateEstimate();
    // Issue 24 (chatpanetools.cpp): tool steps of the live answer, the approval card, the menu.
    void buildToolWidgets(QBoxLayout *composerRow, QBoxLayout *conversation);
    void connectTools(LiveTurns *live);
    void onToolStep(const QString &sid, int tid, const Chunk &chunk);
    void updateApproval();
    QCoro::Task<> answerCall(bool approve, bool always);
    QCoro::Task<> patchTools(QString sid, PatchSessionParams params);

    QPointer<SessionClient> m_client;
    QPointer<LiveTurns> m_live;
    SessionMeta m_meta;
    quint64 m_generation = 0; // bumped on every open: results for older ones are dropped
    bool m_loadingPage = false;
    bool m_sending = false;
    QPointer<DraftStore> m_drafts;
    QHash<QString, QString> m_memoryDrafts;          // without a DraftStore
    QString m_draftKey;                              // whose draft the composer holds
    bool m_settingDraft = false;                     // the composer changes because of a switch
    qint64 m_editIndex = -1;                         // the prompt being edited (-1: none)
    QString m_editStash;                             // the draft the edit replaced in the composer
    QList<Attachment> m_editFiles;                   // the files of the prompt being edited
    QHash<QString, QList<Attachment>> m_memoryFiles; // without a DraftStore
    QList<PendingFile> m_pendingFiles;               // being read or uploaded, or refused
    quint64 m_nextFileKey = 1;
    bool m_creatingChat = false;
    ChooseFilesFn m_chooseFiles;

    QLabel *m_title;
    QComboBox *m_model;
    QToolButton *m_system;
    QLabel *m_error;
    QFrame *m_editBar;
    ChatView *m_view;
    Composer *m_composer;
    QToolButton *m_sendStop;
    QToolButton *m_attach;
    AttachmentBar *m_attachments;
    AttachmentCache *m_cache;
    AttachmentOpener *m_opener;
    ChatSettingsPanel *m_settings = nullptr;
    QToolButton *m_settingsButton = nullptr;
    QLabel *m_estimate = nullptr;
    QTimer *m_estimateTimer = nullptr; // the estimate waits for a pause in the typing
    TurnDetails *m_details = nullptr;
    bool m_detailsQueued = false; // a request for the shown answers' records is on its way
    ToolsButton *m_tools = nullptr;
    ToolApprovalCard *m_approval = nullptr;
    QString m_waitingCall; // the call the card asks about ("" while it is hidden)
    QLabel *m_announcer = nullptr;
};

} // namespace holdfast
