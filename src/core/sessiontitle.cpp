// Titles: after the first answer of a chat, its model is asked for a short title in the
// background. The request is a stateless completion: nothing of it is stored as a message or
// counted as a turn. The demo model and any failure leave the title as it was.
#include "core/logging.h"
#include "core/session.h"
#include "core/sessionservice.h"

#include <QPointer>
#include <QRegularExpression>

namespace holdfast {

namespace {

// Enough of the chat for a title; the rest only costs the model time.
constexpr qsizetype kExcerpt = 2000;
// An answer this long is not a title: stop the model there.
constexpr qsizetype kMaxAnswer = 1000;

const QString kInstruction = QStringLiteral(
    "Give the conversation below a short title of at most six words. Reply with the title only: "
    "no quotes, no punctuation at the end, no explanation.");

} // namespace

QString SessionService::firstLineTitle(const QString &prompt)
{
    return prompt.section(u'\n', 0, 0).left(kMaxTitle);
}

QString SessionService::cleanTitle(const QString &answer)
{
    // Reasoning models may think aloud first.
    static const QRegularExpression thinking(QStringLiteral("<think>.*?(</think>|$)"),
                                             QRegularExpression::DotMatchesEverythingOption);
    static const QRegularExpression label(QStringLiteral("^title[\\s*_]*:[\\s*_]*"),
                                          QRegularExpression::CaseInsensitiveOption);
    QString text = answer;
    text.remove(thinking);
    QString line;
    for (const QString &l : text.split(u'\n')) {
        if (!l.trimmed().isEmpty()) {
            line = l.simplified();
            break;
        }
    }
    static const QString wrappers = QStringLiteral("\"'`*#_“”‘’«»„ ");
    static const QString trailing = QStringLiteral(".:;,!");
    const auto stripFront = [&line] {
        while (!line.isEmpty() && wrappers.contains(line.front()))
            line.remove(0, 1);
    };
    stripFront();
    line.remove(label); // "**Title:** …"
    stripFront();
    while (!line.isEmpty() && (wrappers.contains(line.back()) || trailing.contains(line.back())))
        line.chop(1);
    if (line.size() > kMaxTitle) {
        const qsizetype space = line.lastIndexOf(u' ', kMaxTitle);
        line = line.left(space > kMaxTitle / 2 ? space : kMaxTitle).trimmed();
    }
    return line;
}

QCoro::Task<> SessionService::generateTitle(QString sid, TurnRecord turn)
{
    if (!m_config.autoTitle || m_stopping || turn.id != 1 ||
        turn.state != TurnRecord::State::Done || turn.promptIndex != 0 || turn.responseIndex < 0 ||
        m_titleJobs.contains(sid))
        co_return;
    if (auto resolved = m_providers->resolve(turn.model);
        !resolved || resolved->provider->name() == QLatin1String("demo"))
        co_return;
    const QPointer<SessionService> self(this);
    m_titleJobs.insert(sid, false);
    const auto end = [self, sid](const QString &why) {
        if (!self)
            return;
        self->m_titleJobs.remove(sid);
        if (!why.isEmpty())
            qCDebug(lcCore).noquote() << "no title for session" << sid << ":" << why;
    };

    const auto acquired = co_await acquire(sid);
    if (!self)
        co_return;
    if (!acquired)
        co_return end(acquired.error().message);
    QList<Message> exchange;
    {
        Session *s = *acquired;
        SessionPin pin(s);
        const auto read = co_await branch(s, turn.responseIndex, 2);
        if (!self)
            co_return;
        if (!read)
            co_return end(read.error().message);
        exchange = *read;
    }
    if (exchange.size() != 2 || exchange.first().role != QLatin1String("user"))
        co_return end(QStringLiteral("the first exchange is not there"));
    const QString prompt = exchange.first().content;
    const Session *s = m_sessions.value(sid);
    const QString titleWas = s ? s->meta().title : QString();
    // Today's title (the first line of the prompt, or none) may be replaced; one set by hand not.
    if (!titleWas.isEmpty() && titleWas != firstLineTitle(prompt))
        co_return end(QString());

    StatelessParams params;
    params.model = turn.model;
    params.messages.append(ChatMessage{QStringLiteral("system"), kInstruction});
    params.messages.append(
        ChatMessage{QStringLiteral("user"),
                    QStringLiteral("User: %1\n\nAssistant: %2")
                        .arg(prompt.left(kExcerpt), exchange.last().content.left(kExcerpt))});
    auto completion = completeStateless(std::move(params));
    if (!completion)
        co_return end(completion.error().message);
    const std::unique_ptr<ProviderStream> stream = std::move(completion->stream);
    m_titleStreams.append(stream.get());
    QString answer;
    for (;;) {
        const QStringList chunks = co_await stream->next();
        if (chunks.isEmpty())
            break;
        answer += chunks.join(QString());
        if (answer.size() > kMaxAnswer) {
            stream->cancel();
            break;
        }
    }
    if (!self)
        co_return;
    m_titleStreams.removeAll(stream.get());
    m_titleStreams.removeAll(nullptr);
    if (stream->error())
        co_return end(stream->error()->message);
    if (stream->cancelled() && answer.size() <= kMaxAnswer)
        co_return end(QStringLiteral("cancelled"));
    const QString title = cleanTitle(answer);
    if (title.isEmpty())
        co_return end(QStringLiteral("the model gave no title"));
    PatchSessionParams patchParams;
    patchParams.title = title;
    const auto patched = co_await patch(sid, patchParams, titleWas);
    if (!self)
        co_return;
    end(patched ? QString() : patched.error().message);
}

} // namespace holdfast
