// The Store contract, checked against every implementation (memory, SQLite, Redis on a real
// redis-server) by one data-driven suite, plus what only SQLite has: a file that survives
// restarts, schema versions, private permissions and group commit. What only Redis has (leases,
// several instances, a lost Redis) is in tst_redisstore.
// Over 600 lines: the Store contract is one list of rules, each run against every store.
#include "fakes/faultystore.h"
#include "fakes/sqlitecheck.h"
#include "fakes/storedata.h"
#include "fakes/storekinds.h"
#include "fakes/testutil.h"
#include "runtime/handoff.h"
#include "store/memorystore.h"
#include "store/redisstore.h"
#include "store/sqlitestore.h"

#include <QFile>
#include <QJsonArray>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QTest>
#include <QThread>

#include <functional>

using namespace holdfast;

namespace {

using test::message;
using test::meta;
using test::ok;
using test::turnRecord;
using test::userVersion;
using test::value;

Attachment attachment(const QString &id, const QString &type, qint64 size,
                      const QString &created = QStringLiteral("2026-03-01T09:20:00.250Z"))
{
    Attachment a;
    a.id = id;
    a.name = id + QStringLiteral(" — name.") + type.section(QLatin1Char('/'), 1);
    a.type = type;
    a.size = size;
    a.createdAt = fromIso(created);
    return a;
}

// Bytes of every value, NUL included.
QByteArray someBytes(int size, int seed)
{
    QByteArray bytes(size, Qt::Uninitialized);
    for (int i = 0; i < size; ++i)
        bytes[i] = char((i * 7 + seed) & 0xff);
    return bytes;
}

// A message of `kind` with only the ids of its attachments, as a prompt names them.
Message withAttachmentIds(Message m, const QStringList &ids)
{
    for (const QString &id : ids) {
        Attachment a;
        a.id = id;
        m.attachments.append(a);
    }
    return m;
}

// A tool call of the model, and the chunks that record it and its result.
ToolCall toolCall(const QString &id, const QString &name, const QJsonObject &arguments)
{
    ToolCall call;
    call.id = id;
    call.name = name;
    call.arguments = arguments;
    return call;
}

Chunk callChunk(int seq, const ToolCall &call)
{
    Chunk c(seq, QString());
    c.toolCall = call;
    return c;
}

Chunk resultChunk(int seq, const QString &id, const QString &content, bool isError, bool approved)
{
    Chunk c(seq, QString());
    ToolResult r;
    r.id = id;
    r.content = content;
    r.isError = isError;
    r.approved = approved;
    c.toolResult = r;
    return c;
}

MessageToolCall answeredCall(const ToolCall &call, std::optional<QString> result, bool isError,
                             bool approved, qint64 offset)
{
    MessageToolCall m;
    m.id = call.id;
    m.name = call.name;
    m.arguments = call.arguments;
    m.result = std::move(result);
    m.isError = isError;
    m.approved = approved;
    m.offset = offset;
    return m;
}

// Arguments as a model sends them: nested, Unicode, and with keys a message's own JSON has
// ("parent": Redis finds a message's parent in its JSON text).
QJsonObject awkwardArguments()
{
    return QJsonObject{
        {QStringLiteral("path"), QStringLiteral("ä/b \"c\".txt")},
        {QStringLiteral("parent"), 99},
        {QStringLiteral("nested"),
         QJsonObject{{QStringLiteral("parent"), -7},
                     {QStringLiteral("depth"), 3},
                     {QStringLiteral("list"),
                      QJsonArray{1, QStringLiteral("two"), QJsonValue(), true, 2.5}}}}};
}

// Starts turn `tid` with `prompt` on the active branch (head, total and the turn ids follow it).
QCoro::Task<Status> beginWith(Store *store, SessionMeta &m, int tid, const Message &prompt)
{
    m.total = prompt.index + 1;
    m.head = prompt.index;
    m.length = prompt.depth + 1;
    m.lastTurn = tid;
    m.activeTurn = 0;
    return store->beginTurn(m, prompt, turnRecord(m.id, tid, prompt.index));
}

// Creates a SQLite file from SQL text, as another program (or an old Holdfast) would have.
bool writeSqliteFile(const QString &path, const QString &sqlText)
{
    bool okay = true;
    {
        QSqlDatabase db =
            QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), QStringLiteral("fixture"));
        db.setDatabaseName(path);
        okay = db.open();
        QSqlQuery q(db);
        for (const QString &statement : sqlText.split(QLatin1String(";\n"), Qt::SkipEmptyParts)) {
            QString sql = statement.trimmed();
            while (sql.startsWith(QLatin1String("--")))
                sql = sql.section(QLatin1Char('\n'), 1).trimmed();
            if (sql.isEmpty())
                continue;
            if (!q.exec(sql)) {
                qWarning() << "fixture:" << sql << q.lastError().text();
                okay = false;
            }
        }
        db.close();
    }
    QSqlDatabase::removeDatabase(QStringLiteral("fixture"));
    return okay;
}

// The first column of the first row of `sql` on the file at `path` (-1: none), read as another
// program would: what the store wrote, not what it answers.
qint64 scalarOf(const QString &path, const QString &sql)
{
    qint64 result = -1;
    {
        QSqlDatabase db =
            QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), QStringLiteral("scalar"));
        db.setDatabaseName(path);
        if (db.open()) {
            QSqlQuery q(db);
            if (q.exec(sql) && q.next())
                result = q.value(0).toLongLong();
        }
        db.close();
    }
    QSqlDatabase::removeDatabase(QStringLiteral("scalar"));
    return result;
}

// Holds SQLite's write lock from a second connection while `queue` runs, so that the writes it
// starts pile up behind the store's first BEGIN IMMEDIATE (which waits out the lock).
bool whileWriteLocked(const QString &path, const std::function<void()> &queue)
{
    bool locked = false;
    {
        QSqlDatabase db =
            QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), QStringLiteral("locker"));
        db.setDatabaseName(path);
        QSqlQuery q(db);
        locked = db.open() && q.exec(QStringLiteral("BEGIN IMMEDIATE"));
        queue();
        q.exec(QStringLiteral("ROLLBACK"));
        q.finish();
        db.close();
    }
    QSqlDatabase::removeDatabase(QStringLiteral("locker"));
    return locked;
}

} // namespace

class TestStore : public QObject
{
    Q_OBJECT

    test::StoreKinds m_stores;

private Q_SLOTS:
    void initTestCase() { QVERIFY(m_stores.start()); }

    void sessionsRoundTrip_data() { m_stores.addRows(); }
    void sessionsRoundTrip()
    {
        QFETCH(QString, kind);
        auto store = m_stores.make(kind);
        QVERIFY(ok(store->open()));

        SessionMeta a = meta(QStringLiteral("alpha"));
        a.title = QStringLiteral("Ünïcode title ✓");
        QVERIFY(ok(store->createSession(a)));
        HF_AWAIT(again, store->createSession(a));
        QVERIFY(again && !again->ok());
        QCOMPARE(again->error().code, ErrorCode::Conflict);

        const std::optional<SessionMeta> loaded = value(store->loadSession(a.id));
        QVERIFY(loaded);
        QCOMPARE(*loaded, a);
        QVERIFY(loaded->system.isNull()); // null stays null, not ""
        QVERIFY(!value(store->loadSession(QStringLiteral("nope"))));

        a.system = QStringLiteral("Be brief.");
        a.title = QString();
        QVERIFY(ok(store->saveSessionMeta(a)));
        const auto reloaded = value(store->loadSession(a.id));
        QCOMPARE(reloaded->system, a.system);
        QVERIFY(reloaded->title.isNull());
        a.title = QLatin1String(""); // empty is not null
        QVERIFY(ok(store->saveSessionMeta(a)));
        QVERIFY(!value(store->loadSession(a.id))->title.isNull());

        HF_AWAIT(missing, store->saveSessionMeta(meta(QStringLiteral("ghost"))));
        QVERIFY(missing && !missing->ok());
        QCOMPARE(missing->error().code, ErrorCode::NotFound);
    }

    void listingOrderSearchAndPaging_data() { m_stores.addRows(); }
    void listingOrderSearchAndPaging()
    {
        QFETCH(QString, kind);
        auto store = m_stores.make(kind);
        QVERIFY(ok(store->open()));
        QVERIFY(ok(store->createSession(
            meta(QStringLiteral("old"), QStringLiteral("2026-01-01T00:00:00Z")))));
        QVERIFY(ok(store->createSession(
            meta(QStringLiteral("new"), QStringLiteral("2026-05-01T00:00:00Z")))));
        SessionMeta mid = meta(QStringLiteral("mid"), QStringLiteral("2026-03-01T00:00:00Z"));
        mid.title = QStringLiteral("Recipes for 100% rye_bread");
        QVERIFY(ok(store->createSession(mid)));
        SessionMeta withText = meta(QStringLiteral("old"), QStringLiteral("2026-01-01T00:00:00Z"));
        withText.total = 1;
        withText.lastTurn = 1;
        QVERIFY(ok(store->beginTurn(
            withText,
            message(0, QStringLiteral("user"), QStringLiteral("Tell me about SOURDOUGH and Ärger")),
            turnRecord(QStringLiteral("old"), 1, 0))));

        QCOMPARE(value(store->listSessions({}, 0, 0)).sessions.size(), 0);
        SessionPage all = value(store->listSessions({}, 10, 0));
        QCOMPARE(all.total, 3);
        QCOMPARE(all.sessions.size(), 3);
        QCOMPARE(all.sessions.at(0).id, QStringLiteral("new"));
        QCOMPARE(all.sessions.at(1).id, QStringLiteral("mid"));
        QCOMPARE(all.sessions.at(2).id, QStringLiteral("old"));

        SessionPage page = value(store->listSessions({}, 1, 1));
        QCOMPARE(page.total, 3);
        QCOMPARE(page.sessions.size(), 1);
        QCOMPARE(page.sessions.at(0).id, QStringLiteral("mid"));

        // Title and message text, any case; LIKE wildcards in the query are literal.
        QCOMPARE(value(store->listSessions(QStringLiteral("sourdough"), 10, 0)).sessions.at(0).id,
                 QStringLiteral("old"));
        QCOMPARE(value(store->listSessions(QStringLiteral("RYE"), 10, 0)).total, 1);
        QCOMPARE(value(store->listSessions(QStringLiteral("100%"), 10, 0)).total, 1);
        QCOMPARE(value(store->listSessions(QStringLiteral("0%"), 10, 0)).total, 1);
        QCOMPARE(value(store->listSessions(QStringLiteral("%%"), 10, 0)).total, 0);
        QCOMPARE(value(store->listSessions(QStringLiteral("e_b"), 10, 0)).total, 1);
        QCOMPARE(value(store->listSessions(QStringLiteral("e_x"), 10, 0)).total, 0);
        QCOMPARE(value(store->listSessions(QStringLiteral("äRGER"), 10, 0)).total, 1);
        // "o" is in the text of "old" and the title of "mid"; paging applies after the search.
        const SessionPage o = value(store->listSessions(QStringLiteral("o"), 1, 1));
        QCOMPARE(o.total, 2);
        QCOMPARE(o.sessions.size(), 1);
        QCOMPARE(o.sessions.at(0).id, QStringLiteral("old"));
    }

