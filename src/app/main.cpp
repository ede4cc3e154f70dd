// holdfast: the window, or with --headless the HTTP service alone.
#include "app/servicehost.h"
#include "app/settings.h"
#include "app/signalwatcher.h"
#include "core/logging.h"
#include "runtime/epolldispatcher.h"

#include <QCoreApplication>
#include <QLoggingCategory>
#include <QTimer>

#include <cstdio>

#include <sys/resource.h>
#include <sys/stat.h>

#ifdef HOLDFAST_WITH_GUI
#include "app/guimain.h"
#endif

using namespace holdfast;

namespace {

void applyLogLevel(const QString &level)
{
    // QT_LOGGING_RULES, when set, still wins: Qt applies it after these rules.
    QString rules = QStringLiteral("holdfast.*.debug=false\n");
    if (level == QLatin1String("debug"))
        rules = QStringLiteral("holdfast.*.debug=true\n");
    else if (level == QLatin1String("warning"))
        rules += QStringLiteral("holdfast.*.info=false\n");
    else if (level == QLatin1String("error"))
        rules += QStringLiteral("holdfast.*.info=false\nholdfast.*.warning=false\n");
    QLoggingCategory::setFilterRules(rules);
}

// True when systemd connected stderr to the journal (JOURNAL_STREAM is "DEVICE:INODE" of it).
bool stderrIsJournal()
{
    const QByteArray stream = qgetenv("JOURNAL_STREAM");
    struct stat st
    {};
    if (stream.isEmpty() || fstat(2, &st) != 0)
        return false;
    return stream ==
           QByteArray::number(quint64(st.st_dev)) + ':' + QByteArray::number(quint64(st.st_ino));
}

void printLine(FILE *stream, const QString &text)
{
    std::fputs(text.toLocal8Bit().constData(), stream);
    std::fputc('\n', stream);
    std::fflush(stream);
}

QCoro::Task<> runHeadless(ServiceHost *host, const Settings *settings, int *exitCode)
{
    const Status started = co_await host->start(*settings, true);
    if (!started) {
        printLine(stderr, QStringLiteral("holdfast: %1").arg(started.error().message));
        *exitCode = host->failureKind() == ServiceHost::Failure::Usage ? 2 : 1;
        QCoreApplication::exit(*exitCode);
        co_return;
    }
    printLine(stdout, QStringLiteral("listening on %1").arg(host->url()));
    auto *watcher = new SignalWatcher(host);
    QObject::connect(watcher, &SignalWatcher::terminationRequested, host, [host](int signal) {
        qCInfo(lcCore) << "signal" << signal << "received: finishing running turns";
        [](ServiceHost *h) -> QCoro::Task<> {
            co_await h->shutdown();
            QCoreApplication::exit(0);
        }(host);
    });
}

// Every HTTP connection is a descriptor, and the usual soft limit (1024) is far below what the
// connection caps allow; the hard limit is ours to take (Qt polls, it never uses select()).
void raiseOpenFilesLimit()
{
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur >= limit.rlim_max)
        return;
    const rlim_t soft = limit.rlim_cur;
    limit.rlim_cur = limit.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &limit) != 0)
        qCWarning(lcCore) << "cannot raise the open files limit from" << soft;
}

} // namespace

int main(int argc, char **argv)
{
    QStringList arguments;
    for (int i = 0; i < argc; ++i)
        arguments.append(QString::fromLocal8Bit(argv[i]));

    // The journal stamps lines itself and reads a "<N>" syslog priority at their start.
    if (qEnvironmentVariableIsEmpty("QT_MESSAGE_PATTERN") && stderrIsJournal())
        qputenv("QT_MESSAGE_PATTERN",
                "%{if-debug}<7>%{endif}%{if-info}<6>%{endif}%{if-warning}<4>%{endif}"
                "%{if-critical}<3>%{endif}%{if-fatal}<2>%{endif}"
                "%{if-category}%{category} %{endif}%{type}: %{message}");
    else if (qEnvironmentVariableIsEmpty("QT_MESSAGE_PATTERN"))
        qputenv("QT_MESSAGE_PATTERN", "%{time yyyy-MM-ddThh:mm:ss.zzz} %{if-category}%{category} "
                                      "%{endif}%{type}: %{message}");
    Settings settings;
    QString error;
    if (!settings.load(arguments, QProcessEnvironment::systemEnvironment(), &error)) {
        printLine(stderr, QStringLiteral("holdfast: %1\nTry 'holdfast --help'.").arg(error));
        return 2;
    }
    if (settings.flag(QStringLiteral("help"))) {
        std::fputs(Settings::helpText().toLocal8Bit().constData(), stdout);
        return 0;
    }
    if (settings.flag(QStringLiteral("version"))) {
        printLine(stdout,
                  QStringLiteral("holdfast %1\nQt %2, QCoro 0.8")
                      .arg(QStringLiteral(HOLDFAST_VERSION), QString::fromLatin1(qVersion())));
        return 0;
    }
    if (settings.flag(QStringLiteral("print-config"))) {
        std::fputs(settings.printConfig().toLocal8Bit().constData(), stdout);
        return 0;
    }
    for (const QString &warning : settings.warnings())
        printLine(stderr, QStringLiteral("holdfast: warning: %1").arg(warning));
    applyLogLevel(settings.value(QStringLiteral("log-level")));
    raiseOpenFilesLimit();

#ifdef HOLDFAST_WITH_GUI
    if (!settings.flag(QStringLiteral("headless")))
        return runGui(argc, argv, settings);
#else
    if (!settings.flag(QStringLiteral("headless"))) {
        printLine(stderr, QStringLiteral("holdfast: built without the window: use --headless"));
        return 2;
    }
#endif

    // The server's loop on epoll: a pass costs what is ready, not how many connections are open.
    // HOLDFAST_EVENT_LOOP=qt keeps Qt's own dispatcher (for comparison, or if epoll misbehaves).
    if (qEnvironmentVariable("HOLDFAST_EVENT_LOOP") != QLatin1String("qt")) {
        auto *dispatcher = new EpollEventDispatcher;
        if (dispatcher->isValid())
            QCoreApplication::setEventDispatcher(dispatcher);
        else
            delete dispatcher;
    }
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("holdfast"));
    QCoreApplication::setApplicationVersion(QStringLiteral(HOLDFAST_VERSION));
    ServiceHost host;
    int exitCode = 0;
    // Started from the loop, so that an early failure's exit() reaches a running loop.
    QTimer::singleShot(0, &host, [&] { runHeadless(&host, &settings, &exitCode); });
    const int code = app.exec();
    return exitCode ? exitCode : code;
}
