#pragma once

#include "core/types.h"
#include "gui/chatstyle.h"

#include <QTextBrowser>

#include <memory>
#include <vector>

class QTextFrame;

namespace holdfast {

class MarkdownStream;

// The conversation: one frame per message in a QTextDocument, Markdown rendered. Only the
// newest page of history is loaded; older pages are asked for (olderWanted) when the reader
// scrolls to the top. The answer being generated grows through a MarkdownStream, and the
// view follows the bottom unless the reader has scrolled up.
class ChatView final : public QTextBrowser
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ChatView)
public:
    explicit ChatView(QWidget *parent = nullptr);
    ~ChatView() override;

    void clearMessages();
    void appendMessage(const Message &message);
    // An older page, oldest first, above what is shown; the reader's place stays where it is.
    void prependMessages(const QList<Message> &messages);
    void setHasOlder(bool hasOlder) { m_hasOlder = hasOlder; }
    bool hasOlder() const { return m_hasOlder; }
    qint64 firstIndex() const; // index of the oldest message shown (-1: none)
    int messageCount() const { return int(m_entries.size()); }

    // The answer of a running turn; `text` is what it has produced so far.
    void beginAnswer(int turn, const QString &model, const QString &text);
    void appendAnswer(const QString &text);
    // The turn has ended: final state, and an error with a Retry link when it failed.
    void finishAnswer(const TurnRecord &turn);
    bool answering() const { return m_stream != nullptr; }
    int answerTurn() const { return m_answerTurn; }
    // Work done by the Markdown renderers since the view was created (characters).
    qint64 renderWork() const;
    // The Markdown source of the message under `pos` (viewport coordinates), or "".
    QString messageTextAt(const QPoint &pos) const;
    QString lastAnswerText() const;
    // The prompt that started `turn`, if it is shown.
    QString promptOfTurn(int turn) const;

    void setFontPointSize(qreal points);
    bool followsBottom() const { return m_follow; }

Q_SIGNALS:
    void olderWanted();
    void retryRequested(int turn);
    void copied(const QString &what);

protected:
    void contextMenuEvent(QContextMenuEvent *event) override;
    void changeEvent(QEvent *event) override;

private:
    struct Entry
    {
        QTextFrame *frame = nullptr;
        Message message;
    };
    QTextFrame *insertFrame(QTextCursor &at, const Message &message);
    void writeHeader(QTextCursor &at, const Message &message, const QString &model);
    void renderInto(QTextFrame *frame, const QString &markdown);
    void updateHeader(const Entry &entry, const QString &note, const QColor &color);
    void onAnchor(const QUrl &url);
    void restyle();

    ChatStyle m_style;
    std::vector<Entry> m_entries; // oldest first
    std::unique_ptr<MarkdownStream> m_stream;
    QTextFrame *m_streamFrame = nullptr;
    int m_answerTurn = 0;
    QString m_answerModel;
    QStringList m_codeBlocks;
    qint64 m_finishedWork = 0;
    bool m_hasOlder = false;
    bool m_follow = true;
    int m_keepFromBottom = -1; // while an older page lays out: distance to keep from the bottom
};

} // namespace holdfast
