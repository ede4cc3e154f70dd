// The highlighter's one engine; the languages are data in resources/languages.json (why no
// library: see codehighlighter.h).
#include "gui/codehighlighter.h"

#include "gui/guilog.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QVarLengthArray>

#include <algorithm>
#include <utility>

static void initLanguageResource()
{
    Q_INIT_RESOURCE(holdfast);
}

namespace holdfast {

namespace {

// A line's state: the span still open at its end (its index + 1), and whether a tag is open.
constexpr int kSpanMask = 0xff;
constexpr int kInTag = 0x100;

CodeToken tokenNamed(const QString &name)
{
    static const QHash<QString, CodeToken> names = {
        {QStringLiteral("keyword"), CodeToken::Keyword},
        {QStringLiteral("type"), CodeToken::Type},
        {QStringLiteral("constant"), CodeToken::Constant},
        {QStringLiteral("number"), CodeToken::Number},
        {QStringLiteral("string"), CodeToken::String},
        {QStringLiteral("comment"), CodeToken::Comment},
        {QStringLiteral("meta"), CodeToken::Meta},
        {QStringLiteral("function"), CodeToken::Function},
        {QStringLiteral("variable"), CodeToken::Variable},
        {QStringLiteral("tag"), CodeToken::Tag},
        {QStringLiteral("attribute"), CodeToken::Attribute},
        {QStringLiteral("heading"), CodeToken::Heading},
        {QStringLiteral("added"), CodeToken::Added},
        {QStringLiteral("removed"), CodeToken::Removed},
        {QStringLiteral("emphasis"), CodeToken::Emphasis},
    };
    return names.value(name, CodeToken::Plain);
}

QChar charOf(const QJsonValue &value)
{
    const QString s = value.toString();
    return s.isEmpty() ? QChar() : s.at(0);
}

CodeLanguage languageOf(const QJsonObject &o)
{
    CodeLanguage l;
    l.name = o.value(QLatin1String("name")).toString();
    l.ignoreCase = o.value(QLatin1String("ignoreCase")).toBool();
    QList<CodeToken> kinds;
    for (const auto &[key, kind] :
         {std::pair{"keywords", CodeToken::Keyword}, std::pair{"types", CodeToken::Type},
          std::pair{"constants", CodeToken::Constant}}) {
        const QString words = o.value(QLatin1String(key)).toString();
        for (const QString &word : words.split(u' ', Qt::SkipEmptyParts)) {
            l.words.append(l.ignoreCase ? word.toLower() : word);
            kinds.append(kind);
        }
    }
    // The views point into `words`, whose strings keep their characters where they are.
    for (qsizetype i = 0; i < l.words.size(); ++i) {
        if (!l.wordKinds.contains(QStringView(l.words.at(i))))
            l.wordKinds.insert(QStringView(l.words.at(i)), kinds.at(i));
    }
    for (const QJsonValue &v : o.value(QLatin1String("spans")).toArray()) {
        const QJsonObject s = v.toObject();
        CodeSpan span;
        span.open = s.value(QLatin1String("open")).toString();
        span.close = s.value(QLatin1String("close")).toString();
        span.kind = tokenNamed(s.value(QLatin1String("kind")).toString());
        span.escape = charOf(s.value(QLatin1String("escape")));
        span.multiline = s.value(QLatin1String("multiline")).toBool();
        span.shortLiteral = s.value(QLatin1String("short")).toBool();
        span.wordStart = s.value(QLatin1String("wordStart")).toBool();
        span.inTag = s.value(QLatin1String("inTag")).toBool();
        span.interpolate = s.value(QLatin1String("interpolate")).toBool();
        if (!span.open.isEmpty())
            l.spans.append(span);
    }
    for (const QJsonValue &v : o.value(QLatin1String("lines")).toArray()) {
        const QJsonObject r = v.toObject();
        CodeLineRule rule;
        rule.prefix = r.value(QLatin1String("prefix")).toString();
        rule.kind = tokenNamed(r.value(QLatin1String("kind")).toString());
        rule.marker = r.value(QLatin1String("marker")).toBool();
        rule.indent = r.value(QLatin1String("indent")).toBool();
        if (!rule.prefix.isEmpty())
            l.lines.append(rule);
    }
    l.identChars = o.value(QLatin1String("identChars")).toString();
    l.numberChars = o.value(QLatin1String("numberChars")).toString();
    l.preprocessor = charOf(o.value(QLatin1String("preprocessor")));
    l.annotation = charOf(o.value(QLatin1String("annotation")));
    l.variable = charOf(o.value(QLatin1String("variable")));
    l.macro = charOf(o.value(QLatin1String("macro")));
    const QString keys = o.value(QLatin1String("keys")).toString();
    l.keys = keys == QLatin1String("colon")        ? CodeLanguage::Keys::Colon
             : keys == QLatin1String("colonSpace") ? CodeLanguage::Keys::ColonSpace
                                                   : CodeLanguage::Keys::None;
    l.functions = o.value(QLatin1String("functions")).toBool();
    l.numbers = o.value(QLatin1String("numbers")).toBool();
    l.capitalTypes = o.value(QLatin1String("capitalTypes")).toBool();
    l.markup = o.value(QLatin1String("markup")).toBool();
    return l;
}

struct Registry
{
    QList<CodeLanguage> languages;
    QHash<QString, qsizetype> aliases; // lower case
};

// Read once, from the resource compiled into the binary (memory, not disk).
Registry load()
{
    initLanguageResource();
    Registry r;
    QFile file(QStringLiteral(":/holdfast/languages.json"));
    if (!file.open(QIODevice::ReadOnly)) {
        qCWarning(lcGui) << "code highlighting: no language definitions";
        return r;
    }
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(file.readAll(), &error);
    if (error.error != QJsonParseError::NoError) {
        qCWarning(lcGui) << "code highlighting: bad language definitions:" << error.errorString();
        return r;
    }
    for (const QJsonValue &v : doc.object().value(QLatin1String("languages")).toArray()) {
        const QJsonObject o = v.toObject();
        r.languages.append(languageOf(o));
        const qsizetype index = r.languages.size() - 1;
        r.aliases.insert(r.languages.last().name.toLower(), index);
        for (const QJsonValue &alias : o.value(QLatin1String("aliases")).toArray())
            r.aliases.insert(alias.toString().toLower(), index);
    }
    return r;
}

const Registry &registry()
{
    static const Registry r = load();
    return r;
}

// Reads one line into runs. Every position is given a kind; neighbours of one kind merge.
class LineLexer
{
public:
    LineLexer(const CodeLanguage &language, QStringView line, QList<CodeRun> *runs)
        : m_lang(language), m_line(line), m_n(int(line.size())), m_runs(runs)
    {}

