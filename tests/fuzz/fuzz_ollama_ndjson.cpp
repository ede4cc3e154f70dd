// The Ollama provider's stream: bytes -> LineSplitter -> readOllamaLine.
// Checks: no crash; the lines do not depend on where the bytes were cut; no line holds a line
// terminator; a fault carries neither text, nor an end marker, nor tool calls; the calls gathered
// have names and unique ids.
#include "fuzzsupport.h"
#include "fuzztoolcalls.h"
#include "provider/wireformat.h"
#include "runtime/sseparser.h"

using namespace holdfast;

extern "C" int LLVMFuzzerInitialize(int *, char ***)
{
    fuzz::initQt();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    LineSplitter cut;
    QList<QByteArray> lines;
    for (QByteArrayView piece : fuzz::pieces(data, size))
        lines += cut.feed(piece);
    lines += cut.finish();

    LineSplitter whole;
    QList<QByteArray> once = whole.feed(fuzz::payload(data, size));
    once += whole.finish();
    FUZZ_CHECK(lines == once);

    upstream::ToolCallAssembler toolCalls;
    for (const QByteArray &line : std::as_const(lines)) {
        FUZZ_CHECK(!line.contains('\n') && !line.contains('\r'));
        const upstream::StreamItem item = upstream::readOllamaLine(line);
        if (item.fault != upstream::StreamItem::Fault::None)
            FUZZ_CHECK(!item.hasText && !item.end && item.toolCalls.isEmpty());
        for (const upstream::ToolCallPiece &piece : item.toolCalls)
            toolCalls.add(piece);
    }
    fuzz::checkToolCalls(toolCalls, QString());
    return 0;
}
