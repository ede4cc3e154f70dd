#pragma once

#include <QHash>
#include <QList>
#include <QString>
#include <QStringList>
#include <QStringView>

namespace holdfast {

// What a piece of code is, for its colour (ChatStyle::code holds one format per kind).
enum class CodeToken : quint8 {
    Plain,
    Keyword,
    Type,
    Constant,
    Number,
    String,
    Comment,
    Meta, // preprocessor lines, annotations, decorators, attributes, diff hunks
    Function,
    Variable,
    Tag,
    Attribute, // HTML attributes, JSON and YAML keys, CSS properties
    Heading,
    Added,
    Removed,
    Emphasis,
};
inline constexpr int kCodeTokenCount = int(CodeToken::Emphasis) + 1;

// A run of one kind in a line of code: [start, start + length).
struct CodeRun
{
    int start = 0;
    int length = 0;
    CodeToken kind = CodeToken::Plain;
    int end() const { return start + length; }
    friend bool operator==(const CodeRun &, const CodeRun &) = default;
};

// A delimited piece of a line: a string, a comment, an attribute. `close` empty: to the line's end.
struct CodeSpan
{
    QString open;
    QString close;
    CodeToken kind = CodeToken::String;
    QChar escape;              // skips the character after it ('\0': none)
    bool multiline = false;    // goes on over lines until `close`
    bool shortLiteral = false; // one character or one escape ('a' but not Rust's 'a lifetimes)
    bool wordStart = false;    // only at a line's start or after a space (shell's #)
    bool inTag = false;        // markup: inside a tag only (else outside tags only)
    bool interpolate = false;  // variables inside are shown as variables (shell's "$HOME")
};

// A line that starts with `prefix` is all of `kind` (diff's +/-), or only its prefix (`marker`).
struct CodeLineRule
{
    QString prefix;
    CodeToken kind = CodeToken::Plain;
    bool marker = false; // only the prefix gets the kind; the rest is read as usual
    bool indent = false; // the prefix may follow spaces
};

// One language's definition, read from resources/languages.json: data, not code.
struct CodeLanguage
{
    enum class Keys { None, Colon, ColonSpace };

    QString name;
    QStringList words;                       // the storage the views of `wordKinds` point into
    QHash<QStringView, CodeToken> wordKinds; // keywords, types, constants
    QList<CodeSpan> spans;                   // tried in order at each position
    QList<CodeLineRule> lines;               // tried in order at each line's start
    QString identChars;                      // besides letters, digits and '_'
    QString numberChars;                     // besides letters, digits and '.' (C++'s ', CSS's %)
    QChar preprocessor;                      // a line starting with it is Meta (C's #)
    QChar annotation;                        // @Override, @decorator, @media
    QChar variable;                          // $name, ${name}, $1
    QChar macro;                             // name! (Rust)
    Keys keys = Keys::None;                  // a word or string before ':' is an Attribute
    bool ignoreCase = false;                 // SQL
    bool functions = false;                  // name( is a Function
    bool numbers = false;                    // numbers are Numbers
    bool capitalTypes = false;               // Name (capital, then lower case) is a Type
    bool markup = false;                     // <tags attr="value">, &entities;
};

// Highlights code one line at a time, as QSyntaxHighlighter does: a line's runs depend on its text
// and the state the line before it ended in (an open block comment or string, an open tag), so a
// streamed code block is highlighted line by line as it arrives and never again.
//
// Why not a library: KSyntaxHighlighting is the maintained one, but Debian 12 ships it for Qt 5
// only (libkf5syntaxhighlighting-dev, against qtbase5-dev); there is no Qt 6 build. The languages
// are data (resources/languages.json: words, comment and string delimiters, a few flags per
// language) read by this one engine.
class CodeHighlighter
{
public:
    // The language a fence's info string names ("py", "c++", "language-rust", "main.go"), or
    // nullptr when it names none known: the code stays monochrome.
    static const CodeLanguage *language(QStringView info);
    // The name of every language defined (for tests).
    static QStringList languageNames();

    // Appends the runs of `line` (covering all of it, neighbours of one kind merged) to `runs` and
    // returns the state the next line starts in. State 0: a line at the top of the block.
    static int highlightLine(const CodeLanguage &language, QStringView line, int state,
                             QList<CodeRun> *runs);
};

} // namespace holdfast
