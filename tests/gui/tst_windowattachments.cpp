// Attachments in the window, on the in-process service with the demo model: attached by the
// paperclip's dialog, by drop and by paste; chips removable and kept in the chat's draft; the
// service's refusals shown; thumbnails and file chips in sent messages; edit keeps the files;
// export writes them; screenshots to look at. Over 600 lines on purpose: one executable for all of
// the window's attachment tests (each new test executable costs CI time), sharing its helpers.
#include "client/remoteclient.h"
#include "gui/attachmentbar.h"
#include "gui/attachmentcache.h"
#include "gui/attachmentfiles.h"
#include "gui/darkpalette.h"
#include "gui/draftstore.h"
#include "gui/sessionexport.h"
#include "gui/windowfixture.h"

#include <QApplication>
#include <QClipboard>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QListView>
#include <QMimeData>
#include <QPainter>
#include <QProcess>
#include <QScopeGuard>
#include <QScrollBar>
#include <QSettings>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTextBlock>
#include <QToolButton>

using namespace holdfast;
using holdfast::test::Fixture;
using holdfast::test::spinUntil;

namespace {

// A real little PNG: a sky, a sun and a hill.
QImage picture()
{
    QImage image(320, 200, QImage::Format_RGB32);
    image.fill(QColor(0x7e, 0xc8, 0xf0));
    QPainter p(&image);
    p.setRenderHint(QPainter::Antialiasing);
    p.setPen(Qt::NoPen);
    p.setBrush(QColor(0xff, 0xd2, 0x3f));
    p.drawEllipse(QPointF(240, 60), 34, 34);
    p.setBrush(QColor(0x3c, 0x9a, 0x4c));
    p.drawEllipse(QPointF(110, 260), 190, 120);
    p.setBrush(QColor(0xc0, 0x39, 0x2b));
    p.drawRect(60, 120, 50, 40);
    return image;
}

QString writeFile(const QTemporaryDir &dir, const QString &name, const QByteArray &bytes)
{
    const QString path = dir.filePath(name);
    QFile out(path);
    if (!out.open(QIODevice::WriteOnly) || out.write(bytes) != bytes.size())
        return {};
    return path;
}

QString writePng(const QTemporaryDir &dir, const QString &name)
{
    const QString path = dir.filePath(name);
    return picture().save(path, "PNG") ? path : QString();
}

// The hrefs of the view's links that start with `prefix`, in document order.
QStringList links(const QTextDocument *document, const QString &prefix)
{
    QStringList found;
    for (QTextBlock block = document->begin(); block.isValid(); block = block.next()) {
        for (auto it = block.begin(); !it.atEnd(); ++it) {
            const QString href = it.fragment().charFormat().anchorHref();
            if (href.startsWith(prefix) && !found.contains(href))
                found << href;
        }
    }
    return found;
}

QStringList chipNames(ChatPane *pane)
{
    QStringList names;
    for (const AttachmentBar::Chip &chip : pane->attachmentBar()->chips())
        names << chip.name;
    return names;
}

bool settled(ChatPane *pane)
{
    const auto &chips = pane->attachmentBar()->chips();
    return !pane->isUploading() &&
           std::none_of(chips.cbegin(), chips.cend(), [](const auto &c) { return c.busy; });
}

// Drags `mime` onto `widget` and drops it there, as a file manager would.
void drop(QWidget *widget, QMimeData *mime)
{
    const QPoint at = widget->rect().center();
    QDragEnterEvent enter(at, Qt::CopyAction, mime, Qt::LeftButton, Qt::NoModifier);
    QApplication::sendEvent(widget, &enter);
    QDropEvent dropped(QPointF(at), Qt::CopyAction, mime, Qt::LeftButton, Qt::NoModifier);
    QApplication::sendEvent(widget, &dropped);
}

QString shotsDir()
{
    const QString dir =
        qEnvironmentVariable("HOLDFAST_SHOTS_DIR", QStringLiteral(HOLDFAST_TEST_OUTPUT_DIR));
    QDir().mkpath(dir);
    return dir;
}

} // namespace

