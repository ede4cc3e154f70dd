#include "gui/toolsbutton.h"

#include "client/sessionclient.h"

#include <QActionGroup>
#include <QMenu>

namespace holdfast {

namespace {
QStringList toolsOf(const ToolList &list, const QString &server)
{
    QStringList names;
    for (const ToolInfo &tool : list.tools) {
        if (toolServerOf(tool.name) == server)
            names << tool.name;
    }
    return names;
}
} // namespace

ToolsButton::ToolsButton(QWidget *parent) : QToolButton(parent), m_menu(new QMenu(this))
{
    setObjectName(QStringLiteral("toolsButton"));
    setAutoRaise(true);
    setPopupMode(QToolButton::InstantPopup);
    setToolButtonStyle(Qt::ToolButtonTextOnly);
    setAccessibleName(tr("Tools of this chat"));
    setMenu(m_menu);
    // Each time it opens: the menu as last known at once, then as the service says now.
    connect(m_menu, &QMenu::aboutToShow, this, [this] {
        rebuild();
        refresh();
    });
    updateLook();
}

void ToolsButton::setSession(const SessionMeta &meta)
{
    m_meta = meta;
    updateLook();
    // Queued: the PATCH that brought this may have been answered inside the toggled() of one of
    // the menu's actions, which rebuild() deletes.
    if (m_menu->isVisible())
        QMetaObject::invokeMethod(this, &ToolsButton::rebuild, Qt::QueuedConnection);
}

void ToolsButton::setToolList(const ToolList &list)
{
    m_list = list;
    m_loaded = true;
    rebuild();
}

QCoro::Task<> ToolsButton::refresh()
{
    QPointer<ToolsButton> self(this);
    QPointer<SessionClient> client = m_client;
    if (!client)
        co_return;
    const auto list = co_await client->tools();
    if (!self)
        co_return;
    if (!list) {
        Q_EMIT failed(tr("Could not list the tools: %1").arg(list.error().message));
        co_return;
    }
    setToolList(*list);
}

bool ToolsButton::isOn(const QString &tool) const
{
    return m_meta.tools.contains(QStringLiteral("*")) || m_meta.tools.contains(tool);
}

QStringList ToolsButton::toggled(const QString &name, bool on) const
{
    QStringList names;
    // "*" stands for every tool: to take one away, the others are named one by one.
    if (m_meta.tools.contains(QStringLiteral("*"))) {
        for (const ToolInfo &tool : m_list.tools)
            names << tool.name;
    } else {
        names = m_meta.tools;
    }
    QStringList affected{name};
    if (name.endsWith(QLatin1String("/*")))
        affected = toolsOf(m_list, name.chopped(2));
    for (const QString &tool : affected) {
        if (on && !names.contains(tool))
            names << tool;
        else if (!on)
            names.removeAll(tool);
    }
    return names;
}

void ToolsButton::rebuild()
{
    m_menu->clear();
    // clear() leaves the submenus and the action group (children, not actions): they go too,
    // later, as one of them may be what the user is pointing at.
    const QObjectList children = m_menu->children(); // a copy: the loop takes some away
    for (QObject *child : children) {
        if (qobject_cast<QMenu *>(child) || qobject_cast<QActionGroup *>(child)) {
            child->setParent(nullptr);
            child->deleteLater();
        }
    }
    const auto configure = [this] {
        m_menu->addSeparator();
        m_menu->addAction(tr("MCP Servers…"), this, &ToolsButton::configureRequested);
    };
    if (!m_loaded) {
        m_menu->addAction(tr("Looking for tools…"))->setEnabled(false);
        configure();
        return;
    }
    if (m_list.servers.isEmpty()) {
        m_menu->addAction(tr("No MCP server is configured"))->setEnabled(false);
        configure();
        return;
    }
    const bool chat = !m_meta.id.isEmpty();
    m_menu->addSection(tr("Tools this chat may use"));
    for (const ToolServerInfo &server : m_list.servers) {
        const QStringList names = toolsOf(m_list, server.name);
        QString title = server.name;
        if (server.state == ToolServerInfo::State::Starting)
            title += tr(" (starting…)");
        else if (server.state == ToolServerInfo::State::Error)
            title += tr(" (error)");
        QMenu *sub = m_menu->addMenu(title);
        sub->setObjectName(QStringLiteral("server:") + server.name);
        sub->setToolTipsVisible(true);
        const bool usable = chat && server.state != ToolServerInfo::State::Error;
        if (server.state == ToolServerInfo::State::Error) {
            QAction *why = sub->addAction(tr("Error: %1").arg(server.error));
            why->setEnabled(false);
            sub->addSeparator();
        }
        QAction *all = sub->addAction(tr("All tools of %1").arg(server.name));
        all->setObjectName(server.name + QStringLiteral("/*"));
        all->setCheckable(true);
        all->setChecked(!names.isEmpty() &&
                        std::all_of(names.cbegin(), names.cend(),
                                    [this](const QString &n) { return isOn(n); }));
        all->setEnabled(usable && !names.isEmpty());
        connect(all, &QAction::toggled, this, [this, server = server.name](bool on) {
            PatchSessionParams params;
            params.tools = toggled(server + QStringLiteral("/*"), on);
            Q_EMIT changeRequested(params);
        });
        if (!names.isEmpty())
            sub->addSeparator();
        else if (server.state == ToolServerInfo::State::Starting)
            sub->addAction(tr("Its tools are listed once it has started"))->setEnabled(false);
        for (const ToolInfo &tool : m_list.tools) {
            if (toolServerOf(tool.name) != server.name)
                continue;
            QAction *action = sub->addAction(tool.name.mid(server.name.size() + 1));
            action->setObjectName(tool.name);
            action->setToolTip(tool.description);
            action->setCheckable(true);
            action->setChecked(isOn(tool.name));
            action->setEnabled(usable);
            connect(action, &QAction::toggled, this, [this, name = tool.name](bool on) {
                PatchSessionParams params;
                params.tools = toggled(name, on);
                Q_EMIT changeRequested(params);
            });
        }
    }
    m_menu->addSection(tr("Before a tool runs"));
    auto *group = new QActionGroup(m_menu);
    QAction *ask = m_menu->addAction(tr("Ask before each call"));
    ask->setObjectName(QStringLiteral("approval:ask"));
    QAction *run = m_menu->addAction(tr("Run without asking"));
    run->setObjectName(QStringLiteral("approval:auto"));
    for (QAction *action : {ask, run}) {
        action->setCheckable(true);
        action->setEnabled(chat);
        group->addAction(action);
    }
    (m_meta.toolApproval == ToolApproval::Auto ? run : ask)->setChecked(true);
    connect(ask, &QAction::triggered, this, [this] {
        PatchSessionParams params;
        params.toolApproval = ToolApproval::Ask;
        Q_EMIT changeRequested(params);
    });
    connect(run, &QAction::triggered, this, [this] {
        PatchSessionParams params;
        params.toolApproval = ToolApproval::Auto;
        Q_EMIT changeRequested(params);
    });
    if (!chat)
        m_menu->addAction(tr("Send a first message to choose this chat's tools"))
            ->setEnabled(false);
    configure();
}

void ToolsButton::updateLook()
{
    const bool all = m_meta.tools.contains(QStringLiteral("*"));
    const qsizetype n = m_meta.tools.size();
    if (all)
        setText(tr("⚙ All tools"));
    else if (n > 0)
        setText(n == 1 ? tr("⚙ 1 tool") : tr("⚙ %Ln tools", nullptr, int(n)));
    else
        setText(QStringLiteral("⚙"));
    QString tip = n == 0 ? tr("Tools: off in this chat. Choose which tools the model may use")
                         : tr("Tools the model may use in this chat");
    if (n > 0)
        tip += m_meta.toolApproval == ToolApproval::Auto ? tr(" (they run without asking)")
                                                         : tr(" (each call asks first)");
    setToolTip(tip);
    setAccessibleDescription(tip); // the name stays; what is chosen is said here
}

} // namespace holdfast
