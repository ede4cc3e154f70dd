// Attachments over HTTP (shared/API.md, "Attachments"): uploads and their checks, one test per
// rule and per status (201, 413, 415, 400, 422, 404), reading a file back with its headers,
// files on turns (messages list them, regenerate and edit keep them, at most 10 of this session),
// deleting with the session, and the demo model naming what it was given. Over real sockets
// against a real HttpServer on port 0, with the memory store.
#include "fakes/attachmentfiles.h"
#include "fakes/httpserverfixture.h"

#include <QJsonArray>
#include <QLoggingCategory>
#include <QRegularExpression>
#include <QTest>

using namespace holdfast;
using test::HttpReply;

namespace {
using Server = test::HttpServerFixture;

QByteArray filesPath(const QString &sid)
{
    return "/v1/sessions/" + sid.toUtf8() + "/attachments";
}

// POST …/attachments`query` with `body` as the file and `type` as its Content-Type (none if empty).
HttpReply upload(Server &srv, const QString &sid, const QByteArray &type, const QByteArray &body,
                 const QByteArray &query = "?name=file")
{
    auto c = srv.client();
    QList<QPair<QByteArray, QByteArray>> headers;
    if (!type.isEmpty())
        headers.append({"Content-Type", type});
    return c.call("POST", filesPath(sid) + query, body, headers, false);
}

// The id of a new upload, or "" when it was not 201.
QString uploaded(Server &srv, const QString &sid, const QByteArray &type, const QByteArray &body,
                 const QByteArray &query = "?name=file")
{
    const HttpReply r = upload(srv, sid, type, body, query);
    return r.status == 201 ? r.json().value(QStringLiteral("id")).toString() : QString();
}

HttpReply startTurn(Server &srv, const QString &sid, const QJsonObject &body)
{
    auto c = srv.client();
    return c.post("/v1/sessions/" + sid.toUtf8() + "/turns", body);
}

QJsonObject prompt(const QString &text, const QStringList &files)
{
    return QJsonObject{{QStringLiteral("prompt"), text},
                       {QStringLiteral("attachments"), QJsonArray::fromStringList(files)}};
}

QJsonArray messagesOf(Server &srv, const QString &sid)
{
    auto c = srv.client();
    return c.get("/v1/sessions/" + sid.toUtf8() + "/messages")
        .json()
        .value(QStringLiteral("messages"))
        .toArray();
}

QStringList idsOf(const QJsonValue &attachments)
{
    QStringList ids;
    for (const QJsonValue &a : attachments.toArray())
        ids.append(a.toObject().value(QStringLiteral("id")).toString());
    return ids;
}

test::HttpServerSetup withLimits(qint64 attachmentBytes, qint64 bodyBytes)
{
    test::HttpServerSetup setup;
    setup.service.maxAttachmentBytes = attachmentBytes;
    setup.http.maxBodyBytes = bodyBytes;
    return setup;
}
} // namespace

