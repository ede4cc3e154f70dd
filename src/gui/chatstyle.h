#pragma once

#include <QColor>
#include <QFont>
#include <QPalette>

namespace holdfast {

// Colours and fonts of the chat view, derived from the palette so that light and dark themes
// both read well.
struct ChatStyle
{
    QFont body;
    QFont mono;
    QColor text;
    QColor muted;      // headers, timestamps
    QColor accent;     // links, the user's name
    QColor userBubble; // background of the user's messages
    QColor codeBackground;
    QColor codeBorder;
    QColor tableBorder;
    QColor tableHeader;
    QColor error;

    static ChatStyle fromPalette(const QPalette &palette, const QFont &font);
};

} // namespace holdfast
