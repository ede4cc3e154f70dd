#pragma once

#include "gui/codehighlighter.h"

#include <QHash>
#include <QList>
#include <QString>
#include <QTextCursor>
#include <QTextFormat>

#include <functional>

class QTextBlock;
class QTextDocument;
class QTextFragment;
class QTextFrame;
class QTextList;
class QTextTable;
class QUrl;

namespace holdfast {

struct ChatStyle;

// Renders one message's Markdown into a frame of the chat document as its text arrives.
// Text up to the last finished paragraph (or code line) is rendered once and never touched
// again; only the unfinished paragraph at the end is rendered anew for each chunk, so a chunk
// costs time proportional to its own length plus that paragraph's (bounded), never to the
// whole answer. Fenced code blocks are drawn here, line by line, in a framed monospace box.
//
// A long message goes on in a new frame every kFrameChars or so (at a paragraph boundary):
// QTextDocumentLayout lays out and paints a nested frame by walking all of its blocks, so the
// frame that grows must stay small for a chunk to cost the same at 1 MiB as at 1 KiB. The frames
// of one message follow each other in the document; `continueAfter` makes the next one. A long
// code block goes on the same way, in parts of kCodePartLines lines inside its box.
//
// Code is highlighted line by line (CodeHighlighter) from the state the line above ended in, so a
// finished line is never read again; the unfinished last line is read again as it grows, and only
// what changed at its end is rewritten in the document.
//
// The text is not trusted (a model wrote it, or it was pasted): raw HTML shows as text, an image
// shows as its alt text and is never loaded, and a link stays a link only when it goes to the web
// or to mail (the view asks before it opens one); the view's own links carry its `linkKey`.
class MarkdownStream
{
public:
    using ContinueFn = std::function<QTextFrame *(QTextFrame *full)>;

    // `codeBlocks` collects the text of each code block, for the view's "Copy" links (whose
    // query is `linkKey`). Without `continueAfter` everything stays in `frame`.
    MarkdownStream(QTextFrame *frame, const ChatStyle *style, QStringList *codeBlocks,
                   const QString &linkKey, ContinueFn continueAfter = {});

    // The frame holds one empty block to begin in (a part of an answer after a tool block):
    // the first block takes it, and the frame's top margin becomes that block's (at least `gap`).
    void beginInEmptyFrame(qreal gap);
    void append(const QString &text);
    // The answer is complete: renders what is left as final.
    void finish();

    const QString &source() const { return m_source; }
    // Characters handed to the renderer so far: the work done, for tests and benchmarks.
    qint64 work() const { return m_work; }
    // The frame the message goes on in (its last one).
    QTextFrame *frame() const { return m_frame; }

    // Qt keeps an empty block after a frame: between two frames of one message (or one code block)
    // it must take no room. Gives the block at `position` no height.
    static void flattenBlock(QTextDocument *document, int position);

    // A link in a message is followed only to these schemes: http, https, mailto.
    static bool isExternalLink(const QUrl &url);
    // How a link's target is shown to the reader: all ASCII, so that no look-alike letters or
    // direction marks hide where it goes.
    static QString linkTarget(const QUrl &url);

    static constexpr qsizetype kMaxTail = 2048;
    static constexpr int kFrameChars = 4096;
    static constexpr int kCodePartLines = 200;
    // A longer line of code (minified, generated) stays plain: reading it again per chunk would
    // cost in proportion to the line.
    static constexpr int kMaxHighlightedLine = 4096;

private:
    void scan(bool final);
    void line(qsizetype start, qsizetype end, bool final);
    void renderTail();
    void clearTail();
    void commit(qsizetype end);
    void render(const QString &markdown);
    void continueIfFull();

    void openCode(const QString &info);
    void setCodeLine(const QString &text, bool complete);
    void closeCode();
    void startCodePart();

    QTextCursor endCursor() const;
    void beginBlock(QTextCursor &out, const QTextBlockFormat &block, const QTextCharFormat &chars);
    void copyBlock(QTextCursor &out, const QTextBlock &block);
    void copyTable(QTextCursor &out, QTextTable *table);
    QTextCharFormat styled(QTextCharFormat format) const;
    QString shownText(const QTextFragment &fragment, QTextCharFormat *format) const;

    QTextFrame *m_frame;
    const ChatStyle *m_style;
    QStringList *m_codeBlocks;
    QString m_linkKey;
    ContinueFn m_continue;
    QString m_source;
    qsizetype m_scanned = 0;       // start of the first line not scanned yet
    qsizetype m_tailStart = 0;     // start of the text not rendered for good yet
    qsizetype m_tailRendered = -1; // end of the tail as last rendered (-1: not rendered)
    QTextCursor m_tailAnchor;      // where the tail's rendering begins in the document
    bool m_tailFresh = false;      // ... and whether it began in an unused block
    bool m_fresh = false;          // the frame ends in an unused empty block
    qreal m_joinMargin = 0;        // bottom margin of the block above a continued frame's first one
    QHash<QTextList *, QTextList *> m_lists; // scratch list -> document list, per render

    QTextFrame *m_code = nullptr;
    QString m_fence;
    int m_codeIndex = -1;
    bool m_codeLineOpen = false; // the code frame's last block holds an unfinished line
    bool m_codeEmpty = true;
    QTextFrame *m_codePart = nullptr; // where the lines of a long code block go on
    bool m_codePartFresh = false;     // ... and it holds only its empty first block
    int m_codeLines = 0;
    const CodeLanguage *m_language = nullptr; // of the open code block; nullptr: monochrome
    int m_codeState = 0;                      // the highlighter's state after the last full line
    QList<CodeRun> m_openRuns;                // the unfinished line's runs as shown
    QList<CodeRun> m_runs;                    // scratch
    qint64 m_work = 0;
};

} // namespace holdfast
