// json::toJsonBytes(SessionSnapshot) must write exactly what QJsonDocument writes for
// json::toJson(snapshot): clients parse either, and GET session switched to the direct writer.
// The one exception is a lone surrogate: json::appendString (also the event stream's) writes
// U+FFFD, where QJsonDocument writes "\udxxx", which strict parsers refuse.

#include "core/json.h"
#include "core/strictjson.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QRandomGenerator>
#include <QTest>

using namespace holdfast;

namespace {

// `text` with each lone surrogate replaced by U+FFFD, as appendString writes it.
QString paired(const QString &text)
{
    QString out = text;
    for (qsizetype i = 0; i < out.size(); ++i) {
        const QChar c = out.at(i);
        if (c.isHighSurrogate() && i + 1 < out.size() && out.at(i + 1).isLowSurrogate())
            ++i;
        else if (c.isSurrogate())
            out[i] = QChar::ReplacementCharacter;
    }
    return out;
}

// What QJsonDocument writes for the snapshot, its lone surrogates written as U+FFFD.
QByteArray viaDocument(SessionSnapshot snapshot)
{
    SessionMeta &meta = snapshot.meta;
    for (QString *text : {&meta.id, &meta.model, &meta.title, &meta.system}) {
        if (!text->isNull())
            *text = paired(*text);
    }
    for (QString &tool : meta.tools)
        tool = paired(tool);
    for (Message &m : snapshot.history) {
        m.content = paired(m.content);
        for (MessageToolCall &call : m.toolCalls) {
            call.id = paired(call.id);
            call.name = paired(call.name);
            if (call.result)
                call.result = paired(*call.result);
        }
    }
    return QJsonDocument(json::toJson(snapshot)).toJson(QJsonDocument::Compact);
}

QByteArray appended(const QString &text)
{
    QByteArray out = "x";
    json::appendString(out, text);
    return out.mid(1);
}

Message message(qint64 index, const QString &role, const QString &content, int turn,
                Message::State state, const QDateTime &createdAt)
{
    Message m;
    m.index = index;
    m.role = role;
    m.content = content;
    m.turn = turn;
    m.state = state;
    m.createdAt = createdAt;
    return m;
}

SessionMeta meta(const QString &id)
{
    SessionMeta m;
    m.id = id;
    m.model = QStringLiteral("demo");
    m.createdAt = QDateTime(QDate(2026, 1, 2), QTime(3, 4, 5, 6), Qt::UTC);
    m.updatedAt = QDateTime(QDate(2026, 11, 25), QTime(23, 59, 59, 999), Qt::UTC);
    m.total = 2;
    return m;
}

} // namespace