    int run(int state);

private:
    void emit(int start, int end, CodeToken kind);
    bool isIdentChar(QChar c) const
    {
        return c.isLetterOrNumber() || c == u'_' || m_lang.identChars.contains(c);
    }
    bool isIdentStart(int i) const;
    int identEnd(int i) const;
    int numberEnd(int i) const;
    int spanEnd(const CodeSpan &span, int from, bool *closed) const;
    bool shortFits(const CodeSpan &span, int start, int end) const;
    void emitSpan(const CodeSpan &span, int start, int from, int end, CodeToken kind);
    bool variableAt(int i, int *end) const;
    bool keyFollows(int end) const;
    CodeToken wordKind(QStringView word) const;
    int lineRules(int *i);
    bool markupStep(int *i, bool *inTag);
    void word(int *i);

    const CodeLanguage &m_lang;
    QStringView m_line;
    int m_n;
    QList<CodeRun> *m_runs;
    CodeToken m_default = CodeToken::Plain; // Meta on a preprocessor line
};

void LineLexer::emit(int start, int end, CodeToken kind)
{
    if (end <= start)
        return;
    if (!m_runs->isEmpty()) {
        CodeRun &last = m_runs->last();
        if (last.kind == kind && last.end() == start) {
            last.length += end - start;
            return;
        }
    }
    m_runs->append(CodeRun{start, end - start, kind});
}

bool LineLexer::isIdentStart(int i) const
{
    const QChar c = m_line[i];
    if (c.isLetter() || c == u'_')
        return true;
    // '-' or '$' starts a word only before a letter (-webkit-box, $el), not in "-5" or "- x".
    return m_lang.identChars.contains(c) && !c.isDigit() && i + 1 < m_n && m_line[i + 1].isLetter();
}

int LineLexer::identEnd(int i) const
{
    ++i;
    while (i < m_n && isIdentChar(m_line[i]))
        ++i;
    return i;
}

int LineLexer::numberEnd(int i) const
{
    const bool hex = m_line.mid(i, 2).compare(QLatin1String("0x"), Qt::CaseInsensitive) == 0;
    int j = i;
    while (j < m_n) {
        const QChar c = m_line[j];
        if (c.isLetterOrNumber() || c == u'_' || c == u'.' || m_lang.numberChars.contains(c)) {
            ++j;
        } else if ((c == u'+' || c == u'-') && !hex && j > i &&
                   (m_line[j - 1] == u'e' || m_line[j - 1] == u'E')) {
            ++j; // 1e-5
        } else {
            break;
        }
    }
    return j;
}

// The end of a span whose text starts at `from` (after its opening delimiter).
int LineLexer::spanEnd(const CodeSpan &span, int from, bool *closed) const
{
    *closed = true;
    if (span.close.isEmpty())
        return m_n;
    const QChar first = span.close.at(0);
    for (int j = from; j < m_n; ++j) {
        const QChar c = m_line[j];
        if (!span.escape.isNull() && c == span.escape) {
            ++j;
        } else if (c == first && m_line.mid(j).startsWith(span.close)) {
            return j + int(span.close.size());
        }
    }
    *closed = false;
    return m_n;
}

// 'a' and '\n' are character literals; Rust's 'a in <'a> is not, nor C++'s 1'000.
bool LineLexer::shortFits(const CodeSpan &span, int start, int end) const
{
    const int from = start + int(span.open.size());
    const int length = end - int(span.close.size()) - from;
    if (length <= 0)
        return false;
    if (!span.escape.isNull() && m_line[from] == span.escape)
        return length <= 10;
    return length == 1 || (length == 2 && m_line[from].isHighSurrogate());
}

// The span [start, end) whose text begins at `from`, with the variables in it.
void LineLexer::emitSpan(const CodeSpan &span, int start, int from, int end, CodeToken kind)
{
    if (!span.interpolate || m_lang.variable.isNull()) {
        emit(start, end, kind);
        return;
    }
    int runStart = start;
    for (int j = from; j < end; ++j) {
        const QChar c = m_line[j];
        int variableEnd = 0;
        if (!span.escape.isNull() && c == span.escape) {
            ++j;
        } else if (c == m_lang.variable && variableAt(j, &variableEnd) && variableEnd <= end) {
            emit(runStart, j, kind);
            emit(j, variableEnd, CodeToken::Variable);
            runStart = variableEnd;
            j = variableEnd - 1;
        }
    }
    emit(runStart, end, kind);
}

// $name, ${name}, $1, $@ (shell's variables).
bool LineLexer::variableAt(int i, int *end) const
{
    const int k = i + 1;
    if (k >= m_n)
        return false;
    const QChar c = m_line[k];
    if (c == u'{') {
        const qsizetype close = m_line.indexOf(u'}', k);
        if (close < 0)
            return false;
        *end = int(close) + 1;
        return true;
    }
    if (c.isLetter() || c == u'_') {
        int j = k + 1;
        while (j < m_n && (m_line[j].isLetterOrNumber() || m_line[j] == u'_'))
            ++j;
        *end = j;
        return true;
    }
    if (c.isDigit() || QStringView(u"@*#?$!").contains(c)) {
        *end = k + 1;
        return true;
    }
    return false;
}

// "key": in JSON, key: in YAML, property: in CSS (where a:hover is not one: a space must follow).
bool LineLexer::keyFollows(int end) const
{
    if (m_lang.keys == CodeLanguage::Keys::None)
        return false;
    int j = end;
    while (j < m_n && m_line[j] == u' ')
        ++j;
    if (j >= m_n || m_line[j] != u':')
        return false;
    if (m_lang.keys == CodeLanguage::Keys::Colon)
        return true;
    return j + 1 >= m_n || m_line[j + 1].isSpace();
}

CodeToken LineLexer::wordKind(QStringView word) const
{
    if (!m_lang.ignoreCase)
        return m_lang.wordKinds.value(word, CodeToken::Plain);
    QVarLengthArray<QChar, 32> lower(word.size());
    for (qsizetype i = 0; i < word.size(); ++i)
        lower[i] = word[i].toLower();
    return m_lang.wordKinds.value(QStringView(lower.data(), lower.size()), CodeToken::Plain);
}

// A line rule that matches at the line's start: returns the state to end in (0) when it took the
// whole line, else -1 with `i` after what it took.
int LineLexer::lineRules(int *i)
{
    int indent = 0;
    while (indent < m_n && m_line[indent].isSpace())
        ++indent;
    for (const CodeLineRule &rule : m_lang.lines) {
        const int at = rule.indent ? indent : 0;
        if (!m_line.mid(at).startsWith(rule.prefix))
            continue;
        if (!rule.marker) {
            emit(0, m_n, rule.kind);
            return 0;
        }
        emit(0, at, CodeToken::Plain);
        *i = at + int(rule.prefix.size());
        emit(at, *i, rule.kind);
        return -1;
    }
    if (!m_lang.preprocessor.isNull() && indent < m_n && m_line[indent] == m_lang.preprocessor)
        m_default =
            CodeToken::Meta; // #include <vector>: the whole line, but its strings and comments
    return -1;
}

// HTML and XML outside spans: tags and their attributes, entities; text between tags is plain.
bool LineLexer::markupStep(int *i, bool *inTag)
{
    const int at = *i;
    const QChar c = m_line[at];
    if (*inTag) {
        if (c == u'>') {
            emit(at, at + 1, CodeToken::Tag);
            *inTag = false;
            *i = at + 1;
        } else if ((c == u'/' || c == u'?') && at + 1 < m_n && m_line[at + 1] == u'>') {
            emit(at, at + 2, CodeToken::Tag);
            *inTag = false;
            *i = at + 2;
        } else if (isIdentStart(at)) {
            *i = identEnd(at);
            emit(at, *i, CodeToken::Attribute);
        } else {
            return false;
        }
        return true;
    }
    if (c == u'<' && at + 1 < m_n) {
        int j = at + 1;
        if (m_line[j] == u'/' || m_line[j] == u'!' || m_line[j] == u'?')
            ++j;
        if (j < m_n && m_line[j].isLetter()) {
            *i = identEnd(j);
            emit(at, *i, CodeToken::Tag);
            *inTag = true;
            return true;
        }
    } else if (c == u'&') {
        int j = at + 1;
        while (j < m_n && j - at < 12 && (m_line[j].isLetterOrNumber() || m_line[j] == u'#'))
            ++j;
        if (j < m_n && j > at + 1 && m_line[j] == u';') {
            *i = j + 1;
            emit(at, *i, CodeToken::Constant);
            return true;
        }
    }
    // Text: plain up to the next place a tag or an entity may start.
    int j = at + 1;
    while (j < m_n && m_line[j] != u'<' && m_line[j] != u'&')
        ++j;
    emit(at, j, CodeToken::Plain);
    *i = j;
    return true;
}

void LineLexer::word(int *i)
{
    const int start = *i;
    int end = identEnd(start);
    const QStringView text = m_line.mid(start, end - start);
    CodeToken kind = m_default;
    if (kind == CodeToken::Plain)
        kind = wordKind(text);
    if (m_default == CodeToken::Plain && kind == CodeToken::Plain) {
        if (!m_lang.macro.isNull() && end < m_n && m_line[end] == m_lang.macro &&
            (end + 1 >= m_n || m_line[end + 1] != u'=')) {
            kind = CodeToken::Function; // println!
            ++end;
        } else if (m_lang.functions && end < m_n && m_line[end] == u'(') {
            kind = CodeToken::Function;
        } else if (keyFollows(end)) {
            kind = CodeToken::Attribute;
        } else if (m_lang.capitalTypes && text.at(0).isUpper() &&
                   std::any_of(text.begin(), text.end(), [](QChar c) { return c.isLower(); })) {
            kind = CodeToken::Type;
        }
    }
    emit(start, end, kind);
    *i = end;
}

int LineLexer::run(int state)
{
    bool inTag = m_lang.markup && (state & kInTag);
    const auto stateAfter = [&inTag] { return inTag ? kInTag : 0; };
    int i = 0;
    const int open = state & kSpanMask;
    if (open > 0 && open <= m_lang.spans.size()) { // a comment or string goes on from above
        const CodeSpan &span = m_lang.spans.at(open - 1);
        bool closed = false;
        i = spanEnd(span, 0, &closed);
        emitSpan(span, 0, 0, i, span.kind);
        if (!closed)
            return span.multiline ? state : stateAfter();
    } else if (!inTag) {
        if (lineRules(&i) == 0)
            return 0;
    }
    while (i < m_n) {
        const QChar c = m_line[i];
        if (c.isSpace()) {
            emit(i, i + 1, m_default);
            ++i;
            continue;
        }
        bool matched = false;
        for (qsizetype s = 0; s < m_lang.spans.size() && !matched; ++s) {
            const CodeSpan &span = m_lang.spans.at(s);
            if (c != span.open.at(0) || (m_lang.markup && span.inTag != inTag) ||
                !m_line.mid(i).startsWith(span.open) ||
                (span.wordStart && i > 0 && !m_line[i - 1].isSpace()))
                continue;
            bool closed = false;
            const int end = spanEnd(span, i + int(span.open.size()), &closed);
            if (span.shortLiteral && (!closed || !shortFits(span, i, end)))
                continue;
            CodeToken kind = span.kind;
            if (closed && kind == CodeToken::String && keyFollows(end))
                kind = CodeToken::Attribute; // "key": in JSON
            emitSpan(span, i, i + int(span.open.size()), end, kind);
            if (!closed)
                return span.multiline ? int(s + 1) | stateAfter() : stateAfter();
            i = end;
            matched = true;
        }
        if (matched)
            continue;
        if (m_lang.markup) {
            if (!markupStep(&i, &inTag)) {
                emit(i, i + 1, CodeToken::Plain);
                ++i;
            }
            continue;
        }
        int end = 0;
        if (!m_lang.variable.isNull() && c == m_lang.variable && variableAt(i, &end)) {
            emit(i, end, m_default == CodeToken::Plain ? CodeToken::Variable : m_default);
            i = end;
        } else if (!m_lang.annotation.isNull() && c == m_lang.annotation && i + 1 < m_n &&
                   isIdentStart(i + 1)) {
            end = identEnd(i + 1);
            while (end + 1 < m_n && m_line[end] == u'.' && isIdentStart(end + 1))
                end = identEnd(end + 1); // @pytest.mark.skip
            emit(i, end, CodeToken::Meta);
            i = end;
        } else if ((c.isDigit() || (c == u'.' && i + 1 < m_n && m_line[i + 1].isDigit())) &&
                   (i == 0 || !isIdentChar(m_line[i - 1]))) {
            end = numberEnd(i); // a number, coloured or not, is not read as words ("42L")
            emit(i, end,
                 m_lang.numbers && m_default == CodeToken::Plain ? CodeToken::Number : m_default);
            i = end;
        } else if (isIdentStart(i)) {
            word(&i);
        } else {
            emit(i, i + 1, m_default);
            ++i;
        }
    }
    return stateAfter();
}

} // namespace

const CodeLanguage *CodeHighlighter::language(QStringView info)
{
    const Registry &r = registry();
    // "python", "{.python}", "language-python", "python:main.py", "main.py"
    QString name = info.trimmed().toString().toLower();
    name = name.section(u' ', 0, 0);
    while (name.startsWith(u'{') || name.startsWith(u'.'))
        name.remove(0, 1);
    if (name.endsWith(u'}'))
        name.chop(1);
    if (name.startsWith(QLatin1String("language-")))
        name.remove(0, 9);
    for (const QString &candidate :
         {name, name.section(u':', 0, 0), name.section(u'.', -1), name.section(u':', -1)}) {
        const auto it = r.aliases.constFind(candidate);
        if (it != r.aliases.cend() && !candidate.isEmpty())
            return &r.languages.at(*it);
    }
    return nullptr;
}

QStringList CodeHighlighter::languageNames()
{
    QStringList names;
    for (const CodeLanguage &l : registry().languages)
        names.append(l.name);
    return names;
}

int CodeHighlighter::highlightLine(const CodeLanguage &language, QStringView line, int state,
                                   QList<CodeRun> *runs)
{
    runs->clear();
    LineLexer lexer(language, line, runs);
    const int next = lexer.run(state);
    // Spaces look the same in any colour: they join a neighbour, so that the line has fewer runs.
    // Each run is a text item Qt's layout paints on its own, every time the view repaints.
    qsizetype out = 0;
    for (qsizetype i = 0; i < runs->size(); ++i) {
        CodeRun run = runs->at(i);
        const bool blank =
            run.kind == CodeToken::Plain && line.mid(run.start, run.length).trimmed().isEmpty();
        if (blank && out > 0) {
            (*runs)[out - 1].length += run.length;
            continue;
        }
        if (blank && i + 1 < runs->size()) { // leading spaces: they go with the first word
            run.kind = runs->at(i + 1).kind;
        }
        if (out > 0 && (*runs)[out - 1].kind == run.kind) {
            (*runs)[out - 1].length += run.length;
            continue;
        }
        (*runs)[out++] = run;
    }
    runs->resize(out);
    return next;
}

} // namespace holdfast
