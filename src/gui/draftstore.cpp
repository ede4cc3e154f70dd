#include "gui/draftstore.h"

#include <QCoroFuture>
#include <QCoroSignal>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLoggingCategory>
#include <QPointer>
#include <QSaveFile>
#include <QStandardPaths>
#include <QTimer>
#include <QtConcurrent/QtConcurrentRun>

Q_LOGGING_CATEGORY(lcDrafts, "holdfast.gui.drafts")

namespace holdfast {

namespace {
QString defaultPath()
{
    return QStandardPaths::writableLocation(QStandardPaths::AppDataLocation) +
           QStringLiteral("/drafts.json");
}

QJsonArray filesToJson(const QList<Attachment> &files)
{
    QJsonArray out;
    for (const Attachment &a : files)
        out.append(QJsonObject{{QStringLiteral("id"), a.id},
                               {QStringLiteral("name"), a.name},
                               {QStringLiteral("type"), a.type},
                               {QStringLiteral("size"), a.size}});
    return out;
}

QList<Attachment> filesFromJson(const QJsonArray &array)
{
    QList<Attachment> files;
    for (const QJsonValue &v : array) {
        const QJsonObject o = v.toObject();
        Attachment a;
        a.id = o.value(QStringLiteral("id")).toString();
        a.name = o.value(QStringLiteral("name")).toString();
        a.type = o.value(QStringLiteral("type")).toString();
        a.size = o.value(QStringLiteral("size")).toInteger();
        if (!a.id.isEmpty())
            files << a;
    }
    return files;
}
} // namespace

DraftStore::DraftStore(const QString &path, QObject *parent)
    : QObject(parent), m_path(path.isEmpty() ? defaultPath() : path), m_debounce(new QTimer(this))
{
    m_debounce->setSingleShot(true);
    m_debounce->setInterval(kDebounceMs);
    connect(m_debounce, &QTimer::timeout, this, [this] { write(); });
}

DraftStore::~DraftStore() = default;

void DraftStore::setDraft(const QString &sid, const QString &text)
{
    if (m_drafts.value(sid) == text)
        return;
    if (text.isEmpty())
        m_drafts.remove(sid);
    else
        m_drafts.insert(sid, text);
    changed();
}

void DraftStore::setAttachments(const QString &sid, const QList<Attachment> &files)
{
    if (m_files.value(sid) == files)
        return;
    if (files.isEmpty())
        m_files.remove(sid);
    else
        m_files.insert(sid, files);
    changed();
}

void DraftStore::changed()
{
    m_dirty = true;
    m_debounce->start();
}

QCoro::Task<> DraftStore::load()
{
    if (m_loaded || m_loading)
        co_return;
    m_loading = true;
    QPointer<DraftStore> self(this);
    const QString path = m_path;
    // Named, not a temporary of the co_await expression: g++ 12 destroys those twice.
    const auto read = [path] {
        QFile file(path);
        return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
    };
    QFuture<QByteArray> job = QtConcurrent::run(read);
    const QByteArray bytes = co_await job;
    if (!self)
        co_return;
    const QJsonObject stored = QJsonDocument::fromJson(bytes).object();
    for (auto it = stored.constBegin(); it != stored.constEnd(); ++it) {
        const QJsonObject entry = it.value().toObject();
        const QString text = it.value().isString() ? it.value().toString()
                                                   : entry.value(QStringLiteral("text")).toString();
        if (!m_drafts.contains(it.key()) && !text.isEmpty())
            m_drafts.insert(it.key(), text);
        const QList<Attachment> files =
            filesFromJson(entry.value(QStringLiteral("attachments")).toArray());
        if (!m_files.contains(it.key()) && !files.isEmpty())
            m_files.insert(it.key(), files);
    }
    m_loading = false;
    m_loaded = true;
    Q_EMIT loaded();
}

QCoro::Task<> DraftStore::flush()
{
    m_debounce->stop();
    QPointer<DraftStore> self(this);
    while (self && (m_dirty || m_writing)) {
        if (m_writing) {
            co_await qCoro(this, &DraftStore::written);
            continue;
        }
        co_await write();
    }
}

QCoro::Task<> DraftStore::write()
{
    if (m_writing)
        co_return; // the running write starts another one when it is done
    QPointer<DraftStore> self(this);
    m_writing = true;
    m_dirty = false;
    QJsonObject all;
    for (auto it = m_drafts.cbegin(); it != m_drafts.cend(); ++it)
        all.insert(it.key(), it.value());
    for (auto it = m_files.cbegin(); it != m_files.cend(); ++it)
        all.insert(it.key(), QJsonObject{{QStringLiteral("text"), m_drafts.value(it.key())},
                                         {QStringLiteral("attachments"), filesToJson(it.value())}});
    const QByteArray bytes = QJsonDocument(all).toJson(QJsonDocument::Compact);
    const QString path = m_path;
    const auto writeFile = [path, bytes] {
        QDir().mkpath(QFileInfo(path).absolutePath());
        QSaveFile out(path);
        return out.open(QIODevice::WriteOnly) && out.write(bytes) == bytes.size() && out.commit();
    };
    QFuture<bool> job = QtConcurrent::run(writeFile);
    const bool ok = co_await job;
    if (!self)
        co_return;
    m_writing = false;
    if (!ok)
        qCWarning(lcDrafts).noquote() << "could not write the drafts to" << path;
    Q_EMIT written(ok);
    if (m_dirty && !m_debounce->isActive())
        m_debounce->start();
}

} // namespace holdfast
