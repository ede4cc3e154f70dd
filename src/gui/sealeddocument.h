#pragma once

#include <QTextDocument>

namespace holdfast {

// A document that loads no resource. QTextDocument::loadResource (and QTextBrowser's) would read
// any file or qrc path a message names as an image, on the GUI thread: a FIFO blocks it, /dev/zero
// never ends. Only what the owner added with addResource() is shown: Qt looks there first.
class SealedDocument final : public QTextDocument
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(SealedDocument)
public:
    explicit SealedDocument(QObject *parent = nullptr) : QTextDocument(parent) {}

protected:
    QVariant loadResource(int, const QUrl &) override { return {}; }
};

} // namespace holdfast
