#include "fakes/redisserver.h"

#include <QDeadlineTimer>
#include <QStandardPaths>
#include <QTcpServer>
#include <QTcpSocket>
#include <QThread>

#include <signal.h>
#include <sys/prctl.h>

namespace holdfast::test {

namespace {

QByteArray encode(const QStringList &args)
{
    QByteArray out = "*" + QByteArray::number(args.size()) + "\r\n";
    for (const QString &a : args) {
        const QByteArray bytes = a.toUtf8();
        out += "$" + QByteArray::number(bytes.size()) + "\r\n" + bytes + "\r\n";
    }
    return out;
}

quint16 freePort()
{
    QTcpServer probe;
    if (!probe.listen(QHostAddress::LocalHost, 0))
        return 0;
    return probe.serverPort();
}

} // namespace

RedisServer::RedisServer(QString password) : m_password(std::move(password)) {}

RedisServer::~RedisServer()
{
    kill();
}

QString RedisServer::executable()
{
    return QStandardPaths::findExecutable(QStringLiteral("redis-server"));
}

qint64 RedisServer::pid() const
{
    return m_process ? m_process->processId() : 0;
}

bool RedisServer::running() const
{
    return m_process && m_process->state() == QProcess::Running;
}

QString RedisServer::url(int db, const QString &options) const
{
    QString url = QStringLiteral("redis://");
    if (!m_password.isEmpty())
        url += QLatin1Char(':') + m_password + QLatin1Char('@');
    url += QStringLiteral("127.0.0.1:%1/%2").arg(m_port).arg(db);
    if (!options.isEmpty())
        url += QLatin1Char('?') + options;
    return url;
}

bool RedisServer::start()
{
    if (executable().isEmpty() || !m_dir.isValid())
        return false;
    if (m_port == 0)
        m_port = freePort();
    QStringList args{QStringLiteral("--port"),        QString::number(m_port),
                     QStringLiteral("--bind"),        QStringLiteral("127.0.0.1"),
                     QStringLiteral("--dir"),         m_dir.path(),
                     QStringLiteral("--save"),        QString(),
                     QStringLiteral("--appendonly"),  QStringLiteral("yes"),
                     QStringLiteral("--appendfsync"), QStringLiteral("always"),
                     QStringLiteral("--daemonize"),   QStringLiteral("no"),
                     QStringLiteral("--logfile"),     m_dir.filePath(QStringLiteral("redis.log"))};
    if (!m_password.isEmpty())
        args << QStringLiteral("--requirepass") << m_password;
    m_process = std::make_unique<QProcess>();
    // Its output goes to its log file; and it dies with the test, even when the test crashes.
    m_process->setStandardOutputFile(QProcess::nullDevice());
    m_process->setStandardErrorFile(QProcess::nullDevice());
    m_process->setChildProcessModifier([] { ::prctl(PR_SET_PDEATHSIG, SIGKILL); });
    m_process->start(executable(), args);
    if (!m_process->waitForStarted(5000))
        return false;
    const QDeadlineTimer deadline(10000);
    while (!deadline.hasExpired() && running()) {
        const QByteArray answer = command({QStringLiteral("PING")});
        if (answer.startsWith("+PONG"))
            return true;
        QThread::msleep(20);
    }
    return false;
}

void RedisServer::kill()
{
    if (!m_process)
        return;
    if (running()) {
        ::kill(pid_t(m_process->processId()), SIGCONT);
        m_process->kill();
        m_process->waitForFinished(5000);
    }
    m_process.reset();
}

void RedisServer::pause()
{
    if (running())
        ::kill(pid_t(m_process->processId()), SIGSTOP);
}

void RedisServer::resume()
{
    if (running())
        ::kill(pid_t(m_process->processId()), SIGCONT);
}

bool RedisServer::restart()
{
    kill();
    return start();
}

QByteArray RedisServer::command(const QStringList &args, int db) const
{
    QTcpSocket socket;
    socket.connectToHost(QHostAddress::LocalHost, m_port);
    if (!socket.waitForConnected(1000))
        return {};
    QByteArray request;
    if (!m_password.isEmpty())
        request += encode({QStringLiteral("AUTH"), m_password});
    if (db != 0)
        request += encode({QStringLiteral("SELECT"), QString::number(db)});
    request += encode(args);
    const int preamble = (m_password.isEmpty() ? 0 : 1) + (db != 0 ? 1 : 0);
    socket.write(request);
    QByteArray answer;
    const QDeadlineTimer deadline(3000);
    // Skip one "+OK\r\n" per preamble command, then return the rest once it stops growing.
    while (!deadline.hasExpired()) {
        if (!socket.waitForReadyRead(200)) {
            if (!answer.isEmpty())
                break;
            continue;
        }
        answer += socket.readAll();
    }
    for (int i = 0; i < preamble; ++i)
        answer = answer.mid(answer.indexOf("\r\n") + 2);
    return answer;
}

} // namespace holdfast::test
