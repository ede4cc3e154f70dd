// Over 600 lines: one fake speaks both wire formats byte for byte, with every scripted fault.
#include "fakes/fakemodelserver.h"

#include "fakes/testcertificate.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QRandomGenerator>
#include <QSslKey>
#include <QSslSocket>
#include <QTcpSocket>
#include <QTimer>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace holdfast::test {

namespace {

// A JSON string literal, non-ASCII left as UTF-8 as the real servers send it.
QByteArray jsonString(const QString &text)
{
    const QByteArray array = QJsonDocument(QJsonArray{text}).toJson(QJsonDocument::Compact);
    return array.mid(1, array.size() - 2);
}

QByteArray reason(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 301:
        return "Moved Permanently";
    case 302:
        return "Found";
    case 307:
        return "Temporary Redirect";
    case 308:
        return "Permanent Redirect";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 404:
        return "Not Found";
    case 429:
        return "Too Many Requests";
    case 500:
        return "Internal Server Error";
    case 503:
        return "Service Unavailable";
    default:
        return "Status";
    }
}

// `text` cut into `count` pieces of about the same length (never inside a surrogate pair); an
// empty text is one empty piece.
QStringList cut(const QString &text, int count)
{
    QStringList pieces;
    count = std::max(1, count);
    qsizetype begin = 0;
    for (int i = 1; i <= count; ++i) {
        qsizetype end = i == count ? text.size() : text.size() * i / count;
        if (end > begin && end < text.size() && text.at(end - 1).isHighSurrogate())
            ++end;
        end = std::max(end, begin);
        pieces.append(text.mid(begin, end - begin));
        begin = end;
    }
    return pieces;
}

bool isOpenAiChat(const QByteArray &path)
{
    return path.endsWith("/chat/completions");
}

} // namespace

QJsonObject FakeModelServer::Received::json() const
{
    return QJsonDocument::fromJson(body).object();
}

QList<QByteArray> FakeModelServer::openAiEvents(const Script &script, bool includeUsage)
{
    // As OpenAI sends them: a first chunk with the role, one per piece of text, a last one with
    // finish_reason, then [DONE]; each event one "data:" line and a blank line.
    const QByteArray head =
        "data: {\"id\":\"chatcmpl-fake123\",\"object\":\"chat.completion.chunk\","
        "\"created\":1732480200,\"model\":" +
        jsonString(script.model) +
        ",\"system_fingerprint\":\"fp_fake\",\"choices\":[{\"index\":0,"
        "\"delta\":";
    const QByteArray tail = ",\"logprobs\":null,\"finish_reason\":null}]}\n\n";
    QList<QByteArray> events;
    // OpenAI's first chunk of an answer that only calls tools has content null.
    const bool onlyCalls = script.chunks.isEmpty() && !script.toolCalls.isEmpty();
    events.append(head + "{\"role\":\"assistant\",\"content\":" +
                  (onlyCalls ? QByteArray("null") : QByteArray("\"\"")) + ",\"refusal\":null}" +
                  tail);
    QStringList pieces = script.chunks;
    if (script.padBytes > 0)
        pieces.append(QString(qsizetype(script.padBytes), QLatin1Char('x')));
    for (const QString &piece : std::as_const(pieces))
        events.append(head + "{\"content\":" + jsonString(piece) + "}" + tail);
    // Each call as a list of deltas: the first names it, the others carry its arguments.
    QList<QList<QByteArray>> calls;
    for (qsizetype i = 0; i < script.toolCalls.size(); ++i) {
        const ScriptedCall &call = script.toolCalls.at(i);
        const QByteArray index = "{\"index\":" + QByteArray::number(i);
        QList<QByteArray> deltas;
        deltas.append(index +
                      (call.id.isEmpty() ? QByteArray() : ",\"id\":" + jsonString(call.id)) +
                      ",\"type\":\"function\",\"function\":{\"name\":" + jsonString(call.name) +
                      ",\"arguments\":\"\"}}");
        for (const QString &piece : cut(call.arguments, script.argumentPieces))
            deltas.append(index + ",\"function\":{\"arguments\":" + jsonString(piece) + "}}");
        calls.append(deltas);
    }
    const auto callEvent = [&](const QByteArray &delta) -> QByteArray {
        return head + "{\"tool_calls\":[" + delta + "]}" + tail;
    };
    if (script.interleaveCalls) {
        for (qsizetype step = 0;; ++step) {
            bool any = false;
            for (const QList<QByteArray> &deltas : std::as_const(calls)) {
                if (step < deltas.size()) {
                    events.append(callEvent(deltas.at(step)));
                    any = true;
                }
            }
            if (!any)
                break;
        }
    } else {
        for (const QList<QByteArray> &deltas : std::as_const(calls)) {
            for (const QByteArray &delta : deltas)
                events.append(callEvent(delta));
        }
    }
    for (const QByteArray &line : script.rawLines)
        events.append(line + "\n\n");
    if (script.endMarker) {
        const QString finishReason =
            !script.finishReason.isEmpty()
                ? script.finishReason
                : (script.toolCalls.isEmpty() ? QStringLiteral("stop")
                                              : QStringLiteral("tool_calls"));
        events.append(head + "{},\"logprobs\":null,\"finish_reason\":" + jsonString(finishReason) +
                      "}]}\n\n");
        if (includeUsage && script.reportUsage) {
            // OpenAI's usage chunk: no choices, after the finish chunk, before [DONE].
            events.append("data: {\"id\":\"chatcmpl-fake123\",\"object\":\"chat.completion."
                          "chunk\",\"created\":1732480200,\"model\":" +
                          jsonString(script.model) +
                          ",\"system_fingerprint\":\"fp_fake\",\"choices\":[],\"usage\":{"
                          "\"prompt_tokens\":" +
                          QByteArray::number(script.promptTokens) + ",\"completion_tokens\":" +
                          QByteArray::number(script.completionTokens) + ",\"total_tokens\":" +
                          QByteArray::number(script.promptTokens + script.completionTokens) +
                          ",\"prompt_tokens_details\":{\"cached_tokens\":0}}}\n\n");
        }
        events.append("data: [DONE]\n\n");
    }
    return events;
}

