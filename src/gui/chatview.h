#pragma once

#include "core/types.h"
#include "gui/chatstyle.h"

#include <QHash>
#include <QMultiHash>
#include <QPointer>
#include <QSet>
#include <QTextBrowser>
#include <QTextCursor>
#include <QTextFormat>

#include <algorithm>
#include <memory>
#include <optional>
#include <vector>

class QTextFrame;

namespace holdfast {

class AttachmentCache;
class MarkdownStream;

// The conversation: one frame per message in a QTextDocument, Markdown rendered. The document
// holds a bounded window of the history (at most maxShown() messages, a few pages), so what is
// laid out does not grow with the chat: older pages are asked for (olderWanted) when the reader
// scrolls to the top and newer ones (newerWanted) at the bottom, and each page that comes in
// pushes the farthest messages on the other side out of the document. The answer being
// generated grows through a MarkdownStream, and the view follows the bottom unless the reader
// has scrolled up.
//
// Under each stored message a line of controls: Edit (a prompt), Regenerate (an answer), and
// ‹ 2/3 › when the message has other versions (siblings, shared/API.md "Branches").
//
// A prompt's files are shown above its text: pictures as thumbnails (decoded by the
// AttachmentCache off the GUI thread; a placeholder of the same size until then), other files as
// chips. Clicking one asks to open it (attachmentOpenRequested), its context menu to save it.
//
// Messages are not trusted: the view loads no resource a message names (its document is sealed),
// acts on its own links only (Retry, Copy, Edit, Regenerate, the version arrows: their hrefs carry
// a key no message can know), and asks before a web link leaves the application, the full target
// shown.
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
    // The newest messages beyond maxShown() leave the document (hasNewer() is then true).
    void prependMessages(const QList<Message> &messages);
    // A newer page, oldest first, below what is shown (only while hasNewer()); the oldest
    // messages beyond maxShown() leave the document.
    void appendNewerMessages(const QList<Message> &messages);
    void setHasOlder(bool hasOlder) { m_hasOlder = hasOlder; }
    bool hasOlder() const { return m_hasOlder; }
    // Newer messages exist than those shown: the newest are not in the document.
    void setHasNewer(bool hasNewer);
    bool hasNewer() const { return m_hasNewer; }
    qint64 firstIndex() const; // index of the oldest message shown (-1: none)
    qint64 lastIndex() const;  // index of the newest stored message shown (-1: none)
    int messageCount() const { return int(m_entries.size()); }
    void setMaxShown(int messages) { m_maxShown = std::max(messages, 1); }
    int maxShown() const { return m_maxShown; }
    static constexpr int kDefaultMaxShown = 150;

    // The answer of a running turn; `text` is what it has produced so far.
    void beginAnswer(int turn, const QString &model, const QString &text);
    void appendAnswer(const QString &text);
    // A tool step of the running turn (shared/API.md, Tools (MCP)): a call opens a block after
    // the text so far (the text goes on below it), its result completes that block.
    void appendToolStep(const Chunk &chunk);
    // The live answer's call `cid` waits for the user's approval (true) or not (false).
    void setToolCallWaiting(const QString &cid, bool waiting);
    // The tool blocks shown (live and stored), in the order they were added: a line
    // "▸ ⚙ SERVER/TOOL — done" that opens (a click, or setToolBlockExpanded) to show the
    // arguments and the result (at most kToolTextShown characters of each).
    int toolBlockCount() const { return int(m_toolBlocks.size()); }
    QString toolBlockTitle(int n) const;
    bool toolBlockExpanded(int n) const;
    void setToolBlockExpanded(int n, bool expanded);
    // Where block `n` is in the document (its first position), -1 when it is not shown.
    int toolBlockPosition(int n) const;
    static constexpr int kToolTextShown = 2000;
    // The turn has ended: final state, and an error with a Retry link when it failed.
    void finishAnswer(const TurnRecord &turn);
    bool answering() const { return m_stream != nullptr; }
    int answerTurn() const { return m_answerTurn; }
    // Work done by the Markdown renderers since the view was created (characters).
    qint64 renderWork() const;
    // The Markdown source of the message under `pos` (viewport coordinates), or "".
    QString messageTextAt(const QPoint &pos) const;
    QString lastAnswerText() const;
    // Shown message `n` (0: the oldest shown) as a screen reader says it: "You, <time>: <text>"
    // (a live answer: "writing…"). The view's accessible description says the last one.
    QString accessibleMessage(int n) const;
    // The prompt that started `turn`, if it is shown.
    QString promptOfTurn(int turn) const;
    qint64 promptIndexOfTurn(int turn) const; // -1: not shown

