#pragma once

// What the two model stream fuzzers check of the tool calls a stream gathered.

#include "fuzzsupport.h"
#include "provider/wireformat.h"

#include <QSet>

namespace holdfast::fuzz {

// The calls of a stream are either an error or calls that each have a function name and an id,
// no id twice.
inline void checkToolCalls(const upstream::ToolCallAssembler &toolCalls,
                           const QString &finishReason)
{
    const Result<QList<ProviderToolCall>> calls = toolCalls.calls(finishReason);
    if (!calls)
        return;
    QSet<QString> ids;
    for (const ProviderToolCall &call : *calls) {
        FUZZ_CHECK(!call.wireName.isEmpty() && !call.id.isEmpty());
        FUZZ_CHECK(!ids.contains(call.id));
        ids.insert(call.id);
    }
}

} // namespace holdfast::fuzz
