#pragma once

#include "core/types.h"
#include "gui/settingsdialog.h"

#include <QCoroTask>
#include <QMainWindow>
#include <QPointer>

#include <optional>

class QLabel;
class QSplitter;
class QSystemTrayIcon;

namespace holdfast {

class ChatPane;
class DraftStore;
class LiveTurns;
class Notifier;
class SessionClient;
class SessionSidebar;

// Merges `values` into the window's settings file (holdfast/window.ini) on a worker thread: the
// window never waits for the disk. windowStateWritten(): nothing is pending or being written.
void writeWindowState(const QVariantMap &values);
bool windowStateWritten();

// The window: chats on the left, the open chat on the right. It talks only to a SessionClient;
// it remembers its geometry, splitter and last open chat.
class MainWindow final : public QMainWindow
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(MainWindow)
public:
    explicit MainWindow(QWidget *parent = nullptr);
    ~MainWindow() override;

    // Connects the window to its service (it may open before the service has started).
    void setClient(SessionClient *client);
    // Shown in the status bar: where sessions live, and the URL the API is served on.
    void setServiceInfo(const QString &info);
    void setSettingsValues(const SettingsDialog::Values &values, const QString &configFile);
    void setKeychainAvailable(bool available); // the settings dialog keeps keys there or not
    // The keys and token read from the keychain, which arrive after the window opened: they fill
    // what is still empty, so the settings dialog shows them and a renamed provider keeps its key.
    void mergeSecrets(const SettingsDialog::Values &values);
    const SettingsDialog::Values &settingsValues() const { return m_settings; }
    void showStartupError(const QString &message);

    SessionSidebar *sidebar() const { return m_sidebar; }
    ChatPane *chatPane() const { return m_pane; }
    LiveTurns *liveTurns() const { return m_live; }
    DraftStore *drafts() const { return m_drafts; }
    QSystemTrayIcon *trayIcon() const { return m_tray; } // null while the setting is off
    Notifier *notifier() const { return m_notifier; }
    // Closing the window hides it to the tray: the setting is on and the desktop has a tray.
    bool closesToTray() const;
    // Tests: whether the desktop has a tray (unset: ask QSystemTrayIcon).
    static void overrideTrayAvailable(std::optional<bool> available);

    // The theme (SettingsDialog::Values::theme) applied to the application: "system" leaves the
    // desktop's palette, "light" and "dark" force one.
    static void applyTheme(const QString &theme);

public Q_SLOTS:
    void newChat();
    void quit(); // closes for good, also when closing hides the window to the tray
    void deleteCurrentChat();
    void openSettings();
    // mcp.json and the state of its servers (McpServersDialog).
    void openMcpServers(QWidget *parent = nullptr);
    void exportChat(bool asJson);
    // Help → Keyboard Shortcuts (ShortcutsDialog), not modal.
    void showShortcuts();

Q_SIGNALS:
    // Quit chosen while the window was hidden in the tray (no last window closes to end the
    // application).
    void quitRequested();

protected:
    void closeEvent(QCloseEvent *event) override;
    void changeEvent(QEvent *event) override;

private:
    void createActions();
    void restoreState();
    void saveState() const;
    void onTurnFinished(const TurnRecord &turn);
    QCoro::Task<> deleteTask(QString sid);
    QCoro::Task<> exportTask(QString sid, bool asJson);
    QCoro::Task<> saveSettings(SettingsDialog::Values values);
    void applyFontSize(int points);
    // The settings that apply to the window at once: font, theme, tray.
    void applyDesktopSettings();
    void updateTray();
    void repaintForPalette();

    QPointer<SessionClient> m_client;
    LiveTurns *m_live = nullptr;
    DraftStore *m_drafts;
    SessionSidebar *m_sidebar;
    ChatPane *m_pane;
    QSplitter *m_splitter;
    QLabel *m_banner;
    QLabel *m_serviceLabel;
    SettingsDialog::Values m_settings;
    QString m_configFile;
    QString m_lastSession;
    QSystemTrayIcon *m_tray = nullptr;
    Notifier *m_notifier;
    bool m_quitting = false;
};

} // namespace holdfast
