#pragma once

#include <QFile>
#include <QString>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <thread>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace holdfast::test {

// A FIFO that nothing may read, watched by a thread that counts every reader that opens it and
// lets each go (it opens the write end and closes it: the reader reads an empty file), so that
// code that opens it fails a test instead of blocking the test forever.
class FifoWatch
{
public:
    explicit FifoWatch(const QString &path) : m_path(QFile::encodeName(path))
    {
        m_made = ::mkfifo(m_path.constData(), 0600) == 0;
        if (m_made)
            m_thread = std::thread([this] { watch(); });
    }
    ~FifoWatch() { stop(); }
    FifoWatch(const FifoWatch &) = delete;
    FifoWatch &operator=(const FifoWatch &) = delete;

    bool made() const { return m_made; }
    // Stops watching; returns how many times a reader had opened the FIFO.
    int stop()
    {
        m_done = true;
        if (m_thread.joinable())
            m_thread.join();
        return m_readers;
    }
    // No reader has the FIFO open now (opening its write end without blocking fails with ENXIO).
    bool noReaderNow() const
    {
        errno = 0;
        const int fd = ::open(m_path.constData(), O_WRONLY | O_NONBLOCK);
        if (fd >= 0)
            ::close(fd);
        return fd < 0 && errno == ENXIO;
    }

private:
    void watch()
    {
        while (!m_done) {
            const int fd = ::open(m_path.constData(), O_WRONLY | O_NONBLOCK);
            if (fd >= 0) {
                ++m_readers;
                ::close(fd);
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(2));
        }
    }

    QByteArray m_path;
    bool m_made = false;
    std::atomic<bool> m_done{false};
    std::atomic<int> m_readers{0};
    std::thread m_thread;
};

} // namespace holdfast::test
