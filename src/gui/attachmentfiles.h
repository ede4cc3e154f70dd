#pragma once

#include "core/error.h"
#include "core/types.h"

#include <QCoroTask>
#include <QImage>
#include <QObject>
#include <QPointer>
#include <QSize>
#include <QString>

#include <functional>
#include <memory>
#include <vector>

class QTemporaryDir;
class QWidget;

namespace holdfast {

class SessionClient;

// Files the window attaches and opens. The free functions do disk and image work: call them on a
// worker thread (QtConcurrent), never on the GUI thread.
namespace attachmentfiles {

// The size of the thumbnails in sent messages and chips: every thumbnail fills this box (cropped
// to it), so a placeholder and the picture that replaces it take the same room.
inline constexpr QSize kThumbnailBox{144, 108};
// A file larger than this is not read at all (the service's limit is far lower: it would only
// answer 413 after the window had read the whole file into memory).
inline constexpr qint64 kMaxReadBytes = qint64(1) << 30;

struct LocalFile
{
    QString name;
    QString type; // the media type the name and the first bytes suggest
    QByteArray bytes;
    QImage thumbnail; // images only
    QString error;    // could not be read: why
};

LocalFile readLocalFile(const QString &path);
// A pasted picture as a PNG file.
LocalFile fromImage(const QImage &image, const QString &name);
// Decodes `bytes` at the size of `box`, cropped to fill it (a null image when it is no picture).
QImage thumbnail(const QByteArray &bytes, QSize box = kThumbnailBox);
bool isImageType(const QString &type);
// "12 KB", "3.4 MB": the sizes shown on chips.
QString formatSize(qint64 bytes);
// A name safe to create in a folder of ours: no separators, no leading dot, and a suffix that
// matches the stored type (the desktop picks the handler by the suffix).
QString safeFileName(const Attachment &attachment);
// Writes `bytes` to `path` (owner read and write only); false when it could not.
bool writeFile(const QString &path, const QByteArray &bytes);

} // namespace attachmentfiles

// Opens a sent file with the desktop's handler (after writing it to a private temporary folder,
// mode 0700, removed when the window closes) or saves it where the user says.
class AttachmentOpener final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(AttachmentOpener)
public:
    using OpenFn = std::function<bool(const QUrl &)>;
    using ChooseFn = std::function<QString(QWidget *parent, const QString &suggested)>;

    explicit AttachmentOpener(QObject *parent = nullptr);
    ~AttachmentOpener() override;

    void setClient(SessionClient *client);
    // Tests: what opens a local file (default QDesktopServices::openUrl) and what asks where to
    // save one (default a QFileDialog; "" cancels).
    void setOpener(OpenFn open) { m_open = std::move(open); }
    void setSaveChooser(ChooseFn choose) { m_choose = std::move(choose); }
    QString folder() const; // the private folder ("" until the first file is opened)

    QCoro::Task<> open(QString sid, Attachment attachment);
    QCoro::Task<> saveAs(QString sid, Attachment attachment, QWidget *parent);

Q_SIGNALS:
    void opened(const QString &path);
    void saved(const QString &path);
    void failed(const QString &message);

private:
    QCoro::Task<Result<QByteArray>> fetch(const QString &sid, const QString &aid);

    QPointer<SessionClient> m_client;
    std::vector<std::shared_ptr<QTemporaryDir>> m_dirs; // the first is used; more only by a race
    OpenFn m_open;
    ChooseFn m_choose;
};

} // namespace holdfast
