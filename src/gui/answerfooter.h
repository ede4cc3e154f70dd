#pragma once

#include "core/types.h"

#include <QCoreApplication>
#include <QString>
#include <QStringView>

namespace holdfast {

// The words the chat shows about a turn (shared/API.md, Usage and context budget): the quiet
// footer under an answer, the notice of messages left out of the context, and the estimate of
// a draft's tokens. Text only: the view and the composer decide where it goes.
class AnswerFooter
{
    Q_DECLARE_TR_FUNCTIONS(AnswerFooter)
public:
    // "demo · 120 in · 48 out · 35.2 tok/s · 0.42 s to first token"; "" for a turn that has not
    // ended or that says nothing beyond its model.
    static QString text(const TurnRecord &turn);
    // Tokens per second of the generation (completion tokens over first chunk to end); < 0 when
    // the turn does not tell.
    static double tokensPerSecond(const TurnRecord &turn);
    // Milliseconds from the request to the first chunk; < 0 when unknown.
    static qint64 msToFirstToken(const TurnRecord &turn);
    // "12 older messages were left out to fit the context budget"; "" when none was.
    static QString leftOutNotice(const TurnRecord &turn);
    // About one token per 4 UTF-8 bytes (the service's own estimate), counted without
    // converting the text.
    static qint64 estimateTokens(QStringView text);
    // "~N tokens", with " of M" when the budget is known (budget <= 0: unknown).
    static QString estimateText(qint64 tokens, qint64 budget);
};

} // namespace holdfast
