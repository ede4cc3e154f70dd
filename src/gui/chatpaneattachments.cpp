// ChatPane's files: the paperclip, drops and pastes, the uploads, the chips above the composer and
// the files kept in each chat's draft. Apart from chatpane.cpp, which is long enough as it is.
#include "client/sessionclient.h"
#include "gui/attachmentbar.h"
#include "gui/attachmentcache.h"
#include "gui/attachmentfiles.h"
#include "gui/chatpane.h"
#include "gui/chatview.h"
#include "gui/composer.h"
#include "gui/draftstore.h"

#include <QComboBox>
#include <QCoroFuture>
#include <QCoroTimer>
#include <QDateTime>
#include <QDropEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QMimeData>
#include <QtConcurrent/QtConcurrentRun>

namespace holdfast {

using attachmentfiles::LocalFile;

QList<Attachment> ChatPane::storedFiles(const QString &key) const
{
    return m_drafts ? m_drafts->attachments(key) : m_memoryFiles.value(key);
}

void ChatPane::storeFiles(const QString &key, const QList<Attachment> &files)
{
    if (m_drafts)
        m_drafts->setAttachments(key, files);
    else if (files.isEmpty())
        m_memoryFiles.remove(key);
    else
        m_memoryFiles.insert(key, files);
}

QList<Attachment> ChatPane::composerFiles() const
{
    return isEditing() ? m_editFiles : storedFiles(m_draftKey);
}

bool ChatPane::isUploading() const
{
    return std::any_of(m_pendingFiles.cbegin(), m_pendingFiles.cend(), [this](const auto &f) {
        return f.busy && f.sid == m_draftKey && f.forEdit == isEditing();
    });
}

void ChatPane::chooseFiles()
{
    if (!m_client)
        return;
    const QStringList paths =
        m_chooseFiles ? m_chooseFiles(this)
                      : QFileDialog::getOpenFileNames(
                            this, tr("Attach Files"), QString(),
                            tr("Pictures, text and PDF (*.png *.jpg *.jpeg *.webp *.gif *.pdf "
                               "*.txt *.md *.json *.csv *.log *.xml *.yaml *.yml *.c *.cpp *.h "
                               "*.py *.js *.ts *.rs *.go *.java *.sh);;All files (*)"));
    if (!paths.isEmpty())
        attachFiles(paths);
}

void ChatPane::attachFiles(const QStringList &paths)
{
    if (!paths.isEmpty())
        addFiles(paths, {});
}

void ChatPane::attachImage(const QImage &image)
{
    if (!image.isNull())
        addFiles({}, {image});
}

ChatPane::PendingFile *ChatPane::pendingFile(quint64 key)
{
    for (PendingFile &file : m_pendingFiles) {
        if (file.key == key)
            return &file;
    }
    return nullptr;
}

// Each file becomes a chip at once; they are read and uploaded one after another, in order.
QCoro::Task<> ChatPane::addFiles(QStringList paths, QList<QImage> images)
{
    QPointer<ChatPane> self(this);
    if (!m_client)
        co_return;
    const QString key = m_draftKey;
    const bool forEdit = isEditing();
    qsizetype room = kMaxFiles - composerFiles().size();
    for (const PendingFile &file : std::as_const(m_pendingFiles)) {
        if (file.sid == key && file.forEdit == forEdit && file.error.isEmpty())
            --room;
    }
    QList<quint64> keys;
    const auto add = [&](const QString &path, const QImage &image, const QString &name) {
        PendingFile file;
        file.key = m_nextFileKey++;
        file.sid = key;
        file.forEdit = forEdit;
        file.path = path;
        file.image = image;
        file.name = name;
        if (room-- <= 0) {
            file.busy = false;
            file.error = tr("at most %Ln files go with one message", nullptr, int(kMaxFiles));
        } else {
            keys << file.key;
        }
        m_pendingFiles << file;
    };
    for (const QString &path : paths)
        add(path, {}, QFileInfo(path).fileName());
    for (const QImage &image : images)
        add({}, image,
            QStringLiteral("pasted-image-%1.png")
                .arg(QDateTime::currentDateTime().toString(QStringLiteral("yyyyMMdd-HHmmss"))));
    refreshChips();
    if (key.isEmpty() && !co_await ensureChat()) {
        if (!self)
            co_return;
        for (const quint64 k : keys) {
            if (PendingFile *file = pendingFile(k)) {
                file->busy = false;
                file->error = tr("no chat to attach it to");
            }
        }
        refreshChips();
        co_return;
    }
    for (const quint64 k : keys) {
        co_await upload(k);
        if (!self)
            co_return;
    }
}

// Files belong to a session: attaching in a new chat creates it first (once, however many files
// come in meanwhile).
QCoro::Task<bool> ChatPane::ensureChat()
{
    QPointer<ChatPane> self(this);
    while (m_creatingChat) {
        co_await QCoro::sleepFor(std::chrono::milliseconds(20));
        if (!self)
            co_return false;
    }
    if (!m_meta.id.isEmpty() || !m_client)
        co_return !m_meta.id.isEmpty();
    m_creatingChat = true;
    CreateSessionParams params;
    if (m_model->currentIndex() >= 0)
        params.model = m_model->currentText();
    const auto created = co_await m_client->createSession(params);
    if (!self)
        co_return false;
    m_creatingChat = false;
    if (!created) {
        showError(tr("Could not create a chat: %1").arg(created.error().message));
        co_return false;
    }
    if (m_meta.id.isEmpty() && m_draftKey.isEmpty())
        adoptNewChat(created->meta);
    co_return true;
}

QCoro::Task<> ChatPane::upload(quint64 key)
{
    QPointer<ChatPane> self(this);
    PendingFile *pending = pendingFile(key);
    if (!pending)
        co_return; // removed meanwhile
    const QString path = pending->path;
    const QImage image = pending->image;
    const QString name = pending->name;
    // Named, not a temporary of the co_await expression: g++ 12 destroys those twice.
    const auto read = [path, image, name] {
        return path.isEmpty() ? attachmentfiles::fromImage(image, name)
                              : attachmentfiles::readLocalFile(path);
    };
    QFuture<LocalFile> job = QtConcurrent::run(read);
    LocalFile file = co_await job;
    if (!self || !(pending = pendingFile(key)))
        co_return;
    pending->image = QImage();
    if (!file.error.isEmpty()) {
        pending->busy = false;
        pending->error = file.error;
        refreshChips();
        co_return;
    }
    pending->type = file.type;
    pending->size = file.bytes.size();
    pending->thumbnail = file.thumbnail;
    refreshChips();
    const QString sid = pending->sid;
    UploadParams params;
    params.name = file.name;
    params.type = file.type;
    params.bytes = std::move(file.bytes);
    const auto uploaded = co_await m_client->uploadAttachment(sid, std::move(params));
    if (!self || !(pending = pendingFile(key)))
        co_return; // removed while it uploaded: the service forgets unused uploads
    if (!uploaded) {
        pending->busy = false;
        pending->error = uploaded.error().message;
        refreshChips();
        co_return;
    }
    m_cache->insert(sid, uploaded->id, file.thumbnail);
    const bool forEdit = pending->forEdit;
    m_pendingFiles.removeIf([key](const PendingFile &f) { return f.key == key; });
    if (forEdit && isEditing() && m_draftKey == sid)
        m_editFiles << *uploaded;
    else
        storeFiles(sid, storedFiles(sid) << *uploaded);
    refreshChips();
}

void ChatPane::removeAttachment(const QString &chip)
{
    if (chip.startsWith(QLatin1String("p:"))) {
        const quint64 key = chip.mid(2).toULongLong();
        m_pendingFiles.removeIf([key](const PendingFile &f) { return f.key == key; });
    } else {
        const QString id = chip.mid(2);
        const auto other = [&id](const Attachment &a) { return a.id == id; };
        if (isEditing()) {
            m_editFiles.removeIf(other);
        } else {
            QList<Attachment> files = storedFiles(m_draftKey);
            files.removeIf(other);
            storeFiles(m_draftKey, files);
        }
    }
    refreshChips();
}

// What was sent leaves the chat's draft; files refused for it are forgotten too.
void ChatPane::clearSentFiles(const QString &sid, const QList<Attachment> &sent)
{
    QList<Attachment> files = storedFiles(sid);
    files.removeIf([&sent](const Attachment &a) { return sent.contains(a); });
    storeFiles(sid, files);
    m_pendingFiles.removeIf(
        [&sid](const PendingFile &f) { return f.sid == sid && !f.forEdit && !f.error.isEmpty(); });
    refreshChips();
}

void ChatPane::refreshChips()
{
    QList<AttachmentBar::Chip> chips;
    for (const Attachment &file : composerFiles()) {
        AttachmentBar::Chip chip;
        chip.key = QStringLiteral("a:") + file.id;
        chip.name = file.name;
        chip.type = file.type;
        chip.size = file.size;
        if (attachmentfiles::isImageType(file.type))
            chip.thumbnail = m_cache->thumbnail(m_draftKey, file.id);
        chips << chip;
    }
    for (const PendingFile &file : std::as_const(m_pendingFiles)) {
        if (file.sid != m_draftKey || file.forEdit != isEditing())
            continue;
        AttachmentBar::Chip chip;
        chip.key = QStringLiteral("p:") + QString::number(file.key);
        chip.name = file.name;
        chip.type = file.type;
        chip.size = file.size;
        chip.thumbnail = file.thumbnail;
        chip.busy = file.busy;
        chip.error = file.error;
        chips << chip;
    }
    m_attachments->setChips(chips);
}

// Files dragged onto the conversation: the same as dropping them on the composer.
bool ChatPane::eventFilter(QObject *watched, QEvent *event)
{
    if (watched != m_view->viewport())
        return QWidget::eventFilter(watched, event);
    const auto type = event->type();
    if (type != QEvent::DragEnter && type != QEvent::DragMove && type != QEvent::Drop)
        return QWidget::eventFilter(watched, event);
    auto *drop = static_cast<QDropEvent *>(event);
    const QStringList files = Composer::localFiles(drop->mimeData());
    const bool image = drop->mimeData()->hasImage();
    if ((files.isEmpty() && !image) || !m_client)
        return QWidget::eventFilter(watched, event);
    drop->setDropAction(Qt::CopyAction);
    drop->accept();
    if (type == QEvent::Drop) {
        if (!files.isEmpty())
            attachFiles(files);
        else
            attachImage(qvariant_cast<QImage>(drop->mimeData()->imageData()));
    }
    return true;
}

} // namespace holdfast
