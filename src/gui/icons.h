#pragma once

#include <QIcon>

namespace holdfast {

// The window's icons, drawn as vector paths in the palette's text colour: crisp at any scale
// factor, right in light and dark themes, and with no image plugin needed.
namespace icons {
enum class Name {
    NewChat,
    Send,
    Stop,
    Settings,
    Search,
    Delete,
    Rename,
    Copy,
    Export,
    System,
    Add,
    Remove,
    Attach,
    File,
    Image,
    Close,
    App
};
QIcon icon(Name name);
// The application icon (also resources/icons/holdfast.svg, for the desktop file).
QIcon appIcon();
} // namespace icons

} // namespace holdfast
