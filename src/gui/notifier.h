#pragma once

#include <QObject>
#include <QPointer>

class QSystemTrayIcon;

namespace holdfast {

// Says that an answer finished, through the desktop's notification service
// (org.freedesktop.Notifications over D-Bus) where there is one; where there is none, or it
// refuses, through the tray icon's balloon (QSystemTrayIcon::showMessage). Nothing blocks: the
// D-Bus call is asynchronous.
class Notifier final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(Notifier)
public:
    explicit Notifier(QObject *parent = nullptr);

    // Whether the end of an answer in `sid` is announced: never for the chat the user is looking
    // at (shown in the window while it is active), always for another chat or a window in the
    // background.
    static bool shouldNotify(const QString &sid, const QString &shownSid, bool windowActive);

    // The fallback's icon; none: a tray icon of the notifier's own, made when first needed.
    void setTray(QSystemTrayIcon *tray);
    void notify(const QString &summary, const QString &body);

Q_SIGNALS:
    // How the last notification went out: true through D-Bus, false through the tray (or not at
    // all, when there is neither).
    void sent(bool viaDBus);

private:
    void showInTray(const QString &summary, const QString &body);

    QPointer<QSystemTrayIcon> m_tray;
    QSystemTrayIcon *m_ownTray = nullptr;
};

} // namespace holdfast