    void turnLifecycle_data() { m_stores.addRows(); }
    void turnLifecycle()
    {
        QFETCH(QString, kind);
        auto store = m_stores.make(kind);
        QVERIFY(ok(store->open()));
        const QString sid = QStringLiteral("s1");
        SessionMeta m = meta(sid);
        QVERIFY(ok(store->createSession(m)));

        m.total = 1;
        m.lastTurn = 1;
        m.activeTurn = 1;
        const Message prompt = message(0, QStringLiteral("user"), QStringLiteral("hi"), 1);
        TurnRecord t = turnRecord(sid, 1, 0);
        QVERIFY(ok(store->beginTurn(m, prompt, t)));
        if (store->isShared()) // this instance runs it and holds its lease: nobody recovers it
            QVERIFY(value(store->unfinishedTurns()).isEmpty());
        else
            QCOMPARE(value(store->unfinishedTurns()).size(), 1);

        QVERIFY(!value(store->loadTurn(sid, 1))->firstChunkAt.isValid());
        // The batch with chunk 0 stores when it was written (times are stored to the ms).
        const QDateTime beforeFirst = QDateTime::currentDateTimeUtc().addMSecs(-1);
        QVERIFY(ok(
            store->appendChunks(sid, 1, {{0, QStringLiteral("Hel")}, {1, QStringLiteral("lo")}})));
        const QDateTime firstChunkAt = value(store->loadTurn(sid, 1))->firstChunkAt;
        QVERIFY(firstChunkAt.isValid());
        QVERIFY(firstChunkAt >= beforeFirst);
        QVERIFY(firstChunkAt <= QDateTime::currentDateTimeUtc());
        if (!store->isShared())
            QCOMPARE(value(store->unfinishedTurns()).at(0).firstChunkAt, firstChunkAt);
        QTest::qWait(5);
        QVERIFY(ok(store->appendChunks(sid, 1, {{2, QStringLiteral(" wörld")}})));
        QCOMPARE(value(store->loadTurn(sid, 1))->firstChunkAt, firstChunkAt);
        HF_AWAIT(unknown, store->appendChunks(sid, 9, {{0, QStringLiteral("x")}}));
        QVERIFY(unknown && !unknown->ok());
        QCOMPARE(unknown->error().code, ErrorCode::NotFound);
        // A gap or a repeat would corrupt the stream: refused.
        HF_AWAIT(gap, store->appendChunks(sid, 1, {{5, QStringLiteral("x")}}));
        QVERIFY(gap && !gap->ok());
        QCOMPARE(gap->error().code, ErrorCode::Conflict);
        HF_AWAIT(repeat, store->appendChunks(sid, 1, {{1, QStringLiteral("x")}}));
        QVERIFY(repeat && !repeat->ok());
        QCOMPARE(value(store->loadTurn(sid, 1))->chunks, 3);
        QVERIFY(value(store->loadChunks(sid, 1, 3, 10)).isEmpty());

        const QList<Chunk> tail = value(store->loadChunks(sid, 1, 1, 10));
        QCOMPARE(tail.size(), 2);
        QCOMPARE(tail.at(0), (Chunk{1, QStringLiteral("lo")}));
        QCOMPARE(tail.at(1), (Chunk{2, QStringLiteral(" wörld")}));
        QCOMPARE(value(store->loadChunks(sid, 1, 0, 1)).size(), 1);

        m.total = 2;
        m.activeTurn = 0;
        const Message answer =
            message(1, QStringLiteral("assistant"), QStringLiteral("Hello wörld"), 1);
        t.state = TurnRecord::State::Done;
        t.responseIndex = 1;
        t.chunks = 3;
        t.finishedAt = fromIso(QStringLiteral("2026-03-01T09:31:00Z"));
        const quint64 rowsBefore = store->rowsWritten();
        QVERIFY(ok(store->finishTurn(m, answer, t)));
        QVERIFY(store->rowsWritten() > rowsBefore);
        // A retried final save (outcome unknown the first time) stays exactly once.
        const quint64 rowsAfter = store->rowsWritten();
        QVERIFY(ok(store->finishTurn(m, answer, t)));
        // (Redis sees the turn has ended and writes nothing; the embedded stores rewrite the
        // same rows. Either way one answer, checked below.)
        if (store->isShared())
            QCOMPARE(store->rowsWritten(), rowsAfter);
        // No chunk after the end.
        HF_AWAIT(late, store->appendChunks(sid, 1, {{3, QStringLiteral("late")}}));
        QVERIFY(late && !late->ok());

        // first_chunk_at is the store's own: the finished turn (which had none) keeps it.
        t.firstChunkAt = firstChunkAt;
        QCOMPARE(value(store->loadTurn(sid, 1)), std::optional<TurnRecord>(t));
        QVERIFY(value(store->unfinishedTurns()).isEmpty());
        // Loads fill siblings (each message is its parent's only child here).
        Message loadedPrompt = prompt;
        loadedPrompt.siblings = {0};
        Message loadedAnswer = answer;
        loadedAnswer.siblings = {1};
        const QList<Message> messages = value(store->loadMessages(sid, 0, 100));
        QCOMPARE(messages, (QList<Message>{loadedPrompt, loadedAnswer}));
        QCOMPARE(value(store->loadMessages(sid, 1, 2)), QList<Message>{loadedAnswer});
        QCOMPARE(value(store->loadSession(sid))->total, 2);
        QCOMPARE(value(store->loadSession(sid))->activeTurn, 0);

        QVERIFY(ok(store->deleteSession(sid)));
        QVERIFY(!value(store->loadSession(sid)));
        QVERIFY(!value(store->loadTurn(sid, 1)));
        QVERIFY(value(store->loadChunks(sid, 1, 0, 10)).isEmpty());
        QVERIFY(value(store->loadMessages(sid, 0, 100)).isEmpty());
        QCOMPARE(value(store->listSessions({}, 10, 0)).total, 0);
    }

    // Attachments (shared/API.md, Attachments): stored apart from their bytes, linked to prompts
    // in the order given (the same file again on an edited prompt), loaded with every message
    // load, and deleted with their session. Every store answers the same errors.
    void attachmentsStoreLinkAndDelete_data() { m_stores.addRows(); }
    void attachmentsStoreLinkAndDelete()
    {
        QFETCH(QString, kind);
        auto store = m_stores.make(kind);
        QVERIFY(ok(store->open()));
        const QString sid = QStringLiteral("files");
        SessionMeta m = meta(sid);
        QVERIFY(ok(store->createSession(m)));

        const Attachment png =
            attachment(QStringLiteral("a-png"), QStringLiteral("image/png"), 70000);
        const Attachment txt = attachment(QStringLiteral("b_txt"), QStringLiteral("text/plain"), 5);
        const QByteArray pngBytes = someBytes(70000, 1);
        QVERIFY(ok(store->putAttachment(sid, png, pngBytes)));
        QVERIFY(ok(store->putAttachment(sid, txt, QByteArrayLiteral("hello"))));

        HF_AWAIT(again, store->putAttachment(sid, png, QByteArrayLiteral("other")));
        QVERIFY(again && !again->ok());
        QCOMPARE(again->error().code, ErrorCode::Conflict);
        HF_AWAIT(nowhere, store->putAttachment(QStringLiteral("ghost"), txt, "x"));
        QVERIFY(nowhere && !nowhere->ok());
        QCOMPARE(nowhere->error().code, ErrorCode::NotFound);
        QVERIFY(!value(store->loadAttachment(QStringLiteral("ghost"), txt.id)));

        QCOMPARE(value(store->loadAttachment(sid, png.id)), std::optional<Attachment>(png));
        QCOMPARE(value(store->loadAttachmentBytes(sid, png.id)),
                 std::optional<QByteArray>(pngBytes));
        QCOMPARE(value(store->loadAttachmentBytes(sid, txt.id)),
                 std::optional<QByteArray>(QByteArrayLiteral("hello")));
        QVERIFY(!value(store->loadAttachment(sid, QStringLiteral("nope"))));
        QVERIFY(!value(store->loadAttachmentBytes(sid, QStringLiteral("nope"))));

        // A prompt names its files by id, in its own order; the loads give their metadata.
        const Message first = withAttachmentIds(
            message(0, QStringLiteral("user"), QStringLiteral("look"), 1), {txt.id, png.id});
        QVERIFY(ok(beginWith(store.get(), m, 1, first)));
        // An edited prompt (a sibling) keeps one of the files.
        Message edited = withAttachmentIds(
            message(1, QStringLiteral("user"), QStringLiteral("look again"), 2), {png.id});
        edited.parent = -1;
        edited.depth = 0;
        QVERIFY(ok(beginWith(store.get(), m, 2, edited)));
        // An unknown id stores nothing: no message, no turn.
        const SessionMeta before = *value(store->loadSession(sid));
        SessionMeta bad = m;
        HF_AWAIT(unknown, beginWith(store.get(), bad, 3,
                                    withAttachmentIds(
                                        message(2, QStringLiteral("user"), QStringLiteral("?"), 3),
                                        {png.id, QStringLiteral("missing")})));
        QVERIFY(unknown && !unknown->ok());
        QCOMPARE(unknown->error().code, ErrorCode::NotFound);
        QVERIFY2(unknown->error().message.contains(QLatin1String("'missing'")),
                 qPrintable(unknown->error().message));
        QCOMPARE(*value(store->loadSession(sid)), before);
        QVERIFY(!value(store->loadTurn(sid, 3)));

        const QList<Message> all = value(store->loadMessages(sid, 0, 10));
        QCOMPARE(all.size(), 2);
        QCOMPARE(all.at(0).attachments, (QList<Attachment>{txt, png}));
        QCOMPARE(all.at(1).attachments, QList<Attachment>{png});
        QCOMPARE(value(store->loadBranch(sid, 0, 10)).at(0).attachments,
                 (QList<Attachment>{txt, png}));
        QCOMPARE(value(store->loadBranch(sid, 1, 10)).at(0).attachments, QList<Attachment>{png});
        // An answer has none.
        m.total = 3;
        m.head = 2;
        m.length = 2;
        TurnRecord t = turnRecord(sid, 2, 1);
        t.state = TurnRecord::State::Done;
        t.responseIndex = 2;
        Message answer = message(2, QStringLiteral("assistant"), QStringLiteral("a PNG"), 2);
        answer.parent = 1;
        answer.depth = 1;
        QVERIFY(ok(store->finishTurn(m, answer, t)));
        const QList<Message> branch = value(store->loadBranch(sid, 2, 10));
        QCOMPARE(branch.size(), 2);
        QCOMPARE(branch.at(0).attachments, QList<Attachment>{png});
        QVERIFY(branch.at(1).attachments.isEmpty());
        // A branch whose indexes are not consecutive: 0, then an answer 3 to it, then prompt 4.
        m.total = 4;
        m.head = 3;
        TurnRecord t1 = turnRecord(sid, 1, 0);
        t1.state = TurnRecord::State::Done;
        t1.responseIndex = 3;
        Message answer0 = message(3, QStringLiteral("assistant"), QStringLiteral("text"), 1);
        answer0.parent = 0;
        answer0.depth = 1;
        QVERIFY(ok(store->finishTurn(m, answer0, t1)));
        Message next = withAttachmentIds(
            message(4, QStringLiteral("user"), QStringLiteral("and this"), 3), {png.id});
        next.parent = 3;
        next.depth = 2;
        QVERIFY(ok(beginWith(store.get(), m, 3, next)));
        const QList<Message> scattered = value(store->loadBranch(sid, 4, 10));
        QCOMPARE(scattered.size(), 3);
        QCOMPARE(scattered.at(0).attachments, (QList<Attachment>{txt, png}));
        QVERIFY(scattered.at(1).attachments.isEmpty());
        QCOMPARE(scattered.at(2).attachments, QList<Attachment>{png});

        // Deleted with the session: a new session of that id starts without them.
        QVERIFY(ok(store->deleteSession(sid)));
        QVERIFY(!value(store->loadAttachment(sid, png.id)));
        QVERIFY(!value(store->loadAttachmentBytes(sid, png.id)));
        QVERIFY(ok(store->createSession(meta(sid))));
        QVERIFY(!value(store->loadAttachment(sid, txt.id)));
        QVERIFY(ok(store->putAttachment(sid, txt, QByteArrayLiteral("again"))));
        QCOMPARE(value(store->loadAttachmentBytes(sid, txt.id)),
                 std::optional<QByteArray>(QByteArrayLiteral("again")));
        QVERIFY(ok(store->deleteSession(sid)));
        // Nothing is left behind (the SQLite tables, the Redis keys).
        if (kind == QLatin1String("redis"))
            QCOMPARE(
                m_stores.redis()->command({QStringLiteral("KEYS"), QStringLiteral("hf:*att*")}),
                QByteArrayLiteral("*0\r\n"));
    }

