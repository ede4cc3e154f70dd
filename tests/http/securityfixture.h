#pragma once

// What the security suites share (tst_access, tst_limits, tst_inputvalidation): the server
// fixture with their defaults, and raw exchanges on fresh connections.
#include "fakes/httpserverfixture.h"
#include "fakes/testutil.h"

#include <QTcpSocket>

using namespace holdfast;
using test::connectFrom;
using test::HttpReply;
using test::HttpTestClient;
using test::readReplyFrom;
using test::spinUntil;
using test::SseReader;

namespace {

// The shared fixture with this suite's defaults: 20 demo chunks, no delay unless asked, and a
// choice of address (tests that bind beyond loopback).
struct Server : test::HttpServerFixture
{
    explicit Server(HttpOptions options = {}, ServiceConfig config = {}, int demoDelayMs = 0,
                    const QHostAddress &address = QHostAddress(QHostAddress::LocalHost))
        : HttpServerFixture(setup(std::move(options), std::move(config), demoDelayMs, address))
    {}

private:
    static test::HttpServerSetup setup(HttpOptions options, ServiceConfig config, int demoDelayMs,
                                       const QHostAddress &address)
    {
        test::HttpServerSetup s;
        s.http = std::move(options);
        s.service = std::move(config);
        s.demoChunks = 20;
        s.demoDelayMs = demoDelayMs;
        s.address = address;
        return s;
    }
};

inline QByteArray headWithHeaders(int count, int valueBytes = 1)
{
    QByteArray request = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n";
    for (int i = 1; i < count; ++i)
        request += "X-H" + QByteArray::number(i) + ": " + QByteArray(valueBytes, 'v') + "\r\n";
    return request + "\r\n";
}

// One request with exactly these header fields (no Host unless given), on a fresh connection
// to ADDRESS:PORT.
inline HttpReply exchange(const QHostAddress &address, quint16 port, const QByteArray &method,
                          const QByteArray &target, const QList<QByteArray> &fields,
                          const QByteArray &body = {})
{
    QTcpSocket socket;
    socket.connectToHost(address, port);
    if (!spinUntil([&] { return socket.state() == QAbstractSocket::ConnectedState; }, 5000))
        return {};
    // Without a Host field the request is HTTP/1.0's (HTTP/1.1 requires Host: 400).
    const bool hasHost = std::any_of(fields.cbegin(), fields.cend(), [](const QByteArray &f) {
        return f.toLower().startsWith("host:");
    });
    QByteArray request =
        method + ' ' + target + (hasHost ? " HTTP/1.1" : " HTTP/1.0") + "\r\nConnection: close\r\n";
    for (const QByteArray &field : fields)
        request += field + "\r\n";
    if (!body.isEmpty())
        request +=
            "Content-Type: application/json\r\nContent-Length: " + QByteArray::number(body.size()) +
            "\r\n";
    socket.write(request + "\r\n" + body);
    return readReplyFrom(&socket, 20000);
}

// "PORT" becomes the server's port, "OTHER" another one.
inline QByteArray withPort(QByteArray value, quint16 port)
{
    return value.replace("PORT", QByteArray::number(port))
        .replace("OTHER", QByteArray::number(port == 65535 ? 1 : port + 1));
}

inline qint64 rssKb()
{
    return test::procStatusKb(0, "VmRSS");
}

inline bool waitForClose(QTcpSocket *socket, int timeoutMs = 5000)
{
    return spinUntil(
        [&] {
            socket->readAll();
            return socket->state() == QAbstractSocket::UnconnectedState;
        },
        timeoutMs);
}

inline const QByteArray kHealth = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";

} // namespace
