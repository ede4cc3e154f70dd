#pragma once

// An in-process ToolHost with scripted tools, for the core's tests of tool rounds (the MCP hub
// has its own tests against real servers): server "t" with t/echo (gives its arguments back as
// JSON text), t/slow (runs until cancelled or its timeout) and t/fail (an error outcome).
// Server "down" is configured but offers no tool (not ready).

#include "core/provider.h"
#include "core/tools.h"
#include "runtime/waiter.h"

#include <QCoroSignal>
#include <QJsonDocument>

#include <chrono>

namespace holdfast::test {

class FakeToolHost final : public ToolHost
{
    Q_OBJECT
public:
    explicit FakeToolHost(QObject *parent = nullptr) : ToolHost(parent)
    {
        for (const char *name : {"echo", "slow", "fail"}) {
            ToolInfo info;
            info.name = QStringLiteral("t/") + QLatin1String(name);
            info.description = QStringLiteral("the %1 tool").arg(QLatin1String(name));
            info.inputSchema = QJsonObject{{QStringLiteral("type"), QStringLiteral("object")}};
            m_tools.append(info);
        }
    }

    struct Call
    {
        QString name;
        QJsonObject arguments;
    };
    QList<Call> calls;      // every call, in order
    int cancelledCalls = 0; // calls whose ToolCallCancel fired while they ran
    int running = 0;        // calls running now

    ToolList list() const override
    {
        ToolList l;
        l.tools = m_tools;
        ToolServerInfo t;
        t.name = QStringLiteral("t");
        t.state = ToolServerInfo::State::Ready;
        ToolServerInfo down;
        down.name = QStringLiteral("down");
        down.state = ToolServerInfo::State::Error;
        down.error = QStringLiteral("it does not start");
        l.servers = {t, down};
        return l;
    }
    bool hasServer(const QString &server) const override
    {
        return server == QLatin1String("t") || server == QLatin1String("down");
    }
    QCoro::Task<QList<ToolInfo>> toolsFor(QStringList allowed) override
    {
        QList<ToolInfo> offered;
        for (const ToolInfo &t : std::as_const(m_tools)) {
            if (allowed.contains(QStringLiteral("*")) || allowed.contains(t.name))
                offered.append(t);
        }
        co_return offered;
    }
    QCoro::Task<ToolOutcome> call(QString name, QJsonObject arguments, int timeoutMs,
                                  ToolCallCancel *cancel) override
    {
        calls.append(Call{name, arguments});
        if (name == QLatin1String("t/echo"))
            co_return ToolOutcome{
                QString::fromUtf8(QJsonDocument(arguments).toJson(QJsonDocument::Compact)), false};
        if (name == QLatin1String("t/fail"))
            co_return ToolOutcome{QStringLiteral("the tool failed"), true};
        if (name != QLatin1String("t/slow"))
            co_return ToolOutcome{QStringLiteral("no such tool"), true};
        ++running;
        Waiter done;
        connect(cancel, &ToolCallCancel::cancelled, &done, &Waiter::fire);
        if (!cancel->isCancelled())
            co_await qCoro(&done, &Waiter::fired, std::chrono::milliseconds(timeoutMs));
        --running;
        if (cancel->isCancelled()) {
            ++cancelledCalls;
            co_return ToolOutcome{QStringLiteral("cancelled"), true};
        }
        co_return ToolOutcome{QStringLiteral("timed out"), true};
    }

private:
    QList<ToolInfo> m_tools;
};

// A call as a model asks for it: `tool` ("SERVER/TOOL") by its function name for a request that
// offers `offered`.
inline ProviderToolCall modelCall(const QString &id, const QString &tool, QJsonObject arguments,
                                  const QStringList &offered = {})
{
    ProviderToolCall call;
    call.id = id;
    call.wireName = toolWireNames(offered.isEmpty() ? QStringList{tool} : offered)
                        .value(tool, tool); // a tool not offered: the name as given
    call.arguments = std::move(arguments);
    return call;
}

} // namespace holdfast::test
