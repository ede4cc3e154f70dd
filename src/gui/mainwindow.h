#pragma once

#include "core/types.h"
#include "gui/settingsdialog.h"

#include <QCoroTask>
#include <QMainWindow>
#include <QPointer>

class QLabel;
class QSplitter;

namespace holdfast {

class ChatPane;
class DraftStore;
class LiveTurns;
class SessionClient;
class SessionSidebar;

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

public Q_SLOTS:
    void newChat();
    void deleteCurrentChat();
    void openSettings();
    // mcp.json and the state of its servers (McpServersDialog).
    void openMcpServers(QWidget *parent = nullptr);
    void exportChat(bool asJson);
    // Help → Keyboard Shortcuts (ShortcutsDialog), not modal.
    void showShortcuts();

protected:
    void closeEvent(QCloseEvent *event) override;

private:
    void createActions();
    void restoreState();
    void saveState() const;
    void onTurnFinished(const TurnRecord &turn);
    QCoro::Task<> deleteTask(QString sid);
    QCoro::Task<> exportTask(QString sid, bool asJson);
    QCoro::Task<> saveSettings(SettingsDialog::Values values);
    void applyFontSize(int points);

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
};

} // namespace holdfast
