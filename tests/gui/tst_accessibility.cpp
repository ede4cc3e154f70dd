// Accessibility of the window (issue 22): every interactive element has a name for assistive
// technology, the keyboard reaches everything (tab order, shortcuts in menus), the Keyboard
// Shortcuts dialog lists the actions, and chat messages and finished answers reach screen readers.
// The real window on the in-process service with the demo model.
#include "windowfixture.h"

#include "gui/chatsettingspanel.h"
#include "gui/mcpserversdialog.h"
#include "gui/settingsdialog.h"
#include "gui/shortcutsdialog.h"
#include "gui/toolapprovalcard.h"
#include "gui/toolsbutton.h"

#include <QAccessible>
#include <QAction>
#include <QLabel>
#include <QLineEdit>
#include <QListView>
#include <QMenu>
#include <QMenuBar>
#include <QSignalSpy>
#include <QToolButton>
#include <QTreeWidget>

using namespace Qt::StringLiterals;
using namespace holdfast;

namespace {

// Roles a person acts on: each needs a name a screen reader can say.
bool interactive(QAccessible::Role role)
{
    switch (role) {
    case QAccessible::PushButton:
    case QAccessible::CheckBox:
    case QAccessible::RadioButton:
    case QAccessible::ComboBox:
    case QAccessible::EditableText:
    case QAccessible::List:
    case QAccessible::ListItem:
    case QAccessible::Tree:
    case QAccessible::Table:
    case QAccessible::Slider:
    case QAccessible::SpinBox:
    case QAccessible::ButtonMenu:
    case QAccessible::ButtonDropDown:
    case QAccessible::MenuItem:
    case QAccessible::PageTab:
    case QAccessible::Link:
        return true;
    default:
        return false;
    }
}

// "objectName (ClassName, role) in parent": enough to find the widget in the source.
QString describe(QAccessibleInterface *iface)
{
    QStringList path;
    for (QObject *o = iface->object(); o && path.size() < 4; o = o->parent())
        path << u"%1:%2"_s.arg(QString::fromLatin1(o->metaObject()->className()), o->objectName());
    return u"role 0x%1 [%2]"_s.arg(int(iface->role()), 0, 16).arg(path.join(u" < "_s));
}

// Walks the tree under `iface` (hidden parts too: they show later) and lists the interactive
// elements without a name.
void collectUnnamed(QAccessibleInterface *iface, QStringList &unnamed, int depth = 0)
{
    if (!iface || depth > 60)
        return;
    if (interactive(iface->role()) && iface->text(QAccessible::Name).trimmed().isEmpty())
        unnamed << describe(iface);
    const int n = iface->childCount();
    for (int i = 0; i < n; ++i)
        collectUnnamed(iface->child(i), unnamed, depth + 1);
}

QStringList unnamedIn(QWidget *root)
{
    QStringList unnamed;
    collectUnnamed(QAccessible::queryAccessibleInterface(root), unnamed);
    // Widgets that are not in the accessible tree of their parent (some containers leave out
    // hidden children): each is asked directly.
    const auto widgets = root->findChildren<QWidget *>();
    for (QWidget *w : widgets) {
        if (w->isWindow() && w != root)
            continue; // a popup or dialog: walked on its own
        QAccessibleInterface *iface = QAccessible::queryAccessibleInterface(w);
        if (iface && interactive(iface->role()) &&
            iface->text(QAccessible::Name).trimmed().isEmpty())
            unnamed << describe(iface);
    }
    // Menus' actions: an action without text is read as nothing.
    for (QMenu *menu : root->findChildren<QMenu *>()) {
        for (QAction *a : menu->actions()) {
            if (!a->isSeparator() && a->text().remove(u'&').trimmed().isEmpty())
                unnamed << u"action in menu %1"_s.arg(menu->title());
        }
    }
    unnamed.removeDuplicates();
    return unnamed;
}

} // namespace

class TestAccessibility : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void everyElementOfTheWindowHasAName();
    void everyElementOfTheDialogsHasAName();
    void tabOrderReachesTheChat();
    void everyShortcutIsInAMenu();
    void shortcutsDialogListsEveryAction();
    void messagesAreExposed();
    void finishedAnswerIsAnnouncedOnce();

private:
    QTemporaryDir m_home;
};

void TestAccessibility::initTestCase()
{
    QVERIFY(test::isolateHome(m_home));
    QAccessible::setActive(true);
}

