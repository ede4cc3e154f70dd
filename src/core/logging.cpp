#include "core/logging.h"

Q_LOGGING_CATEGORY(lcCore, "holdfast.core", QtInfoMsg)
Q_LOGGING_CATEGORY(lcStore, "holdfast.store", QtInfoMsg)
Q_LOGGING_CATEGORY(lcProvider, "holdfast.provider", QtInfoMsg)
// Defined here so that every layer's category lives in one place; used by src/app and src/gui.
Q_LOGGING_CATEGORY(lcGui, "holdfast.gui", QtInfoMsg)
