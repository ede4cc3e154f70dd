#include "gui/notifier.h"

#include "gui/icons.h"

#include <QDBusConnection>
#include <QDBusMessage>
#include <QDBusPendingCallWatcher>
#include <QDBusPendingReply>
#include <QSystemTrayIcon>

namespace holdfast {

Notifier::Notifier(QObject *parent) : QObject(parent) {}

bool Notifier::shouldNotify(const QString &sid, const QString &shownSid, bool windowActive)
{
    return !windowActive || sid != shownSid;
}

void Notifier::setTray(QSystemTrayIcon *tray)
{
    m_tray = tray;
}

void Notifier::notify(const QString &summary, const QString &body)
{
    QDBusConnection bus = QDBusConnection::sessionBus();
    if (!bus.isConnected()) {
        showInTray(summary, body);
        return;
    }
    QDBusMessage call = QDBusMessage::createMethodCall(
        QStringLiteral("org.freedesktop.Notifications"),
        QStringLiteral("/org/freedesktop/Notifications"),
        QStringLiteral("org.freedesktop.Notifications"), QStringLiteral("Notify"));
    // app_name, replaces_id, app_icon, summary, body, actions, hints, expire_timeout (ms)
    call << QStringLiteral("Holdfast") << 0u << QStringLiteral("holdfast") << summary << body
         << QStringList() << QVariantMap() << 5000;
    auto *watcher = new QDBusPendingCallWatcher(bus.asyncCall(call), this);
    connect(watcher, &QDBusPendingCallWatcher::finished, this, [this, watcher, summary, body] {
        watcher->deleteLater();
        if (watcher->isError()) {
            showInTray(summary, body); // no notification service on this bus
            return;
        }
        Q_EMIT sent(true);
    });
}

void Notifier::showInTray(const QString &summary, const QString &body)
{
    QSystemTrayIcon *tray = m_tray;
    if (!tray && QSystemTrayIcon::isSystemTrayAvailable()) {
        if (!m_ownTray) {
            m_ownTray = new QSystemTrayIcon(icons::appIcon(), this);
            m_ownTray->show();
        }
        tray = m_ownTray;
    }
    if (tray && QSystemTrayIcon::supportsMessages())
        tray->showMessage(summary, body, icons::appIcon(), 5000);
    Q_EMIT sent(false);
}

} // namespace holdfast
