// The one SSE parser (src/runtime/sseparser), and what each of its readers makes of an event: the
// OpenAI-compatible provider (readOpenAiEvent) and the remote client's TurnEventStream (the JSON
// of a chunk, turn or error). Checks: no crash; the events and the last event id do not depend on
// where the bytes were cut; a provider fault carries neither text, nor an end marker, nor tool
// calls; the tool calls gathered have names and unique ids.
#include "core/json.h"
#include "fuzzsupport.h"
#include "fuzztoolcalls.h"
#include "provider/wireformat.h"
#include "runtime/sseparser.h"

#include <QJsonDocument>

using namespace holdfast;

namespace {
bool same(const QList<SseParser::Event> &a, const QList<SseParser::Event> &b)
{
    if (a.size() != b.size())
        return false;
    for (qsizetype i = 0; i < a.size(); ++i) {
        if (a[i].type != b[i].type || a[i].data != b[i].data || a[i].id != b[i].id)
            return false;
    }
    return true;
}
} // namespace

extern "C" int LLVMFuzzerInitialize(int *, char ***)
{
    fuzz::initQt();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    SseParser cut;
    QList<SseParser::Event> events;
    for (QByteArrayView piece : fuzz::pieces(data, size))
        events += cut.feed(piece);
    const QString cutLastId = cut.lastEventId();
    events += cut.finish();

    SseParser whole;
    QList<SseParser::Event> once = whole.feed(fuzz::payload(data, size));
    FUZZ_CHECK(whole.lastEventId() == cutLastId);
    once += whole.finish();
    FUZZ_CHECK(same(events, once));

    upstream::ToolCallAssembler toolCalls;
    QString finishReason;
    for (const SseParser::Event &event : std::as_const(events)) {
        const upstream::StreamItem item = upstream::readOpenAiEvent(event);
        if (item.fault != upstream::StreamItem::Fault::None)
            FUZZ_CHECK(!item.hasText && !item.end && item.toolCalls.isEmpty());
        for (const upstream::ToolCallPiece &piece : item.toolCalls)
            toolCalls.add(piece);
        if (!item.finishReason.isEmpty())
            finishReason = item.finishReason;
        const QJsonObject object = QJsonDocument::fromJson(event.data.toUtf8()).object();
        (void)json::chunkFromJson(object);
        (void)json::errorFromJson(object);
        (void)json::turnFromJson(object);
    }
    fuzz::checkToolCalls(toolCalls, finishReason);
    return 0;
}
