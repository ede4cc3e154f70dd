#pragma once

#include <QPlainTextEdit>

class QMimeData;

namespace holdfast {

// Where the prompt is written: Enter sends, Shift+Enter starts a new line, Esc stops the
// answer (or leaves an edit), Up in an empty composer edits the last prompt (editLastRequested;
// the last prompt sent from here comes back when the chat shows none). It grows with its text.
// A picture pasted or dropped here (Ctrl+V of a screenshot), or files, become attachments
// (imagePasted, filesDropped) instead of text.
class Composer final : public QPlainTextEdit
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(Composer)
public:
    explicit Composer(QWidget *parent = nullptr);

    void setLastPrompt(const QString &prompt) { m_lastPrompt = prompt; }
    QSize sizeHint() const override;
    QSize minimumSizeHint() const override;
    // The local files a drop or paste names (none when any of its URLs is not a local file).
    static QStringList localFiles(const QMimeData *source);

Q_SIGNALS:
    void submitted(const QString &text);
    void stopRequested();
    void editLastRequested();
    void filesDropped(const QStringList &paths);
    void imagePasted(const QImage &image);

protected:
    void keyPressEvent(QKeyEvent *event) override;
    bool canInsertFromMimeData(const QMimeData *source) const override;
    void insertFromMimeData(const QMimeData *source) override;

private:
    void fitToText();

    QString m_lastPrompt;
};

} // namespace holdfast