class TestWindowAttachments : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void init();
    void attachByDialogAndSend();
    void attachByDropAndPaste();
    void refusedFilesShowTheServiceMessage();
    void sentFilesOpenAndSave();
    void draftKeepsPendingFiles();
    void editKeepsTheFiles();
    void exportWritesTheFiles();
    void remoteWindowUploadsOverHttp();
    void screenshots_data();
    void screenshots();

private:
    QTemporaryDir m_home;
    QTemporaryDir m_files;
};

void TestWindowAttachments::initTestCase()
{
    QVERIFY(test::isolateHome(m_home));
    QVERIFY(m_files.isValid());
}

void TestWindowAttachments::init()
{
    QFile::remove(DraftStore().path()); // each test starts without drafts
}

// The paperclip's dialog (bypassed: the test chooses) attaches a picture and a text file to a
// new chat, which it creates; they upload at once, go with the prompt, and the demo names them.
void TestWindowAttachments::attachByDialogAndSend()
{
    Fixture f(2, 0);
    HF_CHECK_FIXTURE(f);
    const QString png = writePng(m_files, QStringLiteral("sunny hill.png"));
    const QString txt = writeFile(m_files, QStringLiteral("notes.txt"), "first line\nsecond\n");
    QVERIFY(!png.isEmpty() && !txt.isEmpty());
    int asked = 0;
    f.pane()->setFileChooser([&](QWidget *) {
        ++asked;
        return QStringList{png, txt};
    });
    QVERIFY(f.pane()->sessionId().isEmpty());
    f.pane()->attachButton()->click();
    QCOMPARE(asked, 1);
    QCOMPARE(chipNames(f.pane()),
             (QStringList{QStringLiteral("sunny hill.png"), QStringLiteral("notes.txt")}));
    QVERIFY(spinUntil([&] { return settled(f.pane()); }));
    QCOMPARE(f.pane()->attachmentBar()->errorText(), QString());
    const QString sid = f.pane()->sessionId();
    QVERIFY(!sid.isEmpty()); // the chat the files belong to
    const QList<Attachment> files = f.pane()->composerFiles();
    QCOMPARE(files.size(), 2);
    QCOMPARE(files.at(0).type, QStringLiteral("image/png"));
    QCOMPARE(files.at(1).size, 18);
    QVERIFY(!f.pane()->attachmentBar()->chips().at(0).thumbnail.isNull());

    QSignalSpy finished(f.client, &SessionClient::turnFinished);
    f.type(QStringLiteral("What are these?"));
    QVERIFY(spinUntil([&] { return finished.count() == 1; }));
    const QList<Message> stored = f.stored(sid);
    QCOMPARE(stored.size(), 2);
    QCOMPARE(stored.at(0).attachments.size(), 2);
    QCOMPARE(stored.at(0).attachments.at(0).id, files.at(0).id);
    QCOMPARE(stored.at(0).attachments.at(1).name, QStringLiteral("notes.txt"));
    QVERIFY2(stored.at(1).content.contains(QLatin1String("notes.txt")),
             qPrintable(stored.at(1).content));            // the demo names what it was given
    QVERIFY(f.pane()->attachmentBar()->chips().isEmpty()); // sent: the draft has none left
    QVERIFY(f.window->drafts()->attachments(sid).isEmpty());
    // The sent prompt shows the picture (decoded already: the window had it) and the file.
    QVERIFY(spinUntil([&] { return f.view()->thumbnailLoaded(files.at(0).id); }));
    QVERIFY(f.view()->toPlainText().contains(QLatin1String("notes.txt")));
}

