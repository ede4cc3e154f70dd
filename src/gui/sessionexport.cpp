#include "gui/sessionexport.h"

#include "core/json.h"

#include <QJsonDocument>
#include <QLocale>

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
    return QJsonDocument(json::toJson(SessionSnapshot{meta, messages}))
        .toJson(QJsonDocument::Indented);
}

} // namespace holdfast::sessionexport
