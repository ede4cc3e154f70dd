#pragma once

#include <QPlainTextEdit>

namespace holdfast {

// Where the prompt is written: Enter sends, Shift+Enter starts a new line, Esc stops the
// answer (or leaves an edit), Up in an empty composer edits the last prompt (editLastRequested;
// the last prompt sent from here comes back when the chat shows none). It grows with its text.
class Composer final : public QPlainTextEdit
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(Composer)
public:
    explicit Composer(QWidget *parent = nullptr);

    void setLastPrompt(const QString &prompt) { m_lastPrompt = prompt; }
    QSize sizeHint() const override;
    QSize minimumSizeHint() const override;

Q_SIGNALS:
    void submitted(const QString &text);
    void stopRequested();
    void editLastRequested();

protected:
    void keyPressEvent(QKeyEvent *event) override;

private:
    void fitToText();

    QString m_lastPrompt;
};

} // namespace holdfast
