#include "gui/chatstyle.h"

#include <QFontDatabase>

namespace holdfast {

namespace {
QColor mix(const QColor &a, const QColor &b, qreal t)
{
    return QColor::fromRgbF(float(a.redF() * (1 - t) + b.redF() * t),
                            float(a.greenF() * (1 - t) + b.greenF() * t),
                            float(a.blueF() * (1 - t) + b.blueF() * t));
}
} // namespace

ChatStyle ChatStyle::fromPalette(const QPalette &palette, const QFont &font)
{
    ChatStyle s;
    s.body = font;
    s.mono = QFontDatabase::systemFont(QFontDatabase::FixedFont);
    s.mono.setPointSizeF(font.pointSizeF() > 0 ? font.pointSizeF() * 0.92 : 9);
    const QColor base = palette.color(QPalette::Base);
    s.text = palette.color(QPalette::Text);
    s.muted = mix(s.text, base, 0.45);
    s.accent = palette.color(QPalette::Highlight);
    s.userBubble = mix(base, s.accent, base.lightnessF() > 0.5 ? 0.08 : 0.18);
    s.codeBackground = mix(base, s.text, 0.05);
    s.codeBorder = mix(base, s.text, 0.15);
    s.tableBorder = mix(base, s.text, 0.22);
    s.tableHeader = mix(base, s.text, 0.07);
    s.error = base.lightnessF() > 0.5 ? QColor(0xb0, 0x1e, 0x1e) : QColor(0xff, 0x7b, 0x72);
    return s;
}

} // namespace holdfast
