#include "provider/httpmodelstream.h"

#include "core/logging.h"
#include "provider/pdftext.h"
#include "provider/wireformat.h"

#include <QElapsedTimer>
#include <QJsonObject>
#include <QRegularExpression>
#include <QTimer>

namespace holdfast {

namespace {

constexpr qsizetype kMaxErrorBody = 64 * 1024;

QString where(const UpstreamConfig &config)
{
    // Never user info: a URL may carry credentials.
    return config.baseUrl.toDisplayString(QUrl::RemoveUserInfo | QUrl::RemoveQuery);
}

// Sleeps until `reply` changes or `ms` have passed.
QCoro::Task<> changeOrTimeout(UpstreamReply *reply, qint64 ms)
{
    const Wakeup wake = reply->nextChange();
    QTimer timer;
    timer.setSingleShot(true);
    QObject::connect(&timer, &QTimer::timeout, &timer, [wake] { wake.fire(); });
    timer.start(std::chrono::milliseconds(qMax<qint64>(ms, 0)));
    co_await wake;
}

} // namespace

namespace upstream {

QUrl endpoint(const QUrl &base, const QString &path)
{
    QUrl url = base;
    QString p = url.path();
    while (p.endsWith(QLatin1Char('/')))
        p.chop(1);
    url.setPath(p + QLatin1Char('/') + path);
    return url;
}

UpstreamRequest request(const UpstreamConfig &config, const QString &path, const QByteArray &accept)
{
    UpstreamRequest r;
    r.url = endpoint(config.baseUrl, path);
    r.headers = {{"Content-Type", "application/json"},
                 {"Accept", accept},
                 {"User-Agent", "Holdfast/" HOLDFAST_VERSION},
                 // Answers stream in: no compressed body (a gzip stream holds bytes back until
                 // a block is full).
                 {"Accept-Encoding", "identity"}};
    if (!config.apiKey.isEmpty())
        r.headers.append({"Authorization", "Bearer " + config.apiKey.toUtf8()});
    return r;
}

QString excerpt(const QString &text, qsizetype max)
{
    // Terminal escapes (CSI and OSC sequences) go whole, other control characters become spaces.
    static const QRegularExpression escapes(
        QStringLiteral("\\x1b(\\[[0-?]*[ -/]*[@-~]|\\][^\\x07\\x1b]*(\\x07|\\x1b\\\\)?|.?)"));
    QString out = text;
    out.remove(escapes);
    for (QChar &c : out) {
        const char16_t u = c.unicode();
        if (u < 0x20 || (u >= 0x7f && u < 0xa0) || u == 0x2028 || u == 0x2029)
            c = QLatin1Char(' ');
    }
    out = out.simplified();
    if (out.size() > max)
        out = out.left(max - 3) + QStringLiteral("...");
    return out;
}

QString errorText(const QByteArray &body)
{
    const QJsonDocument doc = QJsonDocument::fromJson(body);
    if (doc.isObject()) {
        const QJsonValue error = doc.object().value(QStringLiteral("error"));
        if (error.isString())
            return excerpt(error.toString());
        if (error.isObject()) {
            const QString message = error.toObject().value(QStringLiteral("message")).toString();
            if (!message.isEmpty())
                return excerpt(message);
        }
        const QString message = doc.object().value(QStringLiteral("message")).toString();
        if (!message.isEmpty())
            return excerpt(message);
    }
    const QString text = QString::fromUtf8(body.left(4096));
    if (text.trimmed().startsWith(QLatin1Char('<'))) {
        // An HTML error page (a proxy's, a load balancer's): its title says it all.
        static const QRegularExpression title(QStringLiteral("<title[^>]*>([^<]*)</title>"),
                                              QRegularExpression::CaseInsensitiveOption);
        const QRegularExpressionMatch m = title.match(text);
        return m.hasMatch() ? excerpt(m.captured(1)) : QString();
    }
    return excerpt(text);
}

Error statusError(const UpstreamConfig &config, int status, const QByteArray &body)
{
    const QString text = errorText(body);
    const QString detail = text.isEmpty() ? QString() : QStringLiteral(": %1").arg(text);
    if (status == 401 || status == 403) {
        const QString advice =
            config.apiKey.isEmpty()
                ? QStringLiteral("no API key is set; give one with --api-key (or api-key in "
                                 "[provider.%1])")
                      .arg(config.name)
                : QStringLiteral("the API key is wrong or not allowed here; check --api-key (or "
                                 "api-key in [provider.%1])")
                      .arg(config.name);
        return makeError(
            ErrorCode::UpstreamError,
            QStringLiteral("the model server %1 refused the request with HTTP %2: %3%4")
                .arg(where(config))
                .arg(status)
                .arg(advice, detail));
    }
    return makeError(ErrorCode::UpstreamError,
                     QStringLiteral("the model server %1 answered HTTP %2%3")
                         .arg(where(config))
                         .arg(status)
                         .arg(detail));
}

QCoro::Task<std::optional<Error>> exchange(UpstreamReply *replyPtr, UpstreamConfig config,
                                           BodySink sink, QPointer<QObject> guard)
{
    QPointer<UpstreamReply> reply(replyPtr);

    // The connect timeout runs until the request has gone out (or anything came back); from
    // then on the idle timeout runs between pieces of the answer.
    QElapsedTimer clock;
    clock.start();
    qint64 last = 0;
    bool connected = false;
    qint64 received = 0;
    QByteArray errorBody;

    while (true) {
        if (!guard)
            co_return std::nullopt;
        if (!reply)
            co_return makeError(ErrorCode::Unavailable,
                                QStringLiteral("the request to the model server was dropped"));
        if (!connected && reply->requestSent()) {
            connected = true;
            last = clock.elapsed();
        }
        const int status = reply->status();
        if (status >= 300 && status < 400) {
            const QUrl target = config.baseUrl.resolved(
                QUrl::fromEncoded(reply->header("location"), QUrl::StrictMode));
            reply->abort();
            co_return makeError(
                ErrorCode::UpstreamError,
                QStringLiteral("the model server %1 redirected to %2 (HTTP %3), which Holdfast "
                               "does not follow; set base-url to the final address")
                    .arg(where(config),
                         excerpt(target.toDisplayString(QUrl::RemoveUserInfo | QUrl::RemoveQuery),
                                 120))
                    .arg(status));
        }
        if (reply->bytesAvailable() > 0) {
            connected = true;
            last = clock.elapsed();
            QByteArray bytes = reply->readAll();
            received += bytes.size();
            if (received > config.maxResponseBytes) {
                // What fits under the cap still counts: its text is kept as the partial answer.
                bytes.chop(received - config.maxResponseBytes);
                if (status < 300 && !bytes.isEmpty() && sink(bytes) == Flow::Stop)
                    co_return std::nullopt;
                if (reply)
                    reply->abort();
                co_return makeError(
                    ErrorCode::UpstreamError,
                    QStringLiteral("the answer of the model server %1 is larger than %2 bytes "
                                   "(max-response-bytes)")
                        .arg(where(config))
                        .arg(config.maxResponseBytes));
            }
            if (status >= 300)
                errorBody.append(bytes.left(kMaxErrorBody - errorBody.size()));
            else if (sink(bytes) == Flow::Stop)
                co_return std::nullopt;
            continue;
        }
        if (reply->isFinished())
            break;
        if (status != 0 && !connected) {
            connected = true;
            last = clock.elapsed();
        }
        const int limit = connected ? config.idleTimeoutMs : config.connectTimeoutMs;
        const qint64 left = limit - (clock.elapsed() - last);
        if (left <= 0) {
            reply->abort();
            if (connected) {
                co_return makeError(ErrorCode::UpstreamTimeout,
                                    QStringLiteral("the model server %1 sent nothing for %2 ms "
                                                   "(idle-timeout-ms)")
                                        .arg(where(config))
                                        .arg(config.idleTimeoutMs));
            }
            co_return makeError(ErrorCode::UpstreamTimeout,
                                QStringLiteral("could not connect to the model server %1 within "
                                               "%2 ms (connect-timeout-ms)")
                                    .arg(where(config))
                                    .arg(config.connectTimeoutMs));
        }
        co_await changeOrTimeout(reply.data(), left);
    }

    const int status = reply->status();
    switch (reply->fault()) {
    case UpstreamReply::Fault::None:
        if (status >= 300)
            co_return statusError(config, status, errorBody);
        co_return std::nullopt;
    case UpstreamReply::Fault::Aborted:
        co_return makeError(ErrorCode::Unavailable,
                            QStringLiteral("the request to the model server was cancelled"));
    case UpstreamReply::Fault::Unreachable:
        co_return makeError(ErrorCode::Unavailable,
                            QStringLiteral("cannot reach the model server %1: %2")
                                .arg(where(config), reply->errorString()));
    case UpstreamReply::Fault::NoAnswer:
        // The request went out: it may have reached the server, so it is not sent again.
        co_return makeError(ErrorCode::Unavailable,
                            QStringLiteral("the model server %1 closed the connection without "
                                           "answering (%2); the request is not sent again")
                                .arg(where(config), reply->errorString()));
    case UpstreamReply::Fault::BrokenAnswer:
        if (status >= 300)
            co_return statusError(config, status, errorBody);
        co_return makeError(ErrorCode::UpstreamError,
                            QStringLiteral("the model server %1 broke off its answer: %2")
                                .arg(where(config), reply->errorString()));
    }
    co_return std::nullopt;
}

namespace {
QCoro::Task<Result<QJsonDocument>> fetchJson(QPointer<UpstreamClient> manager,
                                             UpstreamConfig config, QString path, QByteArray method,
                                             QByteArray requestBody)
{
    if (!manager)
        co_return makeError(ErrorCode::Unavailable, QStringLiteral("the provider is gone"));
    UpstreamRequest r = request(config, path, QByteArrayLiteral("application/json"));
    r.method = method;
    r.body = requestBody;
    UpstreamReply *reply = manager->send(r);
    QPointer<UpstreamReply> guard(reply);
    QByteArray body;
    const std::optional<Error> error = co_await exchange(
        reply, config,
        [&body](QByteArrayView bytes) {
            body.append(bytes);
            return Flow::More;
        },
        manager.data());
    if (guard)
        guard->deleteLater();
    if (!manager)
        co_return makeError(ErrorCode::Unavailable, QStringLiteral("the provider is gone"));
    if (error)
        co_return *error;
    QJsonParseError parseError;
    const QJsonDocument doc = QJsonDocument::fromJson(body, &parseError);
    if (parseError.error != QJsonParseError::NoError) {
        co_return makeError(
            ErrorCode::UpstreamError,
            QStringLiteral("the answer of the model server %1 to %2 %3 is not "
                           "JSON: %4")
                .arg(where(config), QString::fromLatin1(method), path, parseError.errorString()));
    }
    co_return doc;
}
} // namespace

QCoro::Task<Result<QJsonDocument>> getJson(QPointer<UpstreamClient> network, UpstreamConfig config,
                                           QString path)
{
    co_return co_await fetchJson(network, std::move(config), std::move(path),
                                 QByteArrayLiteral("GET"), {});
}

QCoro::Task<Result<QJsonDocument>> postJson(QPointer<UpstreamClient> network, UpstreamConfig config,
                                            QString path, QByteArray body)
{
    co_return co_await fetchJson(network, std::move(config), std::move(path),
                                 QByteArrayLiteral("POST"), std::move(body));
}

} // namespace upstream

HttpModelStream::HttpModelStream(UpstreamConfig config)
    : m_config(std::move(config)), m_toolCalls(std::make_unique<upstream::ToolCallAssembler>())
{}

HttpModelStream::~HttpModelStream()
{
    stopUpstream();
}

void HttpModelStream::begin(UpstreamClient *network, UpstreamRequest request,
                            const QByteArray &body)
{
    request.method = QByteArrayLiteral("POST");
    request.body = body;
    run(network, std::move(request)); // runs until its first suspension, then on its own
}

void HttpModelStream::beginChat(UpstreamClient *network, UpstreamRequest request,
                                ProviderRequest chat, BodyWriter write)
{
    if (!upstream::hasPdf(chat)) {
        begin(network, std::move(request), write(chat, {}));
        return;
    }
    readPdfsThenBegin(network, std::move(request), std::move(chat), write);
}

QCoro::Task<> HttpModelStream::readPdfsThenBegin(QPointer<UpstreamClient> network,
                                                 UpstreamRequest request, ProviderRequest chat,
                                                 BodyWriter write)
{
    QPointer<HttpModelStream> self(this);
    const upstream::PdfTexts texts = co_await upstream::readPdfTexts(chat);
    if (!self || ended()) // destroyed or cancelled meanwhile: nothing was sent
        co_return;
    begin(network, std::move(request), write(chat, texts));
}

QCoro::Task<> HttpModelStream::run(QPointer<UpstreamClient> network, UpstreamRequest request)
{
    QPointer<HttpModelStream> self(this);
    if (!network) {
        fail(makeError(ErrorCode::Unavailable, QStringLiteral("the provider is gone")));
        co_return;
    }
    m_reply = network->send(request);
    const std::optional<Error> error = co_await upstream::exchange(
        m_reply, m_config,
        [this](QByteArrayView bytes) {
            consume(bytes);
            return ended() ? upstream::Flow::Stop : upstream::Flow::More;
        },
        self.data());
    if (!self)
        co_return;
    if (!ended()) {
        if (error) {
            fail(*error);
        } else {
            bodyEnded();
            if (!ended()) {
                fail(makeError(ErrorCode::UpstreamError,
                               QStringLiteral("the stream of the model server %1 ended without "
                                              "its end marker")
                                   .arg(where(m_config))));
            }
        }
    }
    if (const auto &e = this->error())
        qCInfo(lcProvider).noquote() << m_config.name << "generation failed:" << e->message;
    else if (!error && m_reply)
        std::exchange(m_reply, nullptr)->release(); // its connection may serve the next turn
    stopUpstream();
}

void HttpModelStream::abort()
{
    stopUpstream();
}

void HttpModelStream::stopUpstream()
{
    UpstreamReply *reply = m_reply.data();
    m_reply = nullptr;
    if (!reply)
        return;
    if (!reply->isFinished())
        reply->abort(); // closes the connection at once: the model server stops generating
    reply->deleteLater();
}

Error HttpModelStream::malformed(const QByteArray &line) const
{
    return makeError(ErrorCode::UpstreamError,
                     QStringLiteral("the model server %1 sent a malformed stream line: %2")
                         .arg(where(m_config), upstream::excerpt(QString::fromUtf8(line), 120)));
}

void HttpModelStream::apply(const upstream::StreamItem &item, const QByteArray &raw)
{
    using Fault = upstream::StreamItem::Fault;
    if (item.fault == Fault::Malformed) {
        fail(malformed(raw));
        return;
    }
    if (item.fault == Fault::Reported) {
        fail(makeError(ErrorCode::UpstreamError,
                       QStringLiteral("the model server reported an error mid-answer: %1")
                           .arg(item.reported)));
        return;
    }
    if (item.hasText)
        push(item.text);
    for (const upstream::ToolCallPiece &piece : item.toolCalls)
        m_toolCalls->add(piece);
    if (!item.finishReason.isEmpty())
        m_finishReason = item.finishReason;
    if (item.usage)
        setUsage(*item.usage);
    if (!item.end)
        return;
    Result<QList<ProviderToolCall>> calls = m_toolCalls->calls(m_finishReason);
    if (!calls) {
        fail(makeError(ErrorCode::UpstreamError,
                       QStringLiteral("the model server %1 asked for a tool in a way Holdfast "
                                      "cannot use: %2")
                           .arg(where(m_config), calls.error().message)));
        return;
    }
    setToolCalls(std::move(*calls));
    finish();
}

} // namespace holdfast
