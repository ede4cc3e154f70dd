#include "gui/attachmentfiles.h"

#include "client/sessionclient.h"

#include <QBuffer>
#include <QCoroFuture>
#include <QDesktopServices>
#include <QDir>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QImageReader>
#include <QLocale>
#include <QMimeDatabase>
#include <QPainter>
#include <QPainterPath>
#include <QSaveFile>
#include <QTemporaryDir>
#include <QUrl>
#include <QtConcurrent/QtConcurrentRun>

namespace holdfast {

namespace {
constexpr QFileDevice::Permissions kOwnerOnly = QFileDevice::ReadOwner | QFileDevice::WriteOwner;
constexpr QFileDevice::Permissions kOwnerDir = kOwnerOnly | QFileDevice::ExeOwner;
} // namespace

namespace attachmentfiles {

bool isImageType(const QString &type)
{
    return type.startsWith(QLatin1String("image/"));
}

LocalFile readLocalFile(const QString &path)
{
    LocalFile file;
    const QFileInfo info(path);
    file.name = info.fileName();
    QFile in(path);
    if (info.isDir()) {
        file.error = QObject::tr("%1 is a folder").arg(file.name);
        return file;
    }
    if (info.size() > kMaxReadBytes) {
        file.error =
            QObject::tr("%1 is too large to attach (%2)").arg(file.name, formatSize(info.size()));
        return file;
    }
    if (!in.open(QIODevice::ReadOnly)) {
        file.error = QObject::tr("Could not read %1: %2").arg(file.name, in.errorString());
        return file;
    }
    file.bytes = in.readAll();
    file.type = QMimeDatabase().mimeTypeForFileNameAndData(path, file.bytes).name();
    if (isImageType(file.type))
        file.thumbnail = thumbnail(file.bytes);
    return file;
}

LocalFile fromImage(const QImage &image, const QString &name)
{
    LocalFile file;
    file.name = name;
    file.type = QStringLiteral("image/png");
    QBuffer out(&file.bytes);
    out.open(QIODevice::WriteOnly);
    if (!image.save(&out, "PNG"))
        file.error = QObject::tr("The pasted picture could not be converted to PNG");
    else
        file.thumbnail = thumbnail(file.bytes);
    return file;
}

QImage thumbnail(const QByteArray &bytes, QSize box)
{
    QBuffer in;
    in.setData(bytes);
    in.open(QIODevice::ReadOnly);
    QImageReader reader(&in);
    reader.setAutoTransform(true);
    QSize size = reader.size();
    if (size.isValid() && !size.isEmpty()) {
        if (reader.transformation() & QImageIOHandler::TransformationRotate90)
            size.transpose();
        // Decoded at the size that covers the box, then cut to it: a big photo never lives in
        // memory at full size when its format can scale while decoding (JPEG).
        const QSize cover = size.scaled(box, Qt::KeepAspectRatioByExpanding);
        if (!(reader.transformation() & QImageIOHandler::TransformationRotate90))
            reader.setScaledSize(cover);
    }
    QImage image = reader.read();
    if (image.isNull())
        return {};
    image = image.scaled(box, Qt::KeepAspectRatioByExpanding, Qt::SmoothTransformation);
    const QImage cropped =
        image.copy((image.width() - box.width()) / 2, (image.height() - box.height()) / 2,
                   box.width(), box.height());
    // Rounded corners, as the placeholder and the chips have.
    QImage rounded(box, QImage::Format_ARGB32_Premultiplied);
    rounded.fill(Qt::transparent);
    QPainter p(&rounded);
    p.setRenderHint(QPainter::Antialiasing);
    QPainterPath corners;
    corners.addRoundedRect(QRectF(0, 0, box.width(), box.height()), 6, 6);
    p.setClipPath(corners);
    p.drawImage(0, 0, cropped);
    return rounded;
}

QString formatSize(qint64 bytes)
{
    return QLocale().formattedDataSize(bytes, 1, QLocale::DataSizeTraditionalFormat);
}

QString safeFileName(const Attachment &attachment)
{
    QString name = attachment.name;
    for (QChar &c : name) {
        if (c == u'/' || c == u'\\' || c.category() == QChar::Other_Control)
            c = u'_';
    }
    while (name.startsWith(u'.'))
        name.remove(0, 1);
    if (name.isEmpty())
        name = QStringLiteral("attachment");
    const QMimeType type = QMimeDatabase().mimeTypeForName(attachment.type);
    const QString suffix = QFileInfo(name).suffix().toLower();
    if (type.isValid() && !type.preferredSuffix().isEmpty() &&
        !type.suffixes().contains(suffix, Qt::CaseInsensitive))
        name += u'.' + type.preferredSuffix();
    return name;
}

bool writeFile(const QString &path, const QByteArray &bytes)
{
    QSaveFile out(path);
    if (!out.open(QIODevice::WriteOnly) || out.write(bytes) != bytes.size())
        return false;
    out.setPermissions(kOwnerOnly);
    return out.commit();
}

} // namespace attachmentfiles

AttachmentOpener::AttachmentOpener(QObject *parent)
    : QObject(parent), m_open([](const QUrl &url) { return QDesktopServices::openUrl(url); }),
      m_choose([](QWidget *parent, const QString &suggested) {
          return QFileDialog::getSaveFileName(parent, tr("Save Attachment"), suggested);
      })
{}

AttachmentOpener::~AttachmentOpener() = default;

void AttachmentOpener::setClient(SessionClient *client)
{
    m_client = client;
}

QString AttachmentOpener::folder() const
{
    return m_dirs.empty() ? QString() : m_dirs.front()->path();
}

QCoro::Task<Result<QByteArray>> AttachmentOpener::fetch(const QString &sid, const QString &aid)
{
    if (!m_client)
        co_return Error{ErrorCode::Unavailable, tr("not connected")};
    co_return co_await m_client->attachmentBytes(sid, aid);
}

QCoro::Task<> AttachmentOpener::open(QString sid, Attachment attachment)
{
    QPointer<AttachmentOpener> self(this);
    const auto bytes = co_await fetch(sid, attachment.id);
    if (!self)
        co_return;
    if (!bytes) {
        Q_EMIT failed(tr("Could not open %1: %2").arg(attachment.name, bytes.error().message));
        co_return;
    }
    // One folder per attachment keeps two files of the same name apart.
    const QString existing = folder();
    const QString name = attachmentfiles::safeFileName(attachment);
    const QByteArray data = *bytes;
    const QString id = attachment.id;
    struct Written
    {
        std::shared_ptr<QTemporaryDir> dir; // made here when there was none yet
        QString path;
    };
    const auto write = [existing, name, data, id] {
        Written out;
        QString base = existing;
        if (base.isEmpty()) {
            out.dir = std::make_shared<QTemporaryDir>(QDir::tempPath() +
                                                      QStringLiteral("/holdfast-files-XXXXXX"));
            if (!out.dir->isValid())
                return out;
            QFile::setPermissions(out.dir->path(), kOwnerDir);
            base = out.dir->path();
        }
        const QString sub = base + u'/' + id;
        if (!QDir().mkpath(sub))
            return out;
        QFile::setPermissions(sub, kOwnerDir);
        const QString path = sub + u'/' + name;
        if (attachmentfiles::writeFile(path, data))
            out.path = path;
        return out;
    };
    QFuture<Written> job = QtConcurrent::run(write);
    Written written = co_await job;
    if (!self)
        co_return;
    if (written.dir)
        m_dirs.push_back(written.dir); // removed with the opener (the window)
    if (written.path.isEmpty()) {
        Q_EMIT failed(tr("Could not write %1 to a temporary folder").arg(attachment.name));
        co_return;
    }
    if (!m_open(QUrl::fromLocalFile(written.path))) {
        Q_EMIT failed(tr("No application opens %1").arg(attachment.name));
        co_return;
    }
    Q_EMIT opened(written.path);
}

QCoro::Task<> AttachmentOpener::saveAs(QString sid, Attachment attachment, QWidget *parent)
{
    QPointer<AttachmentOpener> self(this);
    const QString path = m_choose(parent, attachmentfiles::safeFileName(attachment));
    if (!self || path.isEmpty())
        co_return;
    const auto bytes = co_await fetch(sid, attachment.id);
    if (!self)
        co_return;
    if (!bytes) {
        Q_EMIT failed(tr("Could not save %1: %2").arg(attachment.name, bytes.error().message));
        co_return;
    }
    const QByteArray data = *bytes;
    const auto write = [path, data] {
        QSaveFile out(path);
        return out.open(QIODevice::WriteOnly) && out.write(data) == data.size() && out.commit();
    };
    QFuture<bool> job = QtConcurrent::run(write);
    const bool ok = co_await job;
    if (!self)
        co_return;
    if (ok)
        Q_EMIT saved(path);
    else
        Q_EMIT failed(tr("Could not write %1").arg(path));
}

} // namespace holdfast
