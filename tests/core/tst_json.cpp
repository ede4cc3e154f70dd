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
    for (Message &m : snapshot.history)
        m.content = paired(m.content);
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
            TurnRecord::State::Streaming, TurnRecord::State::Done, TurnRecord::State::Cancelled,
            TurnRecord::State::Interrupted, TurnRecord::State::Error};
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
        QCOMPARE(checked, 40);
    }
};

QTEST_GUILESS_MAIN(TestJson)
#include "tst_json.moc"
