#include "gui/mcpserversdialog.h"

#include "client/sessionclient.h"

#include <QCoroFuture>
#include <QDialogButtonBox>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QFontDatabase>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSaveFile>
#include <QVBoxLayout>
#include <QtConcurrent/QtConcurrentRun>

namespace holdfast {

namespace {
McpServersDialog::CheckFn &extraCheck()
{
    static McpServersDialog::CheckFn check;
    return check;
}

bool allStrings(const QJsonValue &value, bool array)
{
    if (array) {
        if (!value.isArray())
            return false;
        const QJsonArray items = value.toArray();
        return std::all_of(items.begin(), items.end(),
                           [](const QJsonValue &v) { return v.isString(); });
    }
    if (!value.isObject())
        return false;
    const QJsonObject object = value.toObject();
    return std::all_of(object.begin(), object.end(),
                       [](const QJsonValue &v) { return v.isString(); });
}

const QString kExample = QStringLiteral(
    "{\n  \"mcpServers\": {\n    \"filesystem\": {\n      \"command\": \"npx\",\n      \"args\": "
    "[\"-y\", \"@modelcontextprotocol/server-filesystem\", \"/home/me/Documents\"]\n    }\n  "
    "}\n}\n");
} // namespace

McpServersDialog::McpServersDialog(QString configFile, SessionClient *client, QWidget *parent)
    : QDialog(parent), m_file(std::move(configFile)), m_client(client), m_path(new QLabel(this)),
      m_editor(new QPlainTextEdit(this)), m_check(new QLabel(this)),
      m_status(new QPlainTextEdit(this)), m_note(new QLabel(this)), m_save(nullptr)
{
    setWindowTitle(tr("MCP Servers"));
    setObjectName(QStringLiteral("mcpServersDialog"));
    resize(720, 640);
    auto *layout = new QVBoxLayout(this);
    m_path->setTextFormat(Qt::PlainText);
    m_path->setWordWrap(true);
    m_path->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_path->setText(tr("Servers the model may use, in %1 (the common mcp.json notation: copy a "
                       "server's configuration from its README)")
                        .arg(QDir::toNativeSeparators(m_file)));
    layout->addWidget(m_path);
    m_editor->setObjectName(QStringLiteral("mcpConfig"));
    m_editor->setAccessibleName(tr("mcp.json"));
    m_editor->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    m_editor->setLineWrapMode(QPlainTextEdit::NoWrap);
    m_editor->setTabChangesFocus(true);
    m_editor->setPlaceholderText(kExample);
    m_editor->setEnabled(false); // until the file has been read
    layout->addWidget(m_editor, 3);
    m_check->setObjectName(QStringLiteral("mcpCheck"));
    m_check->setTextFormat(Qt::PlainText);
    m_check->setWordWrap(true);
    layout->addWidget(m_check);
    auto *serversLabel = new QLabel(tr("Servers now:"), this);
    layout->addWidget(serversLabel);
    m_status->setObjectName(QStringLiteral("mcpStatus"));
    m_status->setAccessibleName(tr("State of the MCP servers"));
    m_status->setReadOnly(true);
    m_status->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    m_status->setTabChangesFocus(true);
    layout->addWidget(m_status, 2);
    m_note->setWordWrap(true);
    m_note->setText(tr("Holdfast reads this file when it starts: saved changes apply the next "
                       "time it starts."));
    m_note->setForegroundRole(QPalette::PlaceholderText);
    layout->addWidget(m_note);
    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Save | QDialogButtonBox::Close, this);
    m_save = buttons->button(QDialogButtonBox::Save);
    m_save->setEnabled(false);
    QPushButton *refreshButton = buttons->addButton(tr("&Refresh"), QDialogButtonBox::ActionRole);
    layout->addWidget(buttons);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    connect(m_save, &QPushButton::clicked, this, [this] { save(); });
    connect(refreshButton, &QPushButton::clicked, this, [this] { refresh(); });
    connect(m_editor, &QPlainTextEdit::textChanged, this, &McpServersDialog::recheck);
    load();
}

void McpServersDialog::setExtraCheck(CheckFn check)
{
    extraCheck() = std::move(check);
}

QString McpServersDialog::check(const QByteArray &json, int *servers)
{
    if (servers)
        *servers = 0;
    if (json.trimmed().isEmpty())
        return {}; // no file: no server
    QJsonParseError error;
    const QJsonDocument document = QJsonDocument::fromJson(json, &error);
    if (error.error != QJsonParseError::NoError) {
        const int line = int(json.left(error.offset).count('\n')) + 1;
        return tr("Line %1: %2").arg(line).arg(error.errorString());
    }
    if (!document.isObject() || !document.object().value(QLatin1String("mcpServers")).isObject())
        return tr("The file must be an object with \"mcpServers\": {\"NAME\": {…}}");
    const QJsonObject entries = document.object().value(QLatin1String("mcpServers")).toObject();
    for (auto it = entries.begin(); it != entries.end(); ++it) {
        if (!it->isObject())
            return tr("Server \"%1\" must be an object").arg(it.key());
        const QJsonObject entry = it->toObject();
        const bool command = entry.value(QLatin1String("command")).isString();
        const bool url = entry.value(QLatin1String("url")).isString();
        if (command == url)
            return tr("Server \"%1\" needs either \"command\" (a local server) or \"url\" (a "
                      "server over HTTP)")
                .arg(it.key());
        if (entry.contains(QLatin1String("args")) &&
            !allStrings(entry.value(QLatin1String("args")), true))
            return tr("Server \"%1\": \"args\" must be a list of strings").arg(it.key());
        for (const QLatin1String key : {QLatin1String("env"), QLatin1String("headers")}) {
            if (entry.contains(key) && !allStrings(entry.value(key), false))
                return tr("Server \"%1\": \"%2\" must map names to strings").arg(it.key(), key);
        }
    }
    if (extraCheck()) {
        if (const QString more = extraCheck()(json); !more.isEmpty())
            return more;
    }
    if (servers)
        *servers = int(entries.size());
    return {};
}