    // Uploads that no message uses are deleted once older than the given time; the ones a prompt
    // links, and the newer ones, stay (every session).
    void unlinkedAttachmentsAreDeleted_data() { m_stores.addRows(); }
    void unlinkedAttachmentsAreDeleted()
    {
        QFETCH(QString, kind);
        auto store = m_stores.make(kind);
        QVERIFY(ok(store->open()));
        SessionMeta a = meta(QStringLiteral("a"));
        SessionMeta b = meta(QStringLiteral("b"));
        QVERIFY(ok(store->createSession(a)));
        QVERIFY(ok(store->createSession(b)));
        const QString old = QStringLiteral("2026-03-01T08:00:00.000Z");
        const QString fresh = QStringLiteral("2026-03-02T08:00:00.000Z");
        const Attachment oldA =
            attachment(QStringLiteral("old"), QStringLiteral("text/plain"), 1, old);
        const Attachment usedA =
            attachment(QStringLiteral("used"), QStringLiteral("text/plain"), 1, old);
        const Attachment newA =
            attachment(QStringLiteral("new"), QStringLiteral("text/plain"), 1, fresh);
        const Attachment oldB =
            attachment(QStringLiteral("old"), QStringLiteral("text/plain"), 1, old);
        QVERIFY(ok(store->putAttachment(a.id, oldA, "1")));
        QVERIFY(ok(store->putAttachment(a.id, usedA, "2")));
        QVERIFY(ok(store->putAttachment(a.id, newA, "3")));
        QVERIFY(ok(store->putAttachment(b.id, oldB, "4")));
        QVERIFY(ok(
            beginWith(store.get(), a, 1,
                      withAttachmentIds(message(0, QStringLiteral("user"), QStringLiteral("x"), 1),
                                        {usedA.id}))));

        const QDateTime cutoff = fromIso(QStringLiteral("2026-03-02T00:00:00.000Z"));
        QCOMPARE(value(store->deleteUnlinkedAttachments(cutoff)), qint64(2));
        QVERIFY(!value(store->loadAttachment(a.id, oldA.id)));
        QVERIFY(!value(store->loadAttachmentBytes(a.id, oldA.id)));
        QVERIFY(!value(store->loadAttachment(b.id, oldB.id)));
        QVERIFY(!value(store->loadAttachmentBytes(b.id, oldB.id)));
        QCOMPARE(value(store->loadAttachment(a.id, usedA.id)), std::optional<Attachment>(usedA));
        QCOMPARE(value(store->loadAttachmentBytes(a.id, usedA.id)),
                 std::optional<QByteArray>(QByteArrayLiteral("2")));
        QCOMPARE(value(store->loadAttachment(a.id, newA.id)), std::optional<Attachment>(newA));
        QCOMPARE(value(store->loadMessages(a.id, 0, 10)).at(0).attachments,
                 QList<Attachment>{usedA});
        QCOMPARE(value(store->deleteUnlinkedAttachments(cutoff)), qint64(0));
        // Later, the newer one goes too; the linked one never.
        QCOMPARE(value(store->deleteUnlinkedAttachments(cutoff.addDays(30))), qint64(1));
        QVERIFY(!value(store->loadAttachment(a.id, newA.id)));
        QVERIFY(value(store->loadAttachment(a.id, usedA.id)));
    }

    // A session's options and a turn's usage and context are stored with them; options not set
    // stay unset (null), and a turn without usage has none.
    void optionsUsageAndContextRoundTrip_data() { m_stores.addRows(); }
    void optionsUsageAndContextRoundTrip()
    {
        QFETCH(QString, kind);
        auto store = m_stores.make(kind);
        QVERIFY(ok(store->open()));
        SessionMeta m = meta(QStringLiteral("opts"));
        m.options.temperature = 0.7;
        m.options.maxTokens = 100;
        QVERIFY(ok(store->createSession(m)));
        QCOMPARE(*value(store->loadSession(m.id)), m);
        QCOMPARE(value(store->listSessions({}, 10, 0)).sessions.at(0), m);

        m.options.temperature.reset();
        m.options.topP = 0.1 + 0.2; // not a short decimal: stored exactly all the same
        m.options.contextTokens = 4096;
        QVERIFY(ok(store->saveSessionMeta(m)));
        QCOMPARE(value(store->loadSession(m.id))->options, m.options);

        // A turn carries its context from the start, its usage from its end.
        TurnRecord t = turnRecord(m.id, 1, 0);
        t.context = ContextUse{3, 1};
        m.total = 1;
        m.head = 0;
        m.length = 1;
        m.lastTurn = 1;
        m.activeTurn = 1;
        QVERIFY(ok(store->beginTurn(
            m, message(0, QStringLiteral("user"), QStringLiteral("count"), 1), t)));
        QCOMPARE(value(store->loadTurn(m.id, 1))->context, t.context);
        QVERIFY(!value(store->loadTurn(m.id, 1))->usage);
        QCOMPARE(value(store->loadSession(m.id))->options, m.options);

        m.activeTurn = 0;
        m.total = 2;
        m.head = 1;
        m.length = 2;
        t.state = TurnRecord::State::Done;
        t.responseIndex = 1;
        t.usage = TokenUsage{1234567890123, 42};
        t.finishedAt = fromIso(QStringLiteral("2026-03-01T09:31:00Z"));
        QVERIFY(ok(store->finishTurn(
            m, message(1, QStringLiteral("assistant"), QStringLiteral("ok"), 1), t)));
        QCOMPARE(value(store->loadTurn(m.id, 1)), std::optional<TurnRecord>(t));

        // Options unset again: none left.
        m.options = TurnOptions();
        QVERIFY(ok(store->saveSessionMeta(m)));
        QVERIFY(value(store->loadSession(m.id))->options.isEmpty());
    }

    // A session's tools and tool approval (shared/API.md, Tools (MCP)) are stored with it, listed
    // with it, changed by a save of its metadata (back to none and ask too), and kept through a
    // turn (which writes the session's metadata its own way in each store).
    void toolSettingsRoundTrip_data() { m_stores.addRows(); }
    void toolSettingsRoundTrip()
    {
        QFETCH(QString, kind);
        auto store = m_stores.make(kind);
        QVERIFY(ok(store->open()));
        SessionMeta m = meta(QStringLiteral("tools"));
        m.title = QStringLiteral("Tool chat");
        QVERIFY(ok(store->createSession(m)));
        SessionMeta loaded = *value(store->loadSession(m.id));
        QVERIFY(loaded.tools.isEmpty());
        QCOMPARE(loaded.toolApproval, ToolApproval::Ask);

        m.tools = QStringList{QStringLiteral("files/read_file"), QStringLiteral("everything/echo"),
                              QStringLiteral("ünï-server/tööl")};
        m.toolApproval = ToolApproval::Auto;
        QVERIFY(ok(store->saveSessionMeta(m)));
        QCOMPARE(*value(store->loadSession(m.id)), m);
        QCOMPARE(value(store->listSessions({}, 10, 0)).sessions.at(0), m);
        QCOMPARE(value(store->listSessions(QStringLiteral("tool chat"), 10, 0)).sessions.at(0), m);

        QVERIFY(ok(beginWith(store.get(), m, 1,
                             message(0, QStringLiteral("user"), QStringLiteral("hi"), 1))));
        QCOMPARE(value(store->loadSession(m.id))->tools, m.tools);
        TurnRecord t = turnRecord(m.id, 1, 0);
        t.state = TurnRecord::State::Done;
        t.responseIndex = 1;
        m.total = 2;
        m.head = 1;
        m.length = 2;
        QVERIFY(ok(store->finishTurn(
            m, message(1, QStringLiteral("assistant"), QStringLiteral("hello"), 1), t)));
        loaded = *value(store->loadSession(m.id));
        QCOMPARE(loaded.tools, m.tools);
        QCOMPARE(loaded.toolApproval, ToolApproval::Auto);

        m.tools = QStringList{QStringLiteral("*")};
        QVERIFY(ok(store->saveSessionMeta(m)));
        QCOMPARE(value(store->loadSession(m.id))->tools, m.tools);
        m.tools.clear();
        m.toolApproval = ToolApproval::Ask;
        QVERIFY(ok(store->saveSessionMeta(m)));
        loaded = *value(store->loadSession(m.id));
        QVERIFY(loaded.tools.isEmpty());
        QCOMPARE(loaded.toolApproval, ToolApproval::Ask);

        // Created with them.
        SessionMeta preset = meta(QStringLiteral("preset"));
        preset.tools = QStringList{QStringLiteral("*")};
        preset.toolApproval = ToolApproval::Auto;
        QVERIFY(ok(store->createSession(preset)));
        QCOMPARE(*value(store->loadSession(preset.id)), preset);
    }

    // A turn's tool steps are chunks among its text chunks: each comes back as it was stored
    // (the result's `approved` too), from any range of loadChunks, whatever batches wrote them.
    // The answer's tool calls come back with it from every load: a page of messages, the
    // branch (the history window), and a walk that passes through it.
    void toolStepsAndToolCallsRoundTrip_data() { m_stores.addRows(); }
    void toolStepsAndToolCallsRoundTrip()
    {
        QFETCH(QString, kind);
        auto store = m_stores.make(kind);
        QVERIFY(ok(store->open()));
        SessionMeta m = meta(QStringLiteral("steps"));
        QVERIFY(ok(store->createSession(m)));
        QVERIFY(ok(beginWith(store.get(), m, 1,
                             message(0, QStringLiteral("user"), QStringLiteral("read it"), 1))));
        const ToolCall read = toolCall(QStringLiteral("call_1"), QStringLiteral("files/read_file"),
                                       awkwardArguments());
        const ToolCall write =
            toolCall(QStringLiteral("call 2 ✓"), QStringLiteral("files/write"), QJsonObject());
        const QList<Chunk> chunks{
            Chunk(0, QStringLiteral("Let me look.")),
            callChunk(1, read),
            resultChunk(2, read.id, QStringLiteral("contents ✓\nline \"2\""), false, true),
            Chunk(3, QStringLiteral(" It says: ")),
            callChunk(4, write),
            resultChunk(5, write.id, QStringLiteral("the user declined this tool call"), true,
                        false),
            Chunk(6, QStringLiteral("done.")),
        };
        QVERIFY(ok(store->appendChunks(m.id, 1, chunks.mid(0, 2)))); // text and a call at once
        QVERIFY(ok(store->appendChunks(m.id, 1, chunks.mid(2, 1)))); // a result alone
        QVERIFY(ok(store->appendChunks(m.id, 1, chunks.mid(3))));
        QCOMPARE(value(store->loadTurn(m.id, 1))->chunks, 7);
        const QList<Chunk> all = value(store->loadChunks(m.id, 1, 0, 100));
        QCOMPARE(all, chunks);
        QVERIFY(!all.at(0).isToolStep());
        QCOMPARE(all.at(1).toolCall->arguments, awkwardArguments());
        QVERIFY(all.at(1).text.isEmpty());
        QVERIFY(all.at(2).toolResult->approved);
        QVERIFY(!all.at(5).toolResult->approved);
        QCOMPARE(value(store->loadChunks(m.id, 1, 1, 2)), chunks.mid(1, 2));
        QCOMPARE(value(store->loadChunks(m.id, 1, 4, 1)), chunks.mid(4, 1));
        QCOMPARE(value(store->loadChunks(m.id, 1, 5, 100)), chunks.mid(5));
        QCOMPARE(value(store->loadChunks(m.id, 1, 3, 1)), chunks.mid(3, 1));

        Message answer = message(1, QStringLiteral("assistant"),
                                 QStringLiteral("Let me look. It says: done."), 1);
        answer.toolCalls = {
            answeredCall(read, QStringLiteral("contents ✓\nline \"2\""), false, true, 12),
            answeredCall(write, QStringLiteral("the user declined this tool call"), true, false,
                         22),
            // A call a crash cut off: no result.
            answeredCall(toolCall(QStringLiteral("call_3"), QStringLiteral("files/list"),
                                  QJsonObject{{QStringLiteral("parent"), 0}}),
                         std::nullopt, false, false, 27),
        };
        TurnRecord t = turnRecord(m.id, 1, 0);
        t.state = TurnRecord::State::Done;
        t.responseIndex = 1;
        t.chunks = 7;
        m.total = 2;
        m.head = 1;
        m.length = 2;
        QVERIFY(ok(store->finishTurn(m, answer, t)));
        Message loadedAnswer = answer;
        loadedAnswer.siblings = {1};
        QCOMPARE(value(store->loadMessages(m.id, 1, 2)), QList<Message>{loadedAnswer});
        QCOMPARE(value(store->loadBranch(m.id, 1, 10)).size(), 2);
        QCOMPARE(value(store->loadBranch(m.id, 1, 10)).at(1), loadedAnswer);
        QVERIFY(value(store->loadMessages(m.id, 0, 1)).at(0).toolCalls.isEmpty());

        // The next prompt follows the answer: the history window walks through it to the first
        // message (its arguments' "parent" keys are not its parent).
        QVERIFY(ok(beginWith(store.get(), m, 2,
                             message(2, QStringLiteral("user"), QStringLiteral("and?"), 2))));
        const QList<Message> window = value(store->loadBranch(m.id, 2, 10));
        QCOMPARE(window.size(), 3);
        QCOMPARE(window.at(1), loadedAnswer);
        QCOMPARE(value(store->latestLeaf(m.id, 0)), qint64(2));
    }

