#pragma once

#include "fakes/testutil.h"

#include <QProcess>
#include <QRegularExpression>

#include <csignal>
#include <sys/prctl.h>

namespace holdfast::test {

// The real `holdfast --headless` binary (HOLDFAST_BINARY, set by ctest) in a private home,
// killed by PID when it goes out of scope (and by the kernel when the test process dies).
class HoldfastProcess
{
public:
    enum class Mode { Headless, Window }; // Window: no --headless (offscreen under ctest)

    // `extra` is added to the environment; stderr is forwarded to the test's own when
    // `forwardStderr`, else readable from process().
    HoldfastProcess(const QString &home, const QStringList &arguments,
                    const QProcessEnvironment &extra = {}, bool forwardStderr = false,
                    Mode mode = Mode::Headless)
    {
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.remove(QStringLiteral("HOLDFAST_TOKEN"));
        // A private home: no settings file of the user's, no data of theirs.
        env.insert(QStringLiteral("XDG_CONFIG_HOME"), home + QStringLiteral("/config"));
        env.insert(QStringLiteral("XDG_DATA_HOME"), home + QStringLiteral("/data"));
        env.insert(QStringLiteral("HOME"), home);
        for (const QString &key : extra.keys())
            env.insert(key, extra.value(key));
        m_process.setProcessEnvironment(env);
        m_process.setProgram(QString::fromLocal8Bit(qgetenv("HOLDFAST_BINARY")));
        m_process.setArguments(mode == Mode::Headless
                                   ? QStringList{QStringLiteral("--headless")} + arguments
                                   : arguments);
        if (forwardStderr)
            m_process.setProcessChannelMode(QProcess::ForwardedErrorChannel);
        // A test that aborts (a failed Q_ASSERT, a sanitizer report) runs no destructor: the
        // server must not outlive it.
        m_process.setChildProcessModifier([] { ::prctl(PR_SET_PDEATHSIG, SIGKILL); });
        m_process.start();
    }
    ~HoldfastProcess()
    {
        if (m_process.state() != QProcess::NotRunning) {
            m_process.kill();
            m_process.waitForFinished(5000);
        }
    }
    HoldfastProcess(const HoldfastProcess &) = delete;
    HoldfastProcess &operator=(const HoldfastProcess &) = delete;

    // The first stdout line, as `--listen HOST:0` promises it.
    QString firstLine(int timeoutMs = 20000)
    {
        spinUntil(
            [&] { return m_process.canReadLine() || m_process.state() == QProcess::NotRunning; },
            timeoutMs);
        return QString::fromLocal8Bit(m_process.readLine()).trimmed();
    }
    // The port of the first stdout line, `listening on http://127.0.0.1:PORT`; 0 if none came.
    quint16 waitForPort(int timeoutMs = 20000)
    {
        const QString line = firstLine(timeoutMs);
        static const QRegularExpression re(QRegularExpression::anchoredPattern(
            QStringLiteral("listening on http://127\\.0\\.0\\.1:(\\d+)")));
        const auto match = re.match(line);
        if (!match.hasMatch())
            qWarning() << "unexpected first line:" << line << m_process.readAllStandardError();
        return match.hasMatch() ? quint16(match.captured(1).toUInt()) : 0;
    }
    void kill9()
    {
        signal(SIGKILL);
        m_process.waitForFinished(5000);
    }
    void signal(int sig) { ::kill(pid_t(m_process.processId()), sig); }
    bool waitForExit(int timeoutMs = 20000)
    {
        return spinUntil([&] { return m_process.state() == QProcess::NotRunning; }, timeoutMs);
    }
    QProcess &process() { return m_process; }

private:
    QProcess m_process;
};

} // namespace holdfast::test
