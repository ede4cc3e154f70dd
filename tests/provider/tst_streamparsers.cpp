// The pieces a model stream is read with, without sockets: wake-ups resumed from the event loop,
// the Server-Sent Events parser (OpenAI's wire) and the line splitter (Ollama's), cut anywhere.
#include "fakes/fakemodelserver.h"
#include "fakes/testutil.h"
#include "provider/wireformat.h"
#include "runtime/sseparser.h"
#include "runtime/waiter.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QRegularExpression>
#include <QTest>

using namespace holdfast;
using holdfast::test::FakeModelServer;

namespace {

// Mixed scripts and emoji, so that a split inside a UTF-8 sequence shows.
const QStringList kAnswer{QStringLiteral("Grüße, "), QStringLiteral("世界"),
                          QStringLiteral(" 👋🏽 ok"), QStringLiteral("\n- line \"two\"")};

// Every event the parser gives for `bytes` fed in pieces cut at `cuts`.
QList<SseParser::Event> parseCut(const QByteArray &bytes, const QList<qsizetype> &cuts)
{
    SseParser parser;
    QList<SseParser::Event> events;
    qsizetype from = 0;
    for (qsizetype cut : cuts) {
        events += parser.feed(QByteArrayView(bytes).sliced(from, cut - from));
        from = cut;
    }
    events += parser.feed(QByteArrayView(bytes).sliced(from));
    events += parser.finish();
    return events;
}

QString describe(const QList<SseParser::Event> &events)
{
    QString out;
    for (const SseParser::Event &e : events)
        out += e.type + QLatin1Char('|') + e.id + QLatin1Char('|') + e.data + QLatin1Char('#');
    return out;
}

// A piece of a tool call: index (-1: none), id, name, arguments; `whole` for Ollama's.
upstream::ToolCallPiece piece(int index, const QString &id, const QString &name,
                              const QString &arguments, bool whole = false)
{
    upstream::ToolCallPiece p;
    if (index >= 0)
        p.index = index;
    p.whole = whole;
    p.id = id;
    p.name = name;
    p.arguments = arguments;
    return p;
}

} // namespace

Q_DECLARE_METATYPE(QList<holdfast::upstream::ToolCallPiece>)

