#pragma once

#include "core/error.h"
#include "core/types.h"

#include <QJsonObject>

// The JSON shapes of shared/API.md, shared by the HTTP server, the remote client and stores.
namespace holdfast::json {

QJsonObject toJson(const Message &message);
QJsonObject toJson(const Attachment &attachment);
QJsonObject toJson(const SessionMeta &meta);         // without "history"
QJsonObject toJson(const SessionSnapshot &snapshot); // with "history"
// Byte for byte QJsonDocument(toJson(snapshot)).toJson(Compact), written directly: GET session
// builds no QJsonObject per message (which was most of that request's cost, W3 bench).
QByteArray toJsonBytes(const SessionSnapshot &snapshot);
QJsonObject toJson(const TurnRecord &turn);
// Byte for byte QJsonDocument(toJson(turn)).toJson(Compact), written directly.
QByteArray toJsonBytes(const TurnRecord &turn);
QJsonObject toJson(const Chunk &chunk); // with "tool_call" or "tool_result" for a tool step
// Tools (shared/API.md, Tools (MCP)).
QJsonObject toJson(const ToolCall &call);        // {"id","name","arguments"}
QJsonObject toJson(const ToolResult &result);    // {"id","content","is_error"}: no "approved"
QJsonObject toJson(const MessageToolCall &call); // a message's tool_calls entry, with "offset"
std::optional<ToolCall> toolCallFromJson(const QJsonObject &object);
std::optional<ToolResult> toolResultFromJson(const QJsonObject &object); // "approved" if present
std::optional<MessageToolCall> messageToolCallFromJson(const QJsonObject &object);
// A chunk's tool step as the stores keep it: {"tool_call":{...}} or {"tool_result":{...,
// "approved":b}}; {} for a text chunk. readStoredToolStep fills `chunk` from it (false: malformed).
QJsonObject storedToolStep(const Chunk &chunk);
bool readStoredToolStep(const QJsonObject &object, Chunk &chunk);
// A session's or a turn's options: only the options that are set ({} for none).
QJsonObject toJson(const TurnOptions &options);
QJsonObject toJson(const TokenUsage &usage);   // {"prompt_tokens","completion_tokens"}
QJsonObject toJson(const ContextUse &context); // {"messages","dropped"}
QJsonObject errorBody(const Error &error);     // {"error":{"code","message"}}

// Appends `text` as a JSON string, quotes included: UTF-8, with \" \\ \b \f \n \r \t and \u00xx
// for the other control characters. The one string writer of the session and turn bodies and the
// event stream's chunks. A lone surrogate (UTF-8 cannot carry one) becomes U+FFFD:
// "\ud800" is JSON that strict parsers, ours among them (core/strictjson), refuse.
void appendString(QByteArray &out, QStringView text);

std::optional<Message> messageFromJson(const QJsonObject &object);
std::optional<Attachment> attachmentFromJson(const QJsonObject &object);
// The fields the API's message object and the Redis message record share: role, content, turn,
// state, created_at (index, parent and the rest differ between the two).
void readMessageFields(const QJsonObject &object, Message &message);
std::optional<SessionMeta> sessionFromJson(const QJsonObject &object);
std::optional<SessionSnapshot> snapshotFromJson(const QJsonObject &object);
std::optional<TurnRecord> turnFromJson(const QJsonObject &object);
std::optional<Chunk> chunkFromJson(const QJsonObject &object);
// Leniently, as the service wrote them (the HTTP layer checks what clients send).
TurnOptions optionsFromJson(const QJsonObject &object);
std::optional<Error> errorFromJson(const QJsonObject &object); // from an errorBody

} // namespace holdfast::json
