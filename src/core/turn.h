#pragma once

#include "core/provider.h"
#include "core/types.h"
#include "runtime/waiter.h"

#include <QCoroTask>
#include <QObject>

#include <memory>
#include <optional>

namespace holdfast {

class Session;
class Store;

// One answer being generated: a child of its Session. Its coroutine drains the provider,
// stores each chunk before announcing it, then appends the assistant message exactly once and
// awaits that save; only then does it report its end state and delete itself.
class Turn final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(Turn)
public:
    Turn(TurnRecord record, std::unique_ptr<ProviderStream> stream, Store *store, Session *session);
    ~Turn() override;

    // Where the answer goes: after the prompt (record().promptIndex), whose depth is given. A turn
    // that regenerates an answer adds a sibling to older answers, whose list the turn does not
    // know: the session's cache is reset instead of extended when it is saved.
    void setBranch(qint64 promptDepth, bool regenerating)
    {
        m_promptDepth = promptDepth;
        m_regenerating = regenerating;
    }
    void start();

    const TurnRecord &record() const { return m_record; }
    int chunkCount() const { return int(m_chunks.size()); }
    QList<Chunk> chunks(int from, int limit) const;

    // Stops the generation; the turn ends in `reason` (Cancelled or Interrupted) with the partial
    // answer saved as an interrupted message.
    void cancel(TurnRecord::State reason = TurnRecord::State::Cancelled);
    // Shutdown: after this, a failing final save is not retried any more.
    void stopRetrying() { m_retrySaves = false; }

    // Fires `waiter` on the next chunk or when the turn has ended.
    void addWaiter(Waiter *waiter) { m_waiters.add(waiter); }

Q_SIGNALS:
    void chunkReady(int seq, const QString &text);
    // After chunkReady for every chunk of one stored batch: listeners that write the chunks out
    // can send them together.
    void chunkBatchEnded();
    void finished(const holdfast::TurnRecord &record);

private:
    QCoro::Task<> run();
    QCoro::Task<bool> saveEnd(Message answer, TurnRecord end);
    Session *session() const;

    TurnRecord m_record;
    std::unique_ptr<ProviderStream> m_stream;
    Store *m_store;
    QStringList m_chunks;
    std::optional<TurnRecord::State> m_cancelReason;
    bool m_retrySaves = true;
    bool m_ending = false; // the stream is over; the end is being saved
    qint64 m_promptDepth = 0;
    bool m_regenerating = false;
    WaiterList m_waiters;
};

} // namespace holdfast
