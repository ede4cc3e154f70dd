#pragma once

#include "core/tools.h"

#include <QCoroTask>
#include <QDialog>
#include <QPointer>

#include <functional>

class QLabel;
class QPlainTextEdit;
class QPushButton;

namespace holdfast {

class SessionClient;

// The MCP servers (shared/API.md, Tools (MCP)): mcp.json as text, checked as it is typed and
// before it is saved, and what each configured server is doing now (GET /v1/tools: starting,
// ready, or its error and the last lines it wrote to stderr). The service reads the file when it
// starts: a saved change applies at the next start. Reading and writing the file happen off the
// GUI thread.
class McpServersDialog final : public QDialog
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(McpServersDialog)
public:
    McpServersDialog(QString configFile, SessionClient *client, QWidget *parent = nullptr);

    // "" when `json` is a configuration in the common notation ({"mcpServers": {NAME: {command,
    // args, env} or {url, headers}}}), else what is wrong (with its line for a syntax error).
    // `servers` gets how many servers it names.
    static QString check(const QByteArray &json, int *servers = nullptr);
    // A stricter check the application adds (src/mcp's parser, which the window cannot use).
    using CheckFn = std::function<QString(const QByteArray &json)>;
    static void setExtraCheck(CheckFn check);

    QPlainTextEdit *editor() const { return m_editor; }
    QLabel *checkLabel() const { return m_check; }
    QPlainTextEdit *serverStatus() const { return m_status; }
    QPushButton *saveButton() const { return m_save; }
    // The file has been read (the editor shows it) and the servers listed.
    bool isLoaded() const { return m_listed; }
    // Shows the servers of `list` (what refresh() fetched).
    void showServers(const ToolList &list);

    QCoro::Task<> load();
    QCoro::Task<> refresh();
    QCoro::Task<bool> save();

Q_SIGNALS:
    void loaded();
    void saved(bool ok);

private:
    void recheck();

    QString m_file;
    QPointer<SessionClient> m_client;
    QLabel *m_path;
    QPlainTextEdit *m_editor;
    QLabel *m_check;
    QPlainTextEdit *m_status;
    QLabel *m_note;
    QPushButton *m_save;
    bool m_loaded = false; // the file has been read
    bool m_listed = false; // ... and the servers listed once
};

} // namespace holdfast
