#include "runtime/epolldispatcher.h"

#include <QCoreApplication>
#include <QDeadlineTimer>
#include <QPointer>
#include <QSocketNotifier>
#include <QVarLengthArray>

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <limits>

namespace holdfast {

namespace {

qint64 nowMs()
{
    return QDeadlineTimer::current(Qt::PreciseTimer).deadline();
}

constexpr int kMaxEvents = 256;
constexpr quint32 kHangUp = EPOLLHUP | EPOLLERR | EPOLLRDHUP;

} // namespace

EpollEventDispatcher::EpollEventDispatcher(QObject *parent) : QAbstractEventDispatcher(parent)
{
    m_epoll = epoll_create1(EPOLL_CLOEXEC);
    m_wakeFd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (m_epoll >= 0 && m_wakeFd >= 0) {
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.fd = m_wakeFd;
        if (epoll_ctl(m_epoll, EPOLL_CTL_ADD, m_wakeFd, &ev) != 0) {
            ::close(m_wakeFd);
            m_wakeFd = -1;
        }
    }
}

EpollEventDispatcher::~EpollEventDispatcher()
{
    if (m_wakeFd >= 0)
        ::close(m_wakeFd);
    if (m_epoll >= 0)
        ::close(m_epoll);
}

bool EpollEventDispatcher::processEvents(QEventLoop::ProcessEventsFlags flags)
{
    m_interrupted.store(false);
    // From here on a wakeUp() writes the eventfd again, so none is lost while we work.
    m_woken.store(false);
    Q_EMIT awake();
    QCoreApplication::sendPostedEvents();

    const bool canWait = (flags & QEventLoop::WaitForMoreEvents) && !m_interrupted.load();
    int timeout = 0;
    if (canWait) {
        timeout = (flags & QEventLoop::X11ExcludeTimers) ? -1 : waitTimeout();
        if (timeout != 0)
            Q_EMIT aboutToBlock();
    }

    epoll_event events[kMaxEvents];
    int count = epoll_wait(m_epoll, events, kMaxEvents, timeout);
    if (count < 0)
        count = 0; // EINTR: go round again
    if (timeout != 0)
        Q_EMIT awake();

    int handled = activateSockets(events, count, flags);
    if (!(flags & QEventLoop::X11ExcludeTimers))
        handled += activateTimers();
    return handled > 0;
}

int EpollEventDispatcher::activateSockets(const void *data, int count,
                                          QEventLoop::ProcessEventsFlags flags)
{
    const auto *events = static_cast<const epoll_event *>(data);
    // Collected first: delivering one notifier's event may delete or re-register any other.
    QVarLengthArray<std::pair<int, QPointer<QSocketNotifier>>, 64> ready;
    for (int i = 0; i < count; ++i) {
        const int fd = events[i].data.fd;
        const quint32 got = events[i].events;
        if (fd == m_wakeFd) {
            quint64 value = 0;
            while (::read(m_wakeFd, &value, sizeof value) > 0) {
            }
            continue;
        }
        auto it = m_watches.find(fd);
        if (it == m_watches.end())
            continue;
        Watch &w = *it;
        bool any = false;
        if (w.read && (got & (EPOLLIN | kHangUp))) {
            ready.append({fd, w.read});
            any = true;
        }
        if (w.write && (got & (EPOLLOUT | kHangUp))) {
            ready.append({fd, w.write});
            any = true;
        }
        if (w.exception && (got & EPOLLPRI)) {
            ready.append({fd, w.exception});
            any = true;
        }
        if (!any && (got & kHangUp)) {
            // Nobody reads it: hang-ups are reported whatever one asks for, so leave the
            // interest list until a notifier changes.
            w.parked = true;
            updateWatch(fd);
        }
    }
    if (flags & QEventLoop::ExcludeSocketNotifiers)
        return 0; // level-triggered: they are reported again on the next pass
    int handled = 0;
    for (const auto &[fd, notifier] : ready) {
        if (!notifier)
            continue;
        const auto it = m_watches.constFind(fd);
        if (it == m_watches.cend() ||
            (it->read != notifier && it->write != notifier && it->exception != notifier))
            continue; // unregistered meanwhile
        QEvent event(QEvent::SockAct);
        QCoreApplication::sendEvent(notifier, &event);
        ++handled;
    }
    return handled;
}

void EpollEventDispatcher::registerSocketNotifier(QSocketNotifier *notifier)
{
    const int fd = int(notifier->socket());
    if (fd < 0)
        return;
    Watch &w = m_watches[fd];
    switch (notifier->type()) {
    case QSocketNotifier::Read:
        w.read = notifier;
        break;
    case QSocketNotifier::Write:
        w.write = notifier;
        break;
    case QSocketNotifier::Exception:
        w.exception = notifier;
        break;
    }
    w.parked = false;
    updateWatch(fd);
}

void EpollEventDispatcher::unregisterSocketNotifier(QSocketNotifier *notifier)
{
    const int fd = int(notifier->socket());
    auto it = m_watches.find(fd);
    if (it == m_watches.end())
        return;
    Watch &w = *it;
    if (w.read == notifier)
        w.read = nullptr;
    if (w.write == notifier)
        w.write = nullptr;
    if (w.exception == notifier)
        w.exception = nullptr;
    w.parked = false;
    updateWatch(fd);
}

void EpollEventDispatcher::updateWatch(int fd)
{
    auto it = m_watches.find(fd);
    if (it == m_watches.end())
        return;
    Watch &w = *it;
    quint32 wanted = 0;
    if (!w.parked) {
        if (w.read)
            wanted |= EPOLLIN | EPOLLRDHUP;
        if (w.write)
            wanted |= EPOLLOUT;
        if (w.exception)
            wanted |= EPOLLPRI;
    }
    if (wanted == w.events) {
        if (!w.read && !w.write && !w.exception)
            m_watches.erase(it);
        return;
    }
    epoll_event ev{};
    ev.events = wanted;
    ev.data.fd = fd;
    if (wanted == 0) {
        epoll_ctl(m_epoll, EPOLL_CTL_DEL, fd, &ev); // ENOENT/EBADF: the kernel dropped it already
    } else if (w.events == 0) {
        if (epoll_ctl(m_epoll, EPOLL_CTL_ADD, fd, &ev) != 0 && errno == EEXIST)
            epoll_ctl(m_epoll, EPOLL_CTL_MOD, fd, &ev);
    } else if (epoll_ctl(m_epoll, EPOLL_CTL_MOD, fd, &ev) != 0 && errno == ENOENT) {
        // The descriptor was closed and its number reused: it is a new file to the kernel.
        epoll_ctl(m_epoll, EPOLL_CTL_ADD, fd, &ev);
    }
    w.events = wanted;
    if (!w.read && !w.write && !w.exception)
        m_watches.erase(it);
}

void EpollEventDispatcher::registerTimer(int timerId, qint64 interval, Qt::TimerType timerType,
                                         QObject *object)
{
    unregisterTimer(timerId);
    Timer t;
    t.object = object;
    t.interval = std::max<qint64>(0, interval);
    t.type = timerType;
    t.due = nowMs() + t.interval;
    m_timers.emplace(timerId, t);
    m_timerQueue.emplace(t.due, timerId);
}

bool EpollEventDispatcher::unregisterTimer(int timerId)
{
    const auto it = m_timers.find(timerId);
    if (it == m_timers.end())
        return false;
    m_timerQueue.erase({it->second.due, timerId});
    m_timers.erase(it);
    return true;
}

bool EpollEventDispatcher::unregisterTimers(QObject *object)
{
    bool any = false;
    for (auto it = m_timers.begin(); it != m_timers.end();) {
        if (it->second.object == object) {
            m_timerQueue.erase({it->second.due, it->first});
            it = m_timers.erase(it);
            any = true;
        } else {
            ++it;
        }
    }
    return any;
}

QList<QAbstractEventDispatcher::TimerInfo>
EpollEventDispatcher::registeredTimers(QObject *object) const
{
    QList<TimerInfo> list;
    for (const auto &[id, t] : m_timers) {
        if (t.object == object)
            list.append(TimerInfo(id, int(t.interval), t.type));
    }
    return list;
}

int EpollEventDispatcher::remainingTime(int timerId)
{
    const auto it = m_timers.find(timerId);
    if (it == m_timers.end())
        return -1;
    return int(std::clamp<qint64>(it->second.due - nowMs(), 0, std::numeric_limits<int>::max()));
}

int EpollEventDispatcher::waitTimeout() const
{
    for (const auto &[due, id] : m_timerQueue) {
        const Timer &t = m_timers.at(id);
        if (t.delivering)
            continue; // an outer pass is delivering it: it does not bound this wait
        const qint64 left = due - nowMs();
        return int(std::clamp<qint64>(left, 0, std::numeric_limits<int>::max()));
    }
    return -1;
}

// Delivers every timer that is due now, soonest first. Each is rescheduled before its event is
// sent (as Qt does: due + interval, or now + interval when it fell behind), so a handler may
// kill, restart or re-register any timer. Timers that become due while this runs wait for the
// next pass, so a zero timer cannot starve the loop.
int EpollEventDispatcher::activateTimers()
{
    if (m_timerQueue.empty())
        return 0;
    const qint64 now = nowMs();
    QVarLengthArray<int, 64> due;
    for (const auto &[when, id] : m_timerQueue) {
        if (when > now)
            break;
        due.append(id);
    }
    int handled = 0;
    for (const int id : due) {
        auto it = m_timers.find(id);
        if (it == m_timers.end() || it->second.delivering || it->second.due > now)
            continue; // killed, being delivered by an outer pass, or restarted meanwhile
        Timer &t = it->second;
        m_timerQueue.erase({t.due, id});
        t.due += t.interval;
        if (t.due <= now)
            t.due = now + t.interval;
        m_timerQueue.emplace(t.due, id);
        t.delivering = true;
        QObject *object = t.object;
        QTimerEvent event(id);
        QCoreApplication::sendEvent(object, &event);
        ++handled;
        it = m_timers.find(id); // the handler may have killed it (and its id been reused)
        if (it != m_timers.end())
            it->second.delivering = false;
    }
    return handled;
}

void EpollEventDispatcher::wakeUp()
{
    if (m_woken.exchange(true))
        return;
    const quint64 one = 1;
    while (::write(m_wakeFd, &one, sizeof one) < 0 && errno == EINTR) {
    }
}

void EpollEventDispatcher::interrupt()
{
    m_interrupted.store(true);
    wakeUp();
}

} // namespace holdfast
