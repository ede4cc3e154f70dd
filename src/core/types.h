#pragma once

#include <QDateTime>
#include <QJsonObject>
#include <QList>
#include <QMetaType>
#include <QString>
#include <QStringList>

#include <optional>

namespace holdfast {

// A file attached to a user message (shared/API.md, Attachments): metadata only; the bytes are
// stored apart and read only when a model or a client asks for them.
struct Attachment
{
    QString id;   // matches the session id rule
    QString name; // 1 to 255 code points, no '/', '\\', DEL or control characters
    QString type; // the stored media type: image/png, application/pdf, text/plain, ...
    qint64 size = 0;
    QDateTime createdAt;

    bool operator==(const Attachment &) const = default;
};

// One call of an MCP tool by the model (shared/API.md, Tools (MCP)). `name` is "SERVER/TOOL".
struct ToolCall
{
    QString id;
    QString name;
    QJsonObject arguments;

    bool operator==(const ToolCall &) const = default;
};

// What a tool call gave back, as it goes to the model and to clients.
struct ToolResult
{
    QString id; // the call's
    QString content;
    bool isError = false;
    // The user approved the call, or it ran under `tool_approval: auto`. Stored with the result
    // (it fills the message's tool_calls), never sent in a chunk.
    bool approved = false;

    bool operator==(const ToolResult &) const = default;
};

// A call as the assistant message lists it (its `tool_calls`): the call and what came of it.
struct MessageToolCall
{
    QString id;
    QString name;
    QJsonObject arguments;
    std::optional<QString> result; // nullopt: no result (a crash cut the call off)
    bool isError = false;
    bool approved = false;
    // How many characters of the message's content the model had written before it asked for
    // this call: where the call goes when the message is sent to the model again.
    qint64 offset = 0;

    bool operator==(const MessageToolCall &) const = default;
};

// One message of a session. `index` is its 0-based position in the session, forever. The
// messages form a tree (shared/API.md, Branches): `parent` is the message this one follows.
struct Message
{
    enum class State { Complete, Interrupted, Error };

    qint64 index = -1;
    QString role; // "user" | "assistant"
    QString content;
    int turn = 0; // the turn that produced it (0: none)
    State state = State::Complete;
    QDateTime createdAt;
    qint64 parent = -1; // -1: a first message (null)
    qint64 depth = 0;   // parent's depth + 1 (0 for a first message); stored, never sent
    // Every message with the same parent, this one included, ascending. Filled by the stores'
    // loads (not stored with the message); empty on a message not loaded from a store.
    QList<qint64> siblings;
    // A user message's files, in the order given (always empty on answers). Stored as links to
    // the session's attachments; loads fill the metadata, never the bytes.
    QList<Attachment> attachments;
    // An answer's tool calls in the order the model asked for them (always empty on prompts).
    QList<MessageToolCall> toolCalls;

    bool operator==(const Message &) const = default;
};

QString messageStateName(Message::State state);
std::optional<Message::State> messageStateFromName(const QString &name);

// Options of a turn passed through to the model (shared/API.md, Usage and context budget). A
// session's `options` are its defaults; a turn's own options override them one by one.
struct TurnOptions
{
    std::optional<double> temperature; // 0 ... 2
    std::optional<double> topP;        // 0 ... 1
    std::optional<int> maxTokens;      // >= 1
    std::optional<int> contextTokens;  // >= 256: the budget of what goes to the model

    bool isEmpty() const { return !temperature && !topP && !maxTokens && !contextTokens; }
    // `over`'s options where set, else these.
    TurnOptions overriddenBy(const TurnOptions &over) const;
    bool operator==(const TurnOptions &) const = default;
};

// Whether a tool call waits for the user's approval (`ask`) or runs at once (`auto`).
enum class ToolApproval { Ask, Auto };
QString toolApprovalName(ToolApproval approval);
std::optional<ToolApproval> toolApprovalFromName(const QString &name);

// Everything about a session except its messages.
struct SessionMeta
{
    QString id;
    QString title;  // null until set
    QString system; // null until set
    QString model;
    QDateTime createdAt;
    QDateTime updatedAt;
    qint64 total = 0;    // messages ever appended, on every branch
    qint64 head = -1;    // the last message of the active branch (-1: no message yet)
    qint64 length = 0;   // messages on the active branch (head's depth + 1, 0 without head)
    int activeTurn = 0;  // 0: none
    int lastTurn = 0;    // id of the newest turn (turn ids are 1, 2, 3, ...)
    TurnOptions options; // the session's default generation options ({} until set)
    // The tools the model may call ("SERVER/TOOL", or "*" for all; [] until set: none).
    QStringList tools;
    ToolApproval toolApproval = ToolApproval::Ask;

