#pragma once

#include <QByteArray>
#include <QHash>
#include <QJsonObject>
#include <QObject>
#include <QSslConfiguration>
#include <QStringList>
#include <QTcpServer>

#include <functional>

namespace holdfast::test {

// A QTcpServer whose connections speak TLS when `tls` is set (handshake started on accept).
class FakeTcpServer final : public QTcpServer
{
public:
    QSslConfiguration tls;

protected:
    void incomingConnection(qintptr handle) override;
};

// A model server on a real socket that speaks OpenAI's chat-completions Server-Sent Events and
// Ollama's /api/chat NDJSON byte for byte, with scripted faults. It records every request.
//   POST …/chat/completions   OpenAI stream          GET …/models     OpenAI model list
//   POST /api/chat            Ollama stream          GET /api/tags    Ollama model list
//   POST /api/show            Ollama model details (contextLengths)
class FakeModelServer final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(FakeModelServer)
public:
    enum class Ending {
        Finish, // end the body properly (chunked: the last chunk; else close)
        Drop,   // close the connection in the middle of the body
        Hang,   // stay silent with the connection open
    };
    // What happens to the connection once a request has been read, instead of an answer.
    enum class Cut {
        None,
        Close,            // close it (FIN) without answering
        Reset,            // reset it (RST) without answering
        HeadersThenClose, // send a 200 status line and headers, then close
    };

    // A tool call the model asks for (after the answer's text chunks).
    struct ScriptedCall
    {
        QString id;        // empty: the server gives none (OpenAI: no "id"; Ollama: the old shape)
        QString name;      // the function's name
        QString arguments; // the JSON text the model writes (Ollama: sent as the object it is,
                           // or as a string when it is not one)
    };

    struct Script
    {
        int status = 200;
        QByteArray errorBody;       // the JSON body sent with a status other than 200
        QStringList chunks;         // the answer's pieces, one event (or line) each
        QList<QByteArray> rawLines; // sent as they are after the chunks (+ "\n\n" or "\n")
        bool endMarker = true;      // the finish chunk and "data: [DONE]", or "done": true
        Ending ending = Ending::Finish;
        int delayMs = 0;             // between writes
        int splitBytes = 0;          // > 0: the body goes out in pieces of this many bytes
        bool silent = false;         // read the request, never answer
        qint64 padBytes = 0;         // one more chunk of this many bytes, before the end (oversize)
        bool chunkedEncoding = true; // false: no framing, "Connection: close"
        QString model = QStringLiteral("fake-model");
        Cut cut = Cut::None;
        int cutAfterMs = 0;  // how long to stay silent before the cut
        QByteArray location; // the Location header of an answer with a 3xx status
        // The counts of the answer's usage: OpenAI's last chunk (when the request asked for it
        // with stream_options.include_usage), Ollama's prompt_eval_count and eval_count.
        bool reportUsage = true;
        qint64 promptTokens = 26;
        qint64 completionTokens = 282;
        // Tool calls, streamed as each format does: OpenAI's deltas (a first piece with index,
        // id, type and name, then the arguments in `argumentPieces` pieces), Ollama's
        // message.tool_calls (all in one line).
        QList<ScriptedCall> toolCalls;
        int argumentPieces = 3;
        // OpenAI: the calls' pieces alternate (index 0, 1, 0, 1, …); Ollama: one line per call.
        bool interleaveCalls = false;
        // OpenAI's finish_reason; empty: "tool_calls" when there are calls, else "stop".
        QString finishReason;
    };

    struct Received
    {
        QByteArray method;
        QByteArray path;
        QHash<QByteArray, QByteArray> headers; // names in lower case
        QByteArray body;
        bool answered = false;     // the whole answer went out
        bool clientClosed = false; // the client closed the connection before the answer's end
        QJsonObject json() const;
        bool isChat() const { return method == "POST" && !path.endsWith("/api/show"); }
    };

    explicit FakeModelServer(QObject *parent = nullptr);
    ~FakeModelServer() override;

    bool listen();
    // Listens for TLS with the certificate of fakes/testcertificate.h (for localhost and
    // 127.0.0.1); a client trusts it with trustTestCertificate().
    bool listenTls();
    static void trustTestCertificate(bool trust);
    quint16 port() const { return m_server.serverPort(); }
    QString openAiBaseUrl() const; // http(s)://127.0.0.1:PORT/v1
    QString ollamaBaseUrl() const; // http(s)://127.0.0.1:PORT

    Script script; // how chat requests are answered, unless `queue` holds a script
    // When set (and `queue` is empty), picks the script of each chat request instead.
    std::function<Script(const Received &)> chooser;
    // Chaos: from now on each chat request gets, at random (seeded), a good answer, a stall, a
    // dropped connection, an error status or garbage; `chaosCounts` says how many of each.
    void setChaos(quint32 seed);
    QHash<QString, int> chaosCounts;
    QList<Script> queue; // for the next chat requests, in order
    QStringList models{QStringLiteral("fake-model"), QStringLiteral("other-model")};
    // What POST /api/show says of a model's context length (model_info's
    // "llama.context_length"); a model not here is 404, as Ollama answers an unknown one.
    QHash<QString, qint64> contextLengths;
    // >= 0: a kept-alive connection with no request is closed this long after its last answer.
    int idleCloseMs = -1;
    QList<Received> requests; // every request, in arrival order
    QList<Received> chatRequests() const;
    int openConnections() const { return m_connections; }
    // Closes, at once, every connection that waits for its next request.
    void closeIdleConnections();

    // The body of a streamed answer in each wire format, as a list of events / lines.
    static QList<QByteArray> openAiEvents(const Script &script, bool includeUsage = false);
    static QList<QByteArray> ollamaLines(const Script &script);

Q_SIGNALS:
    void requestReceived(int index);
    void clientClosed(int index);

private:
    friend class FakeConnection;
    void onNewConnection();

    FakeTcpServer m_server;
    int m_connections = 0;
};

// A loopback port whose listen queue is full: a connection attempt to it neither succeeds nor
// fails (the kernel drops the SYN), which is what a connect timeout needs.
class Blackhole
{
public:
    Blackhole();
    ~Blackhole();
    Blackhole(const Blackhole &) = delete;
    Blackhole &operator=(const Blackhole &) = delete;
    bool ok() const { return m_port != 0; }
    quint16 port() const { return m_port; }

private:
    int m_listener = -1;
    QList<int> m_fillers;
    quint16 m_port = 0;
};

} // namespace holdfast::test
