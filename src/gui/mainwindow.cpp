#include "gui/mainwindow.h"

#include "client/sessionclient.h"
#include "gui/chatpane.h"
#include "gui/chatview.h"
#include "gui/composer.h"
#include "gui/draftstore.h"
#include "gui/icons.h"
#include "gui/liveturns.h"
#include "gui/mcpserversdialog.h"
#include "gui/notifier.h"
#include "gui/providercontrol.h"
#include "gui/sessionexport.h"
#include "gui/sessionlistmodel.h"
#include "gui/sessionsidebar.h"
#include "gui/shortcutsdialog.h"

#include <QAction>
#include <QApplication>
#include <QClipboard>
#include <QCloseEvent>
#include <QComboBox>
#include <QCoroFuture>
#include <QFile>
#include <QFileDialog>
#include <QLabel>
#include <QLineEdit>
#include <QListView>
#include <QMenu>
#include <QMenuBar>
#include <QMessageBox>
#include <QMutex>
#include <QSaveFile>
#include <QSettings>
#include <QSplitter>
#include <QStatusBar>
#include <QSystemTrayIcon>
#include <QThreadPool>
#include <QToolButton>
#include <QVBoxLayout>
#include <QtConcurrent/QtConcurrentRun>

static void initResources()
{
    Q_INIT_RESOURCE(holdfast);
}