class TestAttachments : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase() { QLoggingCategory::setFilterRules(QStringLiteral("holdfast.*=false")); }

    void uploadAnswers201WithLocation()
    {
        Server srv;
        HF_CHECK_FIXTURE(srv);
        QVERIFY(!srv.createSession(QStringLiteral("s")).isEmpty());
        const HttpReply r =
            upload(srv, QStringLiteral("s"), "image/png", test::tinyPng(), "?name=photo.png");
        QCOMPARE(r.status, 201);
        const QJsonObject a = r.json();
        const QString id = a.value(QStringLiteral("id")).toString();
        QVERIFY2(QRegularExpression(QStringLiteral("^[A-Za-z0-9_-]{1,64}$")).match(id).hasMatch(),
                 qPrintable(id));
        QCOMPARE(a.value(QStringLiteral("name")).toString(), QStringLiteral("photo.png"));
        QCOMPARE(a.value(QStringLiteral("type")).toString(), QStringLiteral("image/png"));
        QCOMPARE(a.value(QStringLiteral("size")).toInteger(), test::tinyPng().size());
        QVERIFY(fromIso(a.value(QStringLiteral("created_at")).toString()).isValid());
        QCOMPARE(a.size(), 5);
        QCOMPARE(r.headers.value("location"), filesPath(QStringLiteral("s")) + '/' + id.toUtf8());
        // Two uploads of the same bytes are two attachments.
        QVERIFY(uploaded(srv, QStringLiteral("s"), "image/png", test::tinyPng()) != id);
    }

    void getAnswersBytesAndSafeHeaders()
    {
        Server srv;
        HF_CHECK_FIXTURE(srv);
        QVERIFY(!srv.createSession(QStringLiteral("s")).isEmpty());
        const HttpReply up = upload(srv, QStringLiteral("s"), "application/pdf", test::tinyPdf(),
                                    "?name=a%20%22b%22%3B%20%C3%A9t%C3%A9.pdf");
        QCOMPARE(up.status, 201);
        QCOMPARE(up.json().value(QStringLiteral("name")).toString(),
                 QStringLiteral("a \"b\"; \u00e9t\u00e9.pdf"));
        auto c = srv.client();
        const HttpReply r = c.get(up.headers.value("location"));
        QCOMPARE(r.status, 200);
        QCOMPARE(r.body, test::tinyPdf());
        QCOMPARE(r.headers.value("content-type"), QByteArray("application/pdf"));
        QCOMPARE(r.headers.value("content-disposition"),
                 QByteArray("attachment; filename*=UTF-8''a%20%22b%22%3B%20%C3%A9t%C3%A9.pdf"));
        QCOMPARE(r.headers.value("x-content-type-options"), QByteArray("nosniff"));
    }

    void acceptedTypes_data()
    {
        QTest::addColumn<QByteArray>("type");
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<QString>("stored");
        QTest::addRow("png") << QByteArray("image/png") << test::tinyPng() << "image/png";
        QTest::addRow("type case and parameters")
            << QByteArray("IMAGE/PNG; foo=bar") << test::tinyPng() << "image/png";
        QTest::addRow("jpeg") << QByteArray("image/jpeg") << QByteArray("\xff\xd8\xff\xe0rest")
                              << "image/jpeg";
        QTest::addRow("gif87a") << QByteArray("image/gif") << QByteArray("GIF87a....")
                                << "image/gif";
        QTest::addRow("gif89a") << QByteArray("image/gif") << QByteArray("GIF89a....")
                                << "image/gif";
        QTest::addRow("webp") << QByteArray("image/webp")
                              << QByteArray("RIFF\x10\0\0\0WEBPVP8 ", 16) << "image/webp";
        QTest::addRow("pdf") << QByteArray("application/pdf") << test::tinyPdf()
                             << "application/pdf";
        QTest::addRow("text/markdown") << QByteArray("text/markdown; charset=utf-8")
                                       << QByteArray("# Title\n\u00e9") << "text/markdown";
        QTest::addRow("json") << QByteArray("application/json") << QByteArray("{\"a\":1}")
                              << "application/json";
        QTest::addRow("octet-stream text")
            << QByteArray("application/octet-stream") << QByteArray("a log line\n") << "text/plain";
        QTest::addRow("no type, text")
            << QByteArray() << QByteArray("int main() {}\n") << "text/plain";
        QTest::addRow("x-yaml text")
            << QByteArray("application/x-yaml") << QByteArray("a: 1\n") << "text/plain";
    }
    void acceptedTypes()
    {
        QFETCH(QByteArray, type);
        QFETCH(QByteArray, body);
        QFETCH(QString, stored);
        Server srv;
        HF_CHECK_FIXTURE(srv);
        QVERIFY(!srv.createSession(QStringLiteral("s")).isEmpty());
        const HttpReply r = upload(srv, QStringLiteral("s"), type, body);
        QVERIFY2(r.status == 201, r.body.constData());
        QCOMPARE(r.json().value(QStringLiteral("type")).toString(), stored);
        auto c = srv.client();
        const HttpReply back = c.get(r.headers.value("location"));
        QCOMPARE(back.body, body);
        QCOMPARE(back.headers.value("content-type"), stored.toLatin1());
    }

    void refusedTypes_data()
    {
        QTest::addColumn<QByteArray>("type");
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<int>("status");
        QTest::addColumn<QString>("code");
        // 415: a type not accepted whose body is not text.
        QTest::addRow("octet-stream with NUL")
            << QByteArray("application/octet-stream") << QByteArray("ab\0cd", 5) << 415
            << "unsupported_media_type";
        QTest::addRow("zip, not UTF-8")
            << QByteArray("application/zip") << QByteArray("PK\x03\x04\xff\xfe") << 415
            << "unsupported_media_type";
        QTest::addRow("no type, binary")
            << QByteArray() << QByteArray("\xff\xfe\xfd") << 415 << "unsupported_media_type";
        QTest::addRow("bmp image") << QByteArray("image/bmp") << QByteArray("BM\0\0", 4) << 415
                                   << "unsupported_media_type";
        // 422: bytes that are not what the type says.
        QTest::addRow("png with jpeg bytes")
            << QByteArray("image/png") << QByteArray("\xff\xd8\xff\xe0") << 422 << "invalid";
        QTest::addRow("jpeg with png bytes")
            << QByteArray("image/jpeg") << test::tinyPng() << 422 << "invalid";
        QTest::addRow("gif90a") << QByteArray("image/gif") << QByteArray("GIF90a....") << 422
                                << "invalid";
        QTest::addRow("webp that is a wave")
            << QByteArray("image/webp") << QByteArray("RIFF\x10\0\0\0WAVEfmt ", 16) << 422
            << "invalid";
        QTest::addRow("short png")
            << QByteArray("image/png") << QByteArray("\x89PNG") << 422 << "invalid";
        QTest::addRow("pdf without its magic number")
            << QByteArray("application/pdf") << QByteArray("hello, not a pdf") << 422 << "invalid";
        QTest::addRow("text, bad UTF-8")
            << QByteArray("text/plain") << QByteArray("ok \xc3\x28") << 422 << "invalid";
        QTest::addRow("text, surrogate in UTF-8")
            << QByteArray("text/plain") << QByteArray("\xed\xa0\x80") << 422 << "invalid";
        QTest::addRow("json, bad UTF-8")
            << QByteArray("application/json") << QByteArray("\"\xff\"") << 422 << "invalid";
    }
    void refusedTypes()
    {
        QFETCH(QByteArray, type);
        QFETCH(QByteArray, body);
        QFETCH(int, status);
        QFETCH(QString, code);
        Server srv;
        HF_CHECK_FIXTURE(srv);
        QVERIFY(!srv.createSession(QStringLiteral("s")).isEmpty());
        const HttpReply r = upload(srv, QStringLiteral("s"), type, body);
        QVERIFY2(r.status == status, r.body.constData());
        QVERIFY(r.hasErrorShape());
        QCOMPARE(r.errorCode(), code);
    }

    void names_data()
    {
        QTest::addColumn<QByteArray>("query");
        QTest::addColumn<int>("status");
        QTest::addColumn<QString>("name");
        QTest::addRow("default") << QByteArray() << 201 << "attachment";
        QTest::addRow("other parameters only") << QByteArray("?x=1") << 201 << "attachment";
        QTest::addRow("plain") << QByteArray("?name=notes.txt") << 201 << "notes.txt";
        QTest::addRow("unicode") << QByteArray("?name=%C3%A9t%C3%A9%20%F0%9F%93%8E.txt") << 201
                                 << QStringLiteral("\u00e9t\u00e9 \U0001F4CE.txt");
        QTest::addRow("255 code points") << "?name=" + QByteArray("%F0%9F%93%8E").repeated(255)
                                         << 201 << QStringLiteral("\U0001F4CE").repeated(255);
        QTest::addRow("256 code points")
            << "?name=" + QByteArray("a").repeated(256) << 400 << QString();
        QTest::addRow("empty") << QByteArray("?name=") << 400 << QString();
        QTest::addRow("slash") << QByteArray("?name=a%2Fb") << 400 << QString();
        QTest::addRow("backslash") << QByteArray("?name=a%5Cb") << 400 << QString();
        QTest::addRow("DEL") << QByteArray("?name=a%7Fb") << 400 << QString();
        QTest::addRow("C0 control") << QByteArray("?name=a%01b") << 400 << QString();
        QTest::addRow("line feed") << QByteArray("?name=a%0Ab") << 400 << QString();
        QTest::addRow("C1 control") << QByteArray("?name=a%C2%85b") << 400 << QString();
    }
    void names()
    {
        QFETCH(QByteArray, query);
        QFETCH(int, status);
        QFETCH(QString, name);
        Server srv;
        HF_CHECK_FIXTURE(srv);
        QVERIFY(!srv.createSession(QStringLiteral("s")).isEmpty());
        const HttpReply r = upload(srv, QStringLiteral("s"), "text/plain", "hello", query);
        QVERIFY2(r.status == status, r.body.constData());
        if (status == 201)
            QCOMPARE(r.json().value(QStringLiteral("name")).toString(), name);
        else
            EXPECT_ERROR(r, 400, "bad_request");
    }

    void emptyBodyIs400()
    {
        Server srv;
        HF_CHECK_FIXTURE(srv);
        QVERIFY(!srv.createSession(QStringLiteral("s")).isEmpty());
        EXPECT_ERROR(upload(srv, QStringLiteral("s"), "image/png", {}), 400, "bad_request");
        EXPECT_ERROR(upload(srv, QStringLiteral("s"), "text/plain", {}), 400, "bad_request");
    }

    // API.md: 404, then 413, 415, 400, 422, whatever else is wrong with the request.
    void checksRunInOrder()
    {
        Server srv(withLimits(100, 1048576));
        HF_CHECK_FIXTURE(srv);
        QVERIFY(!srv.createSession(QStringLiteral("s")).isEmpty());
        const QByteArray binary = QByteArray("\xff\0", 2).repeated(60);
        EXPECT_ERROR(upload(srv, QStringLiteral("nope"), "application/zip", binary, "?name="), 404,
                     "not_found");
        EXPECT_ERROR(upload(srv, QStringLiteral("s"), "application/zip", binary, "?name="), 413,
                     "payload_too_large");
        EXPECT_ERROR(upload(srv, QStringLiteral("s"), "application/zip", "\xff", "?name="), 415,
                     "unsupported_media_type");
        EXPECT_ERROR(upload(srv, QStringLiteral("s"), "image/png", "not a png", "?name="), 400,
                     "bad_request");
        EXPECT_ERROR(upload(srv, QStringLiteral("s"), "image/png", {}, "?name=x"), 400,
                     "bad_request");
        EXPECT_ERROR(upload(srv, QStringLiteral("s"), "image/png", "not a png", "?name=x"), 422,
                     "invalid");
        EXPECT_ERROR(upload(srv, QStringLiteral("bad id!"), "image/png", "x"), 400, "bad_request");
    }

    // --max-attachment-bytes replaces --max-body-bytes on this route only; exactly the limit is
    // accepted.
    void attachmentLimitReplacesBodyLimit()
    {
        Server srv(withLimits(1000, 200));
        HF_CHECK_FIXTURE(srv);
        QVERIFY(!srv.createSession(QStringLiteral("s")).isEmpty());
        QCOMPARE(upload(srv, QStringLiteral("s"), "text/plain", QByteArray(1000, 'a')).status, 201);
        EXPECT_ERROR(upload(srv, QStringLiteral("s"), "text/plain", QByteArray(1001, 'a')), 413,
                     "payload_too_large");
        // Other routes keep theirs.
        QJsonObject big{{QStringLiteral("prompt"), QString(300, u'p')}};
        EXPECT_ERROR(startTurn(srv, QStringLiteral("s"), big), 413, "payload_too_large");
        // A chunked upload is held to the same limit.
        auto c = srv.client();
        const QByteArray head = "POST " + filesPath(QStringLiteral("s")) +
                                " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain\r\n"
                                "Transfer-Encoding: chunked\r\n\r\n";
        c.sendRaw(head + "3e8\r\n" + QByteArray(1000, 'b') + "\r\n0\r\n\r\n");
        QCOMPARE(c.readReply().status, 201);
        auto over = srv.client();
        over.sendRaw(head + "3e8\r\n" + QByteArray(1000, 'b') + "\r\n1\r\nb\r\n0\r\n\r\n");
        EXPECT_ERROR(over.readReply(), 413, "payload_too_large");
    }

    // The 413 comes from the head: the client sends no byte of its (huge) body and gets it.
    void oversizedUploadRefusedBeforeItsBody()
    {
        Server srv; // the default limit, 20 MiB
        HF_CHECK_FIXTURE(srv);
        QVERIFY(!srv.createSession(QStringLiteral("s")).isEmpty());
        auto c = srv.client();
        c.sendRaw("POST " + filesPath(QStringLiteral("s")) +
                  "?name=big.png HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: image/png\r\n"
                  "Content-Length: 20971521\r\n\r\n");
        const HttpReply r = c.readReply(5000);
        EXPECT_ERROR(r, 413, "payload_too_large");
        QVERIFY(c.waitForClose());
        // With Expect: 100-continue, the answer is the 413, never a 100.
        auto expecting = srv.client();
        expecting.sendRaw("POST " + filesPath(QStringLiteral("s")) +
                          " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: image/png\r\n"
                          "Expect: 100-continue\r\nContent-Length: 10737418240\r\n\r\n");
        QVERIFY(expecting.waitForClose());
        QVERIFY(expecting.unread().startsWith("HTTP/1.1 413 "));
        // Exactly 20 MiB is read and stored.
        QByteArray file = test::tinyPng();
        file += QByteArray(20 * 1024 * 1024 - file.size(), 'x');
        const HttpReply ok = upload(srv, QStringLiteral("s"), "image/png", file);
        QCOMPARE(ok.status, 201);
        QCOMPARE(ok.json().value(QStringLiteral("size")).toInteger(), 20 * 1024 * 1024);
    }

    void unknownIsNotFound()
    {
        Server srv;
        HF_CHECK_FIXTURE(srv);
        QVERIFY(!srv.createSession(QStringLiteral("s")).isEmpty());
        QVERIFY(!srv.createSession(QStringLiteral("t")).isEmpty());
        const QString id = uploaded(srv, QStringLiteral("t"), "text/plain", "in t");
        QVERIFY(!id.isEmpty());
        auto c = srv.client();
        EXPECT_ERROR(c.get(filesPath(QStringLiteral("s")) + "/nope"), 404, "not_found");
        EXPECT_ERROR(c.get(filesPath(QStringLiteral("s")) + "/" + id.toUtf8()), 404,
                     "not_found"); // another session's
        EXPECT_ERROR(c.get(filesPath(QStringLiteral("gone")) + "/" + id.toUtf8()), 404,
                     "not_found");
        EXPECT_ERROR(upload(srv, QStringLiteral("gone"), "text/plain", "x"), 404, "not_found");
        QCOMPARE(c.get(filesPath(QStringLiteral("t")) + "/" + id.toUtf8()).body,
                 QByteArray("in t"));
    }

    void messagesListAttachments()
    {
        Server srv;
        HF_CHECK_FIXTURE(srv);
        QVERIFY(!srv.createSession(QStringLiteral("s")).isEmpty());
        const QString png =
            uploaded(srv, QStringLiteral("s"), "image/png", test::tinyPng(), "?name=photo.png");
        const QString txt =
            uploaded(srv, QStringLiteral("s"), "text/plain", "notes", "?name=notes.txt");
        QVERIFY(!png.isEmpty() && !txt.isEmpty());
        const HttpReply started =
            startTurn(srv, QStringLiteral("s"), prompt(QStringLiteral("look"), {txt, png}));
        QCOMPARE(started.status, 202);
        QCOMPARE(srv.finish(QStringLiteral("s"), started.json().value(QStringLiteral("id")).toInt())
                     .state,
                 TurnRecord::State::Done);
        const QJsonArray messages = messagesOf(srv, QStringLiteral("s"));
        QCOMPARE(messages.size(), 2);
        const QJsonArray files =
            messages[0].toObject().value(QStringLiteral("attachments")).toArray();
        QCOMPARE(idsOf(files), (QStringList{txt, png})); // in the order given
        const QJsonObject first = files[0].toObject();
        QCOMPARE(first.value(QStringLiteral("name")).toString(), QStringLiteral("notes.txt"));
        QCOMPARE(first.value(QStringLiteral("type")).toString(), QStringLiteral("text/plain"));
        QCOMPARE(first.value(QStringLiteral("size")).toInteger(), 5);
        QVERIFY(messages[1].toObject().value(QStringLiteral("attachments")).isArray());
        QVERIFY(messages[1].toObject().value(QStringLiteral("attachments")).toArray().isEmpty());
        // The session's history says the same.
        auto c = srv.client();
        const QJsonArray history =
            c.get("/v1/sessions/s").json().value(QStringLiteral("history")).toArray();
        QCOMPARE(idsOf(history[0].toObject().value(QStringLiteral("attachments"))),
                 (QStringList{txt, png}));
        // The demo model names what it was given, with type and size.
        const QString answer = messages[1].toObject().value(QStringLiteral("content")).toString();
        QVERIFY2(
            answer.contains(QStringLiteral("notes.txt (text/plain, 5 bytes)")) &&
                answer.contains(
                    QStringLiteral("photo.png (image/png, %1 bytes)").arg(test::tinyPng().size())),
            qPrintable(answer));
    }

    void turnAttachmentRules_data()
    {
        QTest::addColumn<QString>("rule");
        QTest::addColumn<int>("status");
        QTest::addRow("eleven ids") << "eleven" << 422;
        QTest::addRow("another session's id") << "other" << 422;
        QTest::addRow("unknown id") << "unknown" << 422;
        QTest::addRow("listed twice") << "twice" << 422;
        QTest::addRow("not an array") << "string" << 400;
        QTest::addRow("a number in the array") << "number" << 400;
        QTest::addRow("with regenerate") << "regenerate" << 400;
    }
    void turnAttachmentRules()
    {
        QFETCH(QString, rule);
        QFETCH(int, status);
        Server srv;
        HF_CHECK_FIXTURE(srv);
        QVERIFY(!srv.createSession(QStringLiteral("s")).isEmpty());
        QVERIFY(!srv.createSession(QStringLiteral("t")).isEmpty());
        const QString mine = uploaded(srv, QStringLiteral("s"), "text/plain", "x");
        const QString theirs = uploaded(srv, QStringLiteral("t"), "text/plain", "y");
        QVERIFY(!mine.isEmpty() && !theirs.isEmpty());
        QJsonObject body = prompt(QStringLiteral("hi"), {mine});
        if (rule == QLatin1String("eleven")) {
            QStringList ids;
            for (int i = 0; i < 11; ++i)
                ids.append(uploaded(srv, QStringLiteral("s"), "text/plain", "z"));
            body = prompt(QStringLiteral("hi"), ids);
            // Ten is the most, and allowed.
            QCOMPARE(startTurn(srv, QStringLiteral("s"), prompt(QStringLiteral("hi"), ids.mid(1)))
                         .status,
                     202);
            QVERIFY(srv.finish(QStringLiteral("s"), 1).id == 1);
        } else if (rule == QLatin1String("other")) {
            body = prompt(QStringLiteral("hi"), {mine, theirs});
        } else if (rule == QLatin1String("unknown")) {
            body = prompt(QStringLiteral("hi"), {QStringLiteral("nope")});
        } else if (rule == QLatin1String("twice")) {
            body = prompt(QStringLiteral("hi"), {mine, mine});
        } else if (rule == QLatin1String("string")) {
            body.insert(QStringLiteral("attachments"), mine);
        } else if (rule == QLatin1String("number")) {
            body.insert(QStringLiteral("attachments"), QJsonArray{mine, 1});
        } else if (rule == QLatin1String("regenerate")) {
            body = QJsonObject{{QStringLiteral("regenerate"), 0},
                               {QStringLiteral("attachments"), QJsonArray{mine}}};
        }
        const HttpReply r = startTurn(srv, QStringLiteral("s"), body);
        QVERIFY2(r.status == status, r.body.constData());
        QCOMPARE(r.errorCode(),
                 status == 400 ? QStringLiteral("bad_request") : QStringLiteral("invalid"));
        // Nothing was stored by the refused turn.
        auto c = srv.client();
        QCOMPARE(c.get("/v1/sessions/s").json().value(QStringLiteral("total")).toInt(),
                 rule == QLatin1String("eleven") ? 2 : 0);
    }

    // The same file on a second message, and an edited prompt that keeps its files; files alone
    // (no text) are a prompt too.
    void filesAreReusedAndEditsKeepThem()
    {
        Server srv;
        HF_CHECK_FIXTURE(srv);
        QVERIFY(!srv.createSession(QStringLiteral("s")).isEmpty());
        const QString id = uploaded(srv, QStringLiteral("s"), "text/plain", "data");
        QVERIFY(!id.isEmpty());
        for (int tid = 1; tid <= 2; ++tid) {
            QCOMPARE(startTurn(srv, QStringLiteral("s"), prompt(QStringLiteral("Q"), {id})).status,
                     202);
            QCOMPARE(srv.finish(QStringLiteral("s"), tid).state, TurnRecord::State::Done);
        }
        // Edit the second prompt (message 2, after answer 1), with its file, and no text.
        QJsonObject edit = prompt(QString(), {id});
        edit.insert(QStringLiteral("parent"), 1);
        QCOMPARE(startTurn(srv, QStringLiteral("s"), edit).status, 202);
        QCOMPARE(srv.finish(QStringLiteral("s"), 3).state, TurnRecord::State::Done);
        const QJsonArray messages = messagesOf(srv, QStringLiteral("s"));
        QCOMPARE(messages.size(), 4); // Q0 A1 Q4 A5 on the active branch
        QCOMPARE(messages[2].toObject().value(QStringLiteral("index")).toInt(), 4);
        QCOMPARE(idsOf(messages[0].toObject().value(QStringLiteral("attachments"))),
                 QStringList{id});
        QCOMPARE(idsOf(messages[2].toObject().value(QStringLiteral("attachments"))),
                 QStringList{id});
        // An empty prompt without files is still 422.
        EXPECT_ERROR(startTurn(srv, QStringLiteral("s"), prompt(QString(), {})), 422, "invalid");
    }

    // A regenerated answer is given the prompt's files again; earlier messages go with theirs.
    void modelGetsFilesOfPromptAndBranch()
    {
        Server srv;
        HF_CHECK_FIXTURE(srv);
        QVERIFY(!srv.createSession(QStringLiteral("s")).isEmpty());
        const QString first =
            uploaded(srv, QStringLiteral("s"), "text/plain", "one", "?name=one.txt");
        const QString second =
            uploaded(srv, QStringLiteral("s"), "image/png", test::tinyPng(), "?name=two.png");
        QJsonObject body = prompt(QStringLiteral("Q0"), {first});
        body.insert(QStringLiteral("model"), QStringLiteral("scripted"));
        QCOMPARE(startTurn(srv, QStringLiteral("s"), body).status, 202);
        QCOMPARE(srv.finish(QStringLiteral("s"), 1).state, TurnRecord::State::Done);
        body = prompt(QStringLiteral("Q2"), {second});
        body.insert(QStringLiteral("model"), QStringLiteral("scripted"));
        QCOMPARE(startTurn(srv, QStringLiteral("s"), body).status, 202);
        QCOMPARE(srv.finish(QStringLiteral("s"), 2).state, TurnRecord::State::Done);
        const QJsonObject regenerate{{QStringLiteral("regenerate"), 2},
                                     {QStringLiteral("model"), QStringLiteral("scripted")}};
        QCOMPARE(startTurn(srv, QStringLiteral("s"), regenerate).status, 202);
        QCOMPARE(srv.finish(QStringLiteral("s"), 3).state, TurnRecord::State::Done);

        QCOMPARE(srv.scripted->requests.size(), 3);
        for (const qsizetype r : {1, 2}) {
            const QList<ChatMessage> &m = srv.scripted->requests[r].messages;
            QCOMPARE(m.size(), 3); // Q0 A1 Q2
            QCOMPARE(m[0].attachments.size(), 1);
            QCOMPARE(m[0].attachments[0].meta.name, QStringLiteral("one.txt"));
            QCOMPARE(m[0].attachments[0].bytes, QByteArray("one"));
            QVERIFY(m[1].attachments.isEmpty());
            QCOMPARE(m[2].attachments.size(), 1);
            QCOMPARE(m[2].attachments[0].meta.type, QStringLiteral("image/png"));
            QCOMPARE(m[2].attachments[0].bytes, test::tinyPng());
        }
    }

    void deletingTheSessionDeletesItsFiles()
    {
        Server srv;
        HF_CHECK_FIXTURE(srv);
        QVERIFY(!srv.createSession(QStringLiteral("s")).isEmpty());
        const QString id = uploaded(srv, QStringLiteral("s"), "text/plain", "secret");
        QVERIFY(!id.isEmpty());
        auto c = srv.client();
        QCOMPARE(c.call("DELETE", "/v1/sessions/s").status, 204);
        QVERIFY(!srv.createSession(QStringLiteral("s")).isEmpty()); // the same id, anew
        EXPECT_ERROR(c.get(filesPath(QStringLiteral("s")) + "/" + id.toUtf8()), 404, "not_found");
        HF_AWAIT(bytes, srv.store->loadAttachmentBytes(QStringLiteral("s"), id));
        QVERIFY(bytes->ok());
        QVERIFY(!bytes->value().has_value());
    }
};

QTEST_GUILESS_MAIN(TestAttachments)
#include "tst_attachments.moc"