    bool operator==(const SessionMeta &) const = default;
};

// Tokens as the model server reported them for one generation.
struct TokenUsage
{
    qint64 promptTokens = 0;
    qint64 completionTokens = 0;

    bool operator==(const TokenUsage &) const = default;
};

// What of the branch went to the model (shared/API.md: a turn's `context`).
struct ContextUse
{
    int messages = 0; // earlier messages of the branch sent (the new prompt not counted)
    int dropped = 0;  // earlier messages left out to fit the context budget

    bool operator==(const ContextUse &) const = default;
};

struct TurnRecord
{
    // Waiting: a tool call waits for the user's approval (the turn is still active).
    enum class State { Queued, Streaming, Waiting, Done, Cancelled, Interrupted, Error };

    int id = 0;
    QString session;
    State state = State::Queued;
    qint64 promptIndex = -1;
    qint64 responseIndex = -1; // -1: not saved yet (null)
    int chunks = 0;
    QString model;
    QDateTime createdAt;
    QDateTime finishedAt; // invalid: null
    QString errorCode;    // empty: no error
    QString errorMessage;
    std::optional<TokenUsage> usage;   // null until ended, or where the server reported none
    std::optional<ContextUse> context; // known once the request to the model is built
    QDateTime firstChunkAt;            // when the first chunk was stored; invalid: null

    bool ended() const
    {
        return state != State::Queued && state != State::Streaming && state != State::Waiting;
    }
    bool operator==(const TurnRecord &) const = default;
};

QString turnStateName(TurnRecord::State state);
std::optional<TurnRecord::State> turnStateFromName(const QString &name);

// A piece of an answer. A chunk that records a step of tool use has empty text and carries
// the call or its result (never both).
struct Chunk
{
    Chunk() = default;
    Chunk(int seq, QString text) : seq(seq), text(std::move(text)) {}

    int seq = 0;
    QString text;
    std::optional<ToolCall> toolCall;
    std::optional<ToolResult> toolResult;

    bool isToolStep() const { return toolCall || toolResult; }
    bool operator==(const Chunk &) const = default;
};

// A session as clients see it: metadata plus the newest `window` messages, oldest first.
struct SessionSnapshot
{
    SessionMeta meta;
    QList<Message> history;
};

struct SessionPage
{
    QList<SessionMeta> sessions;
    qint64 total = 0;
};

struct MessagePage
{
    QList<Message> messages;
    qint64 total = 0;
    qint64 length = 0; // of the active branch
};

struct ChunkPage
{
    QList<Chunk> chunks;
    int next = 0;
    bool done = false;
    TurnRecord::State state = TurnRecord::State::Streaming;
};

// The one time format (stores, JSON, events): RFC 3339 UTC with milliseconds.
QString nowIso();
QString toIso(const QDateTime &time); // "2024-05-01T12:34:56.789Z"; "" for invalid
QDateTime fromIso(const QString &text);
// toIso(time)'s kIsoLength ASCII characters into `out`, without QDateTime::toString (which costs
// more than a statement or a snapshot it goes into). False (nothing written) for an invalid time
// and for the years before 1 and after 9999, which toIso writes in other widths.
constexpr int kIsoLength = 24;
bool writeIso(const QDateTime &time, char *out);

} // namespace holdfast

Q_DECLARE_METATYPE(holdfast::Attachment)
Q_DECLARE_METATYPE(holdfast::Message)
Q_DECLARE_METATYPE(holdfast::SessionMeta)
Q_DECLARE_METATYPE(holdfast::TurnRecord)
Q_DECLARE_METATYPE(holdfast::Chunk)
