// One chat: the view, the composer and the turn being streamed, with edit, regenerate, versions,
// retry and paging. Over 600 lines on purpose: each action is a few lines of client calls and
// view updates, and they share the pane's state (loaded window, live turn, edit mode, draft).
#include "gui/chatpane.h"

#include "client/sessionclient.h"
#include "gui/attachmentbar.h"
#include "gui/attachmentcache.h"
#include "gui/attachmentfiles.h"
#include "gui/chatsettingspanel.h"
#include "gui/chatview.h"
#include "gui/composer.h"
#include "gui/draftstore.h"
#include "gui/icons.h"
#include "gui/liveturns.h"
#include "gui/sessionlistmodel.h"
#include "gui/toolsbutton.h"
#include "gui/turndetails.h"

#include <QAbstractItemView>
#include <QAccessible>
#include <QApplication>
#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QTextDocument>
#include <QToolButton>
#include <QVBoxLayout>

#include <algorithm>

namespace holdfast {

namespace {
// Whether the branch has messages before the oldest of `messages` (oldest first). A message
// from a store knows its siblings; one without a parent then starts the branch.
bool olderExist(const QList<Message> &messages)
{
    if (messages.isEmpty())
        return false;
    const Message &first = messages.first();
    if (!first.siblings.isEmpty())
        return first.parent >= 0;
    return first.index > 0;
}
} // namespace

ChatPane::ChatPane(QWidget *parent)
    : QWidget(parent), m_title(new QLabel(this)), m_model(new QComboBox(this)),
      m_system(new QToolButton(this)), m_error(new QLabel(this)), m_editBar(new QFrame(this)),
      m_view(new ChatView(this)), m_composer(new Composer(this)), m_sendStop(new QToolButton(this)),
      m_attach(new QToolButton(this)), m_attachments(new AttachmentBar(this)),
      m_cache(new AttachmentCache(this)), m_opener(new AttachmentOpener(this))
{
    auto *header = new QWidget(this);
    header->setObjectName(QStringLiteral("chatHeader"));
    auto *headerLayout = new QHBoxLayout(header);
    headerLayout->setContentsMargins(18, 10, 12, 10);
    m_title->setObjectName(QStringLiteral("chatTitle"));
    m_title->setTextFormat(Qt::PlainText);
    QFont titleFont = m_title->font();
    titleFont.setPointSizeF(titleFont.pointSizeF() * 1.2);
    titleFont.setWeight(QFont::DemiBold);
    m_title->setFont(titleFont);
    headerLayout->addWidget(m_title, 1);
    m_model->setToolTip(tr("Model of this chat"));
    m_model->setAccessibleName(tr("Model"));
    m_model->view()->setAccessibleName(tr("Models")); // its popup list
    m_model->setSizeAdjustPolicy(QComboBox::AdjustToContents);
    m_model->setMinimumWidth(140);
    headerLayout->addWidget(m_model);
    m_system->setIcon(icons::icon(icons::Name::System));
    m_system->setToolTip(tr("System prompt of this chat"));
    m_system->setAccessibleName(tr("System prompt"));
    m_system->setAccessibleDescription(tr("Edits the system prompt of this chat"));
    m_system->setAutoRaise(true);
    headerLayout->addWidget(m_system);

    m_error->setObjectName(QStringLiteral("errorBanner"));
    m_error->setWordWrap(true);
    m_error->setTextFormat(Qt::PlainText); // it quotes errors from elsewhere
    m_error->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_error->hide();
    m_announcer = new QLabel(this);
    m_announcer->setObjectName(QStringLiteral("answerAnnouncer"));
    m_announcer->hide(); // for screen readers only: they hear its name change

    auto *composerBox = new QFrame(this);
    composerBox->setObjectName(QStringLiteral("composerBox"));
    auto *boxLayout = new QVBoxLayout(composerBox);
    boxLayout->setContentsMargins(8, 6, 6, 6);
    boxLayout->setSpacing(2);
    boxLayout->addWidget(m_attachments);
    auto *composerLayout = new QHBoxLayout;
    composerLayout->setContentsMargins(0, 0, 0, 0);
    boxLayout->addLayout(composerLayout);
    m_attach->setIcon(icons::icon(icons::Name::Attach));
    m_attach->setIconSize(QSize(20, 20));
    m_attach->setObjectName(QStringLiteral("attachButton"));
    m_attach->setAutoRaise(true);
    m_attach->setToolTip(tr("Attach files: pictures, text, PDF (or drop them on the chat, or "
                            "paste a picture)"));
    m_attach->setAccessibleName(tr("Attach files"));
    m_attach->setAccessibleDescription(
        tr("Pictures, text or PDF; files can also be dropped on the chat or pasted"));
    composerLayout->addWidget(m_attach, 0, Qt::AlignBottom);
    auto *toolsRow = new QHBoxLayout;
    toolsRow->setContentsMargins(0, 0, 0, 0);
    composerLayout->addLayout(toolsRow);
    composerLayout->addWidget(m_composer, 1);
    m_sendStop->setIconSize(QSize(20, 20));
    m_sendStop->setObjectName(QStringLiteral("sendButton"));
    m_sendStop->setAutoRaise(true);
    composerLayout->addWidget(m_sendStop, 0, Qt::AlignBottom);

    // Shown while a sent prompt is edited in the composer.
    m_editBar->setObjectName(QStringLiteral("editBar"));
    auto *editLayout = new QHBoxLayout(m_editBar);
    editLayout->setContentsMargins(10, 2, 4, 2);
    auto *editLabel = new QLabel(
        tr("<b>Editing</b> your message · Enter sends it as a new version · Esc cancels"),
        m_editBar);
    editLabel->setTextFormat(Qt::RichText); // our own text only
    editLayout->addWidget(editLabel, 1);
    auto *cancelEditButton = new QToolButton(m_editBar);
    cancelEditButton->setText(tr("Cancel"));
    cancelEditButton->setAutoRaise(true);
    cancelEditButton->setObjectName(QStringLiteral("cancelEdit"));
    cancelEditButton->setAccessibleName(tr("Cancel editing"));
    editLayout->addWidget(cancelEditButton);
    connect(cancelEditButton, &QToolButton::clicked, this, &ChatPane::cancelEdit);
    m_editBar->hide();
    m_view->setBranchControls(true);

    auto *bottom = new QVBoxLayout;
    bottom->setContentsMargins(18, 4, 18, 14);
    bottom->setSpacing(2);
    bottom->addWidget(m_editBar);
    bottom->addWidget(composerBox);
    buildUsageWidgets(headerLayout, bottom);

    // The conversation, with the chat settings at its side when they are open.
    auto *conversation = new QVBoxLayout;
    conversation->setSpacing(0);
    conversation->addWidget(m_view, 1);
    buildToolWidgets(toolsRow, conversation);
    conversation->addLayout(bottom);
    auto *body = new QHBoxLayout;
    body->setSpacing(0);
    body->addLayout(conversation, 1);
    body->addWidget(m_settings);

    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(0);
    layout->addWidget(header);
    layout->addWidget(m_error);
    layout->addLayout(body, 1);

    connect(m_composer, &Composer::submitted, this, &ChatPane::send);
    connect(m_composer, &QPlainTextEdit::textChanged, this, &ChatPane::onComposerChanged);
    connect(m_composer, &Composer::stopRequested, this, &ChatPane::stop);
    connect(m_sendStop, &QToolButton::clicked, this, [this] {
        if (isGenerating())
            stop();
        else if (const QString text = m_composer->toPlainText().trimmed(); !text.isEmpty())
            send(text);
    });
    connect(m_system, &QToolButton::clicked, this, &ChatPane::editSystemPrompt);
    connect(m_model, &QComboBox::activated, this, [this](int i) {
        if (m_meta.id.isEmpty())
            return;
        PatchSessionParams p;
        p.model = m_model->itemText(i);
        patch(m_meta.id, p);
    });
    connect(m_view, &ChatView::olderWanted, this, [this] { loadOlder(); });
    connect(m_view, &ChatView::newerWanted, this, [this] { loadNewer(); });
    // Retry answers the same prompt again, as a new version of the failed answer.
    connect(m_view, &ChatView::retryRequested, this, [this](int turn) {
        if (const qint64 prompt = m_view->promptIndexOfTurn(turn); prompt >= 0) {
            if (!m_sending && !isGenerating())
                regenerateTask(prompt);
        }
    });
    connect(m_view, &ChatView::editRequested, this, &ChatPane::editMessage);
    connect(m_view, &ChatView::regenerateRequested, this, &ChatPane::regenerate);
    connect(m_view, &ChatView::versionRequested, this, &ChatPane::showVersion);
    connect(m_composer, &Composer::editLastRequested, this, [this] {
        if (const qint64 last = m_view->lastIndexOfRole(QStringLiteral("user")); last >= 0)
            editMessage(last);
    });
    connect(m_view, &ChatView::copied, this, &ChatPane::statusMessage);
    m_view->setAttachmentCache(m_cache);
    connect(m_attach, &QToolButton::clicked, this, &ChatPane::chooseFiles);
    connect(m_composer, &Composer::filesDropped, this, &ChatPane::attachFiles);
    connect(m_composer, &Composer::imagePasted, this, &ChatPane::attachImage);
    connect(m_attachments, &AttachmentBar::removeRequested, this, &ChatPane::removeAttachment);
    connect(m_cache, &AttachmentCache::thumbnailReady, this, [this](const QString &sid) {
        if (sid == m_draftKey)
            refreshChips();
    });
    connect(m_view, &ChatView::attachmentOpenRequested, this,
            [this](const QString &sid, const Attachment &a) { m_opener->open(sid, a); });
    connect(m_view, &ChatView::attachmentSaveRequested, this,
            [this](const QString &sid, const Attachment &a) { m_opener->saveAs(sid, a, this); });
    connect(m_opener, &AttachmentOpener::failed, this, &ChatPane::showError);
    connect(m_opener, &AttachmentOpener::saved, this,
            [this](const QString &path) { Q_EMIT statusMessage(tr("Saved %1").arg(path)); });
    // Files dropped anywhere on the conversation are attached (the composer takes its own).
    m_view->viewport()->setAcceptDrops(true);
    m_view->viewport()->installEventFilter(this);
    connect(m_view, &ChatView::linkHovered, this, &ChatPane::statusMessage);
    showEmpty();
}

void ChatPane::setClient(SessionClient *client, LiveTurns *live)
{
    m_client = client;
    m_live = live;
    m_cache->setClient(client);
    m_opener->setClient(client);
    m_settings->setClient(client);
    m_details->setClient(client);
    connect(live, &LiveTurns::textAppended, this, &ChatPane::onText);
    connect(live, &LiveTurns::finished, this, &ChatPane::onFinished);
    connect(live, &LiveTurns::activeChanged, this, [this] { updateControls(); });
    connectTools(live);
    connect(client, &SessionClient::sessionChanged, this, &ChatPane::onSessionChanged);
    connect(client, &SessionClient::sessionDeleted, this, [this](const QString &sid) {
        if (sid == m_meta.id)
            showEmpty();
    });
    refreshModels();
    updateControls();
}

void ChatPane::setDrafts(DraftStore *drafts)
{
    m_drafts = drafts;
    for (auto it = m_memoryDrafts.cbegin(); it != m_memoryDrafts.cend(); ++it)
        drafts->setDraft(it.key(), it.value());
    m_memoryDrafts.clear();
    for (auto it = m_memoryFiles.cbegin(); it != m_memoryFiles.cend(); ++it)
        drafts->setAttachments(it.key(), it.value());
    m_memoryFiles.clear();
    // The file is read after the window opened: show the draft once it is there, unless the
    // user has started writing.
    connect(drafts, &DraftStore::loaded, this, [this] {
        if (m_composer->document()->isEmpty())
            switchDraft(m_draftKey);
        refreshChips();
    });
}

QString ChatPane::storedDraft(const QString &key) const
{
    return m_drafts ? m_drafts->draft(key) : m_memoryDrafts.value(key);
}

void ChatPane::storeDraft(const QString &key, const QString &text)
{
    if (m_drafts)
        m_drafts->setDraft(key, text);
    else if (text.isEmpty())
        m_memoryDrafts.remove(key);
    else
        m_memoryDrafts.insert(key, text);
}

void ChatPane::switchDraft(const QString &key)
{
    if (key != m_draftKey)
        endEdit();
    m_draftKey = key;
    refreshChips();
    const QString text = storedDraft(key);
    if (text == m_composer->toPlainText())
        return;
    m_settingDraft = true;
    m_composer->setPlainText(text);
    m_composer->moveCursor(QTextCursor::End);
    m_settingDraft = false;
}

void ChatPane::onComposerChanged()
{
    if (!m_settingDraft && !isEditing()) // an edited prompt is no draft
        storeDraft(m_draftKey, m_composer->toPlainText());
}

bool ChatPane::isGenerating() const
{
    return !m_meta.id.isEmpty() && m_live && m_live->isActive(m_meta.id);
}

void ChatPane::showEmpty()
{
    ++m_generation;
    m_meta = SessionMeta{};
    switchDraft(QString());
    m_view->clearMessages();
    m_view->setSessionId(QString());
    m_view->setPlaceholderText(tr("Start a new chat: write below and press Enter."));
    m_error->hide();
    updateHeader();
    updateControls();
}

void ChatPane::openSession(const QString &sid)
{
    if (sid == m_meta.id && !sid.isEmpty())
        return;
    load(sid);
}

void ChatPane::reload()
{
    if (!m_meta.id.isEmpty())
        load(m_meta.id);
}

QCoro::Task<> ChatPane::load(QString sid)
{
    const quint64 generation = ++m_generation;
    QPointer<ChatPane> self(this);
    switchDraft(sid);
    if (!m_client)
        co_return;
    const auto snapshot = co_await m_client->session(sid, kPageSize);
    if (!self || generation != m_generation)
        co_return;
    if (!snapshot && snapshot.error().code == ErrorCode::NotFound) {
        showEmpty(); // deleted meanwhile (or elsewhere): nothing to show, nothing to report
        co_return;
    }
    if (!snapshot) {
        showError(tr("Could not open the chat: %1").arg(snapshot.error().message));
        co_return;
    }
    m_error->hide();
    m_meta = snapshot->meta;
    m_view->clearMessages();
    m_view->setSessionId(sid);
    for (const Message &message : snapshot->history)
        m_view->appendMessage(message);
    m_view->setHasOlder(olderExist(snapshot->history));
    if (m_meta.activeTurn > 0 && m_live)
        co_await m_live->adopt(sid, m_meta.activeTurn);
    if (!self || generation != m_generation)
        co_return;
    followLiveAnswer();
    updateHeader();
    updateControls();
    Q_EMIT sessionOpened(sid);
}

// Shows the answer this chat is generating, with everything it has produced so far.
void ChatPane::followLiveAnswer()
{
    if (m_view->hasNewer())
        return; // the reader is far up the history: the answer joins when the newest page does
    const LiveTurns::Live *live = m_live ? m_live->live(m_meta.id) : nullptr;
    if (!live || m_view->answering())
        return;
    if (live->steps.isEmpty()) {
        m_view->beginAnswer(live->turn, live->model, live->text);
    } else { // the tool steps so far go between the parts of the text they came after
        m_view->beginAnswer(live->turn, live->model, QString());
        qsizetype from = 0;
        for (const LiveTurns::ToolStepAt &step : live->steps) {
            m_view->appendAnswer(live->text.mid(from, step.offset - from));
            from = step.offset;
            m_view->appendToolStep(step.chunk);
        }
        m_view->appendAnswer(live->text.mid(from));
    }
    updateApproval();
}

QCoro::Task<> ChatPane::loadOlder()
{
    if (m_loadingPage || !m_client || m_meta.id.isEmpty() || !m_view->hasOlder())
        co_return;
    m_loadingPage = true;
    const quint64 generation = m_generation;
    QPointer<ChatPane> self(this);
    const auto page = co_await m_client->messages(m_meta.id, m_view->firstIndex(), kPageSize);
    if (!self)
        co_return;
    m_loadingPage = false;
    if (generation != m_generation)
        co_return;
    if (!page) {
        showError(tr("Could not load earlier messages: %1").arg(page.error().message));
        co_return;
    }
    m_view->prependMessages(page->messages);
    m_view->setHasOlder(olderExist(page->messages));
}

// The page after the newest message shown, when older pages have pushed the newest out. The
// branch's indexes ascend but need not be consecutive (other branches lie between them): it asks
// for the messages below `last + 1 + kPageSize`, and keeps those after `last`.
QCoro::Task<> ChatPane::loadNewer()
{
    if (m_loadingPage || !m_client || m_meta.id.isEmpty() || !m_view->hasNewer())
        co_return;
    const qint64 last = m_view->lastIndex();
    const qint64 head = m_meta.head >= 0 ? m_meta.head : m_meta.total - 1;
    if (last >= head) {
        m_view->setHasNewer(false);
        followLiveAnswer();
        co_return;
    }
    m_loadingPage = true;
    const quint64 generation = m_generation;
    QPointer<ChatPane> self(this);
    QList<Message> newer;
    qint64 before = last + 1;
    while (newer.isEmpty() && before <= head) {
        before = std::min<qint64>(before + kPageSize, head + 1);
        const auto page = co_await m_client->messages(m_meta.id, before, kPageSize);
        if (!self)
            co_return;
        if (generation != m_generation) {
            m_loadingPage = false;
            co_return;
        }
        if (!page) {
            m_loadingPage = false;
            showError(tr("Could not load later messages: %1").arg(page.error().message));
            co_return;
        }
        for (const Message &message : page->messages) {
            if (message.index > last)
                newer << message;
        }
    }
    m_loadingPage = false;
    m_view->appendNewerMessages(newer);
    m_view->setHasNewer(m_view->lastIndex() < head);
    followLiveAnswer();
}

void ChatPane::send(const QString &prompt)
{
    // While another chat loads, the composer holds that chat's draft: it is not this one's.
    if (m_sending || isGenerating() || m_draftKey != m_meta.id)
        return;
    if (isUploading()) {
        Q_EMIT statusMessage(tr("Wait for the files to finish uploading, then send"));
        return;
    }
    sendTask(prompt, m_editIndex, composerFiles());
}

// `replaces` >= 0: the prompt is a new version of that one (an edit), after the same parent.
QCoro::Task<> ChatPane::sendTask(QString prompt, qint64 replaces, QList<Attachment> files)
{
    QPointer<ChatPane> self(this);
    if (!m_client)
        co_return;
    m_sending = true;
    updateControls();
    QString sid = m_meta.id;
    if (sid.isEmpty()) {
        // A first prompt with no chat open starts one, named after the prompt.
        CreateSessionParams params;
        params.title = prompt.section(u'\n', 0, 0).left(60);
        if (m_model->currentIndex() >= 0)
            params.model = m_model->currentText();
        const auto created = co_await m_client->createSession(params);
        if (!self)
            co_return;
        if (!created) {
            m_sending = false;
            updateControls();
            showError(tr("Could not create a chat: %1").arg(created.error().message));
            co_return;
        }
        adoptNewChat(created->meta);
        sid = m_meta.id;
    } else if (m_meta.title.isEmpty() && m_meta.total == 0) {
        PatchSessionParams params;
        params.title = prompt.section(u'\n', 0, 0).left(60);
        patch(sid, params);
    }
    StartTurnParams params;
    params.prompt = prompt;
    for (const Attachment &file : files)
        params.attachments << file.id;
    // Copied before the await: the view's messages may change meanwhile.
    const Message *shownOld = replaces >= 0 ? m_view->shownMessage(replaces) : nullptr;
    const bool old = shownOld != nullptr;
    QList<qint64> versions;
    if (shownOld) {
        params.parent = m_view->parentOf(replaces); // -1: a new first message
        versions = shownOld->siblings.isEmpty() ? QList<qint64>{replaces} : shownOld->siblings;
    }
    const quint64 generation = m_generation;
    const auto turn = co_await m_client->startTurn(sid, params);
    if (!self || !turnStarted(turn, tr("The message was not sent: %1")))
        co_return;
    m_composer->setLastPrompt(prompt);
    bool shown = sid == m_meta.id && generation == m_generation;
    if (shown && old) {
        endEdit();
        shown = m_view->truncateFrom(replaces); // the old version and what followed it go
        if (!shown)
            load(sid);
    }
    if (shown && m_view->hasNewer()) {
        // Far up the history: jump to the newest page, which has the prompt, and the answer.
        m_error->hide();
        clearSentDraft(sid, prompt);
        if (!old)
            clearSentFiles(sid, files);
        load(sid);
    } else if (shown) {
        m_error->hide();
        clearSentDraft(sid, prompt);
        if (!old)
            clearSentFiles(sid, files);
        Message user;
        user.index = turn->promptIndex;
        user.role = QStringLiteral("user");
        user.content = prompt;
        user.turn = turn->id;
        user.createdAt = turn->createdAt;
        user.attachments = files;
        if (old) {
            user.parent = params.parent.value_or(-1);
            user.siblings = versions;
            if (!user.siblings.contains(user.index))
                user.siblings << user.index;
        }
        m_view->appendMessage(user);
        followLiveAnswer();
    }
    if (sid != m_meta.id) {
        clearSentDraft(sid, prompt);
        if (!old)
            clearSentFiles(sid, files);
    }
    updateControls();
    Q_EMIT statusMessage(tr("Generating…"));
}

// A chat created here (the first prompt, or the first file, of a new chat) becomes the open one,
// with the new chat's draft.
void ChatPane::adoptNewChat(const SessionMeta &meta)
{
    ++m_generation;
    m_meta = meta;
    const QString sid = m_meta.id;
    if (m_draftKey.isEmpty()) { // the new chat's draft becomes the chat's
        const QString draft = storedDraft(QString());
        storeDraft(QString(), QString());
        storeDraft(sid, draft);
        storeFiles(sid, storedFiles(QString()));
        storeFiles(QString(), {});
        for (PendingFile &file : m_pendingFiles) {
            if (file.sid.isEmpty())
                file.sid = sid;
        }
        m_draftKey = sid;
    }
    m_view->clearMessages();
    m_view->setSessionId(sid);
    updateHeader();
    Q_EMIT sessionOpened(sid);
}

// The draft that was sent is gone, whichever chat the composer shows now.
void ChatPane::clearSentDraft(const QString &sid, const QString &prompt)
{
    if (m_draftKey == sid && m_composer->toPlainText().trimmed() == prompt.trimmed())
        m_composer->clear();
    else if (storedDraft(sid).trimmed() == prompt.trimmed())
        storeDraft(sid, QString());
}

void ChatPane::stop()
{
    if (isEditing()) {
        cancelEdit(); // Esc leaves the edit first
    } else if (m_settings->isVisible() && m_settings->isAncestorOf(QApplication::focusWidget())) {
        showSettings(false); // then the settings the keyboard is in
        m_composer->setFocus(Qt::OtherFocusReason);
    } else if (isGenerating()) {
        stopTask();
    }
}

void ChatPane::editMessage(qint64 index)
{
    const Message *message = m_view->shownMessage(index);
    if (!message || message->role != QLatin1String("user"))
        return;
    if (isGenerating() || m_sending) {
        Q_EMIT statusMessage(tr("Wait for the answer to finish, or stop it, to edit a message"));
        return;
    }
    if (!isEditing())
        m_editStash = m_composer->toPlainText();
    m_editIndex = index;
    m_editFiles = message->attachments; // an edited prompt keeps its files
    refreshChips();
    m_settingDraft = true;
    m_composer->setPlainText(message->content);
    m_composer->moveCursor(QTextCursor::End);
    m_settingDraft = false;
    m_editBar->show();
    m_composer->setFocus(Qt::OtherFocusReason);
}

void ChatPane::cancelEdit()
{
    if (!isEditing())
        return;
    endEdit();
    m_composer->setFocus(Qt::OtherFocusReason);
}

// The composer gets back the draft it had before the edit.
void ChatPane::endEdit()
{
    if (!isEditing())
        return;
    m_editIndex = -1;
    m_editFiles.clear();
    m_pendingFiles.removeIf([](const PendingFile &f) { return f.forEdit && !f.busy; });
    refreshChips();
    m_editBar->hide();
    m_settingDraft = true;
    m_composer->setPlainText(m_editStash);
    m_composer->moveCursor(QTextCursor::End);
    m_settingDraft = false;
    m_editStash.clear();
}

void ChatPane::regenerate(qint64 answerIndex)
{
    if (m_sending || isGenerating() || m_meta.id.isEmpty())
        return;
    if (const qint64 prompt = m_view->promptOf(answerIndex); prompt >= 0)
        regenerateTask(prompt);
}

void ChatPane::regenerateLast()
{
    if (const qint64 last = m_view->lastIndexOfRole(QStringLiteral("assistant")); last >= 0)
        regenerate(last);
    else if (const qint64 prompt = m_view->lastIndexOfRole(QStringLiteral("user")); prompt >= 0) {
        if (!m_sending && !isGenerating())
            regenerateTask(prompt); // a prompt whose answer never came
    }
}

// The reply to a startTurn: the composer unlocks; false, with `failure` shown, when it failed.
bool ChatPane::turnStarted(const Result<TurnRecord> &turn, const QString &failure)
{
    m_sending = false;
    if (turn)
        return true;
    updateControls();
    showError(failure.arg(turn.error().message));
    return false;
}

// A new answer to `prompt`: the answers shown below it leave the view for the new one.
QCoro::Task<> ChatPane::regenerateTask(qint64 prompt)
{
    QPointer<ChatPane> self(this);
    if (!m_client || m_meta.id.isEmpty())
        co_return;
    const QString sid = m_meta.id;
    const quint64 generation = m_generation;
    m_sending = true;
    updateControls();
    StartTurnParams params;
    params.regenerate = prompt;
    const auto turn = co_await m_client->startTurn(sid, params);
    if (!self || !turnStarted(turn, tr("Could not answer again: %1")))
        co_return;
    if (sid == m_meta.id && generation == m_generation) {
        m_error->hide();
        // Everything after the prompt belongs to the old version.
        if (!m_view->truncateAfter(prompt) || m_view->hasNewer())
            load(sid);
        else
            followLiveAnswer();
    }
    updateControls();
    Q_EMIT statusMessage(tr("Generating…"));
}

void ChatPane::showVersion(qint64 index)
{
    if (m_meta.id.isEmpty() || index < 0)
        return;
    if (isGenerating() || m_sending) {
        Q_EMIT statusMessage(tr("Wait for the answer to finish, or stop it, to switch versions"));
        return;
    }
    versionTask(index);
}

void ChatPane::stepVersion(int step)
{
    const qint64 at = m_view->lastWithVersions();
    const Message *message = m_view->shownMessage(at);
    if (!message)
        return;
    const qsizetype n = message->siblings.indexOf(at) + step;
    if (n >= 0 && n < message->siblings.size())
        showVersion(message->siblings.at(n));
}

// Makes `index`'s branch the active one, and shows it from that message down: the messages
// above stay where they are, the rest of the new branch comes in below them.
QCoro::Task<> ChatPane::versionTask(qint64 index)
{
    QPointer<ChatPane> self(this);
    if (!m_client)
        co_return;
    const QString sid = m_meta.id;
    const quint64 generation = ++m_generation; // what was loading for the old branch is stale
    PatchSessionParams params;
    params.head = index;
    const auto patched = co_await m_client->patchSession(sid, params);
    if (!self || generation != m_generation)
        co_return;
    if (!patched) {
        showError(tr("Could not show that version: %1").arg(patched.error().message));
        co_return;
    }
    m_meta = patched->meta;
    const auto page = co_await m_client->messages(sid, -1, kPageSize);
    if (!self || generation != m_generation)
        co_return;
    if (!page) {
        showError(tr("Could not load that version: %1").arg(page.error().message));
        co_return;
    }
    QList<Message> rest;
    for (const Message &message : page->messages) {
        if (message.index >= index)
            rest << message;
    }
    const qint64 replaced = m_view->shownVersionOf(index);
    if (rest.isEmpty() || rest.first().index != index || replaced < 0 ||
        !m_view->truncateFrom(replaced)) {
        load(sid); // the new branch's rest is longer than a page: its newest page
        co_return;
    }
    m_error->hide();
    m_view->appendNewerMessages(rest);
    m_view->setHasNewer(false);
    followLiveAnswer();
    updateControls();
}

// After a turn: the prompt and answer learn their versions from the store.
QCoro::Task<> ChatPane::refreshVersions(QString sid)
{
    QPointer<ChatPane> self(this);
    if (!m_client)
        co_return;
    const quint64 generation = m_generation;
    const auto page = co_await m_client->messages(sid, -1, 2);
    if (!self || generation != m_generation || sid != m_meta.id || !page)
        co_return;
    for (const Message &message : page->messages)
        m_view->updateMessage(message);
}

QCoro::Task<> ChatPane::stopTask()
{
    const LiveTurns::Live *live = m_live ? m_live->live(m_meta.id) : nullptr;
    if (!live || !m_client)
        co_return;
    QPointer<ChatPane> self(this);
    const auto cancelled = co_await m_client->cancelTurn(m_meta.id, live->turn);
    if (self && !cancelled)
        showError(tr("Could not stop the answer: %1").arg(cancelled.error().message));
}

void ChatPane::onText(const QString &sid, int tid, const QString &text)
{
    if (sid != m_meta.id || m_sending)
        return; // while sending, the new answer is shown with all its text once the turn is known
    if (!m_view->answering())
        followLiveAnswer(); // includes `text`
    else if (m_view->answerTurn() == tid)
        m_view->appendAnswer(text);
}

void ChatPane::onFinished(const TurnRecord &turn)
{
    m_details->remember(turn);
    if (turn.session != m_meta.id)
        return;
    if (m_view->answering() && m_view->answerTurn() == turn.id) {
        m_view->finishAnswer(turn);
        announceFinished(turn);
        refreshVersions(turn.session);
    }
    updateControls();
}

// Polite: once, at the end of an answer the reader was waiting for (Qt 6.4 has no
// QAccessibleAnnouncementEvent); a stopped answer is not announced, the person stopped it.
void ChatPane::announceFinished(const TurnRecord &turn)
{
    using S = TurnRecord::State;
    QString text;
    if (turn.state == S::Done) {
        constexpr int kSpoken = 200; // the answer's start: the rest is in the chat view
        QString start = m_view->lastAnswerText().simplified();
        if (start.size() > kSpoken)
            start = start.left(kSpoken) + QStringLiteral("…");
        text = tr("Answer finished: %1").arg(start);
    } else if (turn.state == S::Error) {
        text = tr("The answer failed: %1")
                   .arg(turn.errorMessage.isEmpty() ? tr("the model failed") : turn.errorMessage);
    } else {
        return;
    }
    m_announcer->setAccessibleName(text);
    QAccessibleEvent changed(m_announcer, QAccessible::NameChanged);
    QAccessible::updateAccessibility(&changed);
    QAccessibleEvent alert(m_announcer, QAccessible::Alert);
    QAccessible::updateAccessibility(&alert);
    Q_EMIT announced(text);
}

void ChatPane::onSessionChanged(const SessionMeta &meta)
{
    if (meta.id != m_meta.id)
        return;
    m_meta = meta;
    updateHeader();
}

void ChatPane::updateHeader()
{
    m_title->setText(m_meta.id.isEmpty() ? tr("New chat") : SessionListModel::displayTitle(m_meta));
    m_system->setEnabled(!m_meta.id.isEmpty());
    // As escaped rich text: a tooltip that looks like HTML is rendered, and loads its images.
    m_system->setToolTip(
        m_meta.system.isEmpty()
            ? tr("Set a system prompt for this chat")
            : Qt::convertFromPlainText(tr("System prompt: %1").arg(m_meta.system.left(200))));
    if (!m_meta.model.isEmpty()) {
        if (m_model->findText(m_meta.model) < 0)
            m_model->addItem(m_meta.model);
        m_model->setCurrentText(m_meta.model);
    }
    m_settings->setSession(m_meta);
    m_tools->setSession(m_meta);
    m_settingsButton->setEnabled(!m_meta.id.isEmpty());
    updateEstimate(); // the budget may have changed
}

void ChatPane::updateControls()
{
    const bool generating = isGenerating();
    m_sendStop->setIcon(icons::icon(generating ? icons::Name::Stop : icons::Name::Send));
    m_sendStop->setToolTip(generating ? tr("Stop the answer (Esc)") : tr("Send (Enter)"));
    m_sendStop->setAccessibleName(generating ? tr("Stop the answer") : tr("Send"));
    m_sendStop->setAccessibleDescription(generating ? tr("Stops the answer being written (Esc)")
                                                    : tr("Sends the message (Enter)"));
    m_sendStop->setEnabled(!m_sending && m_client);
    m_composer->setEnabled(bool(m_client));
    m_attach->setEnabled(bool(m_client));
    updateApproval();
}

void ChatPane::showError(const QString &message)
{
    m_error->setText(QStringLiteral("⚠  ") + message);
    m_error->show();
    Q_EMIT statusMessage(message);
}

void ChatPane::editSystemPrompt()
{
    if (m_meta.id.isEmpty())
        return;
    // In the chat's settings, beside the conversation (saved when the field is left).
    showSettings(true);
    m_settings->systemField()->setFocus(Qt::ShortcutFocusReason);
}

QCoro::Task<> ChatPane::patch(QString sid, PatchSessionParams params)
{
    QPointer<ChatPane> self(this);
    if (!m_client)
        co_return;
    const auto patched = co_await m_client->patchSession(sid, params);
    if (self && !patched)
        showError(tr("Could not change the chat: %1").arg(patched.error().message));
}

void ChatPane::refreshModels()
{
    fetchModels();
}

QCoro::Task<> ChatPane::fetchModels()
{
    QPointer<ChatPane> self(this);
    if (!m_client)
        co_return;
    const auto models = co_await m_client->models();
    if (!self || !models)
        co_return;
    const QString current = m_model->currentText();
    m_model->clear();
    QStringList ids;
    for (const ModelInfo &model : *models)
        ids << model.id;
    m_model->addItems(ids);
    m_settings->setModels(ids);
    if (!current.isEmpty()) {
        if (m_model->findText(current) < 0)
            m_model->addItem(current);
        m_model->setCurrentText(current);
    }
    updateHeader();
}

} // namespace holdfast