// A file dropped on the conversation, one dropped on the composer, and a pasted picture become
// chips; × takes one away; a pasted text stays text.
void TestWindowAttachments::attachByDropAndPaste()
{
    Fixture f(2, 0);
    HF_CHECK_FIXTURE(f);
    const QString txt = writeFile(m_files, QStringLiteral("dropped.log"), "line one\n");
    const QString md = writeFile(m_files, QStringLiteral("readme.md"), "# Title\n");
    QVERIFY(!txt.isEmpty() && !md.isEmpty());

    auto *onView = new QMimeData;
    onView->setUrls({QUrl::fromLocalFile(txt)});
    drop(f.view()->viewport(), onView);
    QVERIFY(spinUntil([&] { return f.pane()->composerFiles().size() == 1; }));
    const QString sid = f.pane()->sessionId();
    QVERIFY(!sid.isEmpty());
    QCOMPARE(f.pane()->composerFiles().at(0).name, QStringLiteral("dropped.log"));

    auto *onComposer = new QMimeData;
    onComposer->setUrls({QUrl::fromLocalFile(md)});
    drop(f.composer()->viewport(), onComposer);
    QVERIFY(spinUntil([&] { return f.pane()->composerFiles().size() == 2; }));
    QCOMPARE(f.composer()->toPlainText(), QString()); // no path typed into the prompt

    QApplication::clipboard()->setImage(picture());
    f.composer()->setFocus();
    QTest::keySequence(f.composer(), QKeySequence::Paste);
    QVERIFY(spinUntil([&] { return f.pane()->composerFiles().size() == 3; }));
    const Attachment pasted = f.pane()->composerFiles().at(2);
    QVERIFY2(pasted.name.startsWith(QLatin1String("pasted-image-")) &&
                 pasted.name.endsWith(QLatin1String(".png")),
             qPrintable(pasted.name));
    QCOMPARE(pasted.type, QStringLiteral("image/png"));
    HF_AWAIT(bytes, f.client->attachmentBytes(sid, pasted.id));
    QVERIFY(bytes->ok());
    QImage decoded;
    QVERIFY(decoded.loadFromData(bytes->value(), "PNG"));
    QCOMPARE(decoded.size(), picture().size());

    // Files copied in a file manager and pasted: the files, not their paths.
    const QString csv = writeFile(m_files, QStringLiteral("copied.csv"), "a,b\n");
    auto *copied = new QMimeData;
    copied->setUrls({QUrl::fromLocalFile(csv)});
    QApplication::clipboard()->setMimeData(copied);
    QTest::keySequence(f.composer(), QKeySequence::Paste);
    QVERIFY(spinUntil([&] { return f.pane()->composerFiles().size() == 4; }));
    QCOMPARE(f.pane()->composerFiles().at(3).name, QStringLiteral("copied.csv"));
    QCOMPARE(f.composer()->toPlainText(), QString());

    QApplication::clipboard()->setText(QStringLiteral("just words"));
    QTest::keySequence(f.composer(), QKeySequence::Paste);
    QCOMPARE(f.composer()->toPlainText(), QStringLiteral("just words"));
    QCOMPARE(f.pane()->composerFiles().size(), 4);

    // The markdown file's ×.
    QVERIFY(settled(f.pane()));
    f.pane()->attachmentBar()->removeButton(1)->click();
    QVERIFY(spinUntil([&] { return f.pane()->attachmentBar()->chips().size() == 3; }));
    QCOMPARE(chipNames(f.pane()), (QStringList{QStringLiteral("dropped.log"), pasted.name,
                                               QStringLiteral("copied.csv")}));
    QCOMPARE(f.window->drafts()->attachments(sid).size(), 3);
}

