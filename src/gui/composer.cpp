#include "gui/composer.h"

#include <QFileInfo>
#include <QImage>
#include <QKeyEvent>
#include <QMimeData>
#include <QTextBlock>

namespace holdfast {

namespace {
constexpr int kMaxLines = 10;
}

Composer::Composer(QWidget *parent) : QPlainTextEdit(parent)
{
    setPlaceholderText(tr("Message the model — Enter to send, Shift+Enter for a new line"));
    setTabChangesFocus(true);
    setAccessibleName(tr("Message"));
    setAccessibleDescription(tr("Enter sends, Shift+Enter starts a new line, Up in an empty "
                                "message edits the last one"));
    setFrameShape(QFrame::NoFrame);
    setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Fixed);
    setVerticalScrollBarPolicy(Qt::ScrollBarAsNeeded);
    connect(this, &QPlainTextEdit::textChanged, this, &Composer::fitToText);
    fitToText();
}

QSize Composer::sizeHint() const
{
    const int lines = std::clamp(int(document()->lineCount()), 1, kMaxLines);
    const int height = fontMetrics().lineSpacing() * lines + 2 * int(document()->documentMargin()) +
                       contentsMargins().top() + contentsMargins().bottom() + 4;
    return {400, height};
}

QSize Composer::minimumSizeHint() const
{
    return {100, fontMetrics().lineSpacing() + 2 * int(document()->documentMargin()) + 4};
}

void Composer::fitToText()
{
    setFixedHeight(sizeHint().height());
}

void Composer::keyPressEvent(QKeyEvent *event)
{
    const bool enter = event->key() == Qt::Key_Return || event->key() == Qt::Key_Enter;
    if (enter && !(event->modifiers() & (Qt::ShiftModifier | Qt::AltModifier))) {
        const QString text = toPlainText().trimmed();
        if (!text.isEmpty())
            Q_EMIT submitted(text);
        event->accept();
        return;
    }
    if (event->key() == Qt::Key_Escape) {
        Q_EMIT stopRequested();
        event->accept();
        return;
    }
    if (event->key() == Qt::Key_Up && document()->isEmpty() &&
        !(event->modifiers() & (Qt::ShiftModifier | Qt::ControlModifier | Qt::AltModifier))) {
        Q_EMIT editLastRequested();
        if (document()->isEmpty() && !m_lastPrompt.isEmpty())
            setPlainText(m_lastPrompt);
        moveCursor(QTextCursor::End);
        event->accept();
        return;
    }
    QPlainTextEdit::keyPressEvent(event);
}

QStringList Composer::localFiles(const QMimeData *source)
{
    QStringList paths;
    if (!source || !source->hasUrls())
        return paths;
    for (const QUrl &url : source->urls()) {
        if (!url.isLocalFile() || QFileInfo(url.toLocalFile()).isDir())
            return {};
        paths << url.toLocalFile();
    }
    return paths;
}

bool Composer::canInsertFromMimeData(const QMimeData *source) const
{
    return source->hasImage() || !localFiles(source).isEmpty() ||
           QPlainTextEdit::canInsertFromMimeData(source);
}

void Composer::insertFromMimeData(const QMimeData *source)
{
    if (const QStringList files = localFiles(source); !files.isEmpty()) {
        Q_EMIT filesDropped(files);
        return;
    }
    if (source->hasImage()) {
        const QImage image = qvariant_cast<QImage>(source->imageData());
        if (!image.isNull()) {
            Q_EMIT imagePasted(image);
            return;
        }
    }
    QPlainTextEdit::insertFromMimeData(source);
}

} // namespace holdfast
