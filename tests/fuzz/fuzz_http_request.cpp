// Raw bytes as requests to the real HTTP layer: HttpConnection's parser and limits, the router,
// auth, the controllers' validation, over a real loopback socket into a real HttpServer on a
// memory store with the demo model (no delay), so that turns, event streams and long polls run.
// Input: byte 0 bit 0 picks the server (with or without a token); the rest goes to the socket.
// Checks: no crash or sanitizer report; every answer's status is one API.md allows (500 is a
// finding: the server could not say what was wrong).
#include "core/providerregistry.h"
#include "core/sessionservice.h"
#include "core/store.h"
#include "fuzzsupport.h"
#include "http/httpserver.h"
#include "provider/demoprovider.h"

#include <QTcpSocket>

#include <memory>

using namespace holdfast;

namespace {

constexpr int kInputsPerStack = 2000; // then a fresh service: bounded memory, as in a long run

struct Stack
{
    std::unique_ptr<Store> store;
    ProviderRegistry registry;
    std::unique_ptr<SessionService> service;
    std::unique_ptr<HttpServer> open;   // no token
    std::unique_ptr<HttpServer> locked; // token "fuzz-token", CORS on

    Stack()
    {
        store = std::move(*createStore(QStringLiteral("memory:")));
        registry.add(new DemoProvider({3, 0}), {QStringLiteral("demo")});
        ServiceConfig config;
        config.maxPromptBytes = 512;
        service = std::make_unique<SessionService>(store.get(), &registry, config);
        const auto started = fuzz::await(service->start());
        if (!started || !started->ok())
            abort();
        HttpOptions options;
        options.logRequests = false;
        options.maxBodyBytes = 4096;
        options.maxStreamsPerClient = 4;
        open = std::make_unique<HttpServer>(service.get(), options);
        options.token = QStringLiteral("fuzz-token");
        options.corsOrigin = QStringLiteral("https://app.example");
        locked = std::make_unique<HttpServer>(service.get(), options);
        if (!open->listen(QHostAddress::LocalHost, 0).ok() ||
            !locked->listen(QHostAddress::LocalHost, 0).ok())
            abort();
        // Something to find: session s1 with one finished turn.
        CreateSessionParams create;
        create.id = QStringLiteral("s1");
        if (!fuzz::await(service->createSession(create)))
            abort();
        StartTurnParams turn;
        turn.prompt = QStringLiteral("hello");
        (void)fuzz::await(service->startTurn(QStringLiteral("s1"), turn));
        (void)fuzz::await(service->waitForTurn(QStringLiteral("s1"), 1, 5000));
    }
    ~Stack()
    {
        fuzz::awaitVoid(service->shutdown());
        locked.reset();
        open.reset();
        service.reset();
    }
};

std::unique_ptr<Stack> g_stack;
int g_uses = 0;

bool allowedStatus(int status)
{
    static const QList<int> allowed{100, 200, 201, 202, 204, 400, 401, 404,
                                    405, 409, 413, 415, 422, 429, 503};
    return allowed.contains(status);
}

void spin()
{
    QCoreApplication::processEvents(QEventLoop::AllEvents);
    QCoreApplication::sendPostedEvents(nullptr, QEvent::DeferredDelete);
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int *, char ***)
{
    fuzz::initQt();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    if (!g_stack || ++g_uses > kInputsPerStack) {
        g_stack.reset();
        g_stack = std::make_unique<Stack>();
        g_uses = 1;
    }
    HttpServer *server = (data[0] & 1) ? g_stack->locked.get() : g_stack->open.get();

    QTcpSocket client;
    client.connectToHost(QHostAddress::LocalHost, server->serverPort());
    if (!client.waitForConnected(2000))
        abort();
    client.write(fuzz::payload(data, size));
    client.flush();

    // Run until the server closed the connection, or nothing has moved for a while (a kept-alive
    // connection waiting for the next request, or a head that is not complete).
    QByteArray received;
    int quiet = 0;
    for (int i = 0; i < 20000 && quiet < 40; ++i) {
        spin();
        const QByteArray bytes = client.readAll();
        received += bytes;
        quiet = bytes.isEmpty() ? quiet + 1 : 0;
        if (client.state() != QAbstractSocket::ConnectedState)
            break;
    }
    received += client.readAll();
    client.abort();
    for (int i = 0; i < 5; ++i)
        spin();

    if (received.startsWith("HTTP/1.1 ")) {
        const int status = received.mid(9, 3).toInt();
        if (!allowedStatus(status)) {
            fprintf(stderr, "unexpected answer: %s\n", received.left(400).constData());
            abort();
        }
    } else {
        FUZZ_CHECK(received.isEmpty()); // an answer is HTTP/1.1 or nothing
    }
    return 0;
}