namespace holdfast {

namespace {
QSettings windowSettings()
{
    return QSettings(QSettings::IniFormat, QSettings::UserScope, QStringLiteral("holdfast"),
                     QStringLiteral("window"));
}

// What waits to be written to the window's settings file. One worker at a time writes it, taking
// whatever is pending, so the newest values are the ones that land; the application waits for the
// global pool at exit, so the last write is not lost.
struct PendingState
{
    QMutex mutex;
    QVariantMap values;
    bool running = false;
};

PendingState &pendingState()
{
    static PendingState pending;
    return pending;
}
} // namespace

void writeWindowState(const QVariantMap &values)
{
    PendingState &pending = pendingState();
    const QMutexLocker lock(&pending.mutex);
    for (auto it = values.cbegin(); it != values.cend(); ++it)
        pending.values.insert(it.key(), it.value());
    if (pending.running)
        return; // the running worker takes these too
    pending.running = true;
    QThreadPool::globalInstance()->start([] {
        PendingState &p = pendingState();
        for (;;) {
            QVariantMap batch;
            {
                const QMutexLocker inner(&p.mutex);
                if (p.values.isEmpty()) {
                    p.running = false;
                    return;
                }
                batch.swap(p.values);
            }
            QSettings s = windowSettings();
            for (auto it = batch.cbegin(); it != batch.cend(); ++it)
                s.setValue(it.key(), it.value());
            s.sync();
        }
    });
}

namespace {
std::optional<bool> &trayOverride()
{
    static std::optional<bool> available;
    return available;
}

bool &themeForced()
{
    static bool forced = false;
    return forced;
}

QPalette forcedPalette(bool dark)
{
    QPalette p;
    const auto set = [&p](QPalette::ColorRole role, QRgb light, QRgb darkColour, bool isDark) {
        p.setColor(role, QColor(isDark ? darkColour : light));
    };
    set(QPalette::Window, 0xf3f4f6, 0x1f2328, dark);
    set(QPalette::WindowText, 0x1f2328, 0xe6e6e6, dark);
    set(QPalette::Base, 0xffffff, 0x16191d, dark);
    set(QPalette::AlternateBase, 0xf0f2f5, 0x22262b, dark);
    set(QPalette::Text, 0x1f2328, 0xe6e6e6, dark);
    set(QPalette::Button, 0xeceef1, 0x2a2f35, dark);
    set(QPalette::ButtonText, 0x1f2328, 0xe6e6e6, dark);
    set(QPalette::Highlight, 0x2f6fde, 0x3d8bfd, dark);
    set(QPalette::HighlightedText, 0xffffff, 0xffffff, dark);
    set(QPalette::Mid, 0xb8bcc2, 0x444a52, dark);
    set(QPalette::Midlight, 0xdfe2e6, 0x33383e, dark);
    set(QPalette::Light, 0xffffff, 0x3a4047, dark);
    set(QPalette::Dark, 0x9aa0a6, 0x101215, dark);
    set(QPalette::PlaceholderText, 0x6e7781, 0x8a9098, dark);
    set(QPalette::ToolTipBase, 0xffffe1, 0x2a2f35, dark);
    set(QPalette::ToolTipText, 0x1f2328, 0xe6e6e6, dark);
    set(QPalette::Link, 0x0969da, 0x58a6ff, dark);
    for (const auto role : {QPalette::Text, QPalette::WindowText, QPalette::ButtonText})
        p.setColor(QPalette::Disabled, role, QColor(dark ? 0x6a7078 : 0x8c959f));
    return p;
}
} // namespace

void MainWindow::overrideTrayAvailable(std::optional<bool> available)
{
    trayOverride() = available;
}

void MainWindow::applyTheme(const QString &theme)
{
    if (theme == QLatin1String("light") || theme == QLatin1String("dark")) {
        themeForced() = true;
        QApplication::setPalette(forcedPalette(theme == QLatin1String("dark")));
    } else if (themeForced()) {
        // An empty palette resolves every role from the desktop's again, so it follows the
        // desktop's changes (left alone when never forced: a test may have set its own).
        themeForced() = false;
        QApplication::setPalette(QPalette());
    }
}

bool windowStateWritten()
{
    PendingState &pending = pendingState();
    const QMutexLocker lock(&pending.mutex);
    return !pending.running;
}

MainWindow::MainWindow(QWidget *parent)
    : QMainWindow(parent), m_drafts(new DraftStore({}, this)), m_sidebar(new SessionSidebar(this)),
      m_pane(new ChatPane(this)), m_splitter(new QSplitter(this)), m_banner(new QLabel(this)),
      m_serviceLabel(new QLabel(this)), m_notifier(new Notifier(this))
{
    initResources();
    setWindowTitle(QStringLiteral("Holdfast"));
    setWindowIcon(icons::appIcon());
    QFile style(QStringLiteral(":/holdfast/style.qss"));
    if (style.open(QIODevice::ReadOnly))
        setStyleSheet(QString::fromUtf8(style.readAll()));

    m_banner->setObjectName(QStringLiteral("connectionBanner"));
    m_banner->setWordWrap(true);
    m_banner->setTextFormat(Qt::PlainText); // it quotes errors from elsewhere
    m_banner->hide();
    m_splitter->addWidget(m_sidebar);
    m_splitter->addWidget(m_pane);
    m_splitter->setStretchFactor(1, 1);
    m_splitter->setChildrenCollapsible(false);
    m_splitter->setHandleWidth(1);
    m_sidebar->setMinimumWidth(200);
    m_splitter->setSizes({270, 730});

    auto *central = new QWidget(this);
    auto *layout = new QVBoxLayout(central);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(0);
    layout->addWidget(m_banner);
    layout->addWidget(m_splitter, 1);
    setCentralWidget(central);
    statusBar()->addPermanentWidget(m_serviceLabel);
    m_serviceLabel->setText(tr("Starting the service…"));

    createActions();
    connect(m_sidebar, &SessionSidebar::sessionActivated, m_pane, &ChatPane::openSession);
    connect(m_sidebar, &SessionSidebar::newChatRequested, this, &MainWindow::newChat);
    connect(m_sidebar, &SessionSidebar::errorOccurred, m_pane, &ChatPane::showError);
    connect(m_pane, &ChatPane::sessionOpened, this, [this](const QString &sid) {
        m_lastSession = sid;
        m_sidebar->selectSession(sid);
        // Saved now, not only at close: after a crash the window reopens on this chat.
        writeWindowState({{QStringLiteral("lastSession"), sid}});
    });
    connect(m_pane, &ChatPane::statusMessage, this,
            [this](const QString &message) { statusBar()->showMessage(message, 6000); });
    restoreState();
    m_pane->setDrafts(m_drafts);
    m_drafts->load();
    m_pane->setEnabled(false);
    m_sidebar->setEnabled(false);
}

// The drafts' last write runs on a worker thread, which the application waits for at exit.
MainWindow::~MainWindow()
{
    m_drafts->flush();
}

void MainWindow::createActions()
{
    QMenu *file = menuBar()->addMenu(tr("&File"));
    QAction *newChat = file->addAction(icons::icon(icons::Name::NewChat), tr("&New Chat"), this,
                                       &MainWindow::newChat);
    newChat->setShortcut(QKeySequence::New);
    file->addSeparator();
    file->addAction(icons::icon(icons::Name::Export), tr("Export as &Markdown…"), this,
                    [this] { exportChat(false); });
    file->addAction(tr("Export as &JSON (every version)…"), this, [this] { exportChat(true); });
    file->addSeparator();
    QAction *settings = file->addAction(icons::icon(icons::Name::Settings), tr("&Settings…"), this,
                                        &MainWindow::openSettings);
    settings->setShortcut(QKeySequence::Preferences);
    if (settings->shortcut().isEmpty())
        settings->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_Comma));
    settings->setMenuRole(QAction::PreferencesRole);
    file->addSeparator();
    file->addAction(tr("&MCP Servers…"), this, [this] { openMcpServers(); });
    connect(m_pane, &ChatPane::mcpServersRequested, this, [this] { openMcpServers(); });
    QAction *quit = file->addAction(tr("&Quit"), this, &MainWindow::quit);
    quit->setShortcut(QKeySequence::Quit);
    quit->setMenuRole(QAction::QuitRole);

    QMenu *edit = menuBar()->addMenu(tr("&Edit"));
    QAction *rename = edit->addAction(icons::icon(icons::Name::Rename), tr("&Rename Chat"),
                                      m_sidebar, &SessionSidebar::renameCurrent);
    rename->setShortcut(Qt::Key_F2);
    // Delete belongs to the list: in the composer, Del deletes text.
    QAction *remove = new QAction(icons::icon(icons::Name::Delete), tr("&Delete Chat…"), this);
    remove->setShortcut(QKeySequence::Delete);
    remove->setShortcutContext(Qt::WidgetShortcut);
    connect(remove, &QAction::triggered, this, &MainWindow::deleteCurrentChat);
    m_sidebar->list()->addAction(remove);
    edit->addAction(remove);
    edit->addSeparator();
    QAction *find =
        edit->addAction(icons::icon(icons::Name::Search), tr("&Find Chats"), this, [this] {
            m_sidebar->searchField()->setFocus(Qt::ShortcutFocusReason);
            m_sidebar->searchField()->selectAll();
        });
    find->setShortcut(QKeySequence::Find);
    QAction *copy =
        edit->addAction(icons::icon(icons::Name::Copy), tr("Copy &Last Answer"), this, [this] {
            QApplication::clipboard()->setText(m_pane->view()->lastAnswerText());
            statusBar()->showMessage(tr("Answer copied to the clipboard"), 4000);
        });
    copy->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_C));

    QMenu *chat = menuBar()->addMenu(tr("&Chat"));
    QAction *focus = chat->addAction(tr("&Write a Message"), this, [this] {
        m_pane->composer()->setFocus(Qt::ShortcutFocusReason);
    });
    focus->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_L));
    QAction *stop = chat->addAction(icons::icon(icons::Name::Stop), tr("&Stop Answer"), m_pane,
                                    &ChatPane::stop);
    stop->setShortcut(Qt::Key_Escape);
    chat->addSeparator();
    QAction *editLast =
        chat->addAction(icons::icon(icons::Name::Rename), tr("&Edit Last Message"), this, [this] {
            m_pane->editMessage(m_pane->view()->lastIndexOfRole(QStringLiteral("user")));
        });
    editLast->setToolTip(tr("Edit Last Message (Up in an empty composer)"));
    QAction *regenerate =
        chat->addAction(tr("&Regenerate Answer"), m_pane, &ChatPane::regenerateLast);
    regenerate->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_R));
    QAction *previous =
        chat->addAction(tr("Pre&vious Version"), this, [this] { m_pane->stepVersion(-1); });
    previous->setShortcut(QKeySequence(Qt::ALT | Qt::Key_Left));
    QAction *next = chat->addAction(tr("Ne&xt Version"), this, [this] { m_pane->stepVersion(+1); });
    next->setShortcut(QKeySequence(Qt::ALT | Qt::Key_Right));
    chat->addSeparator();
    QAction *system = chat->addAction(icons::icon(icons::Name::System), tr("System &Prompt…"),
                                      m_pane, &ChatPane::editSystemPrompt);
    system->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_P));
    QAction *model = chat->addAction(tr("Choose &Model"), this, [this] {
        m_pane->modelPicker()->setFocus(Qt::ShortcutFocusReason);
        m_pane->modelPicker()->showPopup();
    });
    model->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_M));
    QAction *chatSettings =
        chat->addAction(icons::icon(icons::Name::Settings), tr("Chat Se&ttings"), m_pane,
                        &ChatPane::toggleSettings);
    chatSettings->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_S));
    QAction *list = chat->addAction(tr("Go to &Chat List"), this, [this] {
        m_sidebar->list()->setFocus(Qt::ShortcutFocusReason);
    });
    list->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_1));

    QMenu *help = menuBar()->addMenu(tr("&Help"));
    // The »» button of a narrow menu bar (Qt's) has no text.
    if (auto *more = menuBar()->findChild<QToolButton *>(QStringLiteral("qt_menubar_ext_button")))
        more->setAccessibleName(tr("More menus"));
    QAction *keys = help->addAction(tr("&Keyboard Shortcuts"), this, &MainWindow::showShortcuts);
    keys->setShortcut(QKeySequence::HelpContents);
    if (keys->shortcut().isEmpty())
        keys->setShortcut(Qt::Key_F1);
    help->addAction(tr("&About Holdfast"), this, [this] {
        QMessageBox::about(
            this, tr("About Holdfast"),
            tr("<h3>Holdfast %1</h3><p>A chat client for language models that never "
               "loses an answer.</p><p>Sessions: %2</p>")
                .arg(QStringLiteral(HOLDFAST_VERSION),
                     m_client ? m_client->description().toHtmlEscaped() : QString()));
    });
}

