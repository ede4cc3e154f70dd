#include "gui/sessionexport.h"

#include "client/sessionclient.h"
#include "core/json.h"
#include "gui/attachmentfiles.h"

#include <QDir>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLocale>
#include <QMap>
#include <QPointer>
#include <QSaveFile>
#include <QSet>
#include <QUrl>

namespace holdfast::sessionexport {

QHash<QString, QString> exportFileNames(const QList<Message> &messages)
{
    QHash<QString, QString> names;
    QSet<QString> taken;
    for (const Message &m : messages) {
        for (const Attachment &a : m.attachments) {
            if (names.contains(a.id))
                continue;
            QString name = attachmentfiles::safeFileName(a);
            if (taken.contains(name))
                name = a.id + u'-' + name;
            taken.insert(name);
            names.insert(a.id, name);
        }
    }
    return names;
}

QString filesFolderFor(const QString &markdownPath)
{
    const QFileInfo info(markdownPath);
    return info.dir().filePath(info.completeBaseName() + QStringLiteral("_files"));
}

QByteArray toMarkdown(const SessionMeta &meta, const QList<Message> &messages,
                      const QString &filesFolder)
{
    const QHash<QString, QString> names = exportFileNames(messages);
    QString out;
    out += QStringLiteral("# %1\n\n").arg(meta.title.isEmpty() ? meta.id : meta.title);
    out += QStringLiteral("_Model: %1 · exported %2_\n\n")
               .arg(meta.model, QDateTime::currentDateTimeUtc().toString(Qt::ISODate));
    if (!meta.system.isEmpty())
        out += QStringLiteral("> **System:** %1\n\n")
                   .arg(QString(meta.system).replace(u'\n', QStringLiteral("\n> ")));
    for (const Message &m : messages) {
        const QString who =
            m.role == QLatin1String("user") ? QStringLiteral("You") : QStringLiteral("Assistant");
        out += QStringLiteral("## %1").arg(who);
        if (m.state != Message::State::Complete)
            out += QStringLiteral(" (%1)").arg(messageStateName(m.state));
        out += QStringLiteral("\n\n") + m.content.trimmed() + QStringLiteral("\n\n");
        for (const Attachment &a : m.attachments) {
            // <…> keeps spaces and brackets in the target; the name is escaped for the link text.
            QString file = names.value(a.id);
            file.replace(u'%', QStringLiteral("%25"))
                .replace(u'<', QStringLiteral("%3C"))
                .replace(u'>', QStringLiteral("%3E"));
            const QString target =
                QStringLiteral("<%1/%2>").arg(QFileInfo(filesFolder).fileName(), file);
            QString label = a.name;
            for (const QChar c : {u'\\', u'[', u']', u'*', u'_', u'`'})
                label.replace(c, QStringLiteral("\\") + c);
            if (attachmentfiles::isImageType(a.type))
                out += QStringLiteral("![%1](%2)\n\n").arg(label, target);
            else
                out += QStringLiteral("📎 [%1](%2) (%3)\n\n")
                           .arg(label, target, attachmentfiles::formatSize(a.size));
        }
    }
    return out.toUtf8();
}

QByteArray toJson(const SessionMeta &meta, const QList<Message> &messages, const Files &files)
{
    QList<Message> byIndex = messages;
    std::sort(byIndex.begin(), byIndex.end(),
              [](const Message &a, const Message &b) { return a.index < b.index; });
    QJsonObject session = json::toJson(SessionSnapshot{meta, byIndex});
    QJsonArray history = session.value(QStringLiteral("history")).toArray();
    for (qsizetype i = 0; i < history.size() && i < byIndex.size(); ++i) {
        const Message &m = byIndex.at(i);
        if (m.attachments.isEmpty())
            continue;
        QJsonObject message = history.at(i).toObject();
        QJsonArray attachments;
        for (const Attachment &a : m.attachments) {
            QJsonObject o{{QStringLiteral("id"), a.id},
                          {QStringLiteral("name"), a.name},
                          {QStringLiteral("type"), a.type},
                          {QStringLiteral("size"), a.size}};
            if (a.createdAt.isValid())
                o.insert(QStringLiteral("created_at"), a.createdAt.toString(Qt::ISODateWithMs));
            if (files.contains(a.id))
                o.insert(QStringLiteral("data"), QString::fromLatin1(files.value(a.id).toBase64()));
            attachments.append(o);
        }
        message.insert(QStringLiteral("attachments"), attachments);
        history[i] = message;
    }
    session.insert(QStringLiteral("history"), history);
    return QJsonDocument(session).toJson(QJsonDocument::Indented);
}

bool writeMarkdown(const QString &path, const QByteArray &markdown, const QList<Message> &messages,
                   const Files &files)
{
    const QHash<QString, QString> names = exportFileNames(messages);
    if (!names.isEmpty()) {
        const QString folder = filesFolderFor(path);
        if (!QDir().mkpath(folder))
            return false;
        for (auto it = names.cbegin(); it != names.cend(); ++it) {
            QSaveFile out(QDir(folder).filePath(it.value()));
            const QByteArray bytes = files.value(it.key());
            if (!out.open(QIODevice::WriteOnly) || out.write(bytes) != bytes.size() ||
                !out.commit())
                return false;
        }
    }
    QSaveFile out(path);
    return out.open(QIODevice::WriteOnly) && out.write(markdown) == markdown.size() && out.commit();
}

QCoro::Task<Result<Files>> readFiles(SessionClient *client, QString sid, QList<Message> messages)
{
    QPointer<SessionClient> alive(client);
    Files files;
    for (const Message &m : messages) {
        for (const Attachment &a : m.attachments) {
            if (files.contains(a.id))
                continue;
            const auto bytes = co_await client->attachmentBytes(sid, a.id);
            if (!alive)
                co_return Error{ErrorCode::Unavailable, QStringLiteral("the service went away")};
            if (!bytes)
                co_return bytes.error();
            files.insert(a.id, *bytes);
        }
    }
    co_return files;
}

namespace {
constexpr int kPage = 200;

// The messages of the active branch from its newest down to (and with) `stopAt` (-1: its first).
QCoro::Task<Result<QList<Message>>> readDownTo(SessionClient *client, QString sid, qint64 stopAt)
{
    QPointer<SessionClient> alive(client);
    QList<Message> all;
    qint64 before = -1;
    for (;;) {
        const auto page = co_await client->messages(sid, before, kPage);
        if (!alive)
            co_return Error{ErrorCode::Unavailable, QStringLiteral("the service went away")};
        if (!page)
            co_return page.error();
        all = page->messages + all;
        if (page->messages.size() < kPage || page->messages.first().index <= stopAt ||
            page->messages.first().parent < 0)
            break;
        before = page->messages.first().index;
    }
    co_return all;
}
} // namespace

QCoro::Task<Result<QList<Message>>> readBranch(SessionClient *client, QString sid)
{
    co_return co_await readDownTo(client, sid, -1);
}

QCoro::Task<Result<QList<Message>>> readTree(SessionClient *client, QString sid)
{
    QPointer<SessionClient> alive(client);
    const auto first = co_await readDownTo(client, sid, -1);
    if (!first || !alive)
        co_return first;
    QMap<qint64, Message> known;
    for (const Message &m : *first)
        known.insert(m.index, m);
    const qint64 head = first->isEmpty() ? -1 : first->last().index;
    bool switched = false;
    std::optional<Error> failure;
    // Each version not read yet: make its branch active, read it down to that version.
    for (;;) {
        qint64 next = -1;
        for (const Message &m : std::as_const(known)) {
            for (const qint64 s : m.siblings) {
                if (!known.contains(s) && (next < 0 || s < next))
                    next = s;
            }
        }
        if (next < 0)
            break;
        PatchSessionParams params;
        params.head = next;
        const auto patched = co_await client->patchSession(sid, params);
        if (!alive)
            co_return Error{ErrorCode::Unavailable, QStringLiteral("the service went away")};
        if (!patched) {
            failure = patched.error();
            break;
        }
        switched = true;
        const auto branch = co_await readDownTo(client, sid, next);
        if (!alive)
            co_return Error{ErrorCode::Unavailable, QStringLiteral("the service went away")};
        if (!branch) {
            failure = branch.error();
            break;
        }
        if (!std::any_of(branch->cbegin(), branch->cend(),
                         [next](const Message &m) { return m.index == next; })) {
            failure =
                Error{ErrorCode::Internal,
                      QStringLiteral("message %1 is on no branch the service shows").arg(next)};
            break;
        }
        for (const Message &m : *branch)
            known.insert(m.index, m);
    }
    if (switched && head >= 0) {
        PatchSessionParams params;
        params.head = head; // the branch that was active is active again
        const auto restored = co_await client->patchSession(sid, params);
        if (!failure && !restored)
            failure = restored.error();
    }
    if (failure)
        co_return *failure;
    co_return known.values();
}

} // namespace holdfast::sessionexport