    // A turn waiting for a tool call's approval has not ended: it is unfinished (a crash leaves
    // it to be recovered), takes chunks (a declined call's result), goes back to streaming, and
    // ends like any turn. An ended turn's state never changes again.
    void waitingTurnState_data() { m_stores.addRows(); }
    void waitingTurnState()
    {
        QFETCH(QString, kind);
        auto store = m_stores.make(kind);
        QVERIFY(ok(store->open()));
        SessionMeta m = meta(QStringLiteral("wait"));
        QVERIFY(ok(store->createSession(m)));
        QVERIFY(ok(beginWith(store.get(), m, 1,
                             message(0, QStringLiteral("user"), QStringLiteral("go"), 1))));
        const ToolCall call = toolCall(QStringLiteral("c1"), QStringLiteral("s/t"), {});
        QVERIFY(
            ok(store->appendChunks(m.id, 1, {Chunk(0, QStringLiteral("a")), callChunk(1, call)})));
        QVERIFY(ok(store->saveTurnState(m.id, 1, TurnRecord::State::Waiting)));
        QCOMPARE(value(store->loadTurn(m.id, 1))->state, TurnRecord::State::Waiting);
        if (store->isShared()) {
            // This instance runs it and holds its lease (tst_redisstore sweeps a dead one's).
            QVERIFY(value(store->unfinishedTurns()).isEmpty());
        } else {
            const QList<TurnRecord> unfinished = value(store->unfinishedTurns());
            QCOMPARE(unfinished.size(), 1);
            QCOMPARE(unfinished.at(0).state, TurnRecord::State::Waiting);
        }
        if (kind == QLatin1String("sqlite")) { // as the next start after a crash finds it
            auto next = m_stores.make(kind, false);
            QVERIFY(ok(next->open()));
            const QList<TurnRecord> unfinished = value(next->unfinishedTurns());
            QCOMPARE(unfinished.size(), 1);
            QCOMPARE(unfinished.at(0).state, TurnRecord::State::Waiting);
            QCOMPARE(value(next->loadChunks(m.id, 1, 1, 1)), QList<Chunk>{callChunk(1, call)});
        }
        QVERIFY(ok(store->appendChunks(
            m.id, 1, {resultChunk(2, call.id, QStringLiteral("declined"), true, false)})));
        QCOMPARE(value(store->loadTurn(m.id, 1))->chunks, 3);
        QVERIFY(ok(store->saveTurnState(m.id, 1, TurnRecord::State::Streaming)));
        QCOMPARE(value(store->loadTurn(m.id, 1))->state, TurnRecord::State::Streaming);
        QVERIFY(ok(store->saveTurnState(m.id, 1, TurnRecord::State::Waiting)));

        // It ends while waiting (cancelled), and stays ended.
        TurnRecord t = turnRecord(m.id, 1, 0);
        t.state = TurnRecord::State::Cancelled;
        t.responseIndex = 1;
        t.chunks = 3;
        m.total = 2;
        m.head = 1;
        m.length = 2;
        QVERIFY(ok(store->finishTurn(
            m, message(1, QStringLiteral("assistant"), QStringLiteral("a"), 1), t)));
        QCOMPARE(value(store->loadTurn(m.id, 1))->state, TurnRecord::State::Cancelled);
        QVERIFY(ok(store->saveTurnState(m.id, 1, TurnRecord::State::Waiting)));
        QCOMPARE(value(store->loadTurn(m.id, 1))->state, TurnRecord::State::Cancelled);
        QVERIFY(value(store->unfinishedTurns()).isEmpty());
        HF_AWAIT(late, store->appendChunks(m.id, 1, {callChunk(3, call)}));
        QVERIFY(!late->ok());

        HF_AWAIT(unknown, store->saveTurnState(m.id, 9, TurnRecord::State::Waiting));
        QVERIFY(!unknown->ok());
        QCOMPARE(unknown->error().code, ErrorCode::NotFound);
        // An end is stored with its answer (finishTurn), never by a state alone.
        QVERIFY(ok(beginWith(store.get(), m, 2,
                             message(2, QStringLiteral("user"), QStringLiteral("again"), 2))));
        HF_AWAIT(ending, store->saveTurnState(m.id, 2, TurnRecord::State::Done));
        QVERIFY(!ending->ok());
        QCOMPARE(value(store->loadTurn(m.id, 2))->state, TurnRecord::State::Streaming);
    }

    // A tool step's write fails like a text chunk's: the error comes back, nothing of the batch
    // is stored (a batch that breaks the sequence after a tool step included), and the same
    // chunk is stored when tried again.
    void failedToolStepWriteIsReported_data() { m_stores.addRows(); }
    void failedToolStepWriteIsReported()
    {
        QFETCH(QString, kind);
        test::FaultyStore store(m_stores.make(kind));
        QVERIFY(ok(store.open()));
        SessionMeta m = meta(QStringLiteral("faults"));
        QVERIFY(ok(store.createSession(m)));
        QVERIFY(ok(
            beginWith(&store, m, 1, message(0, QStringLiteral("user"), QStringLiteral("go"), 1))));
        QVERIFY(ok(store.appendChunks(m.id, 1, {Chunk(0, QStringLiteral("a"))})));
        const Chunk step =
            callChunk(1, toolCall(QStringLiteral("c1"), QStringLiteral("s/t"), awkwardArguments()));
        store.setFault(test::FaultyStore::Fault::DiskFull);
        HF_AWAIT(failed, store.appendChunks(m.id, 1, {step}));
        QVERIFY(!failed->ok());
        QCOMPARE(failed->error().code, ErrorCode::Unavailable);
        HF_AWAIT(state, store.saveTurnState(m.id, 1, TurnRecord::State::Waiting));
        QVERIFY(!state->ok());
        QCOMPARE(state->error().code, ErrorCode::Unavailable);
        store.setFault(test::FaultyStore::Fault::None);
        QCOMPARE(value(store.loadTurn(m.id, 1))->chunks, 1);
        QCOMPARE(value(store.loadTurn(m.id, 1))->state, TurnRecord::State::Streaming);
        QVERIFY(value(store.loadChunks(m.id, 1, 1, 10)).isEmpty());

        // The real store refuses a batch whose chunks do not follow one another, after a step.
        HF_AWAIT(broken, store.appendChunks(m.id, 1, {step, Chunk(3, QStringLiteral("gap"))}));
        QVERIFY(!broken->ok());
        QCOMPARE(broken->error().code, ErrorCode::Conflict);
        QCOMPARE(value(store.loadTurn(m.id, 1))->chunks, 1);
        QVERIFY(value(store.loadChunks(m.id, 1, 1, 10)).isEmpty());

        QVERIFY(ok(store.appendChunks(m.id, 1, {step})));
        QCOMPARE(value(store.loadChunks(m.id, 1, 1, 10)), QList<Chunk>{step});
    }