// What the service refuses (over its limit: 413; a type it does not take: 415; bytes that are not
// what they claim: 422) shows the service's message by the chip, and is not sent.
void TestWindowAttachments::refusedFilesShowTheServiceMessage()
{
    Fixture f(2, 0);
    HF_CHECK_FIXTURE(f);
    // The same window on a service whose uploads may be 1000 bytes at most.
    f.window.reset();
    QVERIFY(test::awaitVoid(f.service->shutdown()));
    ServiceConfig config;
    config.maxAttachmentBytes = 1000;
    f.service = std::make_unique<SessionService>(f.store.get(), &f.registry, config);
    QVERIFY(test::awaitResult(f.service->start()).ok());
    f.openWindow();
    HF_CHECK_FIXTURE(f);

    const QString big = writeFile(m_files, QStringLiteral("big.txt"), QByteArray(1001, 'x'));
    QByteArray zip("PK\x03\x04", 4);
    zip += QByteArray(60, '\0');
    const QString archive = writeFile(m_files, QStringLiteral("archive.zip"), zip);
    const QString fake = writeFile(m_files, QStringLiteral("fake.png"), "not a picture at all");
    const QString ok = writeFile(m_files, QStringLiteral("ok.txt"), QByteArray(1000, 'y'));
    f.pane()->setFileChooser([&](QWidget *) { return QStringList{big, archive, fake, ok}; });
    f.pane()->attachButton()->click();
    QVERIFY(spinUntil([&] { return settled(f.pane()); }));
    QHash<QString, QString> errors;
    for (const AttachmentBar::Chip &chip : f.pane()->attachmentBar()->chips())
        errors.insert(chip.name, chip.error);
    QCOMPARE(errors.size(), 4);
    QVERIFY2(errors.value(QStringLiteral("big.txt")).contains(QLatin1String("1000")),
             qPrintable(errors.value(QStringLiteral("big.txt"))));
    QVERIFY2(errors.value(QStringLiteral("archive.zip")).contains(QLatin1String("application/zip")),
             qPrintable(errors.value(QStringLiteral("archive.zip"))));
    QVERIFY2(errors.value(QStringLiteral("fake.png")).contains(QLatin1String("image/png")),
             qPrintable(errors.value(QStringLiteral("fake.png"))));
    QCOMPARE(errors.value(QStringLiteral("ok.txt")), QString());
    // The messages are shown under the chips, each with its file's name.
    const QString shown = f.pane()->attachmentBar()->errorText();
    for (const QString &name :
         {QStringLiteral("big.txt"), QStringLiteral("archive.zip"), QStringLiteral("fake.png")})
        QVERIFY2(shown.contains(name + QStringLiteral(": ") + errors.value(name)),
                 qPrintable(shown));
    QVERIFY(f.pane()->attachmentBar()->isVisible());
    QCOMPARE(f.pane()->composerFiles().size(), 1);

    QSignalSpy finished(f.client, &SessionClient::turnFinished);
    f.type(QStringLiteral("Only the good one"));
    QVERIFY(spinUntil([&] { return finished.count() == 1; }));
    const QList<Message> stored = f.stored(f.pane()->sessionId());
    QVERIFY(!stored.isEmpty());
    QCOMPARE(stored.at(0).attachments.size(), 1);
    QCOMPARE(stored.at(0).attachments.at(0).name, QStringLiteral("ok.txt"));
    QVERIFY(f.pane()->attachmentBar()->chips().isEmpty());
    QCOMPARE(f.pane()->attachmentBar()->errorText(), QString());
}