class TestStreamParsers : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    // Wake-ups fired together resume their coroutines together, later, from the event loop
    // (never inside fire(), which a producer calls mid-work), in the order they were fired; one
    // fired before its await does not suspend; one not fired stays suspended.
    void wakeupsResumeFromTheLoopInOrder()
    {
        constexpr int kCount = 100;
        QList<Wakeup> wakeups(kCount);
        QList<int> resumed;
        const auto wait = [&resumed](Wakeup w, int i) -> QCoro::Task<> {
            co_await w;
            resumed.append(i);
        };
        for (int i = 0; i < kCount; ++i)
            wait(wakeups.at(i), i);
        for (int i = kCount - 1; i >= 0; --i) {
            if (i != 7)
                wakeups.at(i).fire();
        }
        QVERIFY(resumed.isEmpty()); // not re-entered from fire()
        QTRY_COMPARE(resumed.size(), kCount - 1);
        QCoreApplication::processEvents();
        QCOMPARE(resumed.size(), kCount - 1);
        QVERIFY(!resumed.contains(7));
        QCOMPARE(resumed.first(), kCount - 1); // fired first
        QCOMPARE(resumed.last(), 0);

        Wakeup early;
        early.fire();
        bool ran = false;
        [](Wakeup w, bool *ran) -> QCoro::Task<> {
            co_await w;
            *ran = true;
        }(early, &ran);
        QVERIFY(ran); // no suspension

        // The never-fired one is left suspended: fire it now so its frame ends.
        wakeups.at(7).fire();
        QTRY_COMPARE(resumed.size(), kCount);
    }

    void sseParserSplitsAnywhere_data()
    {
        QTest::addColumn<QByteArray>("stream");
        QTest::addColumn<QString>("expected");
        FakeModelServer::Script s;
        s.chunks = kAnswer;
        const QByteArray openAi = FakeModelServer::openAiEvents(s).join();
        QTest::addRow("openai wire")
            << openAi << describe(parseCut(openAi, {})); // whole: the reference
        QTest::addRow("crlf and cr")
            << QByteArray("data: a\r\n\r\ndata: b\rdata: c\r\r: comment\r\nevent: x\nid: 7\ndata: "
                          "ü\n\n")
            << QStringLiteral("message||a#message||b\nc#x|7|ü#");
        QTest::addRow("bom, fields without space, unknown fields")
            << QByteArray("\xEF\xBB\xBF"
                          "data:x\nretry: 5\nfoo: bar\ndata\n\n")
            << QStringLiteral("message||x\n#");
        QTest::addRow("last event without blank line")
            << QByteArray("data: [DONE]") << QStringLiteral("message||[DONE]#");
    }

    // Cut at every single place (and byte by byte): the events are the same.
    void sseParserSplitsAnywhere()
    {
        QFETCH(QByteArray, stream);
        QFETCH(QString, expected);
        QCOMPARE(describe(parseCut(stream, {})), expected);
        for (qsizetype cut = 1; cut < stream.size(); ++cut)
            QCOMPARE(describe(parseCut(stream, {cut})), expected);
        QList<qsizetype> everyByte;
        for (qsizetype i = 1; i < stream.size(); ++i)
            everyByte << i;
        QCOMPARE(describe(parseCut(stream, everyByte)), expected);
    }

    // The last event id: set by "id:", inherited by events without one, kept by restart() (a
    // reconnect), which drops the event that the old connection cut off.
    void sseParserKeepsTheLastEventId()
    {
        SseParser parser;
        QCOMPARE(parser.lastEventId(), QString());
        auto events = parser.feed("id: 4\rdata: a\r\rdata: b\r\r: x\rid: 9\rdata: cut");
        QCOMPARE(describe(events), QStringLiteral("message|4|a#message|4|b#"));
        QCOMPARE(parser.lastEventId(), QStringLiteral("4")); // 9 was never dispatched
        parser.restart();
        QCOMPARE(parser.lastEventId(), QStringLiteral("4"));
        events = parser.feed("data: c\n\nid\n\ndata: d\n\n");
        QCOMPARE(describe(events), QStringLiteral("message|4|c#message||d#"));
        QCOMPARE(parser.lastEventId(), QString()); // a bare "id" line resets it
        events = parser.finish();
        QVERIFY(events.isEmpty());
    }

    void lineSplitterKeepsUtf8AndCrlf()
    {
        const QByteArray bytes =
            QStringLiteral("{\"a\":\"世界\"}\r\n{\"b\":\"👋\"}\n\rlast").toUtf8();
        for (qsizetype cut = 0; cut <= bytes.size(); ++cut) {
            LineSplitter splitter;
            QList<QByteArray> lines = splitter.feed(bytes.left(cut));
            lines += splitter.feed(bytes.mid(cut));
            lines += splitter.finish();
            QCOMPARE(lines.size(), 4);
            QCOMPARE(QString::fromUtf8(lines.at(0)), QStringLiteral("{\"a\":\"世界\"}"));
            QCOMPARE(QString::fromUtf8(lines.at(1)), QStringLiteral("{\"b\":\"👋\"}"));
            QCOMPARE(lines.at(2), QByteArray());
            QCOMPARE(lines.at(3), QByteArray("last"));
        }
    }

    // The usage a stream reports: OpenAI's usage chunk (no choices), Ollama's last line; "usage":
    // null on the other chunks, counts that are not counts, and an Ollama line that is not the
    // last carry none; the text of a chunk is read as before.
    void usageOfAStream_data()
    {
        QTest::addColumn<bool>("openAi");
        QTest::addColumn<QByteArray>("unit");
        QTest::addColumn<qint64>("prompt"); // -1: no usage
        QTest::addColumn<qint64>("completion");
        QTest::addRow("openai usage chunk")
            << true
            << QByteArray(R"({"choices":[],"usage":{"prompt_tokens":12,"completion_tokens":7,)"
                          R"("total_tokens":19}})")
            << qint64(12) << qint64(7);
        QTest::addRow("openai text chunk, usage null")
            << true << QByteArray(R"({"choices":[{"delta":{"content":"x"}}],"usage":null})")
            << qint64(-1) << qint64(0);
        QTest::addRow("openai usage without completion")
            << true << QByteArray(R"({"choices":[],"usage":{"prompt_tokens":3}})") << qint64(3)
            << qint64(0);
        QTest::addRow("openai negative counts")
            << true
            << QByteArray(R"({"choices":[],"usage":{"prompt_tokens":-1,"completion_tokens":2.5}})")
            << qint64(-1) << qint64(0);
        QTest::addRow("ollama last line")
            << false
            << QByteArray(R"({"message":{"content":""},"done":true,"prompt_eval_count":26,)"
                          R"("eval_count":282})")
            << qint64(26) << qint64(282);
        QTest::addRow("ollama last line, prompt cached")
            << false << QByteArray(R"({"message":{"content":""},"done":true,"eval_count":5})")
            << qint64(0) << qint64(5);
        QTest::addRow("ollama middle line")
            << false << QByteArray(R"({"message":{"content":"a"},"done":false,"eval_count":5})")
            << qint64(-1) << qint64(0);
    }

    void usageOfAStream()
    {
        QFETCH(bool, openAi);
        QFETCH(QByteArray, unit);
        QFETCH(qint64, prompt);
        QFETCH(qint64, completion);
        SseParser::Event event;
        event.data = QString::fromUtf8(unit);
        const upstream::StreamItem item =
            openAi ? upstream::readOpenAiEvent(event) : upstream::readOllamaLine(unit);
        QCOMPARE(item.fault, upstream::StreamItem::Fault::None);
        if (prompt < 0) {
            QVERIFY(!item.usage);
            return;
        }
        QVERIFY(item.usage);
        QCOMPARE(item.usage->promptTokens, prompt);
        QCOMPARE(item.usage->completionTokens, completion);
    }

    void toolCallAssembly_data()
    {
        using Pieces = QList<upstream::ToolCallPiece>;
        QTest::addColumn<Pieces>("pieces");
        QTest::addColumn<QString>("expected"); // [[id ("*": made up), name, arguments], ...]
        QTest::addRow("pieces by index, in index order")
            << Pieces{piece(1, QStringLiteral("b"), QStringLiteral("g"), QString()),
                      piece(0, QStringLiteral("a"), QStringLiteral("f"), QStringLiteral("{\"x\":")),
                      piece(1, QString(), QString(), QStringLiteral("{}")),
                      piece(0, QString(), QString(), QStringLiteral("1}"))}
            << QStringLiteral("[[\"a\",\"f\",{\"x\":1}],[\"b\",\"g\",{}]]");
        QTest::addRow("no index: a new id starts a call, others continue")
            << Pieces{piece(-1, QStringLiteral("a"), QStringLiteral("f"), QStringLiteral("{\"x\"")),
                      piece(-1, QString(), QString(), QStringLiteral(":1}")),
                      piece(-1, QStringLiteral("b"), QStringLiteral("g"), QStringLiteral("{")),
                      piece(-1, QStringLiteral("b"), QString(), QStringLiteral("}"))}
            << QStringLiteral("[[\"a\",\"f\",{\"x\":1}],[\"b\",\"g\",{}]]");
        QTest::addRow("the name repeated in later pieces")
            << Pieces{piece(0, QStringLiteral("a"), QStringLiteral("f"), QStringLiteral("{")),
                      piece(0, QString(), QStringLiteral("f"), QStringLiteral("}"))}
            << QStringLiteral("[[\"a\",\"f\",{}]]");
        QTest::addRow("a name in pieces")
            << Pieces{piece(0, QStringLiteral("a"), QStringLiteral("fs__"), QString()),
                      piece(0, QString(), QStringLiteral("read"), QStringLiteral(" \n "))}
            << QStringLiteral("[[\"a\",\"fs__read\",{}]]");
        QTest::addRow("whole calls, without ids or with one twice")
            << Pieces{piece(-1, QString(), QStringLiteral("f"), QStringLiteral("{}"), true),
                      piece(-1, QString(), QStringLiteral("f"), QStringLiteral("{}"), true),
                      piece(-1, QStringLiteral("x"), QStringLiteral("g"), QString(), true),
                      piece(-1, QStringLiteral("x"), QStringLiteral("g"), QString(), true)}
            << QStringLiteral("[[\"*\",\"f\",{}],[\"*\",\"f\",{}],[\"x\",\"g\",{}],"
                              "[\"*\",\"g\",{}]]");
    }

    // Tool call pieces become calls: keyed by OpenAI's index (or, without one, by id), the
    // model's order, arguments parsed, ids made up where missing or repeated (never twice).
    void toolCallAssembly()
    {
        QFETCH(QList<upstream::ToolCallPiece>, pieces);
        QFETCH(QString, expected);
        upstream::ToolCallAssembler assembler;
        for (const upstream::ToolCallPiece &p : std::as_const(pieces))
            assembler.add(p);
        const Result<QList<ProviderToolCall>> calls = assembler.calls(QStringLiteral("tool_calls"));
        QVERIFY(calls.ok());
        const QJsonArray want = QJsonDocument::fromJson(expected.toUtf8()).array();
        QCOMPARE(calls->size(), want.size());
        static const QRegularExpression madeUp(QStringLiteral("^call_[A-Za-z0-9]{24}$"));
        QSet<QString> ids;
        for (qsizetype i = 0; i < want.size(); ++i) {
            const QJsonArray w = want.at(i).toArray();
            const ProviderToolCall &call = calls->at(i);
            if (w.at(0).toString() == QLatin1String("*"))
                QVERIFY2(madeUp.match(call.id).hasMatch(), qPrintable(call.id));
            else
                QCOMPARE(call.id, w.at(0).toString());
            QCOMPARE(call.wireName, w.at(1).toString());
            QCOMPARE(call.arguments, w.at(2).toObject());
            ids.insert(call.id);
        }
        QCOMPARE(ids.size(), want.size());
    }

    // No call and no tool_calls finish reason: no calls, no error.
    void noToolCalls()
    {
        upstream::ToolCallAssembler assembler;
        QVERIFY(assembler.calls(QStringLiteral("stop")).ok());
        QVERIFY(assembler.calls(QStringLiteral("stop"))->isEmpty());
        QVERIFY(assembler.calls(QString())->isEmpty());
        QVERIFY(!assembler.calls(QStringLiteral("tool_calls")).ok());
    }
};

QTEST_GUILESS_MAIN(TestStreamParsers)
#include "tst_streamparsers.moc"
