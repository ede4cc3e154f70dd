// SessionService and attachments (shared/API.md, Attachments): uploads with their checks, reading
// a file back, and the files of a turn's prompt and of the branch before it, which go to the
// model with their bytes.
#include "core/attachmentrules.h"
#include "core/session.h"
#include "core/sessionservice.h"
#include "core/store.h"

#include <QSet>
#include <QUuid>

namespace holdfast {

namespace {
Error attachmentNotFound(const QString &sid, const QString &aid)
{
    return makeError(ErrorCode::NotFound, QStringLiteral("attachment '%1' of session '%2' does "
                                                         "not exist")
                                              .arg(aid.left(80), sid));
}
} // namespace

QCoro::Task<Result<Attachment>> SessionService::uploadAttachment(QString sid, UploadParams params)
{
    if (m_stopping)
        co_return makeError(ErrorCode::Unavailable, QStringLiteral("the server is shutting down"));
    const auto acquired = co_await acquire(sid); // 400 for a bad id, 404 for an unknown session
    if (!acquired)
        co_return acquired.error();
    // API.md's order: 413, 415, 400, 422. (Over HTTP the 413 came from the request's head.)
    if (params.bytes.size() > m_config.maxAttachmentBytes)
        co_return makeError(ErrorCode::PayloadTooLarge,
                            QStringLiteral("the file is %1 bytes; the limit is %2 bytes")
                                .arg(params.bytes.size())
                                .arg(m_config.maxAttachmentBytes));
    const auto type = attachments::storedType(params.type.toLatin1(), params.bytes);
    if (!type)
        co_return type.error();
    if (params.bytes.isEmpty())
        co_return makeError(ErrorCode::BadRequest, QStringLiteral("the file is empty"));
    const auto name = attachments::checkedName(params.name);
    if (!name)
        co_return name.error();
    if (auto mismatch = attachments::checkBytes(*type, params.bytes))
        co_return *mismatch;

    Attachment meta;
    meta.id = QUuid::createUuid().toString(QUuid::Id128);
    meta.name = *name;
    meta.type = *type;
    meta.size = params.bytes.size();
    meta.createdAt = QDateTime::currentDateTimeUtc();
    SessionPin pin(*acquired);
    const Status stored = co_await m_store->putAttachment(sid, meta, std::move(params.bytes));
    if (!stored)
        co_return stored.error();
    co_return meta;
}

QCoro::Task<Result<AttachmentContent>> SessionService::attachment(QString sid, QString aid)
{
    const auto acquired = co_await acquire(sid);
    if (!acquired)
        co_return acquired.error();
    if (!isValidSessionId(aid)) // ids follow the session id rule: anything else names none
        co_return attachmentNotFound(sid, aid);
    SessionPin pin(*acquired);
    const auto meta = co_await m_store->loadAttachment(sid, aid);
    if (!meta)
        co_return meta.error();
    if (!*meta)
        co_return attachmentNotFound(sid, aid);
    const auto bytes = co_await m_store->loadAttachmentBytes(sid, aid);
    if (!bytes)
        co_return bytes.error();
    if (!*bytes)
        co_return attachmentNotFound(sid, aid);
    co_return AttachmentContent{**meta, **bytes};
}

QCoro::Task<Result<QList<Attachment>>> SessionService::promptAttachments(QString sid,
                                                                         QStringList ids)
{
    QList<Attachment> files;
    if (ids.size() > attachments::kMaxPerMessage)
        co_return makeError(ErrorCode::Invalid,
                            QStringLiteral("a message takes at most %1 attachments; %2 were given")
                                .arg(attachments::kMaxPerMessage)
                                .arg(ids.size()));
    QSet<QString> seen;
    for (const QString &aid : std::as_const(ids)) {
        if (seen.contains(aid))
            co_return makeError(
                ErrorCode::Invalid,
                QStringLiteral("attachment '%1' is listed twice").arg(aid.left(80)));
        seen.insert(aid);
        const QString unknown =
            QStringLiteral("attachment '%1' is not an attachment of session '%2'")
                .arg(aid.left(80), sid);
        if (!isValidSessionId(aid))
            co_return makeError(ErrorCode::Invalid, unknown);
        const auto meta = co_await m_store->loadAttachment(sid, aid);
        if (!meta)
            co_return meta.error();
        if (!*meta)
            co_return makeError(ErrorCode::Invalid, unknown);
        files.append(**meta);
    }
    co_return files;
}

QCoro::Task<Result<QHash<QString, QByteArray>>>
SessionService::attachmentBytes(QString sid, QList<Message> path, QList<Attachment> prompt)
{
    QHash<QString, QByteArray> bytes;
    QStringList ids;
    for (const Message &m : std::as_const(path)) {
        for (const Attachment &a : m.attachments)
            ids.append(a.id);
    }
    for (const Attachment &a : std::as_const(prompt))
        ids.append(a.id);
    for (const QString &aid : std::as_const(ids)) {
        if (bytes.contains(aid))
            continue; // one file used again: read once, shared
        const auto loaded = co_await m_store->loadAttachmentBytes(sid, aid);
        if (!loaded)
            co_return loaded.error();
        if (!*loaded)
            co_return makeError(ErrorCode::Internal,
                                QStringLiteral("the bytes of attachment '%1' of session '%2' are "
                                               "missing")
                                    .arg(aid, sid));
        bytes.insert(aid, **loaded);
    }
    co_return bytes;
}

void SessionService::fillAttachments(QList<ChatMessage> &messages,
                                     const QHash<QString, QByteArray> &bytes)
{
    for (ChatMessage &m : messages) {
        for (AttachmentContent &a : m.attachments)
            a.bytes = bytes.value(a.meta.id);
    }
}

} // namespace holdfast