// A sent file opens through the desktop's handler (injected here) from a private folder, and
// "Save As" writes it where the user chose.
void TestWindowAttachments::sentFilesOpenAndSave()
{
    Fixture f(2, 0);
    HF_CHECK_FIXTURE(f);
    const QByteArray text = "the file's own words\n";
    const QString txt = writeFile(m_files, QStringLiteral("words.txt"), text);
    f.pane()->setFileChooser([&](QWidget *) { return QStringList{txt}; });
    f.pane()->attachButton()->click();
    QVERIFY(spinUntil([&] { return f.pane()->composerFiles().size() == 1; }));
    QSignalSpy finished(f.client, &SessionClient::turnFinished);
    f.type(QStringLiteral("Read this"));
    QVERIFY(spinUntil([&] { return finished.count() == 1; }));

    QList<QUrl> opened;
    f.pane()->opener()->setOpener([&](const QUrl &url) {
        opened << url;
        return true;
    });
    const QStringList fileLinks = links(f.view()->document(), QStringLiteral("hf-file:"));
    QCOMPARE(fileLinks.size(), 1);
    Q_EMIT f.view()->anchorClicked(QUrl(fileLinks.first()));
    QVERIFY(spinUntil([&] { return opened.size() == 1; }));
    QVERIFY(opened.first().isLocalFile());
    const QString path = opened.first().toLocalFile();
    QCOMPARE(QFileInfo(path).fileName(), QStringLiteral("words.txt"));
    QVERIFY(path.startsWith(f.pane()->opener()->folder() + u'/'));
    const auto mode = QFileInfo(f.pane()->opener()->folder()).permissions();
    QVERIFY(
        mode.testFlags(QFileDevice::ReadOwner | QFileDevice::WriteOwner | QFileDevice::ExeOwner));
    QVERIFY(!(mode & (QFileDevice::ReadGroup | QFileDevice::WriteGroup | QFileDevice::ExeGroup |
                      QFileDevice::ReadOther | QFileDevice::WriteOther | QFileDevice::ExeOther)));
    QVERIFY(!(QFileInfo(path).permissions() & (QFileDevice::ReadOther | QFileDevice::ReadGroup)));
    QFile written(path);
    QVERIFY(written.open(QIODevice::ReadOnly));
    QCOMPARE(written.readAll(), text);

    const QString target = m_files.filePath(QStringLiteral("saved copy.txt"));
    f.pane()->opener()->setSaveChooser([&](QWidget *, const QString &suggested) {
        return suggested == QLatin1String("words.txt") ? target : QString();
    });
    QSignalSpy saved(f.pane()->opener(), &AttachmentOpener::saved);
    Q_EMIT f.view()->attachmentSaveRequested(
        f.pane()->sessionId(), f.stored(f.pane()->sessionId()).at(0).attachments.at(0));
    QVERIFY(spinUntil([&] { return saved.count() == 1; }));
    QFile copy(target);
    QVERIFY(copy.open(QIODevice::ReadOnly));
    QCOMPARE(copy.readAll(), text);
}

// Files attached but not sent stay with their chat: across switching chats and a restart.
void TestWindowAttachments::draftKeepsPendingFiles()
{
    Fixture f(2, 0);
    HF_CHECK_FIXTURE(f);
    const QString png = writePng(m_files, QStringLiteral("kept.png"));
    f.pane()->setFileChooser([&](QWidget *) { return QStringList{png}; });
    f.pane()->attachButton()->click();
    QVERIFY(spinUntil([&] { return f.pane()->composerFiles().size() == 1; }));
    const QString a = f.pane()->sessionId();
    CreateSessionParams p;
    p.title = QStringLiteral("Other chat");
    HF_AWAIT(other, f.service->createSession(p));
    QVERIFY(other->ok());
    const QString b = other->value().meta.id;
    QListView *list = f.window->sidebar()->list();
    const auto open = [&](const QString &sid) {
        if (!spinUntil([&] { return f.list()->rowOf(sid) >= 0; }))
            return false;
        list->setCurrentIndex(f.list()->index(f.list()->rowOf(sid)));
        return spinUntil([&] { return f.pane()->sessionId() == sid; });
    };
    QVERIFY(open(b));
    QVERIFY(f.pane()->attachmentBar()->chips().isEmpty());
    QVERIFY(!f.pane()->attachmentBar()->isVisible());
    QVERIFY(open(a));
    QCOMPARE(chipNames(f.pane()), QStringList{QStringLiteral("kept.png")});

    f.window->close(); // the drafts are written (on a worker thread)
    QVERIFY(spinUntil([&] {
        QFile file(DraftStore().path());
        return file.open(QIODevice::ReadOnly) && file.readAll().contains("kept.png");
    }));
    f.openWindow();
    HF_CHECK_FIXTURE(f);
    QVERIFY(spinUntil([&] { return f.pane()->sessionId() == a; }));
    QVERIFY(
        spinUntil([&] { return chipNames(f.pane()) == QStringList{QStringLiteral("kept.png")}; }));
    // Its thumbnail is fetched from the service again.
    QVERIFY(
        spinUntil([&] { return !f.pane()->attachmentBar()->chips().at(0).thumbnail.isNull(); }));
    QSignalSpy finished(f.client, &SessionClient::turnFinished);
    f.type(QStringLiteral("Still here?"));
    QVERIFY(spinUntil([&] { return finished.count() == 1; }));
    QCOMPARE(f.stored(a).at(0).attachments.size(), 1);
}

