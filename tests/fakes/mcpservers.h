#pragma once

// The reference MCP servers from npm that tests/mcp/install-servers.sh installs (the ctest fixture
// mcp_servers_install) into the build tree, as mcp.json entries. Header-only: a suite that uses
// it links holdfast_mcp and requires the fixture (FIXTURES_REQUIRED mcp_servers).

#include "mcp/mcpconfig.h"

#include <QDir>
#include <QFileInfo>
#include <QStandardPaths>

namespace holdfast::test {

class McpServers
{
public:
    McpServers()
    {
        m_node = QStandardPaths::findExecutable(QStringLiteral("node"));
        if (m_node.isEmpty())
            failure = QStringLiteral("node is not installed (scripts/deps.sh)");
        for (const QString &package :
             {QStringLiteral("everything"), QStringLiteral("filesystem")}) {
            if (failure.isEmpty() && !QFileInfo::exists(script(package)))
                failure = QStringLiteral("%1 is missing: run the ctest fixture mcp_servers_install "
                                         "(tests/mcp/install-servers.sh)")
                              .arg(script(package));
        }
    }

    // Set when the servers cannot run: a test checks it with HF_CHECK_FIXTURE and FAILS.
    QString failure;

    static QString npmDir() { return QStringLiteral(HOLDFAST_MCP_NPM_DIR); }

    // @modelcontextprotocol/server-everything over stdio.
    mcp::ServerConfig everything(const QString &name = QStringLiteral("everything")) const
    {
        mcp::ServerConfig config;
        config.name = name;
        config.command = m_node;
        config.args = {script(QStringLiteral("everything")), QStringLiteral("stdio")};
        return config;
    }

    // @modelcontextprotocol/server-filesystem, allowed to use `directory` only.
    mcp::ServerConfig filesystem(const QString &directory,
                                 const QString &name = QStringLiteral("files")) const
    {
        mcp::ServerConfig config;
        config.name = name;
        config.command = m_node;
        config.args = {script(QStringLiteral("filesystem")), directory};
        return config;
    }

    // A node script run like a server (the tests' deliberately misbehaving ones).
    mcp::ServerConfig nodeScript(const QString &name, const QString &path,
                                 const QStringList &args) const
    {
        mcp::ServerConfig config;
        config.name = name;
        config.command = m_node;
        config.args = QStringList{path} + args;
        return config;
    }

private:
    static QString script(const QString &package)
    {
        return QDir(npmDir()).filePath(
            QStringLiteral("node_modules/@modelcontextprotocol/server-%1/dist/index.js")
                .arg(package));
    }

    QString m_node;
};

} // namespace holdfast::test
