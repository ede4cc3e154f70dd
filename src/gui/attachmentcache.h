#pragma once

#include "core/error.h"

#include <QCache>
#include <QCoroTask>
#include <QImage>
#include <QObject>
#include <QPointer>
#include <QSet>

#include <functional>

namespace holdfast {

class SessionClient;

// Thumbnails of sent pictures, by (session, attachment): the bytes are fetched through the client
// and decoded on a worker thread, so a chat full of photos scrolls without waiting for any of
// them. Bounded: the least recently used thumbnails go when it holds more than kMaxCostKb.
class AttachmentCache final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(AttachmentCache)
public:
    using FetchFn = std::function<QCoro::Task<Result<QByteArray>>(QString sid, QString aid)>;

    explicit AttachmentCache(QObject *parent = nullptr);

    void setClient(SessionClient *client);
    void setFetch(FetchFn fetch) { m_fetch = std::move(fetch); }

    // The thumbnail when it is decoded; otherwise a null image, and it starts loading
    // (thumbnailReady follows, with a null image when it could not be had).
    QImage thumbnail(const QString &sid, const QString &aid);
    bool hasFailed(const QString &sid, const QString &aid) const;
    // A thumbnail the window decoded already (from the file it uploaded).
    void insert(const QString &sid, const QString &aid, const QImage &image);
    int loads() const { return m_loads; } // fetches started (tests: the cache is used)

    static constexpr int kMaxCostKb = 64 * 1024;

Q_SIGNALS:
    void thumbnailReady(const QString &sid, const QString &aid, const QImage &image);

private:
    QCoro::Task<> load(QString sid, QString aid);

    FetchFn m_fetch;
    QCache<QString, QImage> m_images;
    QSet<QString> m_loading;
    QSet<QString> m_failed;
    int m_loads = 0;
};

} // namespace holdfast