    // Loading a session never reads attachment bytes: with the table of bytes gone (dropped from
    // another connection), every load still works and lists the attachments; only reading the
    // bytes fails. (storetree_bench --attachments times it: 100 x 1 MiB against none.)
    void sqliteLoadsNeverReadAttachmentBytes()
    {
        const QString path = m_stores.filePath(QStringLiteral("nobytes.db"));
        SqliteStore store(path);
        QVERIFY(ok(store.open()));
        SessionMeta m = meta(QStringLiteral("pics"));
        QVERIFY(ok(store.createSession(m)));
        const Attachment big =
            attachment(QStringLiteral("big"), QStringLiteral("image/png"), 1 << 20);
        QVERIFY(ok(store.putAttachment(m.id, big, someBytes(1 << 20, 3))));
        QVERIFY(ok(beginWith(
            &store, m, 1,
            withAttachmentIds(message(0, QStringLiteral("user"), QStringLiteral("see"), 1),
                              {big.id}))));
        {
            QSqlDatabase db =
                QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), QStringLiteral("dropper"));
            db.setDatabaseName(path);
            QVERIFY(db.open());
            QSqlQuery q(db);
            QVERIFY2(q.exec(QStringLiteral("DROP TABLE attachment_bytes")),
                     qPrintable(q.lastError().text()));
            db.close();
        }
        QSqlDatabase::removeDatabase(QStringLiteral("dropper"));

        QCOMPARE(value(store.loadSession(m.id))->total, 1);
        QCOMPARE(value(store.loadMessages(m.id, 0, 10)).at(0).attachments, QList<Attachment>{big});
        QCOMPARE(value(store.loadBranch(m.id, 0, 10)).at(0).attachments, QList<Attachment>{big});
        QCOMPARE(value(store.listSessions(QStringLiteral("see"), 10, 0)).total, 1);
        QCOMPARE(value(store.loadAttachment(m.id, big.id)), std::optional<Attachment>(big));
        HF_AWAIT(bytes, store.loadAttachmentBytes(m.id, big.id));
        QVERIFY(bytes && !bytes->ok());
    }

    void sqliteSurvivesARestart()
    {
        const QString path = m_stores.filePath(QStringLiteral("restart.db"));
        {
            SqliteStore store(path);
            QVERIFY(ok(store.open()));
            SessionMeta m = meta(QStringLiteral("keep"));
            QVERIFY(ok(store.createSession(m)));
            m.total = 1;
            m.lastTurn = 1;
            m.activeTurn = 1;
            QVERIFY(
                ok(store.beginTurn(m, message(0, QStringLiteral("user"), QStringLiteral("kept?")),
                                   turnRecord(m.id, 1, 0))));
            QVERIFY(ok(store.appendChunks(m.id, 1, {{0, QStringLiteral("yes")}})));
        }
        SqliteStore store(path);
        QVERIFY(ok(store.open()));
        QCOMPARE(value(store.loadMessages(QStringLiteral("keep"), 0, 10)).at(0).content,
                 QStringLiteral("kept?"));
        QCOMPARE(value(store.unfinishedTurns()).size(), 1);
        QCOMPARE(value(store.loadChunks(QStringLiteral("keep"), 1, 0, 10)).at(0).text,
                 QStringLiteral("yes"));
        QCOMPARE(userVersion(path), SqliteStore::kSchemaVersion);
    }

    void sqliteFileIsPrivate()
    {
        const QString path = m_stores.filePath(QStringLiteral("private/sub/holdfast.db"));
        SqliteStore store(path);
        QVERIFY(ok(store.open()));
        QVERIFY(ok(store.createSession(meta(QStringLiteral("p")))));
        const QFile::Permissions perms = QFile::permissions(path);
        QVERIFY(perms & QFile::ReadOwner);
        QVERIFY(!(perms &
                  (QFile::ReadGroup | QFile::ReadOther | QFile::WriteGroup | QFile::WriteOther)));
        const QFile::Permissions dirPerms =
            QFile::permissions(m_stores.filePath(QStringLiteral("private/sub")));
        QVERIFY(!(dirPerms & (QFile::ReadOther | QFile::ExeOther)));
    }

    void sqliteMigratesAnOlderFile()
    {
        const QString path = m_stores.filePath(QStringLiteral("v1.db"));
        QFile fixture(QString::fromLocal8Bit(qgetenv("HOLDFAST_SOURCE_DIR")) +
                      QStringLiteral("/tests/core/data/holdfast-schema-v1.sql"));
        QVERIFY2(fixture.open(QIODevice::ReadOnly), qPrintable(fixture.fileName()));
        QVERIFY(writeSqliteFile(path, QString::fromUtf8(fixture.readAll())));
        QCOMPARE(userVersion(path), 1);

        SqliteStore store(path);
        QVERIFY(ok(store.open()));
        QCOMPARE(userVersion(path), SqliteStore::kSchemaVersion);
        const auto old = value(store.loadSession(QStringLiteral("old-notes")));
        QVERIFY(old);
        QCOMPARE(old->title, QStringLiteral("Notes from 0.1"));
        QCOMPARE(old->total, 2);
        const QList<Message> messages =
            value(store.loadMessages(QStringLiteral("old-notes"), 0, 10));
        QCOMPARE(messages.size(), 2);
        QCOMPARE(messages.at(1).content, QStringLiteral("Everything, in schema version 1."));
        // Through every step since: one branch (schema 3), head on the last message.
        QCOMPARE(old->head, 1);
        QCOMPARE(old->length, 2);
        QCOMPARE(messages.at(1).parent, 0);
        QCOMPARE(messages.at(1).depth, 1);
        QCOMPARE(value(store.loadChunks(QStringLiteral("old-notes"), 1, 0, 10)).size(), 2);
        // And the migrated file takes new writes.
        QVERIFY(ok(store.createSession(meta(QStringLiteral("after-upgrade")))));
        QCOMPARE(value(store.listSessions({}, 10, 0)).total, 2);
    }

    // A real file of schema version 3, written by the holdfast of commit 156e5c4 (session
    // "chat": three turns, the second prompt edited; session "empty"): after the migration its
    // data reads as before, with no options, no usage, context or first chunk time, and no
    // attachments; the migrated file takes all of them.
    void sqliteMigratesARealVersion3File()
    {
        const QString path = m_stores.filePath(QStringLiteral("v3.db"));
        const QString fixture = QString::fromLocal8Bit(qgetenv("HOLDFAST_SOURCE_DIR")) +
                                QStringLiteral("/tests/core/data/holdfast-schema-v3.db");
        QVERIFY2(QFile::copy(fixture, path), qPrintable(fixture));
        QVERIFY(QFile::setPermissions(path, QFile::ReadOwner | QFile::WriteOwner));
        QCOMPARE(userVersion(path), 3);
        const QString sid = QStringLiteral("chat");
        {
            SqliteStore store(path);
            QVERIFY(ok(store.open()));
            QCOMPARE(userVersion(path), SqliteStore::kSchemaVersion);
            QCOMPARE(value(store.listSessions({}, 10, 0)).total, 2);
            SessionMeta m = *value(store.loadSession(sid));
            QCOMPARE(m.title, QStringLiteral("Version 3 chat"));
            QCOMPARE(m.system, QStringLiteral("Be kind."));
            QVERIFY(m.options.isEmpty());
            QCOMPARE(m.total, 6);
            QCOMPARE(m.head, 5);
            QCOMPARE(m.length, 4);
            QVERIFY(value(store.loadSession(QStringLiteral("empty")))->options.isEmpty());
            const QList<Message> all = value(store.loadMessages(sid, 0, 10));
            QCOMPARE(all.size(), 6);
            for (const Message &msg : all)
                QVERIFY(msg.attachments.isEmpty());
            QCOMPARE(all.at(2).content, QStringLiteral("Second question ✓"));
            QCOMPARE(all.at(4).siblings, (QList<qint64>{2, 4}));
            const QList<Message> branch = value(store.loadBranch(sid, m.head, 10));
            QCOMPARE(branch.size(), 4);
            QCOMPARE(branch.at(2).content, QStringLiteral("Second question, edited"));
            for (int tid = 1; tid <= 3; ++tid) {
                const TurnRecord t = *value(store.loadTurn(sid, tid));
                QCOMPARE(t.state, TurnRecord::State::Done);
                QCOMPARE(t.chunks, 12);
                QVERIFY(!t.usage);
                QVERIFY(!t.context);
                QVERIFY(!t.firstChunkAt.isValid());
            }

            // The migrated file takes options, an attachment linked to a new prompt, usage.
            m.options.temperature = 0.5;
            QVERIFY(ok(store.saveSessionMeta(m)));
            const Attachment notes =
                attachment(QStringLiteral("notes"), QStringLiteral("text/plain"), 5);
            QVERIFY(ok(store.putAttachment(sid, notes, QByteArrayLiteral("notes"))));
            Message prompt = withAttachmentIds(
                message(6, QStringLiteral("user"), QStringLiteral("with a file"), 4), {notes.id});
            prompt.parent = 5;
            prompt.depth = 4;
            QVERIFY(ok(beginWith(&store, m, 4, prompt)));
            QVERIFY(ok(store.appendChunks(sid, 4, {{0, QStringLiteral("ok")}})));
        }
        // And after a restart.
        SqliteStore store(path);
        QVERIFY(ok(store.open()));
        QCOMPARE(value(store.loadSession(sid))->options.temperature, std::optional<double>(0.5));
        QCOMPARE(value(store.loadBranch(sid, 6, 1)).at(0).attachments.at(0).name,
                 QStringLiteral("notes — name.plain"));
        QCOMPARE(value(store.loadAttachmentBytes(sid, QStringLiteral("notes"))),
                 std::optional<QByteArray>(QByteArrayLiteral("notes")));
        QVERIFY(value(store.loadTurn(sid, 4))->firstChunkAt.isValid());
    }

    // A real file of schema version 4, written by the holdfast of commit 4dca394 (session "chat":
    // options, three turns with usage, an attachment on the first prompt, the second prompt
    // edited; session "crashed": a turn cut off by kill -9 after 4 chunks; session "empty"):
    // after the migration its data reads as before, with no tools (ask), no tool calls and text
    // chunks only; the turn left streaming is still unfinished (its index now covers waiting
    // turns); the migrated file takes tools, tool steps, tool calls and the waiting state.
    void sqliteMigratesARealVersion4File()
    {
        const QString path = m_stores.filePath(QStringLiteral("v4.db"));
        const QString fixture = QString::fromLocal8Bit(qgetenv("HOLDFAST_SOURCE_DIR")) +
                                QStringLiteral("/tests/core/data/holdfast-schema-v4.db");
        QVERIFY2(QFile::copy(fixture, path), qPrintable(fixture));
        QVERIFY(QFile::setPermissions(path, QFile::ReadOwner | QFile::WriteOwner));
        QCOMPARE(userVersion(path), 4);
        const QString sid = QStringLiteral("chat");
        const QString crashed = QStringLiteral("crashed");
        const ToolCall call =
            toolCall(QStringLiteral("c1"), QStringLiteral("files/read_file"), awkwardArguments());
        {
            SqliteStore store(path);
            QVERIFY(ok(store.open()));
            QCOMPARE(userVersion(path), SqliteStore::kSchemaVersion);
            QCOMPARE(value(store.listSessions({}, 10, 0)).total, 3);
            SessionMeta m = *value(store.loadSession(sid));
            QCOMPARE(m.title, QStringLiteral("Version 4 chat"));
            QCOMPARE(m.options.temperature, std::optional<double>(0.25));
            QCOMPARE(m.options.maxTokens, std::optional<int>(200));
            QCOMPARE(m.total, 6);
            QCOMPARE(m.head, 5);
            QVERIFY(m.tools.isEmpty());
            QCOMPARE(m.toolApproval, ToolApproval::Ask);
            for (const SessionMeta &listed : value(store.listSessions({}, 10, 0)).sessions) {
                QVERIFY(listed.tools.isEmpty());
                QCOMPARE(listed.toolApproval, ToolApproval::Ask);
            }
            const QList<Message> all = value(store.loadMessages(sid, 0, 10));
            QCOMPARE(all.size(), 6);
            for (const Message &msg : all)
                QVERIFY(msg.toolCalls.isEmpty());
            QCOMPARE(all.at(0).content, QStringLiteral("First question ✓"));
            QCOMPARE(all.at(0).attachments.size(), 1);
            QCOMPARE(all.at(0).attachments.at(0).name, QStringLiteral("notes.txt"));
            QCOMPARE(all.at(4).siblings, (QList<qint64>{2, 4}));
            QCOMPARE(value(store.loadBranch(sid, m.head, 10)).size(), 4);
            for (int tid = 1; tid <= 3; ++tid) {
                const TurnRecord t = *value(store.loadTurn(sid, tid));
                QCOMPARE(t.state, TurnRecord::State::Done);
                QCOMPARE(t.chunks, 5);
                QVERIFY(t.usage);
                QVERIFY(t.firstChunkAt.isValid());
                const QList<Chunk> chunks = value(store.loadChunks(sid, tid, 0, 10));
                QCOMPARE(chunks.size(), 5);
                for (const Chunk &c : chunks)
                    QVERIFY(!c.isToolStep() && !c.text.isEmpty());
            }
            QCOMPARE(value(store.loadAttachmentBytes(sid, all.at(0).attachments.at(0).id)),
                     std::optional<QByteArray>(QByteArrayLiteral("some notes")));

            // The crashed turn is found by the recovery's query, through the new index.
            const QList<TurnRecord> unfinished = value(store.unfinishedTurns());
            QCOMPARE(unfinished.size(), 1);
            QCOMPARE(unfinished.at(0).session, crashed);
            QCOMPARE(unfinished.at(0).state, TurnRecord::State::Streaming);
            QCOMPARE(value(store.loadChunks(crashed, 1, 0, 10)).size(), 4);

            // The migrated file takes what is new.
            m.tools = QStringList{QStringLiteral("*")};
            m.toolApproval = ToolApproval::Auto;
            QVERIFY(ok(store.saveSessionMeta(m)));
            QVERIFY(ok(store.appendChunks(crashed, 1, {callChunk(4, call)})));
            QVERIFY(ok(store.saveTurnState(crashed, 1, TurnRecord::State::Waiting)));
            Message prompt = message(6, QStringLiteral("user"), QStringLiteral("use it"), 4);
            prompt.parent = 5;
            prompt.depth = 4;
            QVERIFY(ok(beginWith(&store, m, 4, prompt)));
            TurnRecord t = turnRecord(sid, 4, 6);
            t.state = TurnRecord::State::Done;
            t.responseIndex = 7;
            Message answer = message(7, QStringLiteral("assistant"), QStringLiteral("used"), 4);
            answer.parent = 6;
            answer.depth = 5;
            answer.toolCalls = {answeredCall(call, QStringLiteral("ok"), false, true, 0)};
            m.total = 8;
            m.head = 7;
            m.length = 6;
            QVERIFY(ok(store.finishTurn(m, answer, t)));
        }
        // And after a restart.
        SqliteStore store(path);
        QVERIFY(ok(store.open()));
        const SessionMeta m = *value(store.loadSession(sid));
        QCOMPARE(m.tools, QStringList{QStringLiteral("*")});
        QCOMPARE(m.toolApproval, ToolApproval::Auto);
        QCOMPARE(value(store.loadBranch(sid, 7, 1)).at(0).toolCalls.at(0).arguments,
                 awkwardArguments());
        QCOMPARE(value(store.loadChunks(crashed, 1, 4, 10)), QList<Chunk>{callChunk(4, call)});
        const QList<TurnRecord> unfinished = value(store.unfinishedTurns());
        QCOMPARE(unfinished.size(), 1);
        QCOMPARE(unfinished.at(0).state, TurnRecord::State::Waiting);
        // The query of unfinished turns still reads the index, not the whole table.
        QSqlDatabase db =
            QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), QStringLiteral("plan"));
        db.setDatabaseName(path);
        QVERIFY(db.open());
        {
            QSqlQuery plan(db);
            QVERIFY(plan.exec(QStringLiteral(
                "EXPLAIN QUERY PLAN SELECT session, id FROM turns"
                " WHERE state IN ('queued', 'streaming', 'waiting') ORDER BY session, id")));
            QString steps;
            while (plan.next())
                steps += plan.value(3).toString() + QLatin1Char('\n');
            QVERIFY2(steps.contains(QLatin1String("turns_unfinished")), qPrintable(steps));
        }
        db.close();
        db = QSqlDatabase();
        QSqlDatabase::removeDatabase(QStringLiteral("plan"));
    }

    // A read from any seq finds the batch that holds it and reads on from there, across
    // batches, for every store (SQLite keeps a batch in one row).
    void chunksReadFromTheMiddleOfABatch_data() { m_stores.addRows(); }
    void chunksReadFromTheMiddleOfABatch()
    {
        QFETCH(QString, kind);
        auto store = m_stores.make(kind);
        QVERIFY(ok(store->open()));
        SessionMeta m = meta(QStringLiteral("mid"));
        QVERIFY(ok(store->createSession(m)));
        QVERIFY(ok(beginWith(store.get(), m, 1,
                             message(0, QStringLiteral("user"), QStringLiteral("go"), 1))));
        const ToolCall call =
            toolCall(QStringLiteral("c1"), QStringLiteral("files/read"), awkwardArguments());
        QList<Chunk> all;
        for (int seq = 0; seq < 13; ++seq)
            all.append(seq == 6 ? callChunk(seq, call)
                                : Chunk(seq, QStringLiteral("c%1 ✓").arg(seq)));
        QVERIFY(ok(store->appendChunks(m.id, 1, all.mid(0, 5))));
        QVERIFY(ok(store->appendChunks(m.id, 1, all.mid(5, 5))));
        QVERIFY(ok(store->appendChunks(m.id, 1, all.mid(10, 3))));
        QCOMPARE(value(store->loadTurn(m.id, 1))->chunks, 13);
        for (int from = 0; from <= 13; ++from) {
            for (int limit : {1, 2, 4, 100}) {
                const QList<Chunk> expected = all.mid(from, limit);
                QCOMPARE(value(store->loadChunks(m.id, 1, from, limit)), expected);
            }
        }
        QVERIFY(value(store->loadChunks(m.id, 1, 13, 10)).isEmpty());
        QVERIFY(value(store->loadChunks(m.id, 2, 0, 10)).isEmpty());
    }

    // The chunk log's continuity check (SQLite): no batch rewrites the turns row after the
    // first, yet a gap, a repeat and a chunk after the end are refused, before and after a
    // restart (which reads where the stream stands from the log), and the turn's record and
    // the recovery's list count the chunks in the log.
    void sqliteChunkContinuityWithoutTurnRowWrites()
    {
        const QString path = m_stores.filePath(QStringLiteral("continuity.db"));
        const QString sid = QStringLiteral("cont");
        const QString storedCount =
            QStringLiteral("SELECT chunks FROM turns WHERE session = 'cont' AND id = 1");
        SessionMeta m = meta(sid);
        {
            SqliteStore store(path);
            QVERIFY(ok(store.open()));
            QVERIFY(ok(store.createSession(m)));
            QVERIFY(ok(beginWith(&store, m, 1,
                                 message(0, QStringLiteral("user"), QStringLiteral("go"), 1))));
            QVERIFY(ok(store.appendChunks(sid, 1, {{0, QStringLiteral("a")}})));
            QVERIFY(ok(
                store.appendChunks(sid, 1, {{1, QStringLiteral("b")}, {2, QStringLiteral("c")}})));
            QCOMPARE(scalarOf(path, storedCount), 0);
            QCOMPARE(value(store.loadTurn(sid, 1))->chunks, 3);
            for (int seq : {1, 2, 4}) {
                HF_AWAIT(refused, store.appendChunks(sid, 1, {{seq, QStringLiteral("x")}}));
                QVERIFY(refused && !refused->ok());
                QCOMPARE(refused->error().code, ErrorCode::Conflict);
            }
            HF_AWAIT(unordered, store.appendChunks(
                                    sid, 1, {{3, QStringLiteral("x")}, {5, QStringLiteral("y")}}));
            QVERIFY(unordered && !unordered->ok());
            QCOMPARE(unordered->error().code, ErrorCode::Conflict);
            QCOMPARE(value(store.loadChunks(sid, 1, 0, 10)).size(), 3);
        }
        // As after kill -9 between batches: the turn is unfinished with the chunks of its log.
        {
            SqliteStore store(path);
            QVERIFY(ok(store.open()));
            const QList<TurnRecord> unfinished = value(store.unfinishedTurns());
            QCOMPARE(unfinished.size(), 1);
            QCOMPARE(unfinished.at(0).chunks, 3);
            QVERIFY(unfinished.at(0).firstChunkAt.isValid());
            HF_AWAIT(repeat, store.appendChunks(sid, 1, {{2, QStringLiteral("x")}}));
            QVERIFY(repeat && !repeat->ok());
            QCOMPARE(repeat->error().code, ErrorCode::Conflict);
            QVERIFY(ok(store.appendChunks(sid, 1, {{3, QStringLiteral("d")}})));
            QCOMPARE(value(store.loadTurn(sid, 1))->chunks, 4);
            QCOMPARE(scalarOf(path, storedCount), 0);

            TurnRecord t = turnRecord(sid, 1, 0);
            t.state = TurnRecord::State::Interrupted;
            t.chunks = 4;
            t.responseIndex = 1;
            m.total = 2;
            m.head = 1;
            Message answer = message(1, QStringLiteral("assistant"), QStringLiteral("abcd"), 1);
            answer.parent = 0;
            answer.depth = 1;
            answer.state = Message::State::Interrupted;
            QVERIFY(ok(store.finishTurn(m, answer, t)));
            QCOMPARE(scalarOf(path, storedCount), 4);
            HF_AWAIT(late, store.appendChunks(sid, 1, {{4, QStringLiteral("late")}}));
            QVERIFY(late && !late->ok());
            QCOMPARE(late->error().code, ErrorCode::Conflict);
        }
        SqliteStore store(path);
        QVERIFY(ok(store.open()));
        HF_AWAIT(late, store.appendChunks(sid, 1, {{4, QStringLiteral("late")}}));
        QVERIFY(late && !late->ok());
        QCOMPARE(late->error().code, ErrorCode::Conflict);
        QVERIFY(value(store.unfinishedTurns()).isEmpty());
        QCOMPARE(value(store.loadChunks(sid, 1, 0, 10)).size(), 4);
        QCOMPARE(value(store.loadTurn(sid, 1))->chunks, 4);
        // Its batches go with its session.
        QVERIFY(ok(store.deleteSession(sid)));
        QCOMPARE(scalarOf(path, QStringLiteral("SELECT count(*) FROM chunk_log")), 0);
    }

    // A real file of schema version 5, written by the holdfast of commit 7cdc9b8 (session
    // "chat": two turns done with 5 chunks each; session "crashed": a turn cut off by kill -9
    // after 7 chunks): its chunk rows move into the chunk log and read as before, from any seq;
    // the cut-off turn is still unfinished with its 7 chunks and takes the 8th, not a repeat.
    void sqliteMigratesARealVersion5File()
    {
        const QString path = m_stores.filePath(QStringLiteral("v5.db"));
        const QString fixture = QString::fromLocal8Bit(qgetenv("HOLDFAST_SOURCE_DIR")) +
                                QStringLiteral("/tests/core/data/holdfast-schema-v5.db");
        QVERIFY2(QFile::copy(fixture, path), qPrintable(fixture));
        QVERIFY(QFile::setPermissions(path, QFile::ReadOwner | QFile::WriteOwner));
        QCOMPARE(userVersion(path), 5);
        const QString sid = QStringLiteral("chat");
        const QString crashed = QStringLiteral("crashed");
        {
            SqliteStore store(path);
            QVERIFY(ok(store.open()));
            QCOMPARE(userVersion(path), SqliteStore::kSchemaVersion);
            QCOMPARE(scalarOf(path, QStringLiteral("SELECT count(*) FROM sqlite_master"
                                                   " WHERE name = 'chunks'")),
                     0);
            for (int tid = 1; tid <= 2; ++tid) {
                const TurnRecord t = *value(store.loadTurn(sid, tid));
                QCOMPARE(t.state, TurnRecord::State::Done);
                QCOMPARE(t.chunks, 5);
                const QList<Chunk> chunks = value(store.loadChunks(sid, tid, 0, 10));
                QCOMPARE(chunks.size(), 5);
                for (int i = 0; i < 5; ++i)
                    QCOMPARE(chunks.at(i).seq, i);
                QCOMPARE(value(store.loadChunks(sid, tid, 3, 10)), chunks.mid(3));
            }
            QVERIFY(value(store.loadChunks(sid, 1, 0, 1))
                        .at(0)
                        .text.startsWith(QStringLiteral("You said: *First question ✓*")));
            const QList<TurnRecord> unfinished = value(store.unfinishedTurns());
            QCOMPARE(unfinished.size(), 1);
            QCOMPARE(unfinished.at(0).session, crashed);
            QCOMPARE(unfinished.at(0).chunks, 7);
            QString text;
            for (const Chunk &c : value(store.loadChunks(crashed, 1, 0, 100)))
                text += c.text;
            QCOMPARE(text, QStringLiteral("You said: *Tell me a long story*\n\nThis is"));
            HF_AWAIT(repeat, store.appendChunks(crashed, 1, {{6, QStringLiteral("x")}}));
            QVERIFY(repeat && !repeat->ok());
            QCOMPARE(repeat->error().code, ErrorCode::Conflict);
            QVERIFY(ok(store.appendChunks(crashed, 1, {{7, QStringLiteral(" new")}})));
        }
        SqliteStore store(path);
        QVERIFY(ok(store.open()));
        QCOMPARE(value(store.unfinishedTurns()).at(0).chunks, 8);
        QCOMPARE(value(store.loadChunks(crashed, 1, 6, 10)),
                 (QList<Chunk>{{6, QStringLiteral("his is")}, {7, QStringLiteral(" new")}}));
        // A new turn's key follows the migrated ones.
        SessionMeta m = *value(store.loadSession(sid));
        Message prompt = message(4, QStringLiteral("user"), QStringLiteral("third"), 3);
        prompt.parent = 3;
        prompt.depth = 4;
        QVERIFY(ok(beginWith(&store, m, 3, prompt)));
        QVERIFY(ok(store.appendChunks(sid, 3, {{0, QStringLiteral("new")}})));
        QCOMPARE(value(store.loadChunks(sid, 3, 0, 10)),
                 (QList<Chunk>{{0, QStringLiteral("new")}}));
        QCOMPARE(scalarOf(path, QStringLiteral("SELECT max(turn_key) FROM turns")), 4);
    }

    // Redis data written before tools (the hashes, JSON and stream entries of commit 4dca394's
    // RedisStore) reads with none: no tools (ask), no tool calls, text chunks; and takes them.
    void redisReadsDataOfBeforeTools()
    {
        if (!m_stores.redis())
            QSKIP("redis-server is not installed");
        auto store = m_stores.make(QStringLiteral("redis"));
        QVERIFY(ok(store->open()));
        const auto redis = [this](const QStringList &args) {
            return !m_stores.redis()->command(args).startsWith('-');
        };
        const QString s = QStringLiteral("hf:{old}:");
        QVERIFY(redis({QStringLiteral("HSET"),    s + QStringLiteral("sess"),
                       QStringLiteral("id"),      QStringLiteral("old"),
                       QStringLiteral("model"),   QStringLiteral("demo"),
                       QStringLiteral("created"), QStringLiteral("2026-03-01T09:00:00.000Z"),
                       QStringLiteral("updated"), QStringLiteral("2026-03-01T10:00:00.000Z"),
                       QStringLiteral("total"),   QStringLiteral("2"),
                       QStringLiteral("active"),  QStringLiteral("2"),
                       QStringLiteral("last"),    QStringLiteral("2"),
                       QStringLiteral("head"),    QStringLiteral("1"),
                       QStringLiteral("length"),  QStringLiteral("2"),
                       QStringLiteral("tree"),    QStringLiteral("1")}));
        QVERIFY(redis({QStringLiteral("ZADD"), QStringLiteral("hf:sessions"),
                       QStringLiteral("-1772359200000"), QStringLiteral("old")}));
        QVERIFY(redis(
            {QStringLiteral("SET"), s + QStringLiteral("msg:1"),
             QStringLiteral("{\"content\":\"hello\",\"created_at\":\"2026-03-01T09:30:00.123Z\","
                            "\"depth\":1,\"parent\":0,\"role\":\"assistant\","
                            "\"state\":\"complete\",\"turn\":1}")}));
        QVERIFY(redis({QStringLiteral("ZADD"), s + QStringLiteral("kids:0"), QStringLiteral("1"),
                       QStringLiteral("1")}));
        QVERIFY(redis({QStringLiteral("HSET"), s + QStringLiteral("turn:2"), QStringLiteral("id"),
                       QStringLiteral("2"), QStringLiteral("session"), QStringLiteral("old"),
                       QStringLiteral("state"), QStringLiteral("streaming"),
                       QStringLiteral("prompt"), QStringLiteral("1"), QStringLiteral("chunks"),
                       QStringLiteral("1"), QStringLiteral("model"), QStringLiteral("demo")}));
        QVERIFY(redis({QStringLiteral("XADD"), s + QStringLiteral("chunks:2"),
                       QStringLiteral("0-1"), QStringLiteral("t"), QStringLiteral("old text")}));

        const SessionMeta m = *value(store->loadSession(QStringLiteral("old")));
        QVERIFY(m.tools.isEmpty());
        QCOMPARE(m.toolApproval, ToolApproval::Ask);
        QVERIFY(value(store->listSessions({}, 10, 0)).sessions.at(0).tools.isEmpty());
        QVERIFY(value(store->loadMessages(m.id, 1, 2)).at(0).toolCalls.isEmpty());
        QCOMPARE(value(store->loadChunks(m.id, 2, 0, 10)),
                 QList<Chunk>{Chunk(0, QStringLiteral("old text"))});

        // Its next writes store what is new.
        const Chunk step = callChunk(1, toolCall(QStringLiteral("c"), QStringLiteral("s/t"), {}));
        QVERIFY(ok(store->appendChunks(m.id, 2, {step})));
        QVERIFY(ok(store->saveTurnState(m.id, 2, TurnRecord::State::Waiting)));
        QCOMPARE(value(store->loadTurn(m.id, 2))->state, TurnRecord::State::Waiting);
        QCOMPARE(value(store->loadChunks(m.id, 2, 0, 10)),
                 (QList<Chunk>{Chunk(0, QStringLiteral("old text")), step}));
        SessionMeta changed = m;
        changed.tools = QStringList{QStringLiteral("s/t")};
        QVERIFY(ok(store->saveSessionMeta(changed)));
        QCOMPARE(value(store->loadSession(m.id))->tools, changed.tools);
    }

    // Redis data written before attachments, options and usage (the hashes and JSON of commit
    // 156e5c4's RedisStore) reads with none of them, and takes them from its next write on.
    void redisReadsDataOfBeforeAttachments()
    {
        if (!m_stores.redis())
            QSKIP("redis-server is not installed");
        auto store = m_stores.make(QStringLiteral("redis"));
        QVERIFY(ok(store->open()));
        const auto redis = [this](const QStringList &args) {
            return !m_stores.redis()->command(args).startsWith('-');
        };
        QVERIFY(redis({QStringLiteral("HSET"),    QStringLiteral("hf:{old}:sess"),
                       QStringLiteral("id"),      QStringLiteral("old"),
                       QStringLiteral("model"),   QStringLiteral("demo"),
                       QStringLiteral("created"), QStringLiteral("2026-03-01T09:00:00.000Z"),
                       QStringLiteral("updated"), QStringLiteral("2026-03-01T10:00:00.000Z"),
                       QStringLiteral("total"),   QStringLiteral("1"),
                       QStringLiteral("active"),  QStringLiteral("1"),
                       QStringLiteral("last"),    QStringLiteral("1"),
                       QStringLiteral("head"),    QStringLiteral("0"),
                       QStringLiteral("length"),  QStringLiteral("1"),
                       QStringLiteral("tree"),    QStringLiteral("1")}));
        QVERIFY(redis({QStringLiteral("ZADD"), QStringLiteral("hf:sessions"),
                       QStringLiteral("-1772359200000"), QStringLiteral("old")}));
        QVERIFY(
            redis({QStringLiteral("SET"), QStringLiteral("hf:{old}:msg:0"),
                   QStringLiteral("{\"content\":\"hi\",\"created_at\":\"2026-03-01T09:30:00.123Z\","
                                  "\"depth\":0,\"parent\":-1,\"role\":\"user\","
                                  "\"state\":\"complete\",\"turn\":1}")}));
        QVERIFY(redis({QStringLiteral("ZADD"), QStringLiteral("hf:{old}:kids:-1"),
                       QStringLiteral("0"), QStringLiteral("0")}));
        QVERIFY(redis({QStringLiteral("HSET"),     QStringLiteral("hf:{old}:turn:1"),
                       QStringLiteral("id"),       QStringLiteral("1"),
                       QStringLiteral("session"),  QStringLiteral("old"),
                       QStringLiteral("state"),    QStringLiteral("streaming"),
                       QStringLiteral("prompt"),   QStringLiteral("0"),
                       QStringLiteral("response"), QStringLiteral("-1"),
                       QStringLiteral("chunks"),   QStringLiteral("0"),
                       QStringLiteral("model"),    QStringLiteral("demo"),
                       QStringLiteral("created"),  QStringLiteral("2026-03-01T09:30:00.000Z"),
                       QStringLiteral("finished"), QString(),
                       QStringLiteral("ecode"),    QString(),
                       QStringLiteral("emsg"),     QString()}));

        SessionMeta m = *value(store->loadSession(QStringLiteral("old")));
        QVERIFY(m.options.isEmpty());
        const QList<Message> all = value(store->loadMessages(m.id, 0, 10));
        QCOMPARE(all.size(), 1);
        QVERIFY(all.at(0).attachments.isEmpty());
        QCOMPARE(value(store->loadBranch(m.id, 0, 10)), all);
        TurnRecord t = *value(store->loadTurn(m.id, 1));
        QVERIFY(!t.usage);
        QVERIFY(!t.context);
        QVERIFY(!t.firstChunkAt.isValid());

        // Its next writes store what is new.
        QVERIFY(ok(store->appendChunks(m.id, 1, {{0, QStringLiteral("hello")}})));
        const QDateTime first = value(store->loadTurn(m.id, 1))->firstChunkAt;
        QVERIFY(first.isValid());
        m.options.maxTokens = 64;
        QVERIFY(ok(store->saveSessionMeta(m)));
        m.total = 2;
        m.head = 1;
        m.length = 2;
        m.activeTurn = 0;
        t.state = TurnRecord::State::Done;
        t.chunks = 1;
        t.responseIndex = 1;
        t.usage = TokenUsage{5, 1};
        QVERIFY(ok(store->finishTurn(
            m, message(1, QStringLiteral("assistant"), QStringLiteral("hello"), 1), t)));
        t.firstChunkAt = first;
        QCOMPARE(value(store->loadTurn(m.id, 1)), std::optional<TurnRecord>(t));
        QCOMPARE(value(store->loadSession(m.id))->options.maxTokens, std::optional<int>(64));
    }

    // A store spec may carry the Redis password: no error message repeats it.
    void badSpecsHidePasswords_data()
    {
        QTest::addColumn<QString>("spec");
        QTest::addColumn<QString>("shown"); // what the message shows instead, "" to skip
        QTest::newRow("unknown scheme") << "foo://:s3cret@x"
                                        << "foo://:****@x";
        QTest::newRow("rediss") << "rediss://app:s3cret@cache:6380/1"
                                << "rediss://app:****@cache";
        QTest::newRow("user only") << "foo://s3cret@cache"
                                   << "foo://****@cache";
        QTest::newRow("@ in password") << "foo://:s3cret@x@cache"
                                       << "foo://:****@cache";
        QTest::newRow("slash in password") << "foo://:s3/cret@cache"
                                           << "foo://:****@cache";
        QTest::newRow("one slash") << "redis:/:s3cret@cache"
                                   << "redis:****@cache";
        QTest::newRow("no slashes") << "redis:s3cret@cache"
                                    << "redis:****@cache";
        QTest::newRow("no scheme") << "s3cret@cache"
                                   << "****@cache";
        QTest::newRow("no password") << "foo://cache/s3cret"
                                     << "foo://cache/s3cret";
        QTest::newRow("bad redis url") << "redis://:s3cret@[cache"
                                       << "";
        QTest::newRow("bad redis db") << "redis://:s3cret@cache/x"
                                      << "";
    }
    void badSpecsHidePasswords()
    {
        QFETCH(QString, spec);
        QFETCH(QString, shown);
        const auto created = createStore(spec);
        QVERIFY(!created);
        QCOMPARE(created.error().code, ErrorCode::BadRequest);
        const QString message = created.error().message;
        if (!spec.endsWith(QLatin1String("/s3cret")))
            QVERIFY2(!message.contains(QLatin1String("s3cret")), qPrintable(message));
        QVERIFY2(message.contains(shown), qPrintable(message));
    }

    void sqliteRefusesBadFiles_data()
    {
        QTest::addColumn<QString>("sql");
        QTest::addColumn<QByteArray>("raw");
        QTest::addColumn<QString>("expected");
        QTest::newRow("newer holdfast")
            << QStringLiteral("PRAGMA application_id = 1212564546;\nCREATE TABLE future "
                              "(x);\nPRAGMA user_version = 99;\n")
            << QByteArray() << QStringLiteral("newer Holdfast");
        QTest::newRow("another program's sqlite")
            << QStringLiteral(
                   "CREATE TABLE contacts (name TEXT);\nINSERT INTO contacts VALUES ('Ada');\n")
            << QByteArray() << QStringLiteral("another program");
        QTest::newRow("not sqlite at all")
            << QString() << QByteArray("This is a text file, not a database.\n").repeated(200)
            << QStringLiteral("not a Holdfast database");
    }
    void sqliteRefusesBadFiles()
    {
        QFETCH(QString, sql);
        QFETCH(QByteArray, raw);
        QFETCH(QString, expected);
        const QString path = m_stores.newFile();
        if (!sql.isEmpty()) {
            QVERIFY(writeSqliteFile(path, sql));
        } else {
            QFile f(path);
            QVERIFY(f.open(QIODevice::WriteOnly));
            f.write(raw);
        }
        QFile before(path);
        QVERIFY(before.open(QIODevice::ReadOnly));
        const QByteArray original = before.readAll();
        before.close();

        SqliteStore store(path);
        HF_AWAIT(opened, store.open());
        QVERIFY(opened && !opened->ok());
        QVERIFY2(opened->error().message.contains(expected), qPrintable(opened->error().message));
        QVERIFY(opened->error().message.contains(path));
        // Refused means untouched: no reset, no tables of ours.
        QFile after(path);
        QVERIFY(after.open(QIODevice::ReadOnly));
        QCOMPARE(after.readAll(), original);
        // And every call afterwards fails cleanly instead of crashing.
        HF_AWAIT(load, store.loadSession(QStringLiteral("x")));
        QVERIFY(load && !load->ok());
        QCOMPARE(load->error().code, ErrorCode::Unavailable);
    }

    // Appends that queue up while the worker is busy share one transaction.
    void sqliteGroupsConcurrentChunkWrites()
    {
        SqliteStore store(m_stores.filePath(QStringLiteral("group.db")));
        QVERIFY(ok(store.open()));
        constexpr int kSessions = 40;
        constexpr int kBatches = 25;
        for (int s = 0; s < kSessions; ++s) {
            SessionMeta m = meta(QStringLiteral("g%1").arg(s));
            QVERIFY(ok(store.createSession(m)));
            m.total = 1;
            m.lastTurn = 1;
            QVERIFY(ok(store.beginTurn(m, message(0, QStringLiteral("user"), QStringLiteral("go")),
                                       turnRecord(m.id, 1, 0))));
        }
        const quint64 txBefore = store.chunkTransactions();
        int done = 0;
        int failed = 0;
        QList<QCoro::Task<Status>> tasks;
        for (int b = 0; b < kBatches; ++b) {
            for (int s = 0; s < kSessions; ++s) {
                store
                    .appendChunks(QStringLiteral("g%1").arg(s), 1,
                                  {{b, QStringLiteral("c%1").arg(b)}})
                    .then([&](Status st) {
                        ++done;
                        failed += st.ok() ? 0 : 1;
                    });
            }
        }
        QVERIFY(test::spinUntil([&] { return done == kSessions * kBatches; }));
        QCOMPARE(failed, 0);
        const quint64 transactions = store.chunkTransactions() - txBefore;
        qInfo() << kSessions * kBatches << "chunk batches written in" << transactions
                << "transactions";
        QVERIFY(transactions < quint64(kSessions * kBatches));
        for (int s = 0; s < kSessions; ++s) {
            const QList<Chunk> chunks =
                value(store.loadChunks(QStringLiteral("g%1").arg(s), 1, 0, 1000));
            QCOMPARE(chunks.size(), kBatches);
            QCOMPARE(chunks.last().text, QStringLiteral("c%1").arg(kBatches - 1));
            QCOMPARE(value(store.loadTurn(QStringLiteral("g%1").arg(s), 1))->chunks, kBatches);
        }
    }

    // Every kind of write is group-committed: sessions and turns started together (W2's 1,000
    // clients) share transactions, in the order they were asked for, and one that fails (an id
    // that exists) fails alone with its own error while the others are stored.
    void sqliteGroupsConcurrentWrites()
    {
        const QString path = m_stores.filePath(QStringLiteral("groupall.db"));
        SqliteStore store(path);
        QVERIFY(ok(store.open()));
        QVERIFY(ok(store.createSession(meta(QStringLiteral("w0")))));
        constexpr int kSessions = 200;
        const quint64 rowsBefore = store.rowsWritten();
        const quint64 txBefore = store.writeTransactions();
        const quint64 writesBefore = store.writes();
        QList<std::optional<Status>> created(kSessions + 2);
        QVERIFY(whileWriteLocked(path, [&] {
            for (int s = 1; s <= kSessions; ++s)
                store.createSession(meta(QStringLiteral("w%1").arg(s))).then([&, s](Status st) {
                    created[s] = st;
                });
            // Queued after its creation, in the same transaction: FIFO makes it find the session.
            SessionMeta renamed = meta(QStringLiteral("w%1").arg(kSessions));
            renamed.title = QStringLiteral("renamed");
            store.saveSessionMeta(renamed).then([&](Status st) { created[kSessions + 1] = st; });
            store.createSession(meta(QStringLiteral("w0"))).then([&](Status st) {
                created[0] = st;
            });
        }));
        QVERIFY(test::spinUntil([&] {
            return std::all_of(created.cbegin(), created.cend(),
                               [](const std::optional<Status> &st) { return st.has_value(); });
        }));
        QVERIFY(!created.at(0)->ok());
        QCOMPARE(created.at(0)->error().code, ErrorCode::Conflict);
        QVERIFY2(created.at(0)->error().message.contains(QLatin1String("already exists")),
                 qPrintable(created.at(0)->error().message));
        for (int s = 1; s <= kSessions + 1; ++s)
            QVERIFY2(ok(created.at(s)), qPrintable(QString::number(s)));
        const quint64 createTx = store.writeTransactions() - txBefore;
        qInfo() << kSessions + 2 << "session writes in" << createTx << "transactions";
        QCOMPARE(store.writes() - writesBefore, quint64(kSessions + 2));
        QVERIFY(createTx <= 2); // the first may have started alone before the lock held it
        QCOMPARE(value(store.loadSession(QStringLiteral("w%1").arg(kSessions)))->title,
                 QStringLiteral("renamed"));

        // Then every session starts a turn at once; one names a session that does not exist.
        const quint64 turnTxBefore = store.writeTransactions();
        QList<std::optional<Status>> begun(kSessions + 1);
        QVERIFY(whileWriteLocked(path, [&] {
            for (int s = 0; s <= kSessions; ++s) {
                SessionMeta m = meta(QStringLiteral("w%1").arg(s == 0 ? kSessions + 1 : s));
                m.total = 1;
                m.lastTurn = 1;
                m.activeTurn = 1;
                store
                    .beginTurn(m, message(0, QStringLiteral("user"), QStringLiteral("go"), 1),
                               turnRecord(m.id, 1, 0))
                    .then([&, s](Status st) { begun[s] = st; });
            }
        }));
        QVERIFY(test::spinUntil([&] {
            return std::all_of(begun.cbegin(), begun.cend(),
                               [](const std::optional<Status> &st) { return st.has_value(); });
        }));
        QVERIFY(!begun.at(0)->ok());
        QCOMPARE(begun.at(0)->error().code, ErrorCode::NotFound);
        for (int s = 1; s <= kSessions; ++s)
            QVERIFY2(ok(begun.at(s)), qPrintable(QString::number(s)));
        const quint64 turnTx = store.writeTransactions() - turnTxBefore;
        qInfo() << kSessions + 1 << "turn starts in" << turnTx << "transactions";
        QVERIFY(turnTx <= 2);
        QCOMPARE(value(store.unfinishedTurns()).size(), kSessions);
        QVERIFY(
            value(store.loadMessages(QStringLiteral("w%1").arg(kSessions + 1), 0, 10)).isEmpty());
        // Rows of the writes that failed were rolled back and are not counted: a session row per
        // creation, one rename, and per turn its prompt, its turn and its session's metadata.
        QCOMPARE(store.rowsWritten() - rowsBefore, quint64(kSessions + 1 + 3 * kSessions));
    }

    // One bad batch in a group fails alone; the others are stored.
    void sqliteBadBatchFailsAlone()
    {
        SqliteStore store(m_stores.filePath(QStringLiteral("alone.db")));
        QVERIFY(ok(store.open()));
        SessionMeta m = meta(QStringLiteral("a"));
        QVERIFY(ok(store.createSession(m)));
        m.total = 1;
        m.lastTurn = 1;
        QVERIFY(ok(store.beginTurn(m, message(0, QStringLiteral("user"), QStringLiteral("go")),
                                   turnRecord(m.id, 1, 0))));
        std::optional<Status> good1, bad, good2;
        store.appendChunks(m.id, 1, {{0, QStringLiteral("a")}}).then([&](Status s) { good1 = s; });
        store.appendChunks(m.id, 7, {{0, QStringLiteral("nowhere")}}).then([&](Status s) {
            bad = s;
        });
        store.appendChunks(m.id, 1, {{1, QStringLiteral("b")}}).then([&](Status s) { good2 = s; });
        QVERIFY(test::spinUntil([&] { return good1 && bad && good2; }));
        QVERIFY(ok(good1));
        QVERIFY(ok(good2));
        QVERIFY(!bad->ok());
        QCOMPARE(bad->error().code, ErrorCode::NotFound);
        QCOMPARE(value(store.loadChunks(m.id, 1, 0, 10)).size(), 2);
        QVERIFY(value(store.loadChunks(m.id, 7, 0, 10)).isEmpty());
    }

    // Texts go to SQLite as UTF-8 and come back as they were: NULL stays a null QString, ''
    // an empty (not null) one, and text beyond the BMP survives.
    void sqliteTextsRoundTrip()
    {
        SqliteStore store(m_stores.filePath(QStringLiteral("texts.db")));
        QVERIFY(ok(store.open()));
        SessionMeta empty = meta(QStringLiteral("empty"));
        empty.title = QStringLiteral("");
        empty.system = QString();
        SessionMeta rich = meta(QStringLiteral("rich"));
        rich.title = QStringLiteral("Ärger \U0001F600 漢字 \u00e9");
        rich.system = QStringLiteral("line\nbreak\ttab '\"quotes\"");
        QVERIFY(ok(store.createSession(empty)));
        QVERIFY(ok(store.createSession(rich)));
        const auto e = value(store.loadSession(empty.id));
        QVERIFY(e);
        QVERIFY(!e->title.isNull());
        QVERIFY(e->title.isEmpty());
        QVERIFY(e->system.isNull());
        const auto r = value(store.loadSession(rich.id));
        QVERIFY(r);
        QCOMPARE(r->title, rich.title);
        QCOMPARE(r->system, rich.system);
        QCOMPARE(r->createdAt, rich.createdAt);
        QCOMPARE(value(store.listSessions(QStringLiteral("ärger"), 10, 0)).total, 1);
    }

    // Results made on a worker thread reach the coroutines waiting for them on this one: all
    // that were completed before this thread looked again are resumed together, in order, by
    // one wake-up; a coroutine that awaits before its result exists is resumed when it comes.
    void handoffResumesABatchWithOneWakeup()
    {
        Handoff handoff;
        constexpr int kCount = 200;
        QList<Handoff::Result<QString>> results;
        for (int i = 0; i < kCount; ++i)
            results.append(handoff.expect<QString>());
        QList<QString> seen;
        const auto consume = [&seen](Handoff::Result<QString> r) -> QCoro::Task<> {
            seen.append(co_await r);
        };
        for (const auto &r : std::as_const(results))
            consume(r); // each suspends: nothing is there yet
        QVERIFY(seen.isEmpty());

        std::unique_ptr<QThread> worker(QThread::create([&results] {
            for (int i = 0; i < kCount; ++i)
                results.at(i).complete(QStringLiteral("r%1").arg(i));
        }));
        worker->start();
        QVERIFY(worker->wait(10000)); // every result is queued before this thread looks
        QVERIFY(seen.isEmpty());
        QTRY_COMPARE(seen.size(), kCount);
        QCOMPARE(handoff.wakeups(), quint64(1));
        for (int i = 0; i < kCount; ++i)
            QCOMPARE(seen.at(i), QStringLiteral("r%1").arg(i));

        // Awaited after it came: no suspension, the same value.
        auto late = handoff.expect<QString>();
        late.complete(QStringLiteral("late"));
        QTRY_COMPARE(handoff.wakeups(), quint64(2));
        HF_AWAIT(got, [](Handoff::Result<QString> r) -> QCoro::Task<QString> {
            co_return co_await r;
        }(late));
        QCOMPARE(got.value_or(QString()), QStringLiteral("late"));
    }
};

QTEST_GUILESS_MAIN(TestStore)
#include "tst_store.moc"