    // Shows the line of controls (Edit, Regenerate, ‹ n/N ›) under the messages added from now on
    // (off by default: a bare view shows the messages only).
    void setBranchControls(bool on) { m_branchControls = on; }
    // Where thumbnails come from, and the session the shown messages belong to (the cache's key).
    void setAttachmentCache(AttachmentCache *cache);
    void setSessionId(const QString &sid) { m_sid = sid; }
    // Tests: the attachment behind a view link ("hf-file:N?key"), and the image a thumbnail shows.
    std::optional<Attachment> attachmentOfLink(const QUrl &url) const;
    QImage thumbnailShown(const QString &aid) const;
    bool thumbnailLoaded(const QString &aid) const { return m_loadedThumbnails.contains(aid); }
    // The branch: what is shown of each message, and its versions.
    const Message *shownMessage(qint64 index) const; // nullptr: not shown
    // The message `index` follows: its parent, or (from a service without branches) the one shown
    // before it; -1 for a first message.
    qint64 parentOf(qint64 index) const;
    // The prompt an answer replies to (-1: not known).
    qint64 promptOf(qint64 answerIndex) const;
    qint64 lastIndexOfRole(const QString &role) const; // -1: none shown
    // The newest message shown that has other versions (-1: none).
    qint64 lastWithVersions() const;
    // The shown message that is a version (a sibling) of `index`, -1 when none is shown.
    qint64 shownVersionOf(qint64 index) const;
    // Takes `index` and everything below it out of the view (the branch goes on differently from
    // there); false when it is not shown.
    bool truncateFrom(qint64 index);
    // Takes everything below `index` out of the view; false when `index` is not shown.
    bool truncateAfter(qint64 index);
    // The stored message has changed (new versions): its controls are written anew.
    void updateMessage(const Message &message);
    // What the turn record says of the answers of turn `turn.id` (AnswerFooter): a notice under
    // the header when older messages were left out of its context, and a quiet footer (model,
    // tokens, speed) in the line under it; answers of that turn shown later get them too.
    void setTurnDetails(const TurnRecord &turn);
    bool hasTurnDetails(int turn) const { return m_answerInfo.contains(turn); }
    // The turns of the stored answers shown whose details are not known, oldest first.
    QList<int> answerTurnsWithoutDetails() const;

    void setFontPointSize(qreal points);
    bool followsBottom() const { return m_follow; }