// Editing a sent prompt shows its files as chips; the new version goes with the same files.
void TestWindowAttachments::editKeepsTheFiles()
{
    Fixture f(2, 0);
    HF_CHECK_FIXTURE(f);
    const QString txt = writeFile(m_files, QStringLiteral("spec.txt"), "the spec\n");
    f.pane()->setFileChooser([&](QWidget *) { return QStringList{txt}; });
    f.pane()->attachButton()->click();
    QVERIFY(spinUntil([&] { return f.pane()->composerFiles().size() == 1; }));
    const QString aid = f.pane()->composerFiles().at(0).id;
    QSignalSpy finished(f.client, &SessionClient::turnFinished);
    f.type(QStringLiteral("Summarise"));
    QVERIFY(spinUntil([&] { return finished.count() == 1; }));
    QVERIFY(f.pane()->attachmentBar()->chips().isEmpty());

    f.pane()->editMessage(0);
    QVERIFY(f.pane()->isEditing());
    QCOMPARE(chipNames(f.pane()), QStringList{QStringLiteral("spec.txt")});
    f.composer()->moveCursor(QTextCursor::End);
    QTest::keyClicks(f.composer(), QStringLiteral(" briefly"));
    QTest::keyClick(f.composer(), Qt::Key_Return);
    QVERIFY(spinUntil([&] { return finished.count() == 2; }));
    const QList<Message> stored = f.stored(f.pane()->sessionId());
    const auto edited = std::find_if(stored.cbegin(), stored.cend(), [](const Message &m) {
        return m.content == QLatin1String("Summarise briefly");
    });
    QVERIFY(edited != stored.cend());
    QCOMPARE(edited->attachments.size(), 1);
    QCOMPARE(edited->attachments.at(0).id, aid);
    QVERIFY(!f.pane()->isEditing());
    QVERIFY(f.pane()->attachmentBar()->chips().isEmpty()); // the draft had none
}

