#include "gui/icons.h"

#include <QApplication>
#include <QIconEngine>
#include <QPainter>
#include <QPainterPath>
#include <QPalette>
#include <QPixmap>

namespace holdfast::icons {

namespace {

// Paths are drawn on a 24x24 grid.
void drawGlyph(QPainter *p, Name name, const QColor &color)
{
    QPen pen(color, 1.8, Qt::SolidLine, Qt::RoundCap, Qt::RoundJoin);
    p->setPen(pen);
    p->setBrush(Qt::NoBrush);
    switch (name) {
    case Name::NewChat: {
        p->drawRoundedRect(QRectF(3.5, 4.5, 15, 13), 3, 3);
        QPainterPath tail;
        tail.moveTo(7, 17.5);
        tail.lineTo(6, 21);
        tail.lineTo(10.5, 17.5);
        p->drawPath(tail);
        p->drawLine(QPointF(11, 8), QPointF(11, 14));
        p->drawLine(QPointF(8, 11), QPointF(14, 11));
        break;
    }
    case Name::Send: {
        QPainterPath plane;
        plane.moveTo(4, 11.5);
        plane.lineTo(20.5, 4);
        plane.lineTo(14, 20);
        plane.lineTo(11.5, 13);
        plane.closeSubpath();
        p->setBrush(color);
        p->drawPath(plane);
        break;
    }
    case Name::Stop:
        p->setBrush(color);
        p->drawRoundedRect(QRectF(6.5, 6.5, 11, 11), 2, 2);
        break;
    case Name::Settings:
        for (int i = 0; i < 3; ++i) {
            const qreal y = 6 + i * 6;
            const qreal knob = i == 1 ? 15 : 8.5;
            p->drawLine(QPointF(4, y), QPointF(20, y));
            p->setBrush(QApplication::palette().color(QPalette::Base));
            p->drawEllipse(QPointF(knob, y), 2.3, 2.3);
            p->setBrush(Qt::NoBrush);
        }
        break;
    case Name::Search:
        p->drawEllipse(QPointF(10.5, 10.5), 5.5, 5.5);
        p->drawLine(QPointF(14.6, 14.6), QPointF(19.5, 19.5));
        break;
    case Name::Delete:
        p->drawLine(QPointF(4.5, 7), QPointF(19.5, 7));
        p->drawLine(QPointF(9.5, 7), QPointF(10, 4.5));
        p->drawLine(QPointF(10, 4.5), QPointF(14, 4.5));
        p->drawLine(QPointF(14, 4.5), QPointF(14.5, 7));
        p->drawRoundedRect(QRectF(6.5, 7, 11, 13), 2, 2);
        p->drawLine(QPointF(10.5, 11), QPointF(10.5, 16.5));
        p->drawLine(QPointF(13.5, 11), QPointF(13.5, 16.5));
        break;
    case Name::Rename: {
        QPainterPath pen2;
        pen2.moveTo(5, 19);
        pen2.lineTo(6, 15);
        pen2.lineTo(16, 5);
        pen2.lineTo(19, 8);
        pen2.lineTo(9, 18);
        pen2.closeSubpath();
        p->drawPath(pen2);
        break;
    }
    case Name::Copy:
        p->drawRoundedRect(QRectF(8.5, 8.5, 11, 11), 2, 2);
        p->drawPolyline(QPolygonF({QPointF(15.5, 5.5), QPointF(15.5, 4.5), QPointF(4.5, 4.5),
                                   QPointF(4.5, 15.5), QPointF(5.5, 15.5)}));
        break;
    case Name::Export:
        p->drawPolyline(QPolygonF({QPointF(8, 10), QPointF(5, 10), QPointF(5, 20), QPointF(19, 20),
                                   QPointF(19, 10), QPointF(16, 10)}));
        p->drawLine(QPointF(12, 3.5), QPointF(12, 14));
        p->drawPolyline(QPolygonF({QPointF(8.5, 7), QPointF(12, 3.5), QPointF(15.5, 7)}));
        break;
    case Name::System:
        p->drawRoundedRect(QRectF(4.5, 4.5, 15, 15), 3, 3);
        p->drawLine(QPointF(8, 9.5), QPointF(16, 9.5));
        p->drawLine(QPointF(8, 14.5), QPointF(13, 14.5));
        break;
    case Name::Add:
        p->drawLine(QPointF(12, 5), QPointF(12, 19));
        p->drawLine(QPointF(5, 12), QPointF(19, 12));
        break;
    case Name::Remove:
        p->drawLine(QPointF(5, 12), QPointF(19, 12));
        break;
    case Name::Attach: {
        // A paperclip, tilted: an outer loop and an inner one, open at the top.
        p->save();
        p->translate(12, 12);
        p->rotate(40);
        p->translate(-12, -12);
        QPainterPath clip;
        clip.moveTo(14.5, 8);
        clip.lineTo(14.5, 17);
        clip.arcTo(QRectF(9.5, 14.5, 5, 5), 0, -180);
        clip.lineTo(9.5, 5.5);
        clip.arcTo(QRectF(9.5, 1.5 + 0.5, 8, 7), 180, -180);
        clip.lineTo(17.5, 18);
        clip.arcTo(QRectF(6.5, 13, 11, 9), 0, -180);
        clip.lineTo(6.5, 9);
        p->drawPath(clip);
        p->restore();
        break;
    }
    case Name::File: {
        QPainterPath page;
        page.moveTo(6, 3.5);
        page.lineTo(14, 3.5);
        page.lineTo(18.5, 8);
        page.lineTo(18.5, 20.5);
        page.lineTo(6, 20.5);
        page.closeSubpath();
        p->drawPath(page);
        p->drawPolyline(QPolygonF({QPointF(14, 3.5), QPointF(14, 8), QPointF(18.5, 8)}));
        p->drawLine(QPointF(9, 12.5), QPointF(15.5, 12.5));
        p->drawLine(QPointF(9, 16), QPointF(15.5, 16));
        break;
    }
    case Name::Image:
        p->drawRoundedRect(QRectF(3.5, 5, 17, 14), 2, 2);
        p->drawEllipse(QPointF(9, 10), 1.6, 1.6);
        p->drawPolyline(QPolygonF({QPointF(4, 17.5), QPointF(10, 12.5), QPointF(13.5, 15.5),
                                   QPointF(16, 13.5), QPointF(20, 17)}));
        break;
    case Name::Close:
        p->drawLine(QPointF(7, 7), QPointF(17, 17));
        p->drawLine(QPointF(17, 7), QPointF(7, 17));
        break;
    case Name::App:
        break;
    }
}

void drawApp(QPainter *p)
{
    // A rounded tile, deep teal to blue, with a speech bubble held by an anchor-like hook.
    QLinearGradient g(0, 0, 24, 24);
    g.setColorAt(0, QColor(0x14, 0x8f, 0x8a));
    g.setColorAt(1, QColor(0x23, 0x5e, 0xc9));
    p->setPen(Qt::NoPen);
    p->setBrush(g);
    p->drawRoundedRect(QRectF(1, 1, 22, 22), 5.5, 5.5);
    QPainterPath bubble;
    bubble.addRoundedRect(QRectF(5, 5.5, 14, 10), 3, 3);
    QPainterPath tail;
    tail.moveTo(8, 15);
    tail.lineTo(7.2, 19);
    tail.lineTo(12, 15);
    p->setBrush(Qt::white);
    p->drawPath(bubble.united(tail));
    p->setBrush(QColor(0x23, 0x5e, 0xc9));
    for (int i = 0; i < 3; ++i)
        p->drawEllipse(QPointF(8.8 + i * 3.2, 10.5), 1.15, 1.15);
}

class GlyphEngine final : public QIconEngine
{
public:
    explicit GlyphEngine(Name name) : m_name(name) {}
    QIconEngine *clone() const override { return new GlyphEngine(m_name); }
    QString key() const override { return QStringLiteral("holdfast-glyph"); }

