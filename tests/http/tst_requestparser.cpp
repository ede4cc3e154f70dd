// RequestParser on its own (no socket): the events a byte stream makes do not depend on where
// TCP cut it, the body waits for continueBody(), and the limits hold at their exact values.
// The fuzz target (tests/fuzz/fuzz_http_request.cpp) checks the same on random inputs.
#include "fakes/testutil.h"
#include "http/requestparser.h"

#include <QTest>

using namespace holdfast;

namespace {

// Every event of a feed, as text; the body bytes of one request are joined (their cut varies).
QByteArrayList events(const QList<QByteArray> &pieces, RequestParser::Limits limits)
{
    RequestParser parser(limits);
    QByteArrayList out;
    QByteArray body;
    for (const QByteArray &piece : pieces) {
        parser.feed(piece);
        while (true) {
            const RequestParser::Event e = parser.next();
            if (e == RequestParser::Event::NeedMore)
                break;
            if (e == RequestParser::Event::Head) {
                out.append("head " + parser.request().method + ' ' + parser.request().target);
                body.clear();
                if (!parser.continueBody()) {
                    out.append("error " + parser.error().message.toUtf8());
                    return out;
                }
            } else if (e == RequestParser::Event::Body) {
                body += parser.takeBody();
            } else if (e == RequestParser::Event::Complete) {
                out.append("complete " + body);
            } else {
                out.append("error " + parser.error().message.toUtf8());
                return out;
            }
        }
    }
    return out;
}

} // namespace

class TestRequestParser : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void splitInvariance_data()
    {
        QTest::addColumn<QByteArray>("bytes");
        QTest::addColumn<qint64>("maxHeadBytes");
        QTest::addColumn<int>("requests"); // complete requests in the bytes
        const QByteArray post = "POST /p HTTP/1.1\r\nHost: x\r\n";
        QTest::addRow("pipelined") << "\r\nGET /a HTTP/1.1\r\nHost: x\r\n\r\n" + post +
                                          "Content-Length: 3\r\n\r\nabc" + post +
                                          "Transfer-Encoding: chunked\r\n\r\n"
                                          "2;e=1\r\nde\r\n1\r\nf\r\n0\r\nT: 1\r\n\r\n"
                                          "GET /b HTTP/1.0\n\n"
                                   << qint64(1024) << 4;
        QTest::addRow("bad chunk after a good request")
            << "GET /a HTTP/1.1\r\nHost: x\r\n\r\n" + post +
                   "Transfer-Encoding: chunked\r\n\r\n2\r\nde\n0\r\n\r\n"
            << qint64(1024) << 1;
        // The head's end marker straddles the limit: whatever the cut, the head is in bounds.
        const QByteArray exact = "GET /a HTTP/1.1\r\nHost: x\r\nX: " + QByteArray(30, 'v');
        QTest::addRow("head at the limit, CRLF end") << exact + "\r\n\r\n"
                                                     << qint64(exact.size()) << 1;
        QTest::addRow("head at the limit, LF end") << exact + "\n\n" << qint64(exact.size()) << 1;
        QTest::addRow("head one over the limit") << exact + "\r\n\r\n"
                                                 << qint64(exact.size() - 1) << 0;
        QTest::addRow("trailer at the limit")
            << post + "Transfer-Encoding: chunked\r\n\r\n0\r\nT: " + QByteArray(55, 't') +
                   "\r\n\r\n"
            << qint64(60) << 1;
        QTest::addRow("trailer one over the limit")
            << post + "Transfer-Encoding: chunked\r\n\r\n0\r\nT: " + QByteArray(56, 't') +
                   "\r\n\r\n"
            << qint64(60) << 0;
    }
    void splitInvariance()
    {
        QFETCH(QByteArray, bytes);
        QFETCH(qint64, maxHeadBytes);
        QFETCH(int, requests);
        const RequestParser::Limits limits{maxHeadBytes, 100, 1024};
        const QByteArrayList whole = events({bytes}, limits);
        QCOMPARE(std::count_if(whole.cbegin(), whole.cend(),
                               [](const QByteArray &e) { return e.startsWith("complete"); }),
                 requests);
        QList<QByteArray> bytewise;
        for (char c : std::as_const(bytes))
            bytewise.append(QByteArray(1, c));
        QCOMPARE(events(bytewise, limits), whole);
        for (qsizetype cut = 1; cut < bytes.size(); ++cut) {
            const QByteArrayList split = events({bytes.left(cut), bytes.mid(cut)}, limits);
            QVERIFY2(split == whole, qPrintable(QStringLiteral("cut at %1: %2")
                                                    .arg(cut)
                                                    .arg(QString::fromUtf8(split.join(" | ")))));
        }
    }

    // The body waits for the head's admission, and a declared length over the limit is refused
    // before a body byte is read.
    void bodyWaitsForContinue()
    {
        RequestParser parser({1024, 100, 10});
        parser.feed("POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nbody");
        QCOMPARE(parser.next(), RequestParser::Event::Head);
        QCOMPARE(parser.next(), RequestParser::Event::NeedMore);
        QCOMPARE(parser.buffered(), 4);
        QVERIFY(parser.continueBody());
        QCOMPARE(parser.next(), RequestParser::Event::Body);
        QCOMPARE(parser.takeBody(), QByteArray("body"));
        QCOMPARE(parser.next(), RequestParser::Event::Complete);

        RequestParser big({1024, 100, 10});
        big.feed("POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\n");
        QCOMPARE(big.next(), RequestParser::Event::Head);
        QVERIFY(!big.continueBody());
        QCOMPARE(big.error().code, ErrorCode::PayloadTooLarge);
        QCOMPARE(big.next(), RequestParser::Event::Error);
    }
};

HOLDFAST_TEST_MAIN(TestRequestParser)
#include "tst_requestparser.moc"