QList<QByteArray> FakeModelServer::ollamaLines(const Script &script)
{
    const QByteArray head = "{\"model\":" + jsonString(script.model) +
                            ",\"created_at\":\"2024-11-24T21:50:00.123456789Z\",\"message\":"
                            "{\"role\":\"assistant\",\"content\":";
    QList<QByteArray> lines;
    QStringList pieces = script.chunks;
    if (script.padBytes > 0)
        pieces.append(QString(qsizetype(script.padBytes), QLatin1Char('x')));
    for (const QString &piece : std::as_const(pieces))
        lines.append(head + jsonString(piece) + "},\"done\":false}\n");
    // Ollama sends the calls whole, their arguments an object; newer servers add an id and the
    // call's index.
    QList<QByteArray> calls;
    for (qsizetype i = 0; i < script.toolCalls.size(); ++i) {
        const ScriptedCall &call = script.toolCalls.at(i);
        const QJsonDocument parsed = QJsonDocument::fromJson(call.arguments.toUtf8());
        const QByteArray arguments =
            parsed.isObject() ? parsed.toJson(QJsonDocument::Compact) : jsonString(call.arguments);
        const QByteArray function =
            "\"name\":" + jsonString(call.name) + ",\"arguments\":" + arguments + "}}";
        if (call.id.isEmpty())
            calls.append("{\"function\":{" + function);
        else
            calls.append("{\"id\":" + jsonString(call.id) +
                         ",\"function\":{\"index\":" + QByteArray::number(i) + ',' + function);
    }
    const auto callLine = [&](const QList<QByteArray> &list) -> QByteArray {
        return head + "\"\",\"tool_calls\":[" + list.join(',') + "]},\"done\":false}\n";
    };
    if (!calls.isEmpty() && script.interleaveCalls) {
        for (const QByteArray &call : std::as_const(calls))
            lines.append(callLine({call}));
    } else if (!calls.isEmpty()) {
        lines.append(callLine(calls));
    }
    for (const QByteArray &line : script.rawLines)
        lines.append(line + "\n");
    if (script.endMarker) {
        const QByteArray counts =
            script.reportUsage
                ? ",\"prompt_eval_count\":" + QByteArray::number(script.promptTokens) +
                      ",\"prompt_eval_duration\":342546000,\"eval_count\":" +
                      QByteArray::number(script.completionTokens)
                : QByteArray();
        lines.append(head +
                     "\"\"},\"done_reason\":\"stop\",\"done\":true,\"total_duration\":"
                     "4883583458,\"load_duration\":1334875" +
                     counts + ",\"eval_duration\":4535599000}\n");
    }
    return lines;
}

