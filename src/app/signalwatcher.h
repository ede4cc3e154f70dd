#pragma once

#include <QObject>

class QSocketNotifier;

namespace holdfast {

// Turns SIGTERM and SIGINT into a Qt signal, safely (self-pipe), so shutdown runs in the loop.
class SignalWatcher final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(SignalWatcher)
public:
    explicit SignalWatcher(QObject *parent = nullptr);
    ~SignalWatcher() override;

Q_SIGNALS:
    void terminationRequested(int signal);

private:
    QSocketNotifier *m_notifier = nullptr;
};

} // namespace holdfast