void MainWindow::setClient(SessionClient *client)
{
    m_client = client;
    m_live = new LiveTurns(client, this);
    m_sidebar->setClient(client, m_live);
    m_pane->setClient(client, m_live);
    m_pane->setEnabled(true);
    m_sidebar->setEnabled(true);
    m_serviceLabel->setText(tr("Sessions on %1").arg(client->description()));
    connect(m_live, &LiveTurns::finished, this, &MainWindow::onTurnFinished);
    // A chat that is not shown waits for an answer to a tool call: say so (the open one has
    // its card).
    connect(
        m_live, &LiveTurns::waitingChanged, this, [this](const QString &sid, int, bool waiting) {
            if (!waiting || sid == m_pane->sessionId())
                return;
            QString title = sid;
            if (const int row = m_sidebar->model()->rowOf(sid); row >= 0)
                title = SessionListModel::displayTitle(m_sidebar->model()->at(row));
            statusBar()->showMessage(tr("“%1” waits for your approval of a tool call").arg(title));
            QApplication::alert(this);
        });
    connect(client, &SessionClient::connectionChanged, this,
            [this](bool online, const QString &why) {
                m_banner->setText(tr("Cannot reach %1 (%2). Reconnecting…")
                                      .arg(m_client ? m_client->description() : QString(), why));
                m_banner->setVisible(!online);
            });
    if (!m_lastSession.isEmpty()) {
        m_sidebar->selectSession(m_lastSession);
        m_pane->openSession(m_lastSession);
    }
    m_pane->composer()->setFocus();
}

