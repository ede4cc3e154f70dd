#pragma once

#include "core/provider.h"

#include <QTimer>

namespace holdfast::test {

// A provider that plays a script: the given chunks `delayMs` apart, then ends normally or with
// `failure`, or with tool calls. It records every request it received. For fault injection in core
// tests.
class ScriptedProvider final : public Provider
{
    Q_OBJECT
public:
    struct Script
    {
        QStringList chunks;
        int delayMs = 5;
        std::optional<Error> failure; // after the chunks
        // The calls the generation ends with (ProviderStream::toolCalls), by function name.
        QList<ProviderToolCall> toolCalls;
    };

    explicit ScriptedProvider(QString name = QStringLiteral("scripted"), QObject *parent = nullptr)
        : Provider(parent), m_name(std::move(name))
    {}

    QString name() const override { return m_name; }
    QString defaultModel() const override { return QStringLiteral("scripted"); }
    QCoro::Task<Result<QStringList>> models() override { co_return QStringList{defaultModel()}; }

    Script script;
    // Scripts for the next generations, one each, taken first; `script` when it is empty.
    QList<Script> queue;
    QList<ProviderRequest> requests;
    int cancelled = 0;

    std::unique_ptr<ProviderStream> start(const ProviderRequest &request) override
    {
        requests.append(request);
        return std::make_unique<Stream>(queue.isEmpty() ? script : queue.takeFirst(), &cancelled);
    }

private:
    class Stream final : public ProviderStream
    {
    public:
        Stream(Script script, int *cancelled) : m_script(std::move(script)), m_cancelled(cancelled)
        {
            connect(&m_timer, &QTimer::timeout, this, &Stream::step);
            m_timer.start(m_script.delayMs);
        }

    protected:
        void abort() override
        {
            m_timer.stop();
            ++*m_cancelled;
        }

    private:
        void step()
        {
            if (m_next < m_script.chunks.size()) {
                push(m_script.chunks.at(m_next++));
                return;
            }
            m_timer.stop();
            if (m_script.failure) {
                fail(*m_script.failure);
                return;
            }
            setToolCalls(m_script.toolCalls);
            finish();
        }

        Script m_script;
        int *m_cancelled;
        qsizetype m_next = 0;
        QTimer m_timer;
    };

    QString m_name;
};

} // namespace holdfast::test
