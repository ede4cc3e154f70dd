#pragma once

// The dark palette of the screenshot tests: a desktop in dark mode, as the offscreen platform
// has none of its own.

#include <QColor>
#include <QPalette>

namespace holdfast::test {

inline QPalette darkPalette()
{
    QPalette p;
    p.setColor(QPalette::Window, QColor(0x1f, 0x23, 0x28));
    p.setColor(QPalette::WindowText, QColor(0xe6, 0xe6, 0xe6));
    p.setColor(QPalette::Base, QColor(0x16, 0x19, 0x1d));
    p.setColor(QPalette::AlternateBase, QColor(0x22, 0x26, 0x2b));
    p.setColor(QPalette::Text, QColor(0xe6, 0xe6, 0xe6));
    p.setColor(QPalette::Button, QColor(0x2a, 0x2f, 0x35));
    p.setColor(QPalette::ButtonText, QColor(0xe6, 0xe6, 0xe6));
    p.setColor(QPalette::Highlight, QColor(0x3d, 0x8b, 0xfd));
    p.setColor(QPalette::HighlightedText, Qt::white);
    p.setColor(QPalette::Mid, QColor(0x44, 0x4a, 0x52));
    p.setColor(QPalette::Midlight, QColor(0x33, 0x38, 0x3e));
    p.setColor(QPalette::PlaceholderText, QColor(0x8a, 0x90, 0x98));
    for (const auto role : {QPalette::Text, QPalette::WindowText, QPalette::ButtonText})
        p.setColor(QPalette::Disabled, role, QColor(0x6a, 0x70, 0x78));
    return p;
}

} // namespace holdfast::test
