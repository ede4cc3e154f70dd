#pragma once

#include "client/sessionclient.h"
#include "core/parameters.h"
#include "core/tools.h"
#include "core/types.h"

#include <QCoroTask>
#include <QPointer>
#include <QToolButton>

class QMenu;

namespace holdfast {

// The chat's tools (shared/API.md, Tools (MCP)), by the composer: a menu of the configured
// servers and their tools (GET /v1/tools, asked again each time it opens), each tool checkable,
// "All tools of SERVER", and whether a call waits for approval. A server that is starting says
// so; one in error shows why and its tools cannot be chosen. Off by default (`tools: []`); each
// choice is asked for as a PATCH of the session (changeRequested), and the menu shows what the
// session says (setSession).
class ToolsButton final : public QToolButton
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ToolsButton)
public:
    explicit ToolsButton(QWidget *parent = nullptr);

    void setClient(SessionClient *client) { m_client = client; }
    // The open chat (its tools and approval); an empty id: no chat yet (nothing to set).
    void setSession(const SessionMeta &meta);
    // The servers and tools the menu offers (what refresh() fetched).
    void setToolList(const ToolList &list);
    const ToolList &toolList() const { return m_list; }
    QMenu *toolsMenu() const { return m_menu; }
    // Fetches the tools again and rebuilds the menu.
    QCoro::Task<> refresh();
    // The selection with `name` (a tool, or "SERVER/*" for all of a server's tools) turned on
    // or off, as the session's `tools` would be.
    QStringList toggled(const QString &name, bool on) const;

Q_SIGNALS:
    void changeRequested(const holdfast::PatchSessionParams &params);
    void failed(const QString &message);
    void configureRequested(); // "MCP servers…": the configuration and the servers' state

private:
    void rebuild();
    bool isOn(const QString &tool) const;
    void updateLook();

    QPointer<SessionClient> m_client;
    QMenu *m_menu;
    ToolList m_list;
    SessionMeta m_meta;
    bool m_loaded = false;
};

} // namespace holdfast
