#include "gui/shortcutsdialog.h"

#include <QAction>
#include <QDialogButtonBox>
#include <QHeaderView>
#include <QMenu>
#include <QMenuBar>
#include <QTreeWidget>
#include <QVBoxLayout>

namespace holdfast {

namespace {

QString plain(QString text)
{
    // "&&" is a literal ampersand; a single "&" marks the mnemonic.
    text.replace(QStringLiteral("&&"), QStringLiteral("\x01"));
    text.remove(QLatin1Char('&'));
    text.replace(QStringLiteral("\x01"), QStringLiteral("&"));
    if (text.endsWith(QStringLiteral("…")))
        text.chop(1);
    return text.trimmed();
}

void collectMenu(const QMenu *menu, const QString &title, QList<ShortcutsDialog::Group> &groups)
{
    ShortcutsDialog::Group group;
    group.menu = title;
    QList<std::pair<const QMenu *, QString>> submenus;
    const auto actions = menu->actions();
    for (const QAction *action : actions) {
        if (action->isSeparator())
            continue;
        if (const QMenu *sub = action->menu()) {
            submenus.append({sub, title + QStringLiteral(" › ") + plain(sub->title())});
            continue;
        }
        const QList<QKeySequence> keys = action->shortcuts();
        if (keys.isEmpty())
            continue;
        QStringList written;
        for (const QKeySequence &key : keys)
            written << key.toString(QKeySequence::NativeText);
        ShortcutsDialog::Entry entry;
        entry.text = plain(action->text());
        entry.shortcut = written.join(QStringLiteral(", "));
        group.entries.append(entry);
    }
    if (!group.entries.isEmpty())
        groups.append(group);
    for (const auto &[sub, subTitle] : submenus)
        collectMenu(sub, subTitle, groups);
}

} // namespace

QList<ShortcutsDialog::Group> ShortcutsDialog::collect(const QMenuBar *menuBar)
{
    QList<Group> groups;
    const auto actions = menuBar->actions();
    for (const QAction *action : actions) {
        if (const QMenu *menu = action->menu())
            collectMenu(menu, plain(menu->title()), groups);
    }
    return groups;
}

ShortcutsDialog::ShortcutsDialog(const QMenuBar *menuBar, QWidget *parent)
    : QDialog(parent), m_tree(new QTreeWidget(this))
{
    setWindowTitle(tr("Keyboard Shortcuts"));
    setObjectName(QStringLiteral("shortcutsDialog"));
    m_tree->setColumnCount(2);
    m_tree->setHeaderLabels({tr("Action"), tr("Shortcut")});
    m_tree->setAccessibleName(tr("Keyboard shortcuts"));
    m_tree->setAccessibleDescription(tr("Every action that has a shortcut, by menu"));
    m_tree->setRootIsDecorated(false);
    m_tree->setSelectionMode(QAbstractItemView::SingleSelection);
    m_tree->setUniformRowHeights(true);
    const QList<Group> groups = collect(menuBar);
    for (const Group &group : groups) {
        auto *menu = new QTreeWidgetItem(m_tree, {group.menu});
        QFont bold = menu->font(0);
        bold.setWeight(QFont::DemiBold);
        menu->setFont(0, bold);
        menu->setFirstColumnSpanned(true);
        for (const Entry &entry : group.entries) {
            auto *item = new QTreeWidgetItem(menu, {entry.text, entry.shortcut});
            // Read as one line: "New Chat: Ctrl+N".
            item->setData(0, Qt::AccessibleTextRole, tr("%1: %2").arg(entry.text, entry.shortcut));
        }
    }
    m_tree->expandAll();
    m_tree->header()->setSectionResizeMode(0, QHeaderView::Stretch);
    m_tree->header()->setSectionResizeMode(1, QHeaderView::ResizeToContents);

    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Close, this);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    auto *layout = new QVBoxLayout(this);
    layout->addWidget(m_tree);
    layout->addWidget(buttons);
    resize(460, 520);
}

} // namespace holdfast