// The window with a chat open and its answer, the chat settings panel shown, the approval card.
void TestAccessibility::everyElementOfTheWindowHasAName()
{
    test::Fixture f(4, 2);
    HF_CHECK_FIXTURE(f);
    f.type(u"Hello there"_s);
    QVERIFY(test::spinUntil([&] { return !f.pane()->isGenerating() && !f.view()->answering(); }));
    QVERIFY(test::spinUntil([&] { return f.list()->rowCount() >= 1; }));
    f.pane()->toggleSettings();
    QVERIFY(f.pane()->settingsPanel()->isVisible());
    f.pane()->approvalCard()->show(); // hidden until a tool call waits: its buttons count too
    const QStringList unnamed = unnamedIn(f.window.get());
    if (!unnamed.isEmpty())
        QFAIL(qPrintable(
            u"%1 interactive elements without an accessible name:\n  "_s.arg(unnamed.size()) +
            unnamed.join(u"\n  "_s)));
    // A chat list item says its title, when, and its state (Qt::AccessibleTextRole).
    QAccessibleInterface *list = QAccessible::queryAccessibleInterface(f.window->sidebar()->list());
    QVERIFY(list && list->childCount() >= 1);
    QAccessibleInterface *item = list->child(0);
    QVERIFY(item);
    const SessionMeta meta = f.list()->at(0);
    QCOMPARE(
        item->text(QAccessible::Name),
        u"%1, %2"_s.arg(SessionListModel::displayTitle(meta),
                        QLocale().toString(meta.updatedAt.toLocalTime(), QLocale::ShortFormat)));
}

void TestAccessibility::everyElementOfTheDialogsHasAName()
{
    test::Fixture f(4, 2);
    HF_CHECK_FIXTURE(f);
    QStringList unnamed;
    {
        SettingsDialog settings(f.window->settingsValues(), m_home.filePath(u"config.json"_s),
                                f.window.get());
        settings.show();
        unnamed << unnamedIn(&settings);
    }
    f.window->openMcpServers();
    auto *mcp = f.window->findChild<McpServersDialog *>();
    QVERIFY(mcp);
    unnamed << unnamedIn(mcp);
    mcp->close();
    f.window->showShortcuts();
    auto *keys = f.window->findChild<ShortcutsDialog *>();
    QVERIFY(keys);
    unnamed << unnamedIn(keys);
    keys->close();
    if (!unnamed.isEmpty())
        QFAIL(qPrintable(
            u"%1 interactive elements without an accessible name:\n  "_s.arg(unnamed.size()) +
            unnamed.join(u"\n  "_s)));
}

// Tab goes from the search field through the chat list, the chat, the composer to Send.
void TestAccessibility::tabOrderReachesTheChat()
{
    test::Fixture f(4, 2);
    HF_CHECK_FIXTURE(f);
    f.type(u"Hello"_s);
    QVERIFY(test::spinUntil([&] { return !f.pane()->isGenerating() && !f.view()->answering(); }));
    QWidget *search = f.window->sidebar()->searchField();
    QWidget *send = f.pane()->findChild<QToolButton *>(u"sendButton"_s);
    QList<QWidget *> stops;
    stops << search << f.window->sidebar()->list() << f.view() << f.composer() << send;
    for (QWidget *w : stops)
        QVERIFY(w);
    // Follows the focus chain as Tab does: each stop comes after the one before it.
    qsizetype next = 1;
    QWidget *w = search;
    for (int steps = 0; steps < 200 && next < stops.size(); ++steps) {
        w = w->nextInFocusChain();
        if (w == search)
            break;
        if (w == stops[next])
            ++next;
    }
    QVERIFY2(next == stops.size(),
             qPrintable(u"Tab does not reach %1"_s.arg(
                 next < stops.size() ? QString::fromLatin1(stops[next]->metaObject()->className())
                                     : QString())));
    // Each takes the focus with Tab.
    for (QWidget *s : stops)
        QVERIFY2(s->focusPolicy() & Qt::TabFocus, s->metaObject()->className());
}

// Every action with a shortcut is in a menu of the menu bar (so it can be found and read), and
// enabled in a window with a chat.
void TestAccessibility::everyShortcutIsInAMenu()
{
    test::Fixture f(4, 2);
    HF_CHECK_FIXTURE(f);
    QSet<QAction *> inMenus;
    const auto menus = f.window->menuBar()->findChildren<QMenu *>();
    for (QMenu *m : menus)
        for (QAction *a : m->actions())
            inMenus.insert(a);
    QStringList missing;
    for (QAction *a : f.window->findChildren<QAction *>()) {
        if (a->shortcut().isEmpty())
            continue;
        if (!inMenus.contains(a) || !a->isEnabled())
            missing << u"%1 (%2)"_s.arg(a->text(), a->shortcut().toString());
    }
    QVERIFY2(missing.isEmpty(), qPrintable(missing.join(u", "_s)));
}

