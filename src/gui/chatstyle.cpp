#include "gui/chatstyle.h"

#include <QFontDatabase>

#include <cmath>

namespace holdfast {

namespace {
QColor mix(const QColor &a, const QColor &b, qreal t)
{
    return QColor::fromRgbF(float(a.redF() * (1 - t) + b.redF() * t),
                            float(a.greenF() * (1 - t) + b.greenF() * t),
                            float(a.blueF() * (1 - t) + b.blueF() * t));
}

// The colours of code, per CodeToken, on a light and on a dark background (GitHub's themes).
struct CodeColour
{
    CodeToken kind;
    QRgb light;
    QRgb dark;
};
constexpr CodeColour kCodeColours[] = {
    {CodeToken::Keyword, 0xcf222e, 0xff7b72},   {CodeToken::Type, 0x953800, 0xffa657},
    {CodeToken::Constant, 0x0550ae, 0x79c0ff},  {CodeToken::Number, 0x0550ae, 0x79c0ff},
    {CodeToken::String, 0x0a3069, 0xa5d6ff},    {CodeToken::Comment, 0x6e7781, 0x8b949e},
    {CodeToken::Meta, 0x0f6b73, 0x56d4dd},      {CodeToken::Function, 0x8250df, 0xd2a8ff},
    {CodeToken::Variable, 0x953800, 0xffa657},  {CodeToken::Tag, 0x116329, 0x7ee787},
    {CodeToken::Attribute, 0x0550ae, 0x79c0ff}, {CodeToken::Heading, 0x0550ae, 0x79c0ff},
    {CodeToken::Added, 0x116329, 0x7ee787},     {CodeToken::Removed, 0x82071e, 0xffa198},
};

// A colour moved towards the text colour until it reads on the background (WCAG's 4.5:1), for
// palettes whose base is neither white nor near-black.
QColor readable(const QColor &colour, const QColor &background, const QColor &text)
{
    QColor c = colour;
    for (qreal t = 0.2; ChatStyle::contrast(c, background) < 4.5 && t <= 1.0; t += 0.2)
        c = mix(colour, text, t);
    return c;
}
} // namespace

qreal ChatStyle::contrast(const QColor &a, const QColor &b)
{
    const auto luminance = [](const QColor &c) {
        const auto channel = [](qreal v) {
            return v <= 0.03928 ? v / 12.92 : std::pow((v + 0.055) / 1.055, 2.4);
        };
        return 0.2126 * channel(c.redF()) + 0.7152 * channel(c.greenF()) +
               0.0722 * channel(c.blueF());
    };
    const qreal la = luminance(a);
    const qreal lb = luminance(b);
    return (std::max(la, lb) + 0.05) / (std::min(la, lb) + 0.05);
}

ChatStyle ChatStyle::fromPalette(const QPalette &palette, const QFont &font)
{
    ChatStyle s;
    s.body = font;
    s.mono = QFontDatabase::systemFont(QFontDatabase::FixedFont);
    s.mono.setPointSizeF(font.pointSizeF() > 0 ? font.pointSizeF() * 0.92 : 9);
    const QColor base = palette.color(QPalette::Base);
    const bool light = base.lightnessF() > 0.5;
    s.text = palette.color(QPalette::Text);
    s.muted = mix(s.text, base, 0.45);
    s.accent = palette.color(QPalette::Highlight);
    s.userBubble = mix(base, s.accent, light ? 0.08 : 0.18);
    s.codeBackground = mix(base, s.text, 0.05);
    s.codeBorder = mix(base, s.text, 0.15);
    s.tableBorder = mix(base, s.text, 0.22);
    s.tableHeader = mix(base, s.text, 0.07);
    s.error = light ? QColor(0xb0, 0x1e, 0x1e) : QColor(0xff, 0x7b, 0x72);

    QTextCharFormat plain;
    plain.setFont(s.mono);
    plain.setForeground(s.text);
    s.code.fill(plain);
    const auto colour = [light](const CodeColour &c) { return QColor(light ? c.light : c.dark); };
    for (const CodeColour &c : kCodeColours) {
        QColor background = s.codeBackground;
        if (c.kind == CodeToken::Added || c.kind == CodeToken::Removed) {
            background = mix(s.codeBackground, colour(c), light ? 0.1 : 0.16);
            (c.kind == CodeToken::Added ? s.codeAddedLine : s.codeRemovedLine) = background;
        }
        s.code[std::size_t(c.kind)].setForeground(readable(colour(c), background, s.text));
    }
    s.code[std::size_t(CodeToken::Heading)].setFontWeight(QFont::Bold);
    s.code[std::size_t(CodeToken::Emphasis)].setFontWeight(QFont::Bold);
    return s;
}

} // namespace holdfast
