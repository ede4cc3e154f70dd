#pragma once

#include <QString>

namespace holdfast {

// A URL or store spec fit for a message or --print-config: whatever may be a password (the user
// info before the last '@', after the user name's ':') as ****, also when it is not a valid URL.
QString redactPassword(const QString &spec);

} // namespace holdfast
