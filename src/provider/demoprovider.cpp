#include "provider/demoprovider.h"

#include "core/tokens.h"

#include <QJsonDocument>
#include <QRegularExpression>
#include <QTimer>

#include <algorithm>

namespace holdfast {

namespace {

const char *const kWords[] = {
    "anchor",  "harbour", "steady", "rope",    "tide",    "keel",    "compass", "lantern",
    "signal",  "current", "shore",  "beacon",  "knot",    "voyage",  "chart",   "haven",
    "drift",   "mooring", "sail",   "weather", "course",  "horizon", "deck",    "helm",
    "answers", "saved",   "stream", "chunk",   "session", "durable", "quiet",   "careful",
};
constexpr int kWordCount = int(sizeof(kWords) / sizeof(kWords[0]));

class DemoStream final : public ProviderStream
{
public:
    DemoStream(QStringList pieces, int delayMs, TokenUsage usage, QList<ProviderToolCall> calls)
        : m_pieces(std::move(pieces)), m_usage(usage), m_calls(std::move(calls))
    {
        m_timer.setSingleShot(false);
        m_timer.setInterval(delayMs);
        connect(&m_timer, &QTimer::timeout, this, &DemoStream::step);
        // Start from the event loop, so that a consumer connected after start() sees everything.
        QTimer::singleShot(delayMs, this, [this] {
            step();
            if (!ended())
                m_timer.start();
        });
    }

protected:
    void abort() override { m_timer.stop(); }

private:
    void step()
    {
        if (ended())
            return;
        if (m_next < m_pieces.size())
            push(m_pieces.at(m_next++));
        if (m_next >= m_pieces.size()) {
            m_timer.stop();
            setUsage(m_usage); // a whole answer only: a cancelled one reports none
            setToolCalls(m_calls);
            finish();
        }
    }