// Help → Keyboard Shortcuts lists the text and shortcut of every action of the menus that has
// one, under its menu.
void TestAccessibility::shortcutsDialogListsEveryAction()
{
    test::Fixture f(4, 2);
    HF_CHECK_FIXTURE(f);
    QAction *open = nullptr;
    for (QMenu *m : f.window->menuBar()->findChildren<QMenu *>())
        for (QAction *a : m->actions())
            if (a->text() == u"&Keyboard Shortcuts"_s)
                open = a;
    QVERIFY(open);
    QVERIFY(!open->shortcut().isEmpty());
    open->trigger();
    auto *dialog = f.window->findChild<ShortcutsDialog *>();
    QVERIFY(dialog && dialog->isVisible());
    QSet<QString> listed; // "Menu|Action|Shortcut"
    QTreeWidget *tree = dialog->tree();
    for (int i = 0; i < tree->topLevelItemCount(); ++i) {
        QTreeWidgetItem *menu = tree->topLevelItem(i);
        for (int j = 0; j < menu->childCount(); ++j)
            listed.insert(menu->text(0) + u'|' + menu->child(j)->text(0) + u'|' +
                          menu->child(j)->text(1));
    }
    int expected = 0;
    for (QAction *menuAction : f.window->menuBar()->actions()) {
        QMenu *m = menuAction->menu();
        if (!m)
            continue;
        const QString title = m->title().remove(u'&');
        for (QAction *a : m->actions()) {
            if (a->shortcut().isEmpty())
                continue;
            ++expected;
            QString text = a->text().remove(u'&');
            if (text.endsWith(u"…"_s))
                text.chop(1);
            const QString row =
                title + u'|' + text + u'|' + a->shortcut().toString(QKeySequence::NativeText);
            QVERIFY2(listed.contains(row), qPrintable(u"not listed: "_s + row));
        }
    }
    QVERIFY(expected >= 10); // the window's shortcuts are all there, not an empty menu bar
    QCOMPARE(listed.size(), expected);
    // Asked again: the same dialog comes to the front.
    f.window->showShortcuts();
    QCOMPARE(f.window->findChildren<ShortcutsDialog *>().size(), 1);
}

// The chat view says how many messages it shows and the last one: who, when, what.
void TestAccessibility::messagesAreExposed()
{
    test::Fixture f(4, 2);
    HF_CHECK_FIXTURE(f);
    QCOMPARE(f.view()->accessibleDescription(), u"No messages"_s);
    f.type(u"Hello there"_s);
    QVERIFY(test::spinUntil([&] { return !f.pane()->isGenerating() && !f.view()->answering(); }));
    QCOMPARE(f.view()->messageCount(), 2);
    const QString prompt = f.view()->accessibleMessage(0);
    QVERIFY2(prompt.startsWith(u"You, "_s) && prompt.endsWith(u": Hello there"_s),
             qPrintable(prompt));
    const QString answer = f.view()->accessibleMessage(1);
    const QString start = f.view()->lastAnswerText().simplified().left(40);
    QVERIFY(!start.isEmpty());
    QVERIFY2(answer.startsWith(u"Assistant, "_s) && answer.contains(start), qPrintable(answer));
    QAccessibleInterface *view = QAccessible::queryAccessibleInterface(f.view());
    QVERIFY(view);
    QCOMPARE(view->text(QAccessible::Name), u"Conversation"_s);
    QCOMPARE(view->text(QAccessible::Description), u"2 messages shown. Last: %1"_s.arg(answer));
    // A new version of the answer: which one it is, as ‹ 2/2 › shows.
    f.pane()->regenerateLast();
    QVERIFY(test::spinUntil([&] {
        return !f.pane()->isGenerating() && !f.view()->answering() &&
               f.view()->toPlainText().contains(u"2/2"_s);
    }));
    QVERIFY(test::spinUntil(
        [&] { return f.view()->accessibleMessage(1).contains(u", version 2 of 2: "_s); }));
    QVERIFY(f.view()->accessibleDescription().contains(u", version 2 of 2: "_s));
}

// A finished answer is announced once, with its start; the view's description is not written
// per chunk of the answer (it says "writing…" until the answer ends). QAccessible is inactive
// on the offscreen platform (no events reach an update handler): ChatPane::announced() stands
// for the NameChanged and Alert events sent just before it.
void TestAccessibility::finishedAnswerIsAnnouncedOnce()
{
    test::Fixture f(30, 3);
    HF_CHECK_FIXTURE(f);
    QLabel *announcer = f.pane()->announcer();
    QVERIFY(announcer && !announcer->isVisible());
    QSignalSpy announced(f.pane(), &ChatPane::announced);
    for (int answer = 1; answer <= 2; ++answer) {
        f.type(u"Tell me something %1"_s.arg(answer));
        QVERIFY(test::spinUntil(
            [&] { return f.view()->answering() && f.view()->lastAnswerText().size() > 20; }));
        const QString live = f.view()->accessibleDescription();
        QVERIFY2(live.endsWith(u": writing…"_s), qPrintable(live));
        QCOMPARE(announced.size(), answer - 1);
        QVERIFY(test::spinUntil([&] { return announced.size() == answer; }));
        QVERIFY(test::spinUntil([&] { return !f.pane()->isGenerating(); }));
        QTest::qWait(50); // nothing more comes
        QCOMPARE(announced.size(), answer);
        const QString start = f.view()->lastAnswerText().simplified().left(60);
        QVERIFY(!start.isEmpty());
        const QString said = announced.last().first().toString();
        QVERIFY2(said.startsWith(u"Answer finished: "_s + start), qPrintable(said));
        QCOMPARE(announcer->accessibleName(), said);
        QVERIFY(!f.view()->accessibleDescription().endsWith(u"writing…"_s));
    }
}

QTEST_MAIN(TestAccessibility)
#include "tst_accessibility.moc"
