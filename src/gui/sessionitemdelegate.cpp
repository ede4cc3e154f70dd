#include "gui/sessionitemdelegate.h"

#include "gui/sessionlistmodel.h"

#include <QApplication>
#include <QPainter>
#include <QtMath>

namespace holdfast {

SessionItemDelegate::SessionItemDelegate(QObject *parent) : QStyledItemDelegate(parent)
{
    m_clock.start();
}

QString SessionItemDelegate::relativeTime(const QDateTime &when, const QDateTime &now)
{
    if (!when.isValid())
        return {};
    const qint64 seconds = when.secsTo(now);
    if (seconds < 60)
        return tr("just now");
    if (seconds < 3600)
        return tr("%n min ago", nullptr, int(seconds / 60));
    const QDate day = when.toLocalTime().date();
    const QDate today = now.toLocalTime().date();
    if (day == today)
        return QLocale().toString(when.toLocalTime().time(), QLocale::ShortFormat);
    if (day.daysTo(today) == 1)
        return tr("yesterday");
    if (day.daysTo(today) < 7)
        return QLocale().dayName(day.dayOfWeek(), QLocale::ShortFormat);
    return QLocale().toString(day, QLocale::ShortFormat);
}

QSize SessionItemDelegate::sizeHint(const QStyleOptionViewItem &option, const QModelIndex &) const
{
    const QFontMetrics fm(option.font);
    return {200, fm.height() * 2 + 18};
}

void SessionItemDelegate::paint(QPainter *painter, const QStyleOptionViewItem &option,
                                const QModelIndex &index) const
{
    painter->save();
    painter->setRenderHint(QPainter::Antialiasing);
    const QPalette &pal = option.palette;
    const bool selected = option.state & QStyle::State_Selected;
    const bool hover = option.state & QStyle::State_MouseOver;
    const QRectF card = QRectF(option.rect).adjusted(6, 2, -6, -2);
    if (selected || hover) {
        QColor fill = pal.color(QPalette::Highlight);
        fill.setAlphaF(selected ? (option.state & QStyle::State_Active ? 0.22f : 0.16f) : 0.08f);
        painter->setPen(Qt::NoPen);
        painter->setBrush(fill);
        painter->drawRoundedRect(card, 8, 8);
    }

    const bool active = index.data(SessionListModel::ActiveRole).toBool();
    const int dot = active ? 14 : 0;
    QRectF text = card.adjusted(10, 6, -10 - dot, -6);
    QFont titleFont = option.font;
    titleFont.setWeight(selected ? QFont::DemiBold : QFont::Medium);
    const QFontMetrics titleMetrics(titleFont);
    painter->setFont(titleFont);
    painter->setPen(pal.color(QPalette::Text));
    const QString title = titleMetrics.elidedText(index.data(Qt::DisplayRole).toString(),
                                                  Qt::ElideRight, int(text.width()));
    painter->drawText(text, Qt::AlignLeft | Qt::AlignTop, title);

    QFont small = option.font;
    small.setPointSizeF(option.font.pointSizeF() * 0.88);
    painter->setFont(small);
    QColor muted = pal.color(QPalette::Text);
    muted.setAlphaF(0.55f);
    painter->setPen(muted);
    const qint64 length = index.data(SessionListModel::LengthRole).toLongLong();
    QString detail = relativeTime(index.data(SessionListModel::UpdatedRole).toDateTime(),
                                  QDateTime::currentDateTimeUtc());
    const bool waiting = index.data(SessionListModel::WaitingRole).toBool();
    if (waiting) {
        detail = tr("waits for your approval");
        painter->setPen(QColor(0xc0, 0x7a, 0x10));
    } else if (active) {
        detail = tr("answering…");
    } else if (length > 0)
        detail += QStringLiteral("  ·  ") +
                  (length == 1 ? tr("1 message") : tr("%Ln messages", nullptr, int(length)));
    painter->drawText(text, Qt::AlignLeft | Qt::AlignBottom, detail);

    if (active) {
        // A dot that breathes while the answer generates, even while another chat is shown.
        const qreal phase = (qSin(m_clock.elapsed() / 1000.0 * 2 * M_PI * 0.8) + 1) / 2;
        QColor c = pal.color(QPalette::Highlight);
        c.setAlphaF(float(0.35 + 0.65 * phase));
        painter->setPen(Qt::NoPen);
        painter->setBrush(c);
        const QPointF center(card.right() - 14, card.center().y());
        painter->drawEllipse(center, 4.5, 4.5);
    }
    painter->restore();
}

} // namespace holdfast