void MainWindow::setServiceInfo(const QString &info)
{
    m_serviceLabel->setText(info);
}

void MainWindow::setSettingsValues(const SettingsDialog::Values &values, const QString &configFile)
{
    const int fontSize = m_settings.fontSize; // the window's own preference, restored earlier
    m_settings = values;
    m_settings.fontSize = fontSize;
    m_configFile = configFile;
    applyTheme(m_settings.theme);
    updateTray();
}

void MainWindow::mergeSecrets(const SettingsDialog::Values &values)
{
    if (m_settings.apiKey.isEmpty())
        m_settings.apiKey = values.apiKey;
    if (m_settings.token.isEmpty())
        m_settings.token = values.token;
    for (SettingsDialog::Provider &p : m_settings.providers) {
        for (const SettingsDialog::Provider &read : values.providers) {
            if (read.name == p.name && p.apiKey.isEmpty())
                p.apiKey = read.apiKey;
        }
    }
}

void MainWindow::showStartupError(const QString &message)
{
    m_serviceLabel->setText(tr("Service not running"));
    m_banner->setText(tr("The service could not start: %1").arg(message));
    m_banner->show();
}

void MainWindow::onTurnFinished(const TurnRecord &turn)
{
    QString title = turn.session;
    if (const int row = m_sidebar->model()->rowOf(turn.session); row >= 0)
        title = SessionListModel::displayTitle(m_sidebar->model()->at(row));
    QString message;
    switch (turn.state) {
    case TurnRecord::State::Done:
        message = tr("Answer finished in “%1”").arg(title);
        break;
    case TurnRecord::State::Error:
        message = tr("The answer in “%1” failed: %2").arg(title, turn.errorMessage);
        break;
    default:
        message = tr("The answer in “%1” was stopped").arg(title);
    }
    statusBar()->showMessage(message, 8000);
    const bool active = isActiveWindow() && isVisible();
    if (!Notifier::shouldNotify(turn.session, m_pane->sessionId(), active))
        return;
    m_notifier->notify(QStringLiteral("Holdfast"), message);
    if (!active)
        QApplication::alert(this);
}