void McpServersDialog::recheck()
{
    int servers = 0;
    const QString error = check(m_editor->toPlainText().toUtf8(), &servers);
    QPalette palette = m_check->palette();
    if (error.isEmpty()) {
        m_check->setText(servers == 1 ? tr("✓ Valid: 1 server")
                                      : tr("✓ Valid: %Ln servers", nullptr, servers));
        palette.setColor(QPalette::WindowText, QColor(0x2e, 0x8b, 0x57));
    } else {
        m_check->setText(QStringLiteral("⚠ ") + error);
        palette.setColor(QPalette::WindowText, QColor(0xc0, 0x39, 0x2b));
    }
    m_check->setPalette(palette);
    m_save->setEnabled(m_loaded && error.isEmpty());
}

QCoro::Task<> McpServersDialog::load()
{
    QPointer<McpServersDialog> self(this);
    const QString file = m_file;
    const auto read = [file]() -> QByteArray {
        QFile in(file);
        return in.open(QIODevice::ReadOnly) ? in.readAll() : QByteArray();
    };
    QFuture<QByteArray> job = QtConcurrent::run(read);
    const QByteArray text = co_await job;
    if (!self)
        co_return;
    m_editor->setPlainText(QString::fromUtf8(text));
    m_editor->setEnabled(true);
    m_loaded = true;
    recheck();
    co_await refresh();
    if (!self)
        co_return;
    m_listed = true;
    Q_EMIT loaded();
}

QCoro::Task<> McpServersDialog::refresh()
{
    QPointer<McpServersDialog> self(this);
    QPointer<SessionClient> client = m_client;
    if (!client) {
        m_status->setPlainText(tr("Not connected to the service."));
        co_return;
    }
    const auto list = co_await client->tools();
    if (!self)
        co_return;
    if (!list) {
        m_status->setPlainText(tr("Could not ask the service: %1").arg(list.error().message));
        co_return;
    }
    showServers(*list);
}

void McpServersDialog::showServers(const ToolList &list)
{
    QStringList lines;
    for (const ToolServerInfo &server : list.servers) {
        qsizetype tools = 0;
        for (const ToolInfo &tool : list.tools)
            tools += toolServerOf(tool.name) == server.name ? 1 : 0;
        switch (server.state) {
        case ToolServerInfo::State::Ready:
            lines << (tools == 1
                          ? tr("● %1 — ready, 1 tool").arg(server.name)
                          : tr("● %1 — ready, %Ln tools", nullptr, int(tools)).arg(server.name));
            break;
        case ToolServerInfo::State::Starting:
            lines << tr("○ %1 — starting").arg(server.name);
            break;
        case ToolServerInfo::State::Error:
            lines << tr("✕ %1 — error: %2").arg(server.name, server.error);
            break;
        }
        if (!server.stderrTail.trimmed().isEmpty()) {
            lines << tr("    its last words on stderr:");
            for (const QString &line : server.stderrTail.trimmed().split(u'\n'))
                lines << QStringLiteral("    │ ") + line;
        }
    }
    if (lines.isEmpty())
        lines << tr("No server is configured.");
    m_status->setPlainText(lines.join(u'\n'));
}

QCoro::Task<bool> McpServersDialog::save()
{
    QPointer<McpServersDialog> self(this);
    const QByteArray text = m_editor->toPlainText().toUtf8();
    if (const QString error = check(text); !error.isEmpty()) {
        m_check->setText(QStringLiteral("⚠ ") + error);
        co_return false;
    }
    const QString file = m_file;
    const auto write = [file, text] {
        QDir().mkpath(QFileInfo(file).absolutePath());
        QSaveFile out(file); // the old file stays whole until the new one is complete
        return out.open(QIODevice::WriteOnly) && out.write(text) == text.size() && out.commit();
    };
    QFuture<bool> job = QtConcurrent::run(write);
    const bool ok = co_await job;
    if (!self)
        co_return ok;
    m_note->setText(ok ? tr("Saved. Holdfast reads this file when it starts: the change applies "
                            "the next time it starts.")
                       : tr("%1 could not be written.").arg(QDir::toNativeSeparators(file)));
    Q_EMIT saved(ok);
    co_return ok;
}

} // namespace holdfast
