#pragma once

#include <QByteArray>
#include <QProcess>
#include <QString>
#include <QStringList>
#include <QTemporaryDir>

#include <memory>

namespace holdfast::test {

// A real redis-server on a free loopback port, in a temporary folder, with every write fsynced
// to its append-only file: stopping it and starting it again (same port, same folder) loses
// nothing it acknowledged. Tests use it to lose Redis on purpose.
class RedisServer
{
public:
    explicit RedisServer(QString password = {});
    ~RedisServer();
    RedisServer(const RedisServer &) = delete;
    RedisServer &operator=(const RedisServer &) = delete;

    // The path of redis-server, or empty when it is not installed (tests then QSKIP).
    static QString executable();

    bool start();   // waits until it answers PING
    void kill();    // SIGKILL, by PID
    void pause();   // SIGSTOP: alive, but answers nothing
    void resume();  // SIGCONT
    bool restart(); // kill, then start again on the same port and folder
    bool running() const;

    quint16 port() const { return m_port; }
    qint64 pid() const;
    QString url(int db = 0, const QString &options = {}) const;

    // Sends one command with a blocking socket (tests only) and returns the raw RESP answer.
    QByteArray command(const QStringList &args, int db = 0) const;

private:
    QString m_password;
    QTemporaryDir m_dir;
    quint16 m_port = 0;
    std::unique_ptr<QProcess> m_process;
};

} // namespace holdfast::test