void MainWindow::newChat()
{
    m_sidebar->list()->clearSelection();
    m_sidebar->list()->setCurrentIndex({});
    m_pane->showEmpty();
    m_pane->composer()->setFocus(Qt::ShortcutFocusReason);
}

void MainWindow::deleteCurrentChat()
{
    const QString sid = m_sidebar->currentSession();
    if (sid.isEmpty() || !m_client)
        return;
    const int row = m_sidebar->model()->rowOf(sid);
    const QString title =
        row >= 0 ? SessionListModel::displayTitle(m_sidebar->model()->at(row)) : sid;
    QMessageBox box(QMessageBox::Question, tr("Delete Chat"),
                    tr("Delete “%1” and all its messages? This cannot be undone.").arg(title),
                    QMessageBox::Yes | QMessageBox::Cancel, this);
    box.setTextFormat(Qt::PlainText); // a title that looks like HTML would load its images
    box.setDefaultButton(QMessageBox::Cancel);
    if (box.exec() == QMessageBox::Yes)
        deleteTask(sid);
}

QCoro::Task<> MainWindow::deleteTask(QString sid)
{
    QPointer<MainWindow> self(this);
    const auto deleted = co_await m_client->deleteSession(sid);
    if (self && !deleted)
        m_pane->showError(tr("Could not delete the chat: %1").arg(deleted.error().message));
}

void MainWindow::exportChat(bool asJson)
{
    if (!m_pane->sessionId().isEmpty() && m_client)
        exportTask(m_pane->sessionId(), asJson);
}

