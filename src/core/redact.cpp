#include "core/redact.h"

namespace holdfast {

// By hand, not with QUrl: a spec that is not a valid URL may hold a password all the same.
QString redactPassword(const QString &spec)
{
    const qsizetype scheme = spec.indexOf(QLatin1String("://"));
    const qsizetype start = scheme < 0 ? spec.indexOf(QLatin1Char(':')) + 1 : scheme + 3;
    const qsizetype at = spec.lastIndexOf(QLatin1Char('@'));
    if (at < start)
        return spec;
    const QString info = spec.mid(start, at - start);
    const qsizetype colon = scheme < 0 ? -1 : info.indexOf(QLatin1Char(':'));
    return spec.left(start) + info.left(colon + 1) + QLatin1String("****") + spec.mid(at);
}

} // namespace holdfast
