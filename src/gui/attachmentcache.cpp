#include "gui/attachmentcache.h"

#include "client/sessionclient.h"
#include "gui/attachmentfiles.h"

#include <QCoroFuture>
#include <QtConcurrent/QtConcurrentRun>

namespace holdfast {

namespace {
QString keyOf(const QString &sid, const QString &aid)
{
    return sid + u'/' + aid;
}
} // namespace

AttachmentCache::AttachmentCache(QObject *parent) : QObject(parent), m_images(kMaxCostKb) {}

void AttachmentCache::setClient(SessionClient *client)
{
    QPointer<SessionClient> guarded(client);
    m_fetch = [guarded](QString sid, QString aid) -> QCoro::Task<Result<QByteArray>> {
        if (!guarded)
            co_return Error{ErrorCode::Unavailable, QStringLiteral("not connected")};
        co_return co_await guarded->attachmentBytes(std::move(sid), std::move(aid));
    };
}

QImage AttachmentCache::thumbnail(const QString &sid, const QString &aid)
{
    const QString key = keyOf(sid, aid);
    if (const QImage *image = m_images.object(key))
        return *image;
    if (!m_loading.contains(key) && !m_failed.contains(key) && m_fetch) {
        load(sid, aid);
        // The load may have finished already (its decode done before it was awaited).
        if (const QImage *image = m_images.object(key))
            return *image;
    }
    return {};
}

bool AttachmentCache::hasFailed(const QString &sid, const QString &aid) const
{
    return m_failed.contains(keyOf(sid, aid));
}

void AttachmentCache::insert(const QString &sid, const QString &aid, const QImage &image)
{
    if (image.isNull())
        return;
    m_images.insert(keyOf(sid, aid), new QImage(image), int(image.sizeInBytes() / 1024) + 1);
}

QCoro::Task<> AttachmentCache::load(QString sid, QString aid)
{
    QPointer<AttachmentCache> self(this);
    const QString key = keyOf(sid, aid);
    m_loading.insert(key);
    ++m_loads;
    const auto bytes = co_await m_fetch(sid, aid);
    if (!self)
        co_return;
    QImage image;
    if (bytes) {
        const QByteArray data = *bytes;
        // Named, not a temporary of the co_await expression: g++ 12 destroys those twice.
        const auto decode = [data] { return attachmentfiles::thumbnail(data); };
        QFuture<QImage> job = QtConcurrent::run(decode);
        image = co_await job;
        if (!self)
            co_return;
    }
    m_loading.remove(key);
    if (image.isNull())
        m_failed.insert(key);
    else
        insert(sid, aid, image);
    // Queued: whoever asked for it is not in the middle of its own update when it hears.
    QMetaObject::invokeMethod(
        this, [this, sid, aid, image] { Q_EMIT thumbnailReady(sid, aid, image); },
        Qt::QueuedConnection);
}

} // namespace holdfast
