#include "core/logging.h"

Q_LOGGING_CATEGORY(lcCore, "holdfast.core", QtInfoMsg)
Q_LOGGING_CATEGORY(lcStore, "holdfast.store", QtInfoMsg)
Q_LOGGING_CATEGORY(lcProvider, "holdfast.provider", QtInfoMsg)
