#pragma once

#include "core/provider.h"
#include "provider/upstreamclient.h"

#include <QJsonDocument>
#include <QPointer>
#include <QUrl>

#include <functional>
#include <memory>

namespace holdfast {

// How to reach one model server, and the bounds on talking to it.
struct UpstreamConfig
{
    QString name; // the provider's name as sessions use it: "openai", "ollama", "local", ...
    QUrl baseUrl;
    QString apiKey; // sent as a Bearer token; never logged, never stored
    QString defaultModel;
    QStringList models; // model names it is known to serve (the default one included)
    // The setting context-tokens: the context size of its models, the budget of a turn without
    // context_tokens (Ollama: also sent as num_ctx). Unset: unknown (Ollama: the model's own).
    std::optional<int> contextTokens;
    int connectTimeoutMs = 10000;
    int idleTimeoutMs = 60000;
    qint64 maxResponseBytes = 16 * 1024 * 1024;
};

// What the OpenAI and Ollama providers share: one HTTP exchange with a model server, with the
// faults of shared/API.md ("Models upstream") mapped to error codes.
namespace upstream {

struct StreamItem;       // provider/wireformat.h
class ToolCallAssembler; // provider/wireformat.h

// `base` + "/" + `path`, with exactly one slash between them.
QUrl endpoint(const QUrl &base, const QString &path);
UpstreamRequest request(const UpstreamConfig &config, const QString &path,
                        const QByteArray &accept);
// Text from a model server made fit for an error message: control characters and terminal
// escapes gone, white space collapsed, at most `max` characters.
QString excerpt(const QString &text, qsizetype max = 200);
// A short excerpt of a model server's error body: OpenAI's {"error":{"message":…}}, Ollama's
// {"error":"…"}, an HTML page's <title> (never its markup), else the start of the body.
QString errorText(const QByteArray &body);
// A model server answered with an error status.
Error statusError(const UpstreamConfig &config, int status, const QByteArray &body);

enum class Flow { More, Stop };
using BodySink = std::function<Flow(QByteArrayView bytes)>;

// Reads `reply` to its end, handing each piece of a successful body to `sink` as it arrives,
// under the connect and idle timeouts and the size cap. Returns nullopt when the body ended (or
// the sink said Stop), else the fault; on a timeout or the cap it aborts the reply. Returns at
// once, doing nothing more, when `guard` has died meanwhile. A redirect is a fault: it is never
// followed (the prompt and the API key would go to another server).
QCoro::Task<std::optional<Error>> exchange(UpstreamReply *reply, UpstreamConfig config,
                                           BodySink sink, QPointer<QObject> guard);

// GET {base-url}/path as JSON (model lists).
QCoro::Task<Result<QJsonDocument>> getJson(QPointer<UpstreamClient> network, UpstreamConfig config,
                                           QString path);
// POST {base-url}/path with a JSON body, the answer as JSON (Ollama's /api/show).
QCoro::Task<Result<QJsonDocument>> postJson(QPointer<UpstreamClient> network, UpstreamConfig config,
                                            QString path, QByteArray body);

} // namespace upstream

// A generation streamed over HTTP. This class owns the upstream request and its faults;
// subclasses parse the body's wire format and push() / finish() / fail().
class HttpModelStream : public ProviderStream
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(HttpModelStream)
public:
    ~HttpModelStream() override;

protected:
    explicit HttpModelStream(UpstreamConfig config);

    // Sends the request (once: never again, whatever happens); subclasses call it last in their
    // constructor.
    void begin(UpstreamClient *network, UpstreamRequest request, const QByteArray &body);
    // begin() with the body `write` makes of `chat`, once the text of its PDF attachments has
    // been read (off this thread; at once when it has none).
    using BodyWriter = QByteArray (*)(const ProviderRequest &, const QHash<QString, QString> &);
    void beginChat(UpstreamClient *network, UpstreamRequest request, ProviderRequest chat,
                   BodyWriter write);
    // Bytes of a successful answer, as they arrive, cut anywhere.
    virtual void consume(QByteArrayView bytes) = 0;
    // The body has ended: flush what is buffered. A stream that has not ended after this lacked
    // its end marker.
    virtual void bodyEnded() {}
    void abort() override;

    const UpstreamConfig &config() const { return m_config; }
    // A line of the stream that is not what the wire format allows.
    Error malformed(const QByteArray &line) const;
    // Pushes, finishes or fails as one unit of the stream (`raw`, for messages) says; gathers
    // its tool call pieces, which become the stream's toolCalls() at its end.
    void apply(const upstream::StreamItem &item, const QByteArray &raw);

private:
    QCoro::Task<> run(QPointer<UpstreamClient> network, UpstreamRequest request);
    QCoro::Task<> readPdfsThenBegin(QPointer<UpstreamClient> network, UpstreamRequest request,
                                    ProviderRequest chat, BodyWriter write);
    void stopUpstream();

    UpstreamConfig m_config;
    QPointer<UpstreamReply> m_reply;
    std::unique_ptr<upstream::ToolCallAssembler> m_toolCalls;
    QString m_finishReason;
};

} // namespace holdfast
