#pragma once

#include <QElapsedTimer>
#include <QStyledItemDelegate>

namespace holdfast {

// A sidebar row: the title, when it last changed, and a pulsing dot while an answer generates.
class SessionItemDelegate final : public QStyledItemDelegate
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(SessionItemDelegate)
public:
    explicit SessionItemDelegate(QObject *parent = nullptr);

    void paint(QPainter *painter, const QStyleOptionViewItem &option,
               const QModelIndex &index) const override;
    QSize sizeHint(const QStyleOptionViewItem &option, const QModelIndex &index) const override;

    static QString relativeTime(const QDateTime &when, const QDateTime &now);

private:
    QElapsedTimer m_clock; // phase of the pulse
};

} // namespace holdfast
