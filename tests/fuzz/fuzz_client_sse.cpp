// The remote client's parser of our own event streams (src/client/sseparser), and what
// TurnEventStream makes of an event's data (json::chunkFromJson / errorFromJson).
// Checks: no crash; the events do not depend on where the bytes were cut.
#include "client/sseparser.h"
#include "core/json.h"
#include "fuzzsupport.h"

#include <QJsonDocument>

using namespace holdfast;

namespace {
bool same(const QList<SseParser::Event> &a, const QList<SseParser::Event> &b)
{
    if (a.size() != b.size())
        return false;
    for (qsizetype i = 0; i < a.size(); ++i) {
        if (a[i].id != b[i].id || a[i].name != b[i].name || a[i].data != b[i].data)
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
        events += cut.feed(piece.toByteArray());

    SseParser whole;
    const QList<SseParser::Event> once = whole.feed(fuzz::payload(data, size));
    FUZZ_CHECK(same(events, once));

    for (const SseParser::Event &event : std::as_const(events)) {
        const QJsonObject object = QJsonDocument::fromJson(event.data).object();
        (void)json::chunkFromJson(object);
        (void)json::errorFromJson(object);
        (void)json::turnFromJson(object);
    }
    return 0;
}
