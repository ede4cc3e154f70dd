#pragma once

#include "core/error.h"

#include <QByteArray>
#include <QHostAddress>
#include <QJsonObject>
#include <QList>
#include <QPair>
#include <QPointer>
#include <QStringList>
#include <QUrlQuery>

#include <functional>

namespace holdfast {

class HttpConnection;

using HttpHeaders = QList<QPair<QByteArray, QByteArray>>;

const char *httpReasonPhrase(int status);

// Builds the JSON error body of a route; the default is shared/API.md's {"error":{code,message}}.
using ErrorFormat = std::function<QJsonObject(const Error &error)>;

// One request as parsed by RequestParser. The body is empty until the head was admitted.
struct HttpRequest
{
    QByteArray method;
    QByteArray target;    // as sent: path and query
    QByteArray path;      // raw, still percent-encoded
    QStringList segments; // the path's segments, percent-decoded
    QUrlQuery query;
    HttpHeaders headers; // names in lower case, in the order received
    QByteArray body;
    QHostAddress peer;
    int minorVersion = 1; // HTTP/1.x
    qint64 contentLength = -1;
    bool chunked = false;
    bool keepAlive = true;
    bool expectContinue = false;

    QByteArray header(QByteArrayView name) const; // the first value; "" when absent
    bool hasHeader(QByteArrayView name) const;
    bool hasBody() const { return chunked || contentLength > 0; }
    // The first value of a query parameter, decoded; nullopt when absent.
    std::optional<QString> queryValue(const QString &key) const;
};

// Answers one request of a connection. Cheap to copy; every copy answers the same request, and
// only the first answer counts. All calls are safe (and do nothing) once the client is gone, so
// a coroutine may hold a responder across awaits without caring whether the client stayed.
class HttpResponder
{
public:
    HttpResponder() = default;
    HttpResponder(HttpConnection *connection, quint64 exchange);

    // True while the client is connected and this request has not been fully answered.
    bool isOpen() const;
    HttpConnection *connection() const;
    const HttpRequest *request() const; // the head (and body once read); nullptr when gone

    void send(int status, const QByteArray &contentType, const QByteArray &body,
              const HttpHeaders &headers = {});
    void sendJson(int status, const QJsonObject &body, const HttpHeaders &headers = {});
    void sendEmpty(int status, const HttpHeaders &headers = {});
    // The error's status with the route's error body (see setErrorFormat).
    void sendError(const Error &error, const HttpHeaders &headers = {});
    void setErrorFormat(ErrorFormat format);

    // A response whose body is written piece by piece (chunked framing on HTTP/1.1; on HTTP/1.0
    // the connection closes at the end instead). Each write reaches the socket at once.
    bool beginStream(int status, const QByteArray &contentType, const HttpHeaders &headers = {});
    bool writeStream(const QByteArray &data);
    // Ends the body; `last`, if any, is written with the end in one send().
    void endStream(const QByteArray &last = {});

private:
    QPointer<HttpConnection> m_connection;
    quint64 m_exchange = 0;
};

} // namespace holdfast
