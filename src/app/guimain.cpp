#include "app/guimain.h"

#include "app/liveproviders.h"
#include "app/servicehost.h"
#include "app/settings.h"
#include "app/settingsfile.h"
#include "app/settingsvalues.h"
#include "app/signalwatcher.h"
#include "client/localclient.h"
#include "client/remoteclient.h"
#include "core/sessionservice.h"
#include "gui/guilog.h"
#include "gui/icons.h"
#include "gui/mainwindow.h"
#include "gui/secretstore.h"
#include "gui/translations.h"

#include <QApplication>
#include <QEventLoop>
#include <QPointer>
#include <QTimer>
#include <QUrl>

#include <cstdio>
#include <memory>

namespace holdfast {

namespace {

// Built with QtKeychain is not enough: the session may have no keychain service to answer.
QCoro::Task<> probeKeychain(QPointer<MainWindow> window)
{
    const bool reachable = secrets::available() && co_await secrets::reachable();
    if (!reachable)
        qCInfo(lcGui) << "no keychain: API keys come from the settings file or the environment";
    if (window)
        window->setKeychainAvailable(reachable);
}

QCoro::Task<> startLocal(ServiceHost *host, Settings *settings, QPointer<MainWindow> window,
                         std::shared_ptr<LiveProviders> providers)
{
    co_await readSecrets(settings);
    if (window)
        window->mergeSecrets(dialogValues(*settings));
    const Status started = co_await host->start(*settings, false);
    if (started)
        providers->setService(host->service()); // the settings dialog's changes apply at once
    if (!window)
        co_return;
    if (!started) {
        qCCritical(lcGui).noquote()
            << "the local service did not start:" << started.error().message;
        window->showStartupError(started.error().message);
        co_return;
    }
    window->setClient(new LocalClient(host->service(), window));
    qCInfo(lcGui) << "window on the local service";
    if (host->url().isEmpty()) {
        window->setServiceInfo(QObject::tr("Sessions on this computer"));
    } else {
        std::fprintf(stdout, "listening on %s\n", qPrintable(host->url()));
        std::fflush(stdout);
        window->setServiceInfo(QObject::tr("Serving the API on %1").arg(host->url()));
    }
}

} // namespace

int runGui(int &argc, char **argv, const Settings &initial)
{
    QApplication app(argc, argv);
    QApplication::setApplicationName(QStringLiteral("holdfast"));
    QApplication::setApplicationDisplayName(QStringLiteral("Holdfast"));
    QApplication::setApplicationVersion(QStringLiteral(HOLDFAST_VERSION));
    QApplication::setDesktopFileName(QStringLiteral("holdfast"));
    QApplication::setWindowIcon(icons::appIcon());
    // Before any widget exists: the window's texts are translated as it is built.
    translations::install(initial.value(QStringLiteral("language")));

    installSettingsFileWriter(std::make_shared<SettingsFile>());
    Settings settings = initial;
    const auto providers = std::make_shared<LiveProviders>(initial);
    installProviderControl(providers);
    const QString remote = settings.value(QStringLiteral("connect"));
    QUrl remoteUrl;
    if (!remote.isEmpty()) {
        remoteUrl = QUrl(remote, QUrl::StrictMode);
        if (!remoteUrl.isValid() || !(remoteUrl.scheme() == QLatin1String("http") ||
                                      remoteUrl.scheme() == QLatin1String("https"))) {
            std::fprintf(stderr, "holdfast: --connect '%s': expected http://HOST:PORT\n",
                         qPrintable(remote));
            return 2;
        }
    }

    // The host outlives the window: the window goes first, then the service shuts down.
    std::unique_ptr<ServiceHost> host;
    int code = 0;
    {
        MainWindow window;
        window.setSettingsValues(dialogValues(settings), settings.configFile());
        probeKeychain(QPointer<MainWindow>(&window));
        window.show();
        // SIGTERM or SIGINT close the window like the user would; the service then shuts down.
        auto *signals_ = new SignalWatcher(&window);
        QObject::connect(signals_, &SignalWatcher::terminationRequested, &window,
                         &MainWindow::quit); // also when closing would hide it to the tray
        QObject::connect(&window, &MainWindow::quitRequested, &app, &QCoreApplication::quit,
                         Qt::QueuedConnection);
        if (!remoteUrl.isEmpty()) {
            qCInfo(lcGui).noquote()
                << "window on the remote service" << remoteUrl.toDisplayString();
            window.setClient(
                new RemoteClient(remoteUrl, settings.value(QStringLiteral("token")), &window));
            window.setServiceInfo(QObject::tr("Connected to %1").arg(remoteUrl.toDisplayString()));
        } else {
            host = std::make_unique<ServiceHost>();
            QPointer<MainWindow> guard(&window);
            QTimer::singleShot(0, host.get(), [&host, &settings, guard, providers] {
                startLocal(host.get(), &settings, guard, providers);
            });
        }
        code = app.exec();
    }
    if (host) {
        // Running answers end `interrupted`, saved, before the process exits.
        QEventLoop loop;
        bool done = false;
        host->shutdown().then([&] {
            done = true;
            loop.quit();
        });
        if (!done)
            loop.exec();
    }
    return code;
}

} // namespace holdfast