class TestJson : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void snapshotBytesMatchQJsonDocument_data()
    {
        QTest::addColumn<QString>("text");
        QTest::newRow("empty") << QString();
        QTest::newRow("ascii") << QStringLiteral("Plan a day in Lisbon");
        QTest::newRow("quotes and backslash") << QStringLiteral("say \"hi\" \\ back\\slash /");
        QTest::newRow("named escapes") << QStringLiteral("a\bb\fc\nd\re\tf");
        QTest::newRow("control characters") << (QString(QChar(0x01)) + QChar(0x1f) + QChar(0x00) +
                                                QChar(0x7f) + QStringLiteral("x"));
        QTest::newRow("two and three bytes") << QStringLiteral("café 12 € ✓ 日本語");
        QTest::newRow("surrogate pair") << QString::fromUtf8("rope 🪢 and ⚓ 😀");
        QTest::newRow("lone high surrogate")
            << (QStringLiteral("a") + QChar(0xd83d) + QStringLiteral("b"));
        QTest::newRow("lone low surrogate")
            << (QStringLiteral("a") + QChar(0xde00) + QStringLiteral("b"));
        QTest::newRow("high surrogate at the end") << (QStringLiteral("end") + QChar(0xd800));
        QTest::newRow("two highs then a low")
            << (QString(QChar(0xd83d)) + QChar(0xd83d) + QChar(0xde00));
        QTest::newRow("markdown answer")
            << QStringLiteral("You said: *x*\n\n- first, the `keel`\n- then\t\"tide\"");
    }

    void snapshotBytesMatchQJsonDocument()
    {
        QFETCH(QString, text);
        SessionSnapshot s{meta(QStringLiteral("trip")), {}};
        s.meta.title = text;
        s.meta.system = text;
        s.history.append(message(0, QStringLiteral("user"), text, 1, Message::State::Complete,
                                 s.meta.createdAt));
        s.history.append(message(1, QStringLiteral("assistant"), text + text, 1,
                                 Message::State::Interrupted, s.meta.updatedAt));
        const QByteArray expected = viaDocument(s);
        QCOMPARE(json::toJsonBytes(s), expected);
        // And it is JSON that reads back to the same snapshot.
        QJsonParseError error;
        const QJsonDocument doc = QJsonDocument::fromJson(json::toJsonBytes(s), &error);
        QCOMPARE(error.error, QJsonParseError::NoError);
        SessionSnapshot read = s;
        read.meta.title = read.meta.system = paired(text);
        read.history[0].content = paired(text);
        read.history[1].content = paired(text + text);
        QCOMPARE(doc.object(), json::toJson(read));
    }

    void appendString_data()
    {
        QTest::addColumn<QString>("text");
        QTest::addColumn<QByteArray>("json");
        QTest::newRow("empty") << QString() << QByteArray("\"\"");
        QTest::newRow("quotes, backslash, slash")
            << QStringLiteral("a\"b\\c/") << QByteArray("\"a\\\"b\\\\c/\"");
        QTest::newRow("named escapes")
            << QStringLiteral("\b\f\n\r\t") << QByteArray("\"\\b\\f\\n\\r\\t\"");
        QTest::newRow("other controls and DEL")
            << (QString(QChar(0x00)) + QChar(0x01) + QChar(0x1f) + QChar(0x7f))
            << QByteArray("\"\\u0000\\u0001\\u001f\x7f\"");
        QTest::newRow("two, three, four bytes")
            << QString::fromUtf8("\u00e9\u20ac\U0001F600")
            << QByteArray("\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"");
        QTest::newRow("lone high surrogate")
            << (QStringLiteral("a") + QChar(0xd83d) + QStringLiteral("b"))
            << QByteArray("\"a\xef\xbf\xbd"
                          "b\"");
        QTest::newRow("lone low surrogate")
            << (QStringLiteral("a") + QChar(0xde00)) << QByteArray("\"a\xef\xbf\xbd\"");
        QTest::newRow("high surrogate at the end")
            << (QStringLiteral("end") + QChar(0xd800)) << QByteArray("\"end\xef\xbf\xbd\"");
        QTest::newRow("two highs then a low")
            << (QString(QChar(0xd83d)) + QChar(0xd83d) + QChar(0xde00))
            << QByteArray("\"\xef\xbf\xbd\xf0\x9f\x98\x80\"");
        QTest::newRow("low before high") << (QString(QChar(0xde00)) + QChar(0xd83d))
                                         << QByteArray("\"\xef\xbf\xbd\xef\xbf\xbd\"");
    }

    // The exact bytes, and JSON that the strict parser (which refuses "\ud800") accepts and
    // that reads back to the text (its lone surrogates as U+FFFD).
    void appendString()
    {
        QFETCH(QString, text);
        QFETCH(QByteArray, json);
        QCOMPARE(appended(text), json);
        const QByteArray array = '[' + json + ']';
        QVERIFY(!json::strictError(array));
        QCOMPARE(QJsonDocument::fromJson(array).array().at(0).toString(), paired(text));
    }

    void snapshotShapes()
    {
        // Null title and system, an active turn, no history.
        SessionSnapshot s{meta(QStringLiteral("a-b_c.9")), {}};
        s.meta.activeTurn = 7;
        s.meta.total = 1234567890123LL;
        QCOMPARE(json::toJsonBytes(s), viaDocument(s));
        QVERIFY(json::toJsonBytes(s).contains("\"title\":null"));
        QVERIFY(json::toJsonBytes(s).contains("\"history\":[]"));

        // Empty (not null) title; messages without a turn, in error, with odd timestamps.
        s.meta.title = QStringLiteral("");
        s.meta.activeTurn = 0;
        s.meta.updatedAt = QDateTime();                                            // invalid
        s.meta.createdAt = QDateTime(QDate(999, 12, 31), QTime(1, 2, 3), Qt::UTC); // 3 digits
        const QDateTime local(QDate(2026, 6, 1), QTime(12, 0), Qt::OffsetFromUTC, 2 * 3600);
        s.history.append(message(40, QStringLiteral("user"), QStringLiteral("x"), 0,
                                 Message::State::Error, local));
        s.history.append(message(41, QStringLiteral("assistant"), QStringLiteral("y"), 21,
                                 Message::State::Complete,
                                 QDateTime(QDate(10000, 1, 1), QTime(0, 0), Qt::UTC)));
        s.history.append(message(42, QStringLiteral("assistant"), QString(), 22,
                                 Message::State::Complete, QDateTime()));
        QCOMPARE(json::toJsonBytes(s), viaDocument(s));
        QVERIFY(json::toJsonBytes(s).contains("\"created_at\":\"2026-06-01T10:00:00.000Z\""));

        // Options: none ({}), then each kind of number.
        QVERIFY(json::toJsonBytes(s).contains("\"options\":{}"));
        s.meta.options.temperature = 0.1;
        s.meta.options.topP = 1;
        s.meta.options.maxTokens = 2147483647;
        s.meta.options.contextTokens = 256;
        QCOMPARE(json::toJsonBytes(s), viaDocument(s));
        QCOMPARE(json::sessionFromJson(json::toJson(s.meta))->options, s.meta.options);
    }

    // A user message's attachments: written as QJsonDocument writes them, and read back.
    void messageAttachments()
    {
        SessionSnapshot s{meta(QStringLiteral("s")), {}};
        Message m =
            message(0, QStringLiteral("user"), QStringLiteral("look"), 1, Message::State::Complete,
                    QDateTime(QDate(2026, 6, 1), QTime(10, 0), Qt::UTC));
        Attachment a;
        a.id = QStringLiteral("a1");
        a.name = QStringLiteral("\"quoted\" \u00e9.png");
        a.type = QStringLiteral("image/png");
        a.size = 12345678901LL;
        a.createdAt = QDateTime(QDate(2026, 6, 1), QTime(9, 59), Qt::UTC);
        Attachment b = a;
        b.id = QStringLiteral("b2");
        b.type = QStringLiteral("text/plain");
        m.attachments = {a, b};
        s.history = {m, message(1, QStringLiteral("assistant"), QStringLiteral("ok"), 1,
                                Message::State::Complete, QDateTime())};
        QCOMPARE(json::toJsonBytes(s), viaDocument(s));
        QVERIFY(json::toJsonBytes(s).contains("\"attachments\":[]"));
        const auto back =
            json::snapshotFromJson(QJsonDocument::fromJson(json::toJsonBytes(s)).object());
        QVERIFY(back);
        QCOMPARE(back->history.first().attachments, m.attachments);
        QCOMPARE(json::attachmentFromJson(json::toJson(a)), std::optional<Attachment>(a));
    }

    // Tools (shared/API.md, Tools (MCP)): the session's tools and tool_approval, an answer's
    // tool_calls, written as QJsonDocument writes them, for any text, and read back.
    void toolFieldsMatchQJsonDocument_data() { snapshotBytesMatchQJsonDocument_data(); }
    void toolFieldsMatchQJsonDocument()
    {
        QFETCH(QString, text);
        SessionSnapshot s{meta(QStringLiteral("tools")), {}};
        s.meta.tools = {QStringLiteral("everything/echo"), text, QStringLiteral("*")};
        s.meta.toolApproval = ToolApproval::Auto;
        Message prompt = message(0, QStringLiteral("user"), QStringLiteral("use it"), 1,
                                 Message::State::Complete, s.meta.createdAt);
        Message answer = message(1, QStringLiteral("assistant"), text, 1, Message::State::Complete,
                                 s.meta.updatedAt);
        MessageToolCall ran;
        ran.id = QStringLiteral("call_1");
        ran.name = QStringLiteral("everything/echo");
        ran.arguments = QJsonObject{{QStringLiteral("message"), text},
                                    {QStringLiteral("n"), 1.5},
                                    {QStringLiteral("list"), QJsonArray{1, true, QJsonValue()}}};
        ran.result = QStringLiteral("Echo: ") + text;
        ran.approved = true;
        ran.offset = 1234567890123LL;
        MessageToolCall declined;
        declined.id = text;
        declined.name = QStringLiteral("fs/") + text;
        declined.result = QStringLiteral("the user declined this tool call");
        declined.isError = true;
        MessageToolCall cutOff; // a crash came between the call and its result
        cutOff.id = QStringLiteral("c3");
        cutOff.name = QStringLiteral("fs/read_file");
        answer.toolCalls = {ran, declined, cutOff};
        s.history = {prompt, answer};
        QCOMPARE(json::toJsonBytes(s), viaDocument(s));
        const QByteArray bytes = json::toJsonBytes(s);
        QVERIFY(bytes.contains("\"tool_approval\":\"auto\""));
        QVERIFY(bytes.contains("\"tool_calls\":[]")); // the prompt's: always present
        QVERIFY(bytes.contains("\"result\":null"));
        // Read back (as RemoteClient does), lone surrogates aside.
        const auto back = json::snapshotFromJson(QJsonDocument::fromJson(bytes).object());
        QVERIFY(back);
        QCOMPARE(back->meta.toolApproval, ToolApproval::Auto);
        QCOMPARE(back->meta.tools.size(), 3);
        QCOMPARE(back->meta.tools.first(), QStringLiteral("everything/echo"));
        QCOMPARE(back->history.size(), 2);
        QVERIFY(back->history.first().toolCalls.isEmpty());
        const QList<MessageToolCall> calls = back->history.last().toolCalls;
        QCOMPARE(calls.size(), 3);
        QCOMPARE(calls[0].offset, ran.offset);
        QCOMPARE(calls[0].approved, true);
        QCOMPARE(calls[0].arguments.value(QStringLiteral("n")).toDouble(), 1.5);
        QCOMPARE(calls[1].isError, true);
        QCOMPARE(calls[1].approved, false);
        QCOMPARE(calls[1].result, declined.result);
        QCOMPARE(calls[2].result, std::optional<QString>());
        // The list's Session (no history) carries them too.
        const QJsonObject listed = json::toJson(s.meta);
        QCOMPARE(listed.value(QStringLiteral("tool_approval")).toString(), QStringLiteral("auto"));
        QCOMPARE(listed.value(QStringLiteral("tools")).toArray().size(), 3);
        QCOMPARE(json::sessionFromJson(listed)->toolApproval, ToolApproval::Auto);
        // Defaults: [] and "ask".
        const QJsonObject plain = json::toJson(meta(QStringLiteral("p")));
        QCOMPARE(plain.value(QStringLiteral("tools")), QJsonValue(QJsonArray()));
        QCOMPARE(plain.value(QStringLiteral("tool_approval")).toString(), QStringLiteral("ask"));
    }

    // A tool step's chunk as /chunks and the event stream send it, and read back.
    void toolChunks()
    {
        Chunk call(4, QString());
        call.toolCall = ToolCall{QStringLiteral("c1"), QStringLiteral("everything/echo"),
                                 QJsonObject{{QStringLiteral("message"), QStringLiteral("hi")}}};
        const QJsonObject callJson = json::toJson(call);
        QCOMPARE(callJson.value(QStringLiteral("text")).toString(), QString());
        QCOMPARE(callJson.value(QStringLiteral("tool_call"))
                     .toObject()
                     .value(QStringLiteral("name"))
                     .toString(),
                 QStringLiteral("everything/echo"));
        QCOMPARE(json::chunkFromJson(callJson), std::optional<Chunk>(call));
        Chunk result(5, QString());
        ToolResult r;
        r.id = QStringLiteral("c1");
        r.content = QStringLiteral("Echo: hi");
        r.approved = true; // stored, never sent
        result.toolResult = r;
        const QJsonObject resultJson = json::toJson(result);
        QVERIFY(!resultJson.value(QStringLiteral("tool_result"))
                     .toObject()
                     .contains(QStringLiteral("approved")));
        QCOMPARE(resultJson.value(QStringLiteral("tool_result"))
                     .toObject()
                     .value(QStringLiteral("is_error")),
                 QJsonValue(false));
        r.approved = false;
        result.toolResult = r;
        QCOMPARE(json::chunkFromJson(resultJson), std::optional<Chunk>(result));
    }

    void randomTextMatchesQJsonDocument()
    {
        // Any UTF-16 at all, including every kind of broken surrogate: 2,000 seeded strings.
        QRandomGenerator random(20261125);
        SessionSnapshot s{meta(QStringLiteral("r")), {}};
        for (int round = 0; round < 200; ++round) {
            s.history.clear();
            for (int i = 0; i < 10; ++i) {
                QString text;
                const int length = int(random.bounded(40));
                for (int k = 0; k < length; ++k) {
                    const quint32 pick = random.bounded(4);
                    const char16_t u = pick == 0   ? char16_t(random.bounded(0x80))
                                       : pick == 1 ? char16_t(0xd800 + random.bounded(0x800))
                                                   : char16_t(random.bounded(0x10000));
                    text += QChar(u);
                }
                s.history.append(message(i, QStringLiteral("user"), text, i + 1,
                                         Message::State::Complete, s.meta.createdAt));
            }
            const QByteArray expected = viaDocument(s);
            const QByteArray actual = json::toJsonBytes(s);
            if (actual != expected)
                QFAIL(qPrintable(QStringLiteral("round %1 differs:\n%2\n%3")
                                     .arg(round)
                                     .arg(QString::fromLatin1(actual.toHex()),
                                          QString::fromLatin1(expected.toHex()))));
        }
    }

    // The turn record as POST/GET/cancel of a turn send it: the same bytes as QJsonDocument's,
    // for every state, with and without an error, a response, an end time; odd texts too.
    void turnBytesMatchQJsonDocument()
    {
        QRandomGenerator random(20261125);
        const QList<TurnRecord::State> states = {
            TurnRecord::State::Streaming, TurnRecord::State::Waiting,     TurnRecord::State::Done,
            TurnRecord::State::Cancelled, TurnRecord::State::Interrupted, TurnRecord::State::Error};
        int checked = 0;
        for (const TurnRecord::State state : states) {
            for (int variant = 0; variant < 8; ++variant) {
                TurnRecord t;
                t.id = 1 + variant * 1000;
                t.session = variant == 3 ? QStringLiteral("s-\"quoted\"\\") : QStringLiteral("s1");
                t.state = state;
                t.promptIndex = variant * 2;
                t.responseIndex = (variant & 1) ? variant * 2 + 1 : -1;
                t.chunks = variant * 7;
                t.model = variant == 5 ? QStringLiteral("ollama/llama3 \u00e9\U0001F600")
                                       : QStringLiteral("demo");
                t.createdAt = QDateTime(QDate(2026, 11, 25), QTime(16, 0, 1, variant), Qt::UTC);
                if (variant & 2)
                    t.finishedAt = t.createdAt.addMSecs(1234);
                if (variant & 4) {
                    t.errorCode = QStringLiteral("upstream");
                    QString message = QStringLiteral("bad \"gateway\"\n\t");
                    for (int k = 0; k < 20; ++k)
                        message += QChar(char16_t(random.bounded(0x10000)));
                    t.errorMessage = message;
                }
                if (variant & 1)
                    t.usage = TokenUsage{1234567, variant};
                if (variant & 2)
                    t.context = ContextUse{variant * 3, variant};
                if (variant & 4)
                    t.firstChunkAt = t.createdAt.addMSecs(17);
                TurnRecord written = t; // the random message's lone surrogates as U+FFFD
                written.errorMessage = paired(t.errorMessage);
                const QByteArray expected =
                    QJsonDocument(json::toJson(written)).toJson(QJsonDocument::Compact);
                QCOMPARE(json::toJsonBytes(t), expected);
                ++checked;
            }
        }
        QCOMPARE(checked, 48);
    }
};

QTEST_GUILESS_MAIN(TestJson)
#include "tst_json.moc"
