#include "gui/guilog.h"

Q_LOGGING_CATEGORY(lcGui, "holdfast.gui", QtInfoMsg)