    void paint(QPainter *painter, const QRect &rect, QIcon::Mode mode, QIcon::State) override
    {
        painter->save();
        painter->setRenderHint(QPainter::Antialiasing);
        const qreal side = std::min(rect.width(), rect.height());
        painter->translate(rect.x() + (rect.width() - side) / 2,
                           rect.y() + (rect.height() - side) / 2);
        painter->scale(side / 24.0, side / 24.0);
        const QPalette pal = QApplication::palette();
        QColor color =
            pal.color(mode == QIcon::Disabled ? QPalette::Disabled : QPalette::Active,
                      mode == QIcon::Selected ? QPalette::HighlightedText : QPalette::ButtonText);
        if (m_name == Name::App)
            drawApp(painter);
        else
            drawGlyph(painter, m_name, color);
        painter->restore();
    }

    QPixmap pixmap(const QSize &size, QIcon::Mode mode, QIcon::State state) override
    {
        return scaledPixmap(size, mode, state, 1.0);
    }

    QPixmap scaledPixmap(const QSize &size, QIcon::Mode mode, QIcon::State state,
                         qreal scale) override
    {
        QPixmap pm(size * scale);
        pm.setDevicePixelRatio(scale);
        pm.fill(Qt::transparent);
        QPainter p(&pm);
        paint(&p, QRect(QPoint(), size), mode, state);
        return pm;
    }

private:
    Name m_name;
};

} // namespace

QIcon icon(Name name)
{
    return QIcon(new GlyphEngine(name));
}

QIcon appIcon()
{
    return icon(Name::App);
}

} // namespace holdfast::icons
