#pragma once

// The window on the in-process service, for the tests that drive it through its widgets.
#include "client/localclient.h"
#include "core/providerregistry.h"
#include "core/sessionservice.h"
#include "fakes/scriptedprovider.h"
#include "fakes/testutil.h"
#include "gui/chatpane.h"
#include "gui/chatview.h"
#include "gui/composer.h"
#include "gui/mainwindow.h"
#include "gui/sessionlistmodel.h"
#include "gui/sessionsidebar.h"
#include "provider/demoprovider.h"
#include "store/memorystore.h"

#include <QSettings>
#include <QTemporaryDir>
#include <QTest>

#include <memory>

namespace holdfast::test {

// Points the settings and data folders into `home` (an initTestCase's), so that no test reads or
// writes the real ones; false when the folder could not be made.
inline bool isolateHome(const QTemporaryDir &home)
{
    if (!home.isValid())
        return false;
    qputenv("XDG_CONFIG_HOME", home.filePath(QStringLiteral("config")).toUtf8());
    qputenv("XDG_DATA_HOME", home.filePath(QStringLiteral("data")).toUtf8());
    return true;
}

// A window made after this opens no chat of an earlier one (for a new service, where that chat is
// not: while it loads, Enter sends nothing). The earlier windows' writes, on a worker thread, land
// first. False when they did not.
inline bool forgetLastChat()
{
    if (!spinUntil([] { return windowStateWritten(); }))
        return false;
    QSettings(QSettings::IniFormat, QSettings::UserScope, QStringLiteral("holdfast"),
              QStringLiteral("window"))
        .remove(QStringLiteral("lastSession"));
    return true;
}

// The in-process service with the demo model (default) and a scripted one, and a window on it.
struct Fixture
{
    std::unique_ptr<Store> store = std::make_unique<MemoryStore>();
    ProviderRegistry registry;
    test::ScriptedProvider *scripted = new test::ScriptedProvider();
    std::unique_ptr<SessionService> service;
    std::unique_ptr<MainWindow> window;
    LocalClient *client = nullptr;
    QString failure; // set when the constructor failed (HF_CHECK_FIXTURE)

    Fixture(int demoChunks = 8, int demoDelayMs = 15)
    {
        registry.add(new DemoProvider({demoChunks, demoDelayMs}), {QStringLiteral("demo")});
        registry.add(scripted, {QStringLiteral("scripted")});
        service = std::make_unique<SessionService>(store.get(), &registry);
        if (!test::awaitResult(service->start()).ok())
            failure = QStringLiteral("the service did not start");
        // A new service: the last chat of an earlier window is not on it. openWindow() alone
        // keeps it, as a restart does.
        if (!forgetLastChat())
            failure = QStringLiteral("the window state was not written");
        openWindow();
    }

    // A new window on the same service, as after a restart of the application.
    void openWindow()
    {
        window.reset();
        window = std::make_unique<MainWindow>();
        client = new LocalClient(service.get(), window.get());
        window->setClient(client);
        window->resize(1000, 700);
        window->show();
        if (!QTest::qWaitForWindowExposed(window.get()))
            failure = QStringLiteral("the window was not exposed");
    }
    ~Fixture()
    {
        window.reset();
        if (service)
            test::awaitVoid(service->shutdown());
    }

    ChatPane *pane() const { return window->chatPane(); }
    ChatView *view() const { return pane()->view(); }
    Composer *composer() const { return pane()->composer(); }
    SessionListModel *list() const { return window->sidebar()->model(); }

    // Types the prompt into the composer and presses Enter, as a person would.
    void type(const QString &prompt)
    {
        composer()->setFocus();
        QTest::keyClicks(composer(), prompt);
        QTest::keyClick(composer(), Qt::Key_Return);
    }

    QList<Message> stored(const QString &sid)
    {
        const auto page = test::awaitResult(service->messages(sid, -1, 200));
        return page.ok() ? page.value().messages : QList<Message>{};
    }
};

} // namespace holdfast::test
