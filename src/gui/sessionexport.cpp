#include "gui/sessionexport.h"

#include "client/sessionclient.h"
#include "core/json.h"

#include <QJsonDocument>
#include <QLocale>
#include <QMap>
#include <QPointer>

namespace holdfast::sessionexport {

QByteArray toMarkdown(const SessionMeta &meta, const QList<Message> &messages)
{
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
    }
    return out.toUtf8();
}

QByteArray toJson(const SessionMeta &meta, const QList<Message> &messages)
{
    QList<Message> byIndex = messages;
    std::sort(byIndex.begin(), byIndex.end(),
              [](const Message &a, const Message &b) { return a.index < b.index; });
    return QJsonDocument(json::toJson(SessionSnapshot{meta, byIndex}))
        .toJson(QJsonDocument::Indented);
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
