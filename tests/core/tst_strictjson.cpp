// json::strictError plus QJsonDocument::fromJson must accept exactly RFC 8259 JSON: the scanner
// rejects what Qt lets through (with the offending byte's offset), and leaves to Qt what Qt
// already rejects. Each row says which of the two refuses an invalid text.
// Plain string literals: moc 6.4 stopped finding this class with the raw-string version.

#include "core/strictjson.h"

#include <QJsonDocument>
#include <QTest>

using namespace holdfast;

class TestStrictJson : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void check_data()
    {
        QTest::addColumn<QByteArray>("text");
        QTest::addColumn<bool>("valid");
        // Invalid text: the scanner's offset, or -1 where the scanner passes it and Qt refuses it.
        QTest::addColumn<int>("offset");
        auto valid = [](const char *name, const QByteArray &text) {
            QTest::addRow("%s", name) << text << true << -1;
        };
        auto invalid = [](const char *name, const QByteArray &text, int offset) {
            QTest::addRow("%s", name) << text << false << offset;
        };

        valid("escaped NUL", "[\"a\\u0000b\"]");
        valid("escaped slash", "[\"a\\/b\"]");
        valid("all escapes", "[\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"]");
        valid("surrogate pair", "[\"\\ud83d\\ude00\"]");
        valid("surrogate pair upper case", "[\"x\\uD83D\\uDE00y\"]");
        valid("BMP escapes", "[\"\\u00e9\\uFFFF\\u20AC\"]");
        valid("escaped quote", "[\"say \\\"hi\\\"\"]");
        valid("escaped backslash before the quote", "[\"a\\\\\"]");
        valid("two escaped backslashes", "[\"\\\\\\\\\"]");
        valid("escaped backslash then u", "[\"\\\\u\"]");
        valid("escaped backslash then ud800", "[\"\\\\ud800\", \"\\\\x\"]");
        valid("escaped key", "{\"\\u0041\\\\\":\"b\\\\\"}");
        valid("DEL is not a control character", "[\"a\x7f\"]");
        valid("UTF-8 text", "[\"caf\xc3\xa9 \xe4\xb8\xad \xf0\x9f\x98\x80\"]");
        valid("long plain string", "[\"" + QByteArray(1000, 'x') + "\"]");
        valid("escapes past 16-byte blocks", "[\"0123456789abcdef\\n0123456\\\"0123456789\\\\\"]");
        valid("whitespace around", " \r\n\t{ \"a\" : [ 1 , 2 ] } \n\t\r ");
        valid("nested",
              "{\"a\":{\"b\":[{\"c\":[[],{}]}]},\"d\":null,\"e\":true,\"f\":false,\"g\":\"\"}");
        valid("numbers", "[0,-0,1.5,-1e5,1E+5,2e-3,0.0,-0.25E-07,123456789012345678901234567890]");
        valid("empty object", "{}");

        // What Qt's parser lets through.
        invalid("unknown escape", "[\"\\x\"]", 3);
        invalid("upper-case U escape", "[\"\\U0041\"]", 3);
        invalid("escaped space", "[\"\\ \"]", 3);
        invalid("raw 0x01", "[\"a\x01\"]", 3);
        invalid("raw tab", "[\"a\tb\"]", 3);
        invalid("raw line feed", "[\"a\nb\"]", 3);
        invalid("raw 0x1f", "[\"a\x1f\"]", 3);
        invalid("raw control past 16-byte blocks", "[\"0123456789abcdef\x02\"]", 18);
        invalid("raw NUL in string", QByteArray("[\"a\0b\"]", 7), 3);
        invalid("raw NUL outside strings", QByteArray("[\0]", 3), 1);
        invalid("trailing NUL", QByteArray("[\"a\"]\0x", 7), 5);
        invalid("lone high surrogate", "[\"\\ud800\"]", 2);
        invalid("high surrogate then text", "[\"a\\ud800bcdefg\"]", 3);
        invalid("lone low surrogate", "[\"\\udc00\"]", 2);
        invalid("two high surrogates", "[\"\\ud800\\ud800\"]", 2);
        invalid("high surrogate then BMP", "[\"\\ud800\\u0041\"]", 2);
        invalid("surrogates reversed", "[\"\\udc00\\ud800\"]", 2);
        invalid("high surrogate then short \\u", "[\"\\ud800\\udc\"]", 12);
        invalid("short \\u", "[\"\\u12\"]", 6);
        invalid("non-hex \\u", "[\"\\u12g4\"]", 6);
        // Stops at every position of the scanner's 16-byte blocks.
        for (int k = 0; k < 40; ++k) {
            const QByteArray plain(k, 'x');
            QTest::addRow("escape after %d bytes", k)
                << QByteArray("[\"" + plain + "\\n\"]") << true << -1;
            QTest::addRow("control after %d bytes", k)
                << QByteArray("[\"" + plain + "\x1f\"]") << false << 2 + k;
        }
        invalid("number 1.", "[1.]", 3);
        invalid("number .5", "[.5]", 1);
        invalid("number -.5", "[-.5]", 2);
        invalid("number 1.e5", "[1.e5]", 3);
        invalid("number -", "[-]", 2);
        invalid("number 1e", "[1e]", 3);
        invalid("number 1e+", "[1e+]", 4);

        // What Qt already refuses: structure, trailing bytes, invalid UTF-8.
        invalid("invalid UTF-8", "[\"\xff\xfe\"]", -1);
        invalid("overlong UTF-8", "[\"\xc0\xaf\"]", -1);
        invalid("UTF-8 surrogate", "[\"\xed\xa0\x80\"]", -1);
        invalid("truncated UTF-8", "[\"\xe2\x82\"]", -1);
        invalid("trailing word", "[\"a\"] x", -1);
        invalid("trailing object", "[\"a\"]{}", -1);
        invalid("unterminated string", "[\"abc", -1);
        invalid("backslash at the end", "[\"abc\\", -1);
        invalid("trailing comma in array", "[1,]", -1);
        invalid("trailing comma in object", "{\"a\":1,}", -1);
        invalid("missing colon", "{\"a\" 1}", -1);
        invalid("missing comma", "[1 2]", -1);
        invalid("leading zero", "[01]", -1);
        invalid("plus sign", "[+1]", -1);
        invalid("bad literal", "[tru]", -1);
        invalid("single quotes", "['a']", -1);
        invalid("unclosed", "{\"a\":[1", -1);
        invalid("form feed as whitespace", "\x0c[1]", -1);
    }

    void check()
    {
        QFETCH(QByteArray, text);
        QFETCH(bool, valid);
        QFETCH(int, offset);

        const std::optional<json::StrictError> error = json::strictError(text);
        QJsonParseError qtError;
        (void)QJsonDocument::fromJson(text, &qtError);
        const bool qtAccepts = qtError.error == QJsonParseError::NoError;
        if (valid) {
            QVERIFY2(!error, error ? error->problem : "");
            QVERIFY2(qtAccepts, qPrintable(qtError.errorString()));
        } else if (offset >= 0) {
            QVERIFY(error);
            QCOMPARE(error->offset, qsizetype(offset));
        } else {
            QVERIFY2(!error, error ? error->problem : "");
            QVERIFY(!qtAccepts);
        }
    }

    // Every prefix of valid JSON ends inside some token: the scanner must neither read past the
    // end nor call a cut-off escape or number an error unless its bytes so far are wrong.
    void prefixes()
    {
        const QByteArray text = "{\"a\":\"x\\u00e9\\ud83d\\ude00\\\\\\\"\",\"b\":[-1.5e+3,0,true]}";
        for (qsizetype n = 0; n <= text.size(); ++n) {
            const QByteArray prefix = text.left(n);
            const std::optional<json::StrictError> error = json::strictError(prefix);
            if (error)
                QVERIFY2(error->offset <= n, qPrintable(QString::number(n)));
        }
        QVERIFY(!json::strictError(text));
    }
};

QTEST_GUILESS_MAIN(TestStrictJson)
#include "tst_strictjson.moc"
