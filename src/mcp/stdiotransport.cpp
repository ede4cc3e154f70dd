#include "mcp/stdiotransport.h"

#include "mcp/mcplogging.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QTimer>

namespace holdfast::mcp {

namespace {

// A line longer than this is not a message any server means to send; it is dropped so that a
// server that never writes a newline cannot grow the buffer without bound.
constexpr qsizetype kMaxLine = 64 * 1024 * 1024;

// Stops `process` without waiting for it: stdin closed (the spec's way to ask a server to exit),
// then SIGTERM, then SIGKILL, each after a grace period. The timers live on the process.
void stopProcess(QProcess *process, int graceMs)
{
    if (process->state() == QProcess::NotRunning)
        return;
    process->closeWriteChannel();
    QTimer::singleShot(graceMs, process, [process] {
        if (process->state() != QProcess::NotRunning)
            process->terminate();
    });
    QTimer::singleShot(2 * graceMs, process, [process] {
        if (process->state() != QProcess::NotRunning)
            process->kill();
    });
}

} // namespace

StdioTransport::StdioTransport(ServerConfig config, QObject *parent)
    : Transport(parent), m_config(std::move(config))
{}

StdioTransport::~StdioTransport()
{
    if (!m_process)
        return;
    // QProcess' destructor would kill and then wait for the child on this thread: let the
    // process object outlive us instead, stop the child on timers and delete itself after.
    QProcess *process = m_process;
    process->disconnect(this);
    if (process->state() == QProcess::NotRunning) {
        delete process;
        return;
    }
    process->setParent(nullptr);
    connect(process, &QProcess::finished, process, &QObject::deleteLater);
    stopProcess(process, kCloseGraceMs);
}

void StdioTransport::open()
{
    if (m_process)
        return;
    m_process = new QProcess(this);
    QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
    for (auto it = m_config.env.cbegin(); it != m_config.env.cend(); ++it)
        environment.insert(it.key(), it.value());
    m_process->setProcessEnvironment(environment);
    m_process->setProgram(m_config.command);
    m_process->setArguments(m_config.args);
    connect(m_process, &QProcess::started, this, &Transport::opened);
    connect(m_process, &QProcess::readyReadStandardOutput, this, &StdioTransport::readStdout);
    connect(m_process, &QProcess::readyReadStandardError, this, &StdioTransport::readStderr);
    connect(m_process, &QProcess::errorOccurred, this, [this](QProcess::ProcessError error) {
        if (error == QProcess::FailedToStart)
            processEnded(QStringLiteral("cannot start %1: %2")
                             .arg(m_config.command, m_process->errorString()));
    });
    connect(m_process, &QProcess::finished, this,
            [this](int exitCode, QProcess::ExitStatus status) {
                readStdout();
                readStderr();
                if (!m_stderr.isEmpty()) // a last line without a newline
                    Q_EMIT stderrLine(QString::fromUtf8(std::exchange(m_stderr, {})));
                processEnded(
                    status == QProcess::CrashExit
                        ? QStringLiteral("the server crashed (%1)").arg(m_process->errorString())
                        : QStringLiteral("the server exited with code %1").arg(exitCode));
            });
    qCInfo(lcMcp).noquote() << "starting MCP server" << m_config.name << ":" << m_config.command
                            << m_config.args.join(QLatin1Char(' '));
    m_process->start(QIODevice::ReadWrite);
}

void StdioTransport::send(const QJsonObject &message)
{
    if (!m_process || m_process->state() != QProcess::Running)
        return; // closed() has been or will be emitted: the caller's pending requests fail then
    QByteArray line = QJsonDocument(message).toJson(QJsonDocument::Compact);
    line.append('\n');
    m_process->write(line);
}

void StdioTransport::close()
{
    if (m_process)
        stopProcess(m_process, kCloseGraceMs);
    else
        processEnded(QStringLiteral("closed"));
}

qint64 StdioTransport::processId() const
{
    return m_process && m_process->state() == QProcess::Running ? m_process->processId() : 0;
}

void StdioTransport::readStdout()
{
    if (!m_process)
        return;
    m_stdout.append(m_process->readAllStandardOutput());
    qsizetype newline;
    while ((newline = m_stdout.indexOf('\n')) >= 0) {
        const QByteArray line = m_stdout.left(newline).trimmed();
        m_stdout.remove(0, newline + 1);
        if (line.isEmpty())
            continue;
        QJsonParseError error;
        const QJsonDocument document = QJsonDocument::fromJson(line, &error);
        if (document.isObject()) {
            Q_EMIT received(document.object());
        } else if (document.isArray()) { // a JSON-RPC batch (protocol 2025-03-26)
            for (const QJsonValue &value : document.array()) {
                if (value.isObject())
                    Q_EMIT received(value.toObject());
            }
        } else {
            qCWarning(lcMcp).noquote()
                << "MCP server" << m_config.name << "wrote a line that is not a JSON-RPC message:"
                << QString::fromUtf8(line.left(200));
        }
    }
    if (m_stdout.size() > kMaxLine) {
        qCWarning(lcMcp) << "MCP server" << m_config.name << "wrote a line over" << kMaxLine
                         << "bytes; dropped";
        m_stdout.clear();
    }
}

void StdioTransport::readStderr()
{
    if (!m_process)
        return;
    m_stderr.append(m_process->readAllStandardError());
    qsizetype newline;
    while ((newline = m_stderr.indexOf('\n')) >= 0) {
        const QString line = QString::fromUtf8(m_stderr.left(newline)).trimmed();
        m_stderr.remove(0, newline + 1);
        if (line.isEmpty())
            continue;
        qCInfo(lcMcp).noquote() << m_config.name + QStringLiteral(":") << line;
        Q_EMIT stderrLine(line);
    }
    if (m_stderr.size() > 64 * 1024) // a line that never ends: keep its start
        Q_EMIT stderrLine(QString::fromUtf8(std::exchange(m_stderr, {}).left(1024)));
}

void StdioTransport::processEnded(const QString &why)
{
    if (std::exchange(m_ended, true))
        return;
    qCInfo(lcMcp).noquote() << "MCP server" << m_config.name << "stopped:" << why;
    Q_EMIT closed(why);
}

} // namespace holdfast::mcp