// Markdown: the files in NAME_files/ beside the document, linked; JSON: their bytes as base64.
void TestWindowAttachments::exportWritesTheFiles()
{
    Fixture f(2, 0);
    HF_CHECK_FIXTURE(f);
    const QString png = writePng(m_files, QStringLiteral("chart.png"));
    const QString txt = writeFile(m_files, QStringLiteral("data [v2].txt"), "a,b\n1,2\n");
    f.pane()->setFileChooser([&](QWidget *) { return QStringList{png, txt}; });
    f.pane()->attachButton()->click();
    QVERIFY(spinUntil([&] { return f.pane()->composerFiles().size() == 2; }));
    QSignalSpy finished(f.client, &SessionClient::turnFinished);
    f.type(QStringLiteral("Plot it"));
    QVERIFY(spinUntil([&] { return finished.count() == 1; }));
    const QString sid = f.pane()->sessionId();

    HF_AWAIT(branch, sessionexport::readBranch(f.client, sid));
    QVERIFY(branch->ok());
    HF_AWAIT(files, sessionexport::readFiles(f.client, sid, branch->value()));
    QVERIFY(files->ok());
    QCOMPARE(files->value().size(), 2);
    QTemporaryDir out;
    const QString path = out.filePath(QStringLiteral("my chat.md"));
    const QByteArray markdown = sessionexport::toMarkdown(f.pane()->meta(), branch->value(),
                                                          sessionexport::filesFolderFor(path));
    QVERIFY(sessionexport::writeMarkdown(path, markdown, branch->value(), files->value()));
    const QString text = QString::fromUtf8(markdown);
    QVERIFY2(text.contains(QLatin1String("![chart.png](<my chat_files/chart.png>)")),
             qPrintable(text));
    QVERIFY2(text.contains(QLatin1String("[data \\[v2\\].txt](<my chat_files/data [v2].txt>)")),
             qPrintable(text));
    QFile image(out.filePath(QStringLiteral("my chat_files/chart.png")));
    QVERIFY(image.open(QIODevice::ReadOnly));
    QCOMPARE(image.readAll(), files->value().value(f.stored(sid).at(0).attachments.at(0).id));
    QVERIFY(QFile::exists(out.filePath(QStringLiteral("my chat_files/data [v2].txt"))));

    const QJsonObject json =
        QJsonDocument::fromJson(
            sessionexport::toJson(f.pane()->meta(), branch->value(), files->value()))
            .object();
    const QJsonArray attached = json.value(QStringLiteral("history"))
                                    .toArray()
                                    .at(0)
                                    .toObject()
                                    .value(QStringLiteral("attachments"))
                                    .toArray();
    QCOMPARE(attached.size(), 2);
    QCOMPARE(attached.at(1).toObject().value(QStringLiteral("name")).toString(),
             QStringLiteral("data [v2].txt"));
    QCOMPARE(QByteArray::fromBase64(
                 attached.at(1).toObject().value(QStringLiteral("data")).toString().toLatin1()),
             QByteArray("a,b\n1,2\n"));
}

// The window on a real `holdfast --headless` (--connect): files upload over HTTP, the limit is
// the server's (413 before the body is read), and the sent picture's thumbnail is fetched back.
void TestWindowAttachments::remoteWindowUploadsOverHttp()
{
    const QString binary = qEnvironmentVariable("HOLDFAST_BINARY");
    if (binary.isEmpty() || !QFile::exists(binary))
        QSKIP("HOLDFAST_BINARY is not set (run through ctest)");
    QProcess server;
    server.setProgram(binary);
    server.setArguments(
        {QStringLiteral("--headless"), QStringLiteral("--listen"), QStringLiteral("127.0.0.1:0"),
         QStringLiteral("--store"), QStringLiteral("memory:"), QStringLiteral("--demo-chunks"),
         QStringLiteral("2"), QStringLiteral("--demo-delay-ms"), QStringLiteral("0"),
         QStringLiteral("--max-attachment-bytes"), QStringLiteral("5000")});
    server.setProcessChannelMode(QProcess::SeparateChannels);
    server.start();
    QVERIFY(server.waitForStarted());
    const auto stop = qScopeGuard([&] {
        server.terminate();
        server.waitForFinished(10000);
    });
    QVERIFY(spinUntil([&] { return server.canReadLine(); }, 15000));
    const QString line = QString::fromUtf8(server.readLine()).trimmed();
    QVERIFY2(line.startsWith(QLatin1String("listening on http://")), qPrintable(line));
    const QUrl url(line.section(u' ', 2));

    const QString png = writePng(m_files, QStringLiteral("remote.png"));
    const QString big = writeFile(m_files, QStringLiteral("too big.txt"), QByteArray(5001, 'z'));
    QVERIFY(QFileInfo(png).size() <= 5000);
    // The window opens no chat of the earlier tests (they are not on this server).
    QVERIFY(test::forgetLastChat());
    MainWindow window;
    auto *client = new RemoteClient(url, QString(), &window);
    window.setClient(client);
    window.resize(1000, 700);
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    ChatPane *pane = window.chatPane();
    pane->setFileChooser([&](QWidget *) { return QStringList{png, big}; });
    pane->attachButton()->click();
    QVERIFY(spinUntil([&] { return settled(pane); }));
    QVERIFY2(pane->composerFiles().size() == 1, qPrintable(pane->attachmentBar()->errorText()));
    QVERIFY2(pane->attachmentBar()->errorText().contains(QLatin1String("too big.txt")),
             qPrintable(pane->attachmentBar()->errorText()));
    QSignalSpy finished(client, &SessionClient::turnFinished);
    pane->composer()->setFocus();
    QTest::keyClicks(pane->composer(), QStringLiteral("Seen from afar?"));
    QTest::keyClick(pane->composer(), Qt::Key_Return);
    QVERIFY(spinUntil([&] { return finished.count() == 1; }));
    HF_AWAIT(page, client->messages(pane->sessionId(), -1, 10));
    QVERIFY(page->ok());
    QCOMPARE(page->value().messages.size(), 2);
    QCOMPARE(page->value().messages.at(0).attachments.size(), 1);
    const QString aid = page->value().messages.at(0).attachments.at(0).id;
    QVERIFY(page->value().messages.at(1).content.contains(QLatin1String("remote.png")));
    // A new window (no thumbnail cached) fetches the picture from the server.
    MainWindow again;
    auto *second = new RemoteClient(url, QString(), &again);
    again.setClient(second);
    again.show();
    QVERIFY(QTest::qWaitForWindowExposed(&again));
    again.chatPane()->openSession(pane->sessionId());
    QVERIFY(spinUntil([&] { return again.chatPane()->view()->thumbnailLoaded(aid); }));
    QCOMPARE(again.chatPane()->attachmentCache()->loads(), 1);
}

