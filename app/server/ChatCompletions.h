// The OpenAI chat-completions wire format, both ways: a request body becomes a v4::chat_request
// (every field checked, errors name the field), and results become chat.completion /
// chat.completion.chunk objects and OpenAI-style {"error": {...}} bodies. No I/O here.
//
// Accepted request fields: model, messages (content as a string or an array of text parts),
// stream, stream_options.include_usage, temperature, top_p, top_k, min_p, seed, max_tokens /
// max_completion_tokens, stop (string or array), presence_penalty, frequency_penalty,
// repeat_penalty / repetition_penalty, n (1 only), chat_template_kwargs.enable_thinking and
// thinking (bool, or DeepSeek's {"type": "enabled" | "disabled"}). Unknown fields are ignored, as
// OpenAI-compatible servers do, so clients that send extras (user, logprobs: false, ...) work.
#pragma once

#include <QByteArray>
#include <QJsonObject>
#include <QString>

#include <optional>

#include "v4/chat.h"

namespace v4app {

struct ApiError {
    int        status = 400;
    QByteArray type;    // "invalid_request_error", "authentication_error", "not_found_error", ...
    QByteArray code;    // machine-readable: "invalid_json", "model_not_found", ...
    QString    message; // for people
    QString    param;   // the request field at fault, when there is one
};

// {"error": {"message", "type", "code", "param"}}
QByteArray errorBody(const ApiError & error);

struct CompletionRequest {
    v4::chat_request chat;
    QString          model;        // as asked; empty when the body has none
    bool             stream       = false;
    bool             includeUsage = false;
    bool             seedGiven    = false; // otherwise the caller picks a random seed
};

// Fills `out` from a JSON body; returns the 400 to send when the body is not a valid request.
std::optional<ApiError> parseCompletionRequest(const QByteArray & body, CompletionRequest & out);

// "stop" for end-of-generation and stop strings, "length" for max_tokens and a full context.
QString finishReason(const v4::chat_result & result);

QJsonObject usageObject(const v4::chat_result & result);

// One chat.completion.chunk. finishReason empty: null. usage: the final usage-only chunk.
QJsonObject completionChunk(const QString & id, qint64 created, const QString & model, const QJsonObject & delta,
                            const QString & finishReason);
QJsonObject usageChunk(const QString & id, qint64 created, const QString & model, const v4::chat_result & result);

// The whole answer of a non-streamed request.
QJsonObject completionObject(const QString & id, qint64 created, const QString & model, const QString & content,
                             const QString & reasoning, const v4::chat_result & result);

} // namespace v4app
