// Replies and their statistics. Chat-formatted prompts go through v4::chat_runner (the same path
// as the desktop app); generateReply() is the loop for --raw prompts that bypass the template.
#pragma once

#include <QCommandLineParser>

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "v4/chat.h"
#include "v4/sampler.h"
#include "v4/session.h"
#include "v4/tokenizer.h"

namespace v4cli {


struct ReplyStats {
    uint32_t        promptTokens = 0;
    uint32_t        reused       = 0; // prompt tokens found in the session's cache
    uint32_t        evaluated    = 0; // prompt tokens run through the model
    double          prefillMs    = 0.0;
    double          ttftMs       = 0.0; // start of prefill to the first sampled token
    double          decodeMs     = 0.0;
    int             generated    = 0; // tokens sampled, end-of-generation token included
    int             decoded      = 0; // tokens fed back through decode_one
    v4::stop_reason reason       = v4::stop_reason::none;
    bool            contextFull  = false;
    bool            interrupted  = false;

    double prefillTokensPerSecond() const { return prefillMs > 0 ? evaluated * 1000.0 / prefillMs : 0.0; }
    double decodeTokensPerSecond() const { return decodeMs > 0 ? decoded * 1000.0 / decodeMs : 0.0; }
    std::string stopText() const; // "eog", "stop", "length", "context full", "interrupted"
};

// The statistics of a reply produced by v4::chat_runner.
ReplyStats statsOf(const v4::chat_result & result);

// All ids the tokenizer calls end-of-generation (scans the vocabulary once).
std::vector<int32_t> endOfGenerationTokens(const v4::tokenizer & tok);

// Encodes a rendered chat prompt: control tokens in the text are parsed, and BOS is prepended when
// the model wants one and the template did not already write it.
std::vector<int32_t> encodePrompt(const v4::tokenizer & tok, std::string_view text, bool templated);

// Prefills `prompt` (reusing the session's cached prefix), then samples, streams and decodes token
// by token until an end-of-generation token, a stop string, the token limit, the end of the
// context window or Ctrl+C.
ReplyStats generateReply(v4::session & session, const v4::tokenizer & tok, v4::sampler & sampler,
                         std::span<const int32_t> prompt, const v4::generation_params & params,
                         const std::function<void(std::string_view)> & onText);

// Options shared by run and chat: -n/--n-predict, --stop, --system, --think.
void                  addGenerationOptions(QCommandLineParser & parser, int defaultTokens);
v4::generation_params generationParams(const QCommandLineParser & parser, const v4::tokenizer & tok);
std::optional<bool>   thinkingOption(const QCommandLineParser & parser); // --think on|off
// "prompt tokens: ..., reused: ..., evaluated: ..." and the speeds, to stderr.
void printReplyStats(const ReplyStats & stats);

} // namespace v4cli
