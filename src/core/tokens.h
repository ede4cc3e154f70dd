#pragma once

#include "core/types.h"

#include <QStringView>

// Token counts without a tokenizer (shared/API.md, Usage and context budget): about one token
// per 4 UTF-8 bytes, which is what a budget needs. Where a model server reported a count, that
// count is used instead (SessionService's context budget). One estimate for the service, the
// OpenAI-compatible API's fallback usage and the window's draft estimate.
namespace holdfast::tokens {

// An image costs the model a fixed number of tokens whatever its bytes (OpenAI: 85 to ~1,100 by
// size and detail; LLaVA-style models 576): one figure near the top of that range.
constexpr qint64 kPerImage = 1024;
// Each message's role and framing.
constexpr qint64 kPerMessage = 4;

// UTF-8 bytes of `text`, counted without converting it.
qint64 utf8Bytes(QStringView text);
// ceil(UTF-8 bytes / 4).
qint64 estimate(QStringView text);
// An attachment: kPerImage for an image, else its size / 4 (a text file's text; a PDF by its
// file size, which is more than its text: the estimate errs on the side of fitting).
qint64 estimate(const Attachment &attachment);
// An answer's tool calls (shared/API.md: a tool's result counts against the context budget):
// each call's name and arguments, and its result with the framing of its own message.
qint64 estimateToolCalls(const QList<MessageToolCall> &calls);
// A message: its text, its attachments, its tool calls and kPerMessage.
qint64 estimate(const Message &message);

} // namespace holdfast::tokens