// One client connection: parses requests one after the other and plays their answers.
class FakeConnection final : public QObject
{
public:
    FakeConnection(QTcpSocket *socket, FakeModelServer *server)
        : QObject(server), m_socket(socket), m_server(server)
    {
        socket->setParent(this);
        ++m_server->m_connections;
        connect(socket, &QTcpSocket::readyRead, this, &FakeConnection::onReadyRead);
        connect(socket, &QTcpSocket::disconnected, this, &FakeConnection::onDisconnected);
        connect(&m_timer, &QTimer::timeout, this, &FakeConnection::writeNext);
        m_idle.setSingleShot(true);
        connect(&m_idle, &QTimer::timeout, this, &FakeConnection::closeOurselves);
    }

    void closeIfIdle()
    {
        if (m_current < 0 && m_buffer.isEmpty())
            closeOurselves();
    }

private:
    void onReadyRead()
    {
        m_buffer += m_socket->readAll();
        m_idle.stop();
        while (m_current < 0) {
            const qsizetype headEnd = m_buffer.indexOf("\r\n\r\n");
            if (headEnd < 0)
                return;
            FakeModelServer::Received r;
            const QList<QByteArray> lines = m_buffer.left(headEnd).split('\n');
            const QList<QByteArray> requestLine = lines.first().trimmed().split(' ');
            r.method = requestLine.value(0);
            r.path = requestLine.value(1);
            for (qsizetype i = 1; i < lines.size(); ++i) {
                const qsizetype colon = lines[i].indexOf(':');
                if (colon > 0)
                    r.headers.insert(lines[i].left(colon).trimmed().toLower(),
                                     lines[i].mid(colon + 1).trimmed());
            }
            const qsizetype length = r.headers.value("content-length", "0").toLongLong();
            if (m_buffer.size() < headEnd + 4 + length)
                return;
            r.body = m_buffer.mid(headEnd + 4, length);
            m_buffer.remove(0, headEnd + 4 + length);
            m_server->requests.append(r);
            m_current = int(m_server->requests.size() - 1);
            Q_EMIT m_server->requestReceived(m_current);
            answer(r);
        }
    }

