#pragma once

#include "gui/codehighlighter.h"

#include <QColor>
#include <QFont>
#include <QPalette>
#include <QTextCharFormat>

#include <array>

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
    // The text of code blocks, one format per kind of token (CodeToken): monospace, coloured for
    // a light or a dark window, each readable on codeBackground.
    std::array<QTextCharFormat, kCodeTokenCount> code;
    QColor codeAddedLine; // behind a diff's added and removed lines
    QColor codeRemovedLine;

    static ChatStyle fromPalette(const QPalette &palette, const QFont &font);
    // WCAG's contrast ratio of two colours (1 to 21; text reads from 4.5).
    static qreal contrast(const QColor &a, const QColor &b);
};

} // namespace holdfast