QCoro::Task<> MainWindow::exportTask(QString sid, bool asJson)
{
    QPointer<MainWindow> self(this);
    const SessionMeta meta = m_pane->meta();
    const QString suggested = QString(meta.title.isEmpty() ? sid : meta.title).replace(u'/', u'-') +
                              (asJson ? QStringLiteral(".json") : QStringLiteral(".md"));
    const QString path = QFileDialog::getSaveFileName(
        this, asJson ? tr("Export as JSON") : tr("Export as Markdown"), suggested,
        asJson ? tr("JSON (*.json)") : tr("Markdown (*.md)"));
    if (path.isEmpty())
        co_return;
    // Markdown: the active branch; JSON: every branch, each message with its parent.
    auto reading =
        asJson ? sessionexport::readTree(m_client, sid) : sessionexport::readBranch(m_client, sid);
    const auto messages = co_await std::move(reading);
    if (!self)
        co_return;
    if (!messages) {
        m_pane->showError(tr("Export failed: %1").arg(messages.error().message));
        co_return;
    }
    const auto files = co_await sessionexport::readFiles(m_client, sid, *messages);
    if (!self)
        co_return;
    if (!files) {
        m_pane->showError(tr("Export failed: %1").arg(files.error().message));
        co_return;
    }
    // Markdown: the files go in a folder beside the document; JSON: inside it, as base64.
    const QByteArray bytes =
        asJson ? sessionexport::toJson(meta, *messages, *files)
               : sessionexport::toMarkdown(meta, *messages, sessionexport::filesFolderFor(path));
    // Named, not a temporary of the co_await expression: g++ 12 destroys those twice.
    const auto writeFile = [path, bytes, asJson, list = *messages, data = *files] {
        if (!asJson)
            return sessionexport::writeMarkdown(path, bytes, list, data);
        QSaveFile out(path);
        return out.open(QIODevice::WriteOnly) && out.write(bytes) == bytes.size() && out.commit();
    };
    QFuture<bool> job = QtConcurrent::run(writeFile);
    const bool written = co_await job;
    if (!self)
        co_return;
    if (written)
        statusBar()->showMessage(tr("Exported to %1").arg(path), 6000);
    else
        m_pane->showError(tr("Could not write %1").arg(path));
}

