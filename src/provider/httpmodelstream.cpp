#include "provider/httpmodelstream.h"

#include "core/logging.h"
#include "provider/wireformat.h"

#include <QCoroNetworkReply>
#include <QElapsedTimer>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QNetworkReply>

namespace holdfast {

namespace {

constexpr qsizetype kMaxErrorBody = 64 * 1024;
// QNetworkAccessManager's own bound on connections to one host (Qt 6.4: six).
constexpr int kConnectionsPerManager = 6;
// Sends of one request whose connection closed before it went out.
constexpr int kSendAttempts = 3;

QString where(const UpstreamConfig &config)
{
    // Never user info: a URL may carry credentials.
    return config.baseUrl.toDisplayString(QUrl::RemoveUserInfo | QUrl::RemoveQuery);
}

QString shortened(QString text, qsizetype max = 300)
{
    text = text.simplified();
    if (text.size() > max)
        text = text.left(max - 3) + QStringLiteral("...");
    return text;
}

// Errors of the connection itself, before the model server answered anything.
bool isUnreachable(QNetworkReply::NetworkError error)
{
    switch (error) {
    case QNetworkReply::ConnectionRefusedError:
    case QNetworkReply::RemoteHostClosedError:
    case QNetworkReply::HostNotFoundError:
    case QNetworkReply::TemporaryNetworkFailureError:
    case QNetworkReply::NetworkSessionFailedError:
    case QNetworkReply::UnknownNetworkError:
    case QNetworkReply::SslHandshakeFailedError:
    case QNetworkReply::ProxyConnectionRefusedError:
    case QNetworkReply::ProxyConnectionClosedError:
    case QNetworkReply::ProxyNotFoundError:
    case QNetworkReply::ProxyTimeoutError:
    case QNetworkReply::UnknownProxyError:
        return true;
    default:
        return false;
    }
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

QNetworkRequest request(const UpstreamConfig &config, const QString &path, const QByteArray &accept)
{
    QNetworkRequest r(endpoint(config.baseUrl, path));
    r.setHeader(QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("application/json"));
    r.setRawHeader("Accept", accept);
    r.setHeader(QNetworkRequest::UserAgentHeader, QByteArray("Holdfast/" HOLDFAST_VERSION));
    if (!config.apiKey.isEmpty())
        r.setRawHeader("Authorization", "Bearer " + config.apiKey.toUtf8());
    // Answers stream in: no cache, and no request of a compressed body (QNAM would inflate it,
    // but a gzip stream may hold bytes back until a block is full).
    r.setAttribute(QNetworkRequest::CacheLoadControlAttribute, QNetworkRequest::AlwaysNetwork);
    r.setRawHeader("Accept-Encoding", "identity");
    return r;
}

QString errorText(const QByteArray &body)
{
    const QJsonDocument doc = QJsonDocument::fromJson(body);
    if (doc.isObject()) {
        const QJsonValue error = doc.object().value(QStringLiteral("error"));
        if (error.isString())
            return shortened(error.toString());
        if (error.isObject()) {
            const QString message = error.toObject().value(QStringLiteral("message")).toString();
            if (!message.isEmpty())
                return shortened(message);
        }
        const QString message = doc.object().value(QStringLiteral("message")).toString();
        if (!message.isEmpty())
            return shortened(message);
    }
    return shortened(QString::fromUtf8(body));
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

QCoro::Task<std::optional<Error>> exchange(QNetworkReply *replyPtr, UpstreamConfig config,
                                           BodySink sink, QPointer<QObject> guard, bool *unsent)
{
    QPointer<QNetworkReply> reply(replyPtr);

    // The connect timeout runs until the request has gone out (or anything came back); from
    // then on the idle timeout runs between pieces of the answer.
    struct Progress
    {
        QElapsedTimer clock;
        qint64 last = 0;
        bool connected = false;
        void mark()
        {
            connected = true;
            last = clock.elapsed();
        }
    };
    auto progress = std::make_shared<Progress>();
    progress->clock.start();
    QObject::connect(reply, &QNetworkReply::requestSent, reply, [progress] { progress->mark(); });
    QObject::connect(reply, &QNetworkReply::metaDataChanged, reply,
                     [progress] { progress->mark(); });

    int status = 0;
    qint64 received = 0;
    QByteArray errorBody;
    auto statusNow = [&] {
        if (status == 0)
            status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
        return status;
    };

    while (true) {
        if (!guard)
            co_return std::nullopt;
        if (!reply)
            co_return makeError(ErrorCode::Unavailable,
                                QStringLiteral("the request to the model server was dropped"));
        if (reply->bytesAvailable() > 0) {
            progress->mark();
            QByteArray bytes = reply->readAll();
            received += bytes.size();
            if (received > config.maxResponseBytes) {
                // What fits under the cap still counts: its text is kept as the partial answer.
                bytes.chop(received - config.maxResponseBytes);
                if (statusNow() < 300 && !bytes.isEmpty() && sink(bytes) == Flow::Stop)
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
            if (statusNow() >= 300) {
                errorBody.append(bytes.left(kMaxErrorBody - errorBody.size()));
                continue;
            }
            if (sink(bytes) == Flow::Stop)
                co_return std::nullopt;
            continue;
        }
        if (reply->isFinished() || !reply->isOpen())
            break;
        const int limit = progress->connected ? config.idleTimeoutMs : config.connectTimeoutMs;
        const qint64 left = limit - (progress->clock.elapsed() - progress->last);
        if (left <= 0) {
            const bool connected = progress->connected;
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
        co_await qCoro(reply.data()).waitForReadyRead(std::chrono::milliseconds(left));
    }

    if (statusNow() >= 300)
        co_return statusError(config, status, errorBody);
    const QNetworkReply::NetworkError error = reply->error();
    if (error == QNetworkReply::NoError)
        co_return std::nullopt;
    if (error == QNetworkReply::OperationCanceledError)
        co_return makeError(ErrorCode::Unavailable,
                            QStringLiteral("the request to the model server was cancelled"));
    if (unsent)
        *unsent = status == 0 && received == 0 && !progress->connected &&
                  error == QNetworkReply::RemoteHostClosedError;
    if (status == 0 && isUnreachable(error)) {
        co_return makeError(ErrorCode::Unavailable,
                            QStringLiteral("cannot reach the model server %1: %2")
                                .arg(where(config), reply->errorString()));
    }
    if (status != 0) {
        co_return makeError(ErrorCode::UpstreamError,
                            QStringLiteral("the model server %1 broke off its answer: %2")
                                .arg(where(config), reply->errorString()));
    }
    co_return makeError(ErrorCode::UpstreamError,
                        QStringLiteral("the request to the model server %1 failed: %2")
                            .arg(where(config), reply->errorString()));
}

QCoro::Task<Result<QJsonDocument>> getJson(QPointer<NetworkPool> manager, UpstreamConfig config,
                                           QString path)
{
    if (!manager)
        co_return makeError(ErrorCode::Unavailable, QStringLiteral("the provider is gone"));
    QNetworkReply *reply =
        manager->get(request(config, path, QByteArrayLiteral("application/json")));
    QPointer<QNetworkReply> guard(reply);
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
        co_return makeError(ErrorCode::UpstreamError,
                            QStringLiteral("the answer of the model server %1 to GET %2 is not "
                                           "JSON: %3")
                                .arg(where(config), path, parseError.errorString()));
    }
    co_return doc;
}

} // namespace upstream

NetworkPool::NetworkPool(QObject *parent) : QObject(parent) {}

NetworkPool::~NetworkPool() = default; // the managers are children, and their replies theirs

NetworkPool::Slot &NetworkPool::pick()
{
    for (Slot &slot : m_managers) {
        if (slot.active < kConnectionsPerManager)
            return slot;
    }
    m_managers.push_back({new QNetworkAccessManager(this), 0});
    return m_managers.back();
}

QNetworkReply *NetworkPool::track(Slot &slot, QNetworkReply *reply)
{
    ++slot.active;
    QNetworkAccessManager *manager = slot.manager;
    // A reply is done with its connection once finished (or gone, if aborted before).
    auto released = std::make_shared<bool>(false);
    const auto release = [this, manager, released] {
        if (std::exchange(*released, true))
            return;
        for (Slot &s : m_managers) {
            if (s.manager == manager)
                --s.active;
        }
    };
    connect(reply, &QNetworkReply::finished, this, release);
    connect(reply, &QObject::destroyed, this, release);
    return reply;
}

QNetworkReply *NetworkPool::post(const QNetworkRequest &request, const QByteArray &body)
{
    Slot &slot = pick();
    return track(slot, slot.manager->post(request, body));
}

QNetworkReply *NetworkPool::get(const QNetworkRequest &request)
{
    Slot &slot = pick();
    return track(slot, slot.manager->get(request));
}

HttpModelStream::HttpModelStream(UpstreamConfig config) : m_config(std::move(config)) {}

HttpModelStream::~HttpModelStream()
{
    stopUpstream();
}

void HttpModelStream::begin(NetworkPool *network, const QNetworkRequest &request,
                            const QByteArray &body)
{
    run(network, request, body); // runs until its first suspension, then on its own
}

QCoro::Task<> HttpModelStream::run(QPointer<NetworkPool> network, QNetworkRequest request,
                                   QByteArray body)
{
    QPointer<HttpModelStream> self(this);
    std::optional<Error> error;
    // A connection the server closed as the request went out (a keep-alive connection it had
    // just dropped) is no answer: nothing reached the server, so the request goes again.
    for (int attempt = 1;; ++attempt) {
        if (!network) {
            fail(makeError(ErrorCode::Unavailable, QStringLiteral("the provider is gone")));
            co_return;
        }
        m_reply = network->post(request, body);
        bool unsent = false;
        error = co_await upstream::exchange(
            m_reply, m_config,
            [this](QByteArrayView bytes) {
                consume(bytes);
                return ended() ? upstream::Flow::Stop : upstream::Flow::More;
            },
            self.data(), &unsent);
        if (!self)
            co_return;
        if (!error || !unsent || ended() || attempt == kSendAttempts)
            break;
        qCDebug(lcProvider).noquote()
            << m_config.name << "connection closed before the request went out; sending again";
        stopUpstream();
    }
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
    stopUpstream();
}

void HttpModelStream::abort()
{
    stopUpstream();
}

void HttpModelStream::stopUpstream()
{
    QNetworkReply *reply = m_reply.data();
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
                         .arg(where(m_config), shortened(QString::fromUtf8(line), 120)));
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
    if (item.end)
        finish();
}

} // namespace holdfast
