#pragma once

#include <QDialog>
#include <QList>

class QMenuBar;
class QTreeWidget;

namespace holdfast {

// Help → Keyboard Shortcuts: every action of the menu bar that has a shortcut, grouped by menu,
// read from the actions themselves so that the list cannot fall out of step with them.
class ShortcutsDialog final : public QDialog
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ShortcutsDialog)
public:
    struct Entry
    {
        QString text;     // the action's text, without its mnemonic
        QString shortcut; // as the platform writes it
    };
    struct Group
    {
        QString menu; // the menu's title (a submenu's "Menu › Submenu")
        QList<Entry> entries;
    };

    explicit ShortcutsDialog(const QMenuBar *menuBar, QWidget *parent = nullptr);

    static QList<Group> collect(const QMenuBar *menuBar);
    QTreeWidget *tree() const { return m_tree; }

private:
    QTreeWidget *m_tree;
};

} // namespace holdfast
