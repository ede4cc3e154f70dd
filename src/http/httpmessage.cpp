#include "http/httpmessage.h"

#include "http/httpconnection.h"

#include <QJsonDocument>

namespace holdfast {

const char *httpReasonPhrase(int status)
{
    switch (status) {
    case 100:
        return "Continue";
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 202:
        return "Accepted";
    case 204:
        return "No Content";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 409:
        return "Conflict";
    case 413:
        return "Content Too Large";
    case 415:
        return "Unsupported Media Type";
    case 422:
        return "Unprocessable Content";
    case 429:
        return "Too Many Requests";
    case 500:
        return "Internal Server Error";
    case 502:
        return "Bad Gateway";
    case 503:
        return "Service Unavailable";
    case 504:
        return "Gateway Timeout";
    default:
        return "Status";
    }
}

QByteArray HttpRequest::header(QByteArrayView name) const
{
    for (const auto &h : headers) {
        if (h.first == name)
            return h.second;
    }
    return {};
}

bool HttpRequest::hasHeader(QByteArrayView name) const
{
    return std::any_of(headers.cbegin(), headers.cend(),
                       [&](const auto &h) { return h.first == name; });
}

std::optional<QString> HttpRequest::queryValue(const QString &key) const
{
    if (!query.hasQueryItem(key))
        return std::nullopt;
    return query.queryItemValue(key, QUrl::FullyDecoded);
}

// HttpResponder: every call goes through the connection, which checks that it is still there.

HttpResponder::HttpResponder(HttpConnection *connection, quint64 exchange)
    : m_connection(connection), m_exchange(exchange)
{}

bool HttpResponder::isOpen() const
{
    return m_connection && m_connection->current(m_exchange);
}

HttpConnection *HttpResponder::connection() const
{
    return m_connection;
}

const HttpRequest *HttpResponder::request() const
{
    return isOpen() ? &m_connection->m_request : nullptr;
}

void HttpResponder::send(int status, const QByteArray &contentType, const QByteArray &body,
                         const HttpHeaders &headers)
{
    if (m_connection)
        m_connection->respond(m_exchange, status, contentType, body, headers, true);
}

void HttpResponder::sendJson(int status, const QJsonObject &body, const HttpHeaders &headers)
{
    send(status, "application/json", QJsonDocument(body).toJson(QJsonDocument::Compact), headers);
}

void HttpResponder::sendEmpty(int status, const HttpHeaders &headers)
{
    if (m_connection)
        m_connection->respond(m_exchange, status, {}, {}, headers, status != 204);
}

void HttpResponder::sendError(const Error &error, const HttpHeaders &headers)
{
    if (m_connection)
        m_connection->sendError(m_exchange, error, headers);
}

void HttpResponder::setErrorFormat(ErrorFormat format)
{
    if (isOpen())
        m_connection->m_errorFormat = std::move(format);
}

bool HttpResponder::beginStream(int status, const QByteArray &contentType,
                                const HttpHeaders &headers)
{
    return m_connection && m_connection->beginStream(m_exchange, status, contentType, headers);
}

bool HttpResponder::writeStream(const QByteArray &data)
{
    return m_connection && m_connection->writeStream(m_exchange, data);
}

void HttpResponder::endStream(const QByteArray &last)
{
    if (m_connection)
        m_connection->endStream(m_exchange, last);
}

} // namespace holdfast
