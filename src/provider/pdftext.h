#pragma once

#include "core/provider.h"
#include "provider/wireformat.h"

#include <QCoroTask>

// The text of PDF attachments, which goes to a model before the prompt (shared/API.md,
// Attachments). Read with Qt's PDF module (QtPdf, Debian's qt6-pdf-dev): it is Qt's own, works
// under the headless server's QCoreApplication (no QGuiApplication, no display), and reads text
// with QPdfDocument::getAllText (Qt 6.4). Poppler's Qt binding would work too but is another
// library with its own types; QtPdf was enough.
namespace holdfast::upstream {

// The text of one PDF, its pages separated by blank lines; a note in brackets when the file
// cannot be read (broken or encrypted). Safe to call on any thread.
QString pdfText(const QByteArray &pdf);
bool hasPdf(const ProviderRequest &request);
// The text of every PDF attachment of the request, read on a worker thread: a long PDF takes
// a while, and the window's event loop must not wait for it.
QCoro::Task<PdfTexts> readPdfTexts(ProviderRequest request);

} // namespace holdfast::upstream
