#include "core/turn.h"

#include "core/logging.h"
#include "core/session.h"
#include "core/store.h"

#include <QCoroTimer>
#include <QPointer>

#include <chrono>

namespace holdfast {

using namespace std::chrono_literals;

Turn::Turn(TurnRecord record, TurnPlan plan, Store *store, Session *session)
    : QObject(session), m_record(std::move(record)), m_plan(std::move(plan)), m_store(store)
{}

Turn::~Turn()
{
    m_waiters.fireAll();
}

Session *Turn::session() const
{
    return static_cast<Session *>(parent());
}

void Turn::start()
{
    run(); // runs until its first suspension, then on its own; it deletes the turn at the end
}

QList<Chunk> Turn::chunks(int from, int limit) const
{
    const qsizetype first = std::min<qsizetype>(std::max(0, from), m_chunks.size());
    return m_chunks.mid(first, std::min<qsizetype>(limit, m_chunks.size() - first));
}

void Turn::cancel(TurnRecord::State reason)
{
    if (m_record.ended() || m_cancelReason || m_ending) // ending: its answer is being saved
        return;
    m_cancelReason = reason;
    if (m_stream)
        m_stream->cancel();
    if (m_toolCancel)
        m_toolCancel->cancel();
    if (m_wake)
        m_wake->fire();
}

QCoro::Task<Status> Turn::storeChunks(QList<Chunk> batch)
{
    QPointer<Turn> self(this);
    const Status stored = co_await m_store->appendChunks(m_record.session, m_record.id, batch);
    if (!self || !stored)
        co_return stored;
    // As the store did with this batch (Store::appendChunks): readers of the live turn see it.
    if (batch.first().seq == 0 && !m_record.firstChunkAt.isValid())
        m_record.firstChunkAt = QDateTime::currentDateTimeUtc();
    for (const Chunk &chunk : std::as_const(batch)) {
        m_chunks.append(chunk);
        m_record.chunks = int(m_chunks.size());
        if (chunk.isToolStep()) {
            Q_EMIT toolStepReady(chunk);
        } else {
            m_text += chunk.text;
            Q_EMIT chunkReady(chunk.seq, chunk.text);
        }
    }
    Q_EMIT chunkBatchEnded();
    m_waiters.fireAll();
    co_return Ok{};
}

QCoro::Task<> Turn::run()
{
    QPointer<Turn> self(this);
    std::optional<Error> storeError;
    std::optional<Error> modelError;

    ProviderRequest request = m_plan.request;
    const QList<ToolSpec> offered = co_await offerTools(request);
    if (!self)
        co_return;
    int rounds = 0;
    while (!m_cancelReason) {
        // After the last allowed round the model is asked once more, with no tools.
        request.tools = rounds < m_plan.maxToolRounds ? offered : QList<ToolSpec>{};
        m_stream = m_plan.provider.start(request);
        QString roundText;
        while (true) {
            const QStringList pieces = co_await m_stream->next();
            if (!self)
                co_return;
            if (pieces.isEmpty() || m_cancelReason)
                break;
            QList<Chunk> batch;
            batch.reserve(pieces.size());
            for (const QString &piece : pieces)
                batch.append(Chunk{int(m_chunks.size() + batch.size()), piece});
            const Status stored = co_await storeChunks(batch);
            if (!self)
                co_return;
            if (!stored) {
                storeError = stored.error();
                m_stream->cancel();
                break;
            }
            for (const QString &piece : pieces)
                roundText += piece;
        }
        if (const auto &used = m_stream->usage()) { // the sum of what the model server reported
            TokenUsage sum = m_usage.value_or(TokenUsage{});
            sum.promptTokens += used->promptTokens;
            sum.completionTokens += used->completionTokens;
            m_usage = sum;
        }
        if (storeError || m_cancelReason)
            break;
        if (m_stream->error()) {
            modelError = m_stream->error();
            break;
        }
        // Calls asked for without tools offered (the final request) are not run: the turn ends.
        const QList<ProviderToolCall> calls = m_stream->toolCalls();
        if (calls.isEmpty() || request.tools.isEmpty())
            break;
        ++rounds;
        const Status round = co_await toolRound(calls, roundText, request);
        if (!self)
            co_return;
        if (!round) {
            storeError = round.error();
            break;
        }
    }

    Message answer;
    answer.role = QStringLiteral("assistant");
    answer.content = m_text; // the model's text only: tool steps are in toolCalls
    answer.toolCalls = answerToolCalls();
    answer.turn = m_record.id;
    answer.createdAt = QDateTime::currentDateTimeUtc();
    // How the turn ends. Readers keep seeing it streaming until the end is saved: a client told
    // "done" may start the next turn at once, and finds the answer stored.
    TurnRecord end = m_record;
    m_ending = true;
    if (storeError) {
        end.state = TurnRecord::State::Error;
        end.errorCode = errorCodeName(ErrorCode::Unavailable);
        end.errorMessage = QStringLiteral("the store failed: %1").arg(storeError->message);
        answer.state = Message::State::Error;
    } else if (m_cancelReason) {
        end.state = *m_cancelReason;
        answer.state = Message::State::Interrupted;
    } else if (modelError) {
        end.state = TurnRecord::State::Error;
        end.errorCode = errorCodeName(modelError->code);
        end.errorMessage = modelError->message;
        answer.state = Message::State::Error;
    } else {
        end.state = TurnRecord::State::Done;
        answer.state = Message::State::Complete;
    }
    end.usage = m_usage; // as the model server reported it, if it did
    m_stream.reset();

    const bool saved = co_await saveEnd(answer, end);
    if (!self)
        co_return;
    if (!saved)
        qCCritical(lcCore) << "turn" << m_record.id << "of session" << m_record.session
                           << "ended but its answer could not be saved";

    if (saved && m_record.usage) // the next turns' context budget counts this answer exactly
        session()->rememberCompletionTokens(m_record.id, m_record.usage->completionTokens);
    // No longer live: from here on, readers find the ended turn in the store.
    session()->setActiveTurn(nullptr);
    Q_EMIT finished(m_record);
    m_waiters.fireAll();
    deleteLater();
}

QCoro::Task<bool> Turn::saveEnd(Message answer, TurnRecord end)
{
    QPointer<Turn> self(this);
    Session *s = session();
    auto backoff = 100ms;
    while (true) {
        SessionMeta meta = s->meta();
        answer.index = meta.total;
        answer.parent = m_record.promptIndex;
        answer.depth = m_promptDepth + 1;
        answer.siblings = m_regenerating ? QList<qint64>{} : QList<qint64>{answer.index};
        meta.total += 1;
        meta.head = answer.index; // in the same write as the answer (Store::finishTurn)
        meta.length = answer.depth + 1;
        meta.activeTurn = 0;
        meta.updatedAt = answer.createdAt;
        TurnRecord record = end;
        record.responseIndex = answer.index;
        record.finishedAt = QDateTime::currentDateTimeUtc();

        s->beginSave(1);
        const Status saved = co_await m_store->finishTurn(meta, answer, record);
        s->endSave(1);
        if (!self)
            co_return false;
        if (saved) {
            // PATCHes that landed while we awaited are kept: only what the turn owns changes.
            SessionMeta current = s->meta();
            current.total = meta.total;
            current.head = meta.head;
            current.length = meta.length;
            current.activeTurn = 0;
            current.updatedAt = meta.updatedAt;
            s->setMeta(current);
            if (m_regenerating)
                s->replaceCache({}); // the next read loads the branch, siblings and all
            else
                s->appendMessage(answer);
            m_record = record;
            co_return true;
        }
        qCWarning(lcCore) << "saving the end of turn" << m_record.id << "of" << m_record.session
                          << "failed:" << saved.error().message << "- retrying";
        if (!m_retrySaves) {
            end.finishedAt = record.finishedAt;
            if (end.errorCode.isEmpty()) {
                end.state = TurnRecord::State::Error;
                end.errorCode = errorCodeName(ErrorCode::Unavailable);
                end.errorMessage = saved.error().message;
            }
            m_record = end;
            co_return false;
        }
        co_await QCoro::sleepFor(backoff);
        if (!self)
            co_return false;
        backoff = std::min<std::chrono::milliseconds>(backoff * 2, 5000ms);
    }
}

} // namespace holdfast
