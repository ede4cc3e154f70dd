// The chat view for assistive technology: each shown message as "who, when: text" (with its
// version when it has others), and the view's accessible description saying how many are shown
// and the last one. Written when messages come, go or an answer ends; never per chunk of a live
// answer, which would cost O(answer) per chunk.
#include "gui/chatview.h"

#include <QLocale>

namespace holdfast {

namespace {
constexpr int kSpokenChars = 600; // of a message's text in the description: enough to know it
} // namespace

QString ChatView::accessibleMessage(int n) const
{
    if (n < 0 || n >= int(m_entries.size()))
        return {};
    const Entry &entry = m_entries[std::size_t(n)];
    const Message &message = entry.message;
    const bool live = entry.frame == m_streamFrame && m_stream;
    const QString who = message.role == QLatin1String("user") ? tr("You") : tr("Assistant");
    const QString when =
        message.createdAt.isValid()
            ? QLocale().toString(message.createdAt.toLocalTime(), QLocale::ShortFormat)
            : QString();
    QString text = live ? tr("writing…") : message.content.simplified();
    if (text.size() > kSpokenChars)
        text = text.left(kSpokenChars) + QStringLiteral("…");
    QString head = when.isEmpty() ? who : tr("%1, %2").arg(who, when);
    const qsizetype version = message.siblings.indexOf(message.index);
    if (message.siblings.size() > 1 && version >= 0)
        head = tr("%1, version %2 of %3").arg(head).arg(version + 1).arg(message.siblings.size());
    if (message.state == Message::State::Interrupted)
        head = tr("%1, interrupted").arg(head);
    else if (message.state == Message::State::Error)
        head = tr("%1, failed").arg(head);
    return tr("%1: %2").arg(head, text);
}

void ChatView::updateAccessibleSummary()
{
    const int n = int(m_entries.size());
    // Not "%n message(s)": English has no translation file to pick the plural from.
    if (n == 0)
        setAccessibleDescription(tr("No messages"));
    else if (n == 1)
        setAccessibleDescription(tr("One message shown: %1").arg(accessibleMessage(0)));
    else
        setAccessibleDescription(
            tr("%1 messages shown. Last: %2").arg(n).arg(accessibleMessage(n - 1)));
}

} // namespace holdfast