void MainWindow::openMcpServers(QWidget *parent)
{
    if (auto *open = findChild<McpServersDialog *>(); open) {
        open->raise();
        open->activateWindow();
        return;
    }
    // Over the settings dialog when asked from there (a modal dialog blocks its siblings).
    auto *dialog = new McpServersDialog(m_settings.mcpConfig, m_client, parent ? parent : this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    dialog->open();
}

void MainWindow::showShortcuts()
{
    if (auto *open = findChild<ShortcutsDialog *>(); open) {
        open->raise();
        open->activateWindow();
        return;
    }
    // Built when asked, from the actions as they are now.
    auto *dialog = new ShortcutsDialog(menuBar(), this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    dialog->open();
}

void MainWindow::openSettings()
{
    SettingsDialog dialog(m_settings, m_configFile, this);
    connect(&dialog, &SettingsDialog::mcpServersRequested, this,
            [this, &dialog] { openMcpServers(&dialog); });
    if (dialog.exec() == QDialog::Accepted)
        saveSettings(dialog.values());
}

void MainWindow::setKeychainAvailable(bool available)
{
    m_settings.keychain = available;
}

QCoro::Task<> MainWindow::saveSettings(SettingsDialog::Values values)
{
    QPointer<MainWindow> self(this);
    const SettingsDialog::Values before = m_settings;
    m_settings = values;
    applyDesktopSettings();
    const QString error = co_await SettingsDialog::save(values, before, m_configFile);
    if (!self)
        co_return;
    // The providers apply at once, whatever became of the file: new turns use them, running ones
    // keep theirs.
    if (const auto control = providerControl()) {
        if (const QString refused = control->apply(values); !refused.isEmpty()) {
            m_pane->showError(tr("The providers could not be applied: %1").arg(refused));
            co_return;
        }
        m_pane->refreshModels();
    }
    if (!error.isEmpty()) {
        m_pane->showError(error);
        co_return;
    }
    const bool anyKey = std::any_of(values.providers.cbegin(), values.providers.cend(),
                                    [](const auto &p) { return !p.apiKey.isEmpty(); });
    if (values.keychain && (anyKey || !values.apiKey.isEmpty() || !values.token.isEmpty()))
        writeWindowState({{QStringLiteral("useKeychain"), true}}); // read at the next start
    statusBar()->showMessage(tr("Settings saved"), 4000);
}

void MainWindow::applyFontSize(int points)
{
    m_settings.fontSize = points;
    m_pane->view()->setFontPointSize(points);
}

void MainWindow::applyDesktopSettings()
{
    const QPalette palette = QApplication::palette();
    const qreal points = m_pane->view()->font().pointSizeF();
    applyFontSize(m_settings.fontSize);
    applyTheme(m_settings.theme);
    updateTray();
    if (QApplication::palette() != palette)
        repaintForPalette();
    else if (points != m_settings.fontSize)
        m_pane->reload(); // the messages shown keep the size they were written with

    writeWindowState({{QStringLiteral("fontSize"), m_settings.fontSize}});
}

void MainWindow::repaintForPalette()
{
    // The style sheet's palette(...) colours are taken when it is applied: applied again. The
    // messages shown keep the colours they were written with: written again.
    setStyleSheet(styleSheet());
    m_pane->reload();
}

void MainWindow::changeEvent(QEvent *event)
{
    QMainWindow::changeEvent(event);
    // The desktop switched between light and dark (a forced theme keeps its palette).
    if (event->type() == QEvent::ThemeChange && !themeForced())
        repaintForPalette();
}

bool MainWindow::closesToTray() const
{
    const bool available = trayOverride().value_or(QSystemTrayIcon::isSystemTrayAvailable());
    return m_tray && available && !m_quitting;
}

void MainWindow::updateTray()
{
    if (!m_settings.tray) {
        delete m_tray;
        m_tray = nullptr;
        m_notifier->setTray(nullptr);
        return;
    }
    if (m_tray)
        return;
    m_tray = new QSystemTrayIcon(icons::appIcon(), this);
    m_tray->setToolTip(QStringLiteral("Holdfast"));
    auto *menu = new QMenu(this);
    menu->setObjectName(QStringLiteral("trayMenu"));
    QAction *toggle = menu->addAction(tr("&Hide Holdfast"), this, [this] {
        if (isVisible() && !isMinimized()) {
            saveState();
            hide();
            return;
        }
        showNormal();
        raise();
        activateWindow();
    });
    toggle->setObjectName(QStringLiteral("trayShowHide"));
    // The entry says what it will do when the menu opens.
    connect(menu, &QMenu::aboutToShow, toggle, [this, toggle] {
        toggle->setText(isVisible() && !isMinimized() ? tr("&Hide Holdfast")
                                                      : tr("&Show Holdfast"));
    });
    menu->addAction(icons::icon(icons::Name::NewChat), tr("&New Chat"), this,
                    [this] {
                        showNormal();
                        raise();
                        activateWindow();
                        newChat();
                    })
        ->setObjectName(QStringLiteral("trayNewChat"));
    menu->addSeparator();
    menu->addAction(tr("&Quit"), this, &MainWindow::quit)
        ->setObjectName(QStringLiteral("trayQuit"));
    m_tray->setContextMenu(menu);
    connect(m_tray, &QSystemTrayIcon::activated, this,
            [toggle](QSystemTrayIcon::ActivationReason reason) {
                if (reason == QSystemTrayIcon::Trigger)
                    toggle->trigger();
            });
    connect(m_tray, &QObject::destroyed, menu, &QObject::deleteLater);
    m_tray->show();
    m_notifier->setTray(m_tray);
}

void MainWindow::quit()
{
    m_quitting = true;
    const bool hidden = !isVisible();
    close();
    // Hidden in the tray, no window closed last: the application is told to end.
    if (hidden)
        Q_EMIT quitRequested();
}

void MainWindow::restoreState()
{
    QSettings s = windowSettings();
    if (!restoreGeometry(s.value(QStringLiteral("geometry")).toByteArray()))
        resize(1100, 720);
    m_splitter->restoreState(s.value(QStringLiteral("splitter")).toByteArray());
    m_lastSession = s.value(QStringLiteral("lastSession")).toString();
    m_settings.fontSize = s.value(QStringLiteral("fontSize"), m_settings.fontSize).toInt();
    applyFontSize(m_settings.fontSize);
}

void MainWindow::saveState() const
{
    writeWindowState({{QStringLiteral("geometry"), saveGeometry()},
                      {QStringLiteral("splitter"), m_splitter->saveState()},
                      {QStringLiteral("lastSession"), m_pane->sessionId()},
                      {QStringLiteral("fontSize"), m_settings.fontSize}});
}

void MainWindow::closeEvent(QCloseEvent *event)
{
    saveState();
    if (closesToTray()) {
        hide(); // the tray icon's menu shows it again, or quits
        event->ignore();
        return;
    }
    m_drafts->flush();
    QMainWindow::closeEvent(event);
}

} // namespace holdfast