    void answer(const FakeModelServer::Received &r)
    {
        if (r.method == "POST" && !r.isChat()) {
            answerShow(r);
            return;
        }
        FakeModelServer::Script s = m_server->script;
        const bool chat = r.method == "POST";
        if (chat && !m_server->queue.isEmpty())
            s = m_server->queue.takeFirst();
        else if (chat && m_server->chooser)
            s = m_server->chooser(r);
        if (s.cut != FakeModelServer::Cut::None) {
            QTimer::singleShot(s.cutAfterMs, this, [this, cut = s.cut] { cutConnection(cut); });
            return;
        }
        if (s.silent)
            return;
        if (s.status != 200) {
            const QByteArray location =
                s.location.isEmpty() ? QByteArray() : "\r\nLocation: " + s.location;
            writeRaw("HTTP/1.1 " + QByteArray::number(s.status) + ' ' + reason(s.status) +
                     location + "\r\nContent-Type: application/json\r\nContent-Length: " +
                     QByteArray::number(s.errorBody.size()) + "\r\n\r\n" + s.errorBody);
            done();
            return;
        }
        if (!chat) {
            QByteArray body;
            if (r.path == "/api/tags") {
                QJsonArray list;
                for (const QString &m : std::as_const(m_server->models)) {
                    list.append(QJsonObject{
                        {QStringLiteral("name"), m},
                        {QStringLiteral("model"), m},
                        {QStringLiteral("modified_at"), QStringLiteral("2024-11-24T21:50:00Z")},
                        {QStringLiteral("size"), 2019393189}});
                }
                body = QJsonDocument(QJsonObject{{QStringLiteral("models"), list}}).toJson();
            } else if (r.path.endsWith("/models")) {
                QJsonArray list;
                for (const QString &m : std::as_const(m_server->models)) {
                    list.append(QJsonObject{{QStringLiteral("id"), m},
                                            {QStringLiteral("object"), QStringLiteral("model")},
                                            {QStringLiteral("created"), 1686935002},
                                            {QStringLiteral("owned_by"), QStringLiteral("fake")}});
                }
                body = QJsonDocument(QJsonObject{{QStringLiteral("object"), QStringLiteral("list")},
                                                 {QStringLiteral("data"), list}})
                           .toJson();
            } else {
                writeRaw("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
                done();
                return;
            }
            writeRaw("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " +
                     QByteArray::number(body.size()) + "\r\n\r\n" + body);
            done();
            return;
        }

        const bool openAi = isOpenAiChat(r.path);
        if (!openAi && r.path != "/api/chat") {
            writeRaw("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
            done();
            return;
        }
        QByteArray head = "HTTP/1.1 200 OK\r\n";
        head += openAi ? "Content-Type: text/event-stream; charset=utf-8\r\nCache-Control: "
                         "no-cache\r\n"
                       : "Content-Type: application/x-ndjson\r\n";
        head += s.chunkedEncoding ? "Transfer-Encoding: chunked\r\nConnection: keep-alive\r\n"
                                  : "Connection: close\r\n";
        writeRaw(head + "\r\n");

        const bool includeUsage = r.json()
                                      .value(QStringLiteral("stream_options"))
                                      .toObject()
                                      .value(QStringLiteral("include_usage"))
                                      .toBool();
        const QList<QByteArray> parts = openAi ? FakeModelServer::openAiEvents(s, includeUsage)
                                               : FakeModelServer::ollamaLines(s);
        m_pieces.clear();
        if (s.splitBytes > 0) {
            const QByteArray all = parts.join();
            for (qsizetype i = 0; i < all.size(); i += s.splitBytes)
                m_pieces.append(all.mid(i, s.splitBytes));
        } else {
            m_pieces = parts;
        }
        m_script = s;
        m_next = 0;
        m_timer.start(s.delayMs);
    }

    // Ollama's POST /api/show: the model's details, of which the context length counts here.
    void answerShow(const FakeModelServer::Received &r)
    {
        const QJsonObject request = r.json();
        QString model = request.value(QStringLiteral("model")).toString();
        if (model.isEmpty())
            model = request.value(QStringLiteral("name")).toString(); // older clients
        QByteArray body;
        QByteArray status = "200 OK";
        if (r.path != "/api/show" || !m_server->contextLengths.contains(model)) {
            status = "404 Not Found";
            body = QJsonDocument(QJsonObject{{QStringLiteral("error"),
                                              QStringLiteral("model '%1' not found").arg(model)}})
                       .toJson(QJsonDocument::Compact);
        } else {
            const QJsonObject info{
                {QStringLiteral("general.architecture"), QStringLiteral("llama")},
                {QStringLiteral("general.parameter_count"), 8030261248LL},
                {QStringLiteral("llama.context_length"), m_server->contextLengths.value(model)},
                {QStringLiteral("llama.embedding_length"), 4096}};
            body =
                QJsonDocument(QJsonObject{{QStringLiteral("modelfile"), QStringLiteral("FROM x")},
                                          {QStringLiteral("parameters"),
                                           QStringLiteral("stop \"<|eot_id|>\"")},
                                          {QStringLiteral("model_info"), info}})
                    .toJson(QJsonDocument::Compact);
        }
        writeRaw("HTTP/1.1 " + status + "\r\nContent-Type: application/json\r\nContent-Length: " +
                 QByteArray::number(body.size()) + "\r\n\r\n" + body);
        done();
    }

    void writeNext()
    {
        if (m_next < m_pieces.size()) {
            const QByteArray &piece = m_pieces.at(m_next++);
            if (m_script.chunkedEncoding)
                writeRaw(QByteArray::number(piece.size(), 16) + "\r\n" + piece + "\r\n");
            else
                writeRaw(piece);
            return;
        }
        m_timer.stop();
        switch (m_script.ending) {
        case FakeModelServer::Ending::Finish:
            if (m_script.chunkedEncoding) {
                writeRaw("0\r\n\r\n");
                done();
            } else {
                done();
                closeOurselves();
            }
            break;
        case FakeModelServer::Ending::Drop:
            closeOurselves();
            break;
        case FakeModelServer::Ending::Hang:
            break;
        }
    }

    void cutConnection(FakeModelServer::Cut cut)
    {
        if (m_socket->state() != QAbstractSocket::ConnectedState)
            return;
        switch (cut) {
        case FakeModelServer::Cut::None:
            break;
        case FakeModelServer::Cut::Close:
            closeOurselves();
            break;
        case FakeModelServer::Cut::Reset: {
            // A zero linger time makes close() send an RST instead of a FIN.
            const linger abortive{1, 0};
            ::setsockopt(int(m_socket->socketDescriptor()), SOL_SOCKET, SO_LINGER, &abortive,
                         sizeof(abortive));
            m_closing = true;
            m_socket->abort();
            break;
        }
        case FakeModelServer::Cut::HeadersThenClose:
            writeRaw("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: "
                     "chunked\r\n\r\n");
            closeOurselves();
            break;
        }
    }

    void writeRaw(const QByteArray &bytes)
    {
        m_socket->write(bytes);
        m_socket->flush();
    }

    void done()
    {
        if (m_current >= 0)
            m_server->requests[m_current].answered = true;
        m_current = -1;
        if (!m_buffer.isEmpty())
            QTimer::singleShot(0, this, &FakeConnection::onReadyRead);
        else if (m_server->idleCloseMs >= 0)
            m_idle.start(m_server->idleCloseMs);
    }

    void closeOurselves()
    {
        m_closing = true;
        m_socket->disconnectFromHost();
    }

    void onDisconnected()
    {
        m_timer.stop();
        if (!m_closing && m_current >= 0 && !m_server->requests[m_current].answered) {
            m_server->requests[m_current].clientClosed = true;
            Q_EMIT m_server->clientClosed(m_current);
        }
        --m_server->m_connections;
        deleteLater();
    }

    QTcpSocket *m_socket;
    FakeModelServer *m_server;
    QByteArray m_buffer;
    int m_current = -1; // the request being answered
    FakeModelServer::Script m_script;
    QList<QByteArray> m_pieces;
    qsizetype m_next = 0;
    QTimer m_timer;
    QTimer m_idle; // closes a kept-alive connection nobody uses (idleCloseMs)
    bool m_closing = false;
};

FakeModelServer::FakeModelServer(QObject *parent) : QObject(parent)
{
    connect(&m_server, &QTcpServer::newConnection, this, &FakeModelServer::onNewConnection);
}

FakeModelServer::~FakeModelServer()
{
    // Connections use the recorded requests as they close: they go first.
    qDeleteAll(findChildren<FakeConnection *>(Qt::FindDirectChildrenOnly));
}

void FakeTcpServer::incomingConnection(qintptr handle)
{
    if (tls.isNull()) {
        QTcpServer::incomingConnection(handle);
        return;
    }
    auto *socket = new QSslSocket(this);
    socket->setSslConfiguration(tls);
    if (!socket->setSocketDescriptor(handle)) {
        delete socket;
        return;
    }
    socket->startServerEncryption();
    addPendingConnection(socket);
}

bool FakeModelServer::listen()
{
    return m_server.listen(QHostAddress::LocalHost, 0);
}

bool FakeModelServer::listenTls()
{
    QSslConfiguration tls = QSslConfiguration::defaultConfiguration();
    tls.setLocalCertificate(QSslCertificate(QByteArray(kTestCertificate)));
    tls.setPrivateKey(QSslKey(QByteArray(kTestPrivateKey), QSsl::Ec));
    tls.setPeerVerifyMode(QSslSocket::VerifyNone);
    if (tls.localCertificate().isNull() || tls.privateKey().isNull())
        return false;
    m_server.tls = tls;
    return listen();
}

void FakeModelServer::trustTestCertificate(bool trust)
{
    QSslConfiguration conf = QSslConfiguration::defaultConfiguration();
    const QSslCertificate test{QByteArray(kTestCertificate)};
    QList<QSslCertificate> cas = conf.caCertificates();
    cas.removeAll(test);
    if (trust)
        cas.append(test);
    conf.setCaCertificates(cas);
    QSslConfiguration::setDefaultConfiguration(conf);
}

QString FakeModelServer::openAiBaseUrl() const
{
    return QStringLiteral("%1://127.0.0.1:%2/v1")
        .arg(m_server.tls.isNull() ? u"http" : u"https")
        .arg(port());
}

QString FakeModelServer::ollamaBaseUrl() const
{
    return QStringLiteral("%1://127.0.0.1:%2")
        .arg(m_server.tls.isNull() ? u"http" : u"https")
        .arg(port());
}

QList<FakeModelServer::Received> FakeModelServer::chatRequests() const
{
    QList<Received> out;
    for (const Received &r : requests) {
        if (r.isChat())
            out.append(r);
    }
    return out;
}

void FakeModelServer::closeIdleConnections()
{
    const auto connections = findChildren<FakeConnection *>(Qt::FindDirectChildrenOnly);
    for (FakeConnection *c : connections)
        c->closeIfIdle();
}

void FakeModelServer::setChaos(quint32 seed)
{
    auto rng = std::make_shared<QRandomGenerator>(seed);
    chooser = [this, rng](const Received &) {
        Script s;
        const int pieces = 1 + int(rng->bounded(12));
        for (int i = 0; i < pieces; ++i)
            s.chunks.append(QStringLiteral("w%1 ").arg(i));
        s.splitBytes = rng->bounded(2) ? 1 + int(rng->bounded(64)) : 0;
        // A piece every few ms when the answer is cut small, so that a good answer takes a
        // second or two, not half a minute of single bytes.
        s.delayMs = int(rng->bounded(s.splitBytes > 0 ? 4 : 30));
        QString kind;
        switch (rng->bounded(7)) {
        case 0:
            kind = QStringLiteral("good");
            break;
        case 1: // a stall mid-answer
            kind = QStringLiteral("stall");
            s.ending = Ending::Hang;
            s.endMarker = false;
            break;
        case 2:
            kind = QStringLiteral("silent");
            s.silent = true;
            break;
        case 3:
            kind = QStringLiteral("drop");
            s.ending = Ending::Drop;
            s.endMarker = false;
            break;
        case 4:
            kind = QStringLiteral("status");
            s.status = rng->bounded(2) ? 500 : 429;
            s.errorBody = rng->bounded(2) ? QByteArray("{\"error\":{\"message\":\"overloaded\"}}")
                                          : QByteArray("<html>\x01\xff garbage");
            break;
        case 5: { // garbage lines, maybe with the end marker after them
            kind = QStringLiteral("garbage");
            const QList<QByteArray> junk{"data: {not json",
                                         "data: {\"choices\":[{\"delta\":{\"content\":42}}]}",
                                         "data: \xff\xfe\x00\x01",
                                         "event: ???",
                                         "data: []",
                                         "data: {\"choices\":null}",
                                         QByteArray(int(1 + rng->bounded(3000)), 'Z')};
            for (int i = 0, n = 1 + int(rng->bounded(4)); i < n; ++i)
                s.rawLines.append(junk.at(int(rng->bounded(quint32(junk.size())))));
            s.endMarker = rng->bounded(2);
            break;
        }
        default: // garbage framing: no chunked encoding and a close in the middle
            kind = QStringLiteral("unframed-drop");
            s.chunkedEncoding = false;
            s.ending = Ending::Drop;
            s.endMarker = false;
            break;
        }
        ++chaosCounts[kind];
        return s;
    };
}

void FakeModelServer::onNewConnection()
{
    while (QTcpSocket *socket = m_server.nextPendingConnection())
        new FakeConnection(socket, this);
}

Blackhole::Blackhole()
{
    m_listener = ::socket(AF_INET, SOCK_STREAM, 0);
    if (m_listener < 0)
        return;
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = 0;
    socklen_t length = sizeof(address);
    if (::bind(m_listener, reinterpret_cast<sockaddr *>(&address), length) != 0 ||
        ::listen(m_listener, 0) != 0 ||
        ::getsockname(m_listener, reinterpret_cast<sockaddr *>(&address), &length) != 0)
        return;
    // Fill the accept queue (never accepted); later SYNs are dropped.
    for (int i = 0; i < 3; ++i) {
        const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
        if (fd < 0)
            continue;
        ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
        (void)::connect(fd, reinterpret_cast<sockaddr *>(&address), length);
        m_fillers.append(fd);
    }
    ::usleep(50 * 1000); // let the handshakes of the fillers complete
    m_port = ntohs(address.sin_port);
}

Blackhole::~Blackhole()
{
    for (int fd : std::as_const(m_fillers))
        ::close(fd);
    if (m_listener >= 0)
        ::close(m_listener);
}

} // namespace holdfast::test
