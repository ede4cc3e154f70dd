#include "provider/demoprovider.h"

#include "core/tokens.h"

#include <QTimer>

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
    DemoStream(QStringList pieces, int delayMs, TokenUsage usage)
        : m_pieces(std::move(pieces)), m_usage(usage)
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
            finish();
        }
    }

    QStringList m_pieces;
    TokenUsage m_usage;
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
    const QString text = answerFor(request.messages);
    return std::make_unique<DemoStream>(split(text, m_options.chunks), m_options.delayMs,
                                        usageOf(request.messages, text));
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

} // namespace

QString DemoProvider::answerFor(const QList<ChatMessage> &messages)
{
    // Only the conversation counts (not the system prompt), so a first turn and a stateless
    // completion with the same prompt give the same text. The answer depends on the prompt and
    // on the shape of the conversation before it (how many messages, how long), which a model
    // reading its whole context would see change; the text of older messages is not read again.
    QString prompt;
    int turns = 0;
    quint64 shape = kFnvOffset;
    for (const ChatMessage &m : messages) {
        if (m.role == QLatin1String("system"))
            continue;
        shape = fnv1a(shape, quint64(m.content.size()));
        if (m.role == QLatin1String("user")) {
            prompt = m.content;
            ++turns;
        }
    }
    const quint64 fingerprint = fnv1a(fnv1a(shape, quint64(turns)), prompt);
    auto word = [&](int i) {
        return QString::fromLatin1(kWords[draw(fingerprint, i) % kWordCount]);
    };

    QString quoted = prompt.simplified();
    if (quoted.size() > 80)
        quoted = quoted.left(77) + QStringLiteral("...");

    QString text;
    text += QStringLiteral("You said: *%1*\n\n").arg(quoted);
    text += QStringLiteral("This is the **demo** model answering turn %1, offline. ").arg(turns);
    text += QStringLiteral("Its words are %1, %2 and %3; ").arg(word(0), word(1), word(2));
    text += QStringLiteral("the next ones are %1 and %2.\n\n").arg(word(3), word(4));
    text += QStringLiteral("- first, the %1 %2\n- then the %3 %4\n\n")
                .arg(word(5), word(6), word(7), word(8));
    text += QStringLiteral("`%1-%2` is %3.").arg(word(9), word(10), word(11));
    return text;
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