void TestWindowAttachments::screenshots_data()
{
    QTest::addColumn<bool>("dark");
    QTest::addRow("light") << false;
    QTest::addRow("dark") << true;
}

// A sent message with a picture and a text file, the demo's answer, and a draft with files:
// saved as PNGs to look at (attachments.png, attachments-dark.png).
void TestWindowAttachments::screenshots()
{
    QFETCH(bool, dark);
    const QPalette original = QApplication::palette();
    if (dark)
        QApplication::setPalette(test::darkPalette());
    const auto restore = qScopeGuard([&] { QApplication::setPalette(original); });
    Fixture f(4, 0);
    HF_CHECK_FIXTURE(f);
    const QString png = writePng(m_files, QStringLiteral("hill.png"));
    const QString txt =
        writeFile(m_files, QStringLiteral("trip-notes.txt"), "Day 1: the hill.\nDay 2: the sea.\n");
    f.pane()->setFileChooser([&](QWidget *) { return QStringList{png, txt}; });
    f.pane()->attachButton()->click();
    QVERIFY(spinUntil([&] { return f.pane()->composerFiles().size() == 2; }));
    QSignalSpy finished(f.client, &SessionClient::turnFinished);
    f.type(QStringLiteral("Where was this picture taken? My notes are attached."));
    QVERIFY(spinUntil([&] { return finished.count() == 1; }));
    const QList<Message> stored = f.stored(f.pane()->sessionId());
    QVERIFY(!stored.isEmpty() && stored.at(0).attachments.size() == 2);
    const QString aid = stored.at(0).attachments.at(0).id;
    QVERIFY(spinUntil([&] { return f.view()->thumbnailLoaded(aid); }));
    // The next message's files, waiting above the composer.
    const QString more = writePng(m_files, QStringLiteral("second view.png"));
    f.pane()->setFileChooser([&](QWidget *) { return QStringList{more, txt}; });
    f.pane()->attachButton()->click();
    QVERIFY(spinUntil([&] { return f.pane()->composerFiles().size() == 2 && settled(f.pane()); }));
    f.view()->verticalScrollBar()->setValue(0); // the whole prompt, from its top
    QTest::qWait(100);
    const QString shot =
        shotsDir() +
        QStringLiteral("/attachments%1.png").arg(dark ? QStringLiteral("-dark") : QString());
    QVERIFY(f.window->grab().save(shot));
    qInfo("screenshot: %s", qPrintable(shot));
}

QTEST_MAIN(TestWindowAttachments)
#include "tst_windowattachments.moc"