    // Nothing but what the view added to its document itself (it adds none today).
    QVariant loadResource(int type, const QUrl &name) override;

Q_SIGNALS:
    void olderWanted();
    void newerWanted();
    // Stored answers came into the view (a page, or an answer that ended).
    void answersShown();
    void retryRequested(int turn);
    void editRequested(qint64 index);
    void regenerateRequested(qint64 answerIndex);
    void versionRequested(qint64 index);
    void copied(const QString &what);
    void attachmentOpenRequested(const QString &sid, const holdfast::Attachment &attachment);
    void attachmentSaveRequested(const QString &sid, const holdfast::Attachment &attachment);
    // The target of the web link under the mouse, or "" when it left the link.
    void linkHovered(const QString &target);

protected:
    void contextMenuEvent(QContextMenuEvent *event) override;
    void changeEvent(QEvent *event) override;

private:
    struct Entry
    {
        QTextFrame *frame = nullptr; // its first frame: the header, and where it starts
        QTextFrame *last = nullptr;  // a long message goes on in frames up to this one
        Message message;
        int codeFrom = 0; // the code blocks it rendered: m_codeBlocks[codeFrom, codeTo)
        int codeTo = 0;
        bool controls = false; // its last block is the line of controls
    };
    void writeControls(Entry &entry);
    void writeNotice(const Entry &entry);
    void writeFooter(QTextCursor &at, const Entry &entry, bool afterControls);
    void addLink(QTextCursor &at, const QString &text, const QString &scheme, qint64 target,
                 const QString &tip, bool large = false);
    const Entry *entryOf(qint64 index) const;
    QTextFrameFormat messageFormat(bool user) const;
    QTextFrame *insertFrame(QTextCursor &at, const Message &message, const QString &model = {});
    void writeHeader(QTextCursor &at, const Message &message, const QString &model);
    void writeAttachments(QTextFrame *frame, QTextCursor &at, const Message &message);
    void onThumbnail(const QString &sid, const QString &aid, const QImage &image);
    QImage placeholder(bool failed) const;
    QTextFrame *renderInto(QTextFrame *frame, const Message &message);
    QTextFrame *continueAfter(QTextFrame *full);
    QTextFrame *lastFrameOf(const Entry &entry) const;
    QString liveSource() const;
    struct ToolBlock
    {
        QPointer<QTextFrame> frame;
        MessageToolCall call; // its result once known
        bool waiting = false;
        bool expanded = false;
    };
    static constexpr int kToolGap = 6; // above and below a tool block
    QTextFrame *insertToolBlock(QTextFrame *after, const MessageToolCall &call);
    QTextFrame *textFrameAfter(QTextFrame *tool);
    void writeToolBlock(ToolBlock &block);
    QString toolStatus(const ToolBlock &block, QColor *color) const;
    void updateHeader(const Entry &entry, const QString &note, const QColor &color);
    void onAnchor(const QUrl &url);
    void askToOpen(const QUrl &url);
    void restyle();
    void updateAccessibleSummary(); // chatviewaccessible.cpp
    void removeEntries(std::size_t from, std::size_t to);
    void holdPlace();
    void restorePlace();
    int topOf(QTextFrame *frame) const;

    ChatStyle m_style;
    const QString m_linkKey;      // the query of the view's own links
    std::vector<Entry> m_entries; // oldest first
    std::unique_ptr<MarkdownStream> m_stream;
    QTextFrame *m_streamFrame = nullptr;
    // The live answer after a tool block: its stream is finished and the text goes on in a new
    // frame after this block when more comes (nullptr: the stream takes text).
    QTextFrame *m_toolTail = nullptr;
    QString m_streamPrefix;              // the live answer's text before its current stream
    QHash<QString, int> m_liveCalls;     // the live answer's call ids -> m_toolBlocks
    std::vector<ToolBlock> m_toolBlocks; // n of each block's "hf-tool:n" link
    int m_answerTurn = 0;
    QString m_answerModel;
    QStringList m_codeBlocks;
    QPointer<AttachmentCache> m_attachmentCache;
    QString m_sid;
    QList<Attachment> m_files;                 // what the view's "hf-file:N" links name
    QMultiHash<QString, QUrl> m_thumbnailUrls; // attachment id -> its thumbnails' resources
    QHash<QTextFrame *, QList<QPair<QString, QUrl>>> m_frameThumbnails; // by message frame
    QSet<QString> m_loadedThumbnails; // attachment ids shown decoded
    qint64 m_finishedWork = 0;
    bool m_hasOlder = false;
    bool m_hasNewer = false;
    bool m_follow = true;
    int m_maxShown = kDefaultMaxShown;
    bool m_branchControls = false;
    struct AnswerInfo
    {
        QString footer; // AnswerFooter::text
        QString notice; // AnswerFooter::leftOutNotice
        bool operator==(const AnswerInfo &) const = default;
    };
    QHash<int, AnswerInfo> m_answerInfo; // by turn id
    // While a page lays out: the message at the top of the viewport and how far above the top
    // of the viewport its frame starts, so the reader's place stays put.
    bool m_holding = false;
    QPointer<QTextFrame> m_anchor; // the message kept in place while pages come and go
    int m_anchorOffset = 0;
    int m_holdSerial = 0;
};

} // namespace holdfast
