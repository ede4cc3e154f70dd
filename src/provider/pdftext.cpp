#include "provider/pdftext.h"

#include "core/attachmentrules.h"

#include <QBuffer>
#include <QCoroFuture>
#include <QPdfDocument>
#include <QPdfSelection>
#include <QtConcurrent/QtConcurrentRun>

namespace holdfast::upstream {

QString pdfText(const QByteArray &pdf)
{
    QByteArray bytes = pdf;
    QBuffer buffer(&bytes);
    buffer.open(QIODevice::ReadOnly);
    QPdfDocument document;  // on this thread, without a parent: it lives for this call only
    document.load(&buffer); // a QBuffer is not sequential: read at once, not as data arrives
    if (document.status() != QPdfDocument::Status::Ready)
        return QStringLiteral("[the text of this PDF could not be read]");
    QStringList pages;
    for (int page = 0; page < document.pageCount(); ++page) {
        QString text = document.getAllText(page).text();
        text.replace(QStringLiteral("\r\n"), QStringLiteral("\n"));
        text.replace(u'\r', u'\n');
        pages.append(text.trimmed());
    }
    return pages.join(QStringLiteral("\n\n"));
}

bool hasPdf(const ProviderRequest &request)
{
    for (const ChatMessage &m : request.messages) {
        for (const AttachmentContent &a : m.attachments) {
            if (attachments::isPdf(a.meta.type))
                return true;
        }
    }
    return false;
}

QCoro::Task<PdfTexts> readPdfTexts(ProviderRequest request)
{
    QHash<QString, QByteArray> pdfs;
    for (const ChatMessage &m : std::as_const(request.messages)) {
        for (const AttachmentContent &a : m.attachments) {
            if (attachments::isPdf(a.meta.type))
                pdfs.insert(a.meta.id, a.bytes); // shared, not copied
        }
    }
    // Named, not a temporary in the co_await: g++ 12 destroys such a lambda's captures twice.
    const auto read = [pdfs] {
        PdfTexts texts;
        for (auto it = pdfs.cbegin(); it != pdfs.cend(); ++it)
            texts.insert(it.key(), pdfText(it.value()));
        return texts;
    };
    QFuture<PdfTexts> future = QtConcurrent::run(read);
    co_return co_await future;
}

} // namespace holdfast::upstream