    QStringList m_pieces;
    TokenUsage m_usage;
    QList<ProviderToolCall> m_calls;
    qsizetype m_next = 0;
    QTimer m_timer;
};

} // namespace

DemoProvider::DemoProvider(Options options, QObject *parent) : Provider(parent), m_options(options)
{}

QCoro::Task<Result<QStringList>> DemoProvider::models()
{
    co_return QStringList{QStringLiteral("demo")};
}

std::unique_ptr<ProviderStream> DemoProvider::start(const ProviderRequest &request)
{
    Answer answer = DemoProvider::answer(request);
    const TokenUsage usage = usageOf(request.messages, answer.text);
    return std::make_unique<DemoStream>(split(answer.text, m_options.chunks), m_options.delayMs,
                                        usage, std::move(answer.toolCalls));
}

namespace {

// FNV-1a over UTF-16 code units: a stable, cheap fingerprint, not a cryptographic one.
constexpr quint64 kFnvOffset = 14695981039346656037ULL;
constexpr quint64 kFnvPrime = 1099511628211ULL;

quint64 fnv1a(quint64 h, QStringView text)
{
    for (const QChar c : text)
        h = (h ^ c.unicode()) * kFnvPrime;
    return h;
}

quint64 fnv1a(quint64 h, quint64 value)
{
    return (h ^ value) * kFnvPrime;
}

// The i-th value drawn from `seed` (splitmix64).
quint64 draw(quint64 seed, int i)
{
    quint64 z = seed + quint64(i + 1) * 0x9E3779B97F4A7C15ULL;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

// "use SERVER/TOOL with {…}" in a prompt: the tool's name and where its arguments start.
const QRegularExpression &toolRequest()
{
    static const QRegularExpression re(
        QStringLiteral("\\buse\\s+[`'\"]?([^\\s`'\"/]+/[^\\s`'\"]+)[`'\"]?\\s+with\\s*"),
        QRegularExpression::CaseInsensitiveOption);
    return re;
}

// The end (one past its closing brace) of the JSON object that `text` starts with; -1 when its
// braces never close. Strings are skipped, so a brace inside one does not count.
qsizetype objectEnd(QStringView text)
{
    int depth = 0;
    bool inString = false;
    bool escaped = false;
    for (qsizetype i = 0; i < text.size(); ++i) {
        const QChar c = text.at(i);
        if (inString) {
            if (escaped)
                escaped = false;
            else if (c == u'\\')
                escaped = true;
            else if (c == u'"')
                inString = false;
        } else if (c == u'"') {
            inString = true;
        } else if (c == u'{') {
            ++depth;
        } else if (c == u'}' && --depth == 0) {
            return i + 1;
        }
    }
    return -1;
}

// The API's name of the tool a role "tool" message answers: the offered tool whose function it
// names; else the name itself when it is one ("SERVER/TOOL"); else the function name read back
// (core/tools.h's toolWireNames writes "/" as "__"), for a last round with no tools offered.
QString toolNameOf(const ChatMessage &result, const QList<ToolSpec> &tools)
{
    for (const ToolSpec &t : tools) {
        if (t.wireName == result.toolName || t.name == result.toolName)
            return t.name;
    }
    if (result.toolName.contains(u'/'))
        return result.toolName;
    QString name = result.toolName;
    const qsizetype slash = name.indexOf(QStringLiteral("__"));
    if (slash > 0)
        name.replace(slash, 2, QStringLiteral("/"));
    return name;
}

QString quoted(const QString &text, qsizetype max)
{
    QString out = text.trimmed();
    if (out.size() > max) {
        out.truncate(max - 1);
        if (out.back().isHighSurrogate())
            out.chop(1);
        out += u'…';
    }
    return out;
}

} // namespace

QString DemoProvider::answerFor(const QList<ChatMessage> &messages)
{
    ProviderRequest request;
    request.messages = messages;
    return answer(request).text;
}

DemoProvider::Answer DemoProvider::answer(const ProviderRequest &request)
{
    const QList<ChatMessage> &messages = request.messages;
    Answer out;

    // After a tool's results: quote them (all of those since the model asked).
    qsizetype firstResult = messages.size();
    while (firstResult > 0 && messages.at(firstResult - 1).role == QLatin1String("tool"))
        --firstResult;
    if (firstResult < messages.size()) {
        QStringList lines;
        for (qsizetype i = firstResult; i < messages.size(); ++i) {
            const ChatMessage &result = messages.at(i);
            lines.append(QStringLiteral("%1 answered: «%2»")
                             .arg(toolNameOf(result, request.tools), quoted(result.content, 500)));
        }
        out.text = lines.join(QStringLiteral("\n\n"));
        return out;
    }

    // Only the conversation counts (not the system prompt), so a first turn and a stateless
    // completion with the same prompt give the same text. The answer depends on the prompt and
    // on the shape of the conversation before it (how many messages, how long), which a model
    // reading its whole context would see change; the text of older messages is not read again.
    QString prompt;
    QList<AttachmentContent> files; // the prompt's
    int turns = 0;
    quint64 shape = kFnvOffset;
    for (const ChatMessage &m : messages) {
        if (m.role == QLatin1String("system"))
            continue;
        shape = fnv1a(shape, quint64(m.content.size()));
        if (m.role == QLatin1String("user")) {
            prompt = m.content;
            files = m.attachments;
            ++turns;
        }
    }
    const quint64 fingerprint = fnv1a(fnv1a(shape, quint64(turns)), prompt);
    auto word = [&](int i) {
        return QString::fromLatin1(kWords[draw(fingerprint, i) % kWordCount]);
    };

    QString &text = out.text;
    if (const QRegularExpressionMatch use = toolRequest().match(prompt); use.hasMatch()) {
        const QString name = use.captured(1);
        const auto offered = std::find_if(request.tools.cbegin(), request.tools.cend(),
                                          [&name](const ToolSpec &t) { return t.name == name; });
        const QStringView rest = QStringView(prompt).sliced(use.capturedEnd(0));
        const qsizetype end = rest.startsWith(u'{') ? objectEnd(rest) : -1;
        QJsonParseError parseError;
        const QJsonDocument arguments =
            QJsonDocument::fromJson((end < 0 ? rest : rest.first(end)).toUtf8(), &parseError);
        if (offered == request.tools.cend()) {
            text = QStringLiteral("The tool %1 is not available in this chat, so I did not "
                                  "call it.")
                       .arg(name);
        } else if (!rest.startsWith(u'{')) {
            text = QStringLiteral("I did not call %1: the arguments after \"with\" must be a "
                                  "JSON object, like {\"path\": \"notes.txt\"}.")
                       .arg(name);
        } else if (parseError.error != QJsonParseError::NoError || !arguments.isObject()) {
            text = QStringLiteral("I did not call %1: its arguments are not valid JSON (%2 at "
                                  "character %3).")
                       .arg(name, parseError.errorString())
                       .arg(parseError.offset + 1);
        } else {
            ProviderToolCall call;
            call.id = QStringLiteral("call_demo_%1").arg(fingerprint, 16, 16, QLatin1Char('0'));
            call.wireName = offered->wireName;
            call.arguments = arguments.object();
            out.toolCalls.append(call);
            text = QStringLiteral("Let me use %1 for that.").arg(name);
        }
    } else {
        QString quotedPrompt = prompt.simplified();
        if (quotedPrompt.size() > 80)
            quotedPrompt = quotedPrompt.left(77) + QStringLiteral("...");

        text += QStringLiteral("You said: *%1*\n\n").arg(quotedPrompt);
        text +=
            QStringLiteral("This is the **demo** model answering turn %1, offline. ").arg(turns);
        text += QStringLiteral("Its words are %1, %2 and %3; ").arg(word(0), word(1), word(2));
        text += QStringLiteral("the next ones are %1 and %2.\n\n").arg(word(3), word(4));
        text += QStringLiteral("- first, the %1 %2\n- then the %3 %4\n\n")
                    .arg(word(5), word(6), word(7), word(8));
        text += QStringLiteral("`%1-%2` is %3.").arg(word(9), word(10), word(11));
    }
    // What it was given, so that attachments can be seen to arrive without a real model.
    if (!files.isEmpty()) {
        QStringList named;
        for (const AttachmentContent &f : std::as_const(files))
            named.append(QStringLiteral("%1 (%2, %3 bytes)")
                             .arg(f.meta.name, f.meta.type)
                             .arg(f.bytes.size()));
        text += QStringLiteral("\n\nAttachments: %1.").arg(named.join(QStringLiteral(", ")));
    }
    // The answer goes on after the call: its next words start a paragraph of their own.
    if (!out.toolCalls.isEmpty())
        text += QStringLiteral("\n\n");
    return out;
}

TokenUsage DemoProvider::usageOf(const QList<ChatMessage> &messages, const QString &answer)
{
    TokenUsage usage;
    for (const ChatMessage &m : messages) {
        usage.promptTokens += tokens::estimate(m.content) + tokens::kPerMessage;
        for (const AttachmentContent &a : m.attachments)
            usage.promptTokens += tokens::estimate(a.meta);
    }
    usage.completionTokens = tokens::estimate(answer);
    return usage;
}

QStringList DemoProvider::split(const QString &text, int count)
{
    QStringList pieces;
    count = std::max(1, count);
    const qsizetype size = text.size();
    qsizetype begin = 0;
    for (int i = 0; i < count && begin < size; ++i) {
        qsizetype end = (i == count - 1) ? size : (size * (i + 1)) / count;
        // Never cut a surrogate pair in two.
        if (end < size && end > begin && text.at(end - 1).isHighSurrogate())
            ++end;
        if (end <= begin)
            continue;
        pieces.append(text.mid(begin, end - begin));
        begin = end;
    }
    return pieces;
}

} // namespace holdfast
