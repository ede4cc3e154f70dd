#include "gui/answerfooter.h"

#include <QLocale>

namespace holdfast {

double AnswerFooter::tokensPerSecond(const TurnRecord &turn)
{
    if (!turn.usage || turn.usage->completionTokens <= 0 || !turn.firstChunkAt.isValid() ||
        !turn.finishedAt.isValid())
        return -1;
    const qint64 ms = turn.firstChunkAt.msecsTo(turn.finishedAt);
    if (ms <= 0)
        return -1; // one chunk, or clocks that disagree: no honest rate
    return double(turn.usage->completionTokens) * 1000.0 / double(ms);
}

qint64 AnswerFooter::msToFirstToken(const TurnRecord &turn)
{
    if (!turn.createdAt.isValid() || !turn.firstChunkAt.isValid())
        return -1;
    return std::max<qint64>(0, turn.createdAt.msecsTo(turn.firstChunkAt));
}

QString AnswerFooter::text(const TurnRecord &turn)
{
    if (!turn.ended())
        return {};
    const QLocale locale;
    QStringList parts;
    if (turn.usage) {
        parts << tr("%1 in").arg(locale.toString(turn.usage->promptTokens))
              << tr("%1 out").arg(locale.toString(turn.usage->completionTokens));
    }
    if (const double rate = tokensPerSecond(turn); rate >= 0)
        parts << tr("%1 tok/s").arg(locale.toString(rate, 'f', rate < 100 ? 1 : 0));
    if (const qint64 ms = msToFirstToken(turn); ms >= 0) {
        const QString seconds = ms < 10000 ? locale.toString(double(ms) / 1000.0, 'f', 2)
                                           : locale.toString(double(ms) / 1000.0, 'f', 0);
        parts << tr("%1 s to first token").arg(seconds);
    }
    if (parts.isEmpty())
        return {}; // the header names the model already
    if (!turn.model.isEmpty())
        parts.prepend(turn.model);
    return parts.join(QStringLiteral(" · "));
}

QString AnswerFooter::leftOutNotice(const TurnRecord &turn)
{
    const int dropped = turn.context ? turn.context->dropped : 0;
    if (dropped <= 0)
        return {};
    if (dropped == 1)
        return tr("1 older message was left out to fit the context budget");
    // %Ln: the count in the locale's digits, and the plural form the language needs for it.
    return tr("%Ln older messages were left out to fit the context budget", nullptr, dropped);
}

qint64 AnswerFooter::estimateTokens(QStringView text)
{
    qint64 bytes = 0;
    for (const QChar c : text) {
        const char16_t u = c.unicode();
        if (u < 0x80)
            bytes += 1;
        else if (u < 0x800)
            bytes += 2;
        else if (c.isSurrogate())
            bytes += 2; // a pair is 4 bytes in UTF-8
        else
            bytes += 3;
    }
    return (bytes + 3) / 4;
}

QString AnswerFooter::estimateText(qint64 tokens, qint64 budget)
{
    const QLocale locale;
    if (budget > 0)
        return tr("~%1 tokens of %2").arg(locale.toString(tokens), locale.toString(budget));
    return tr("~%1 tokens").arg(locale.toString(tokens));
}

} // namespace holdfast
