#pragma once

#include <QLoggingCategory>

// The window's category, defined in the layer that logs to it (src/app's window start-up too).
Q_DECLARE_LOGGING_CATEGORY(lcGui)
