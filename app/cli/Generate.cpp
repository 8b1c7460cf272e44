#include "Generate.h"

#include <cstdio>

#include "CliCommon.h"

namespace v4cli {

void addGenerationOptions(QCommandLineParser & parser, int defaultTokens) {
    parser.addOptions({
        {{QStringLiteral("n"), QStringLiteral("n-predict")},
         QStringLiteral("Most tokens to generate per reply; -1: until the model stops (default %1).").arg(defaultTokens),
         QStringLiteral("N"), QString::number(defaultTokens)},
        {QStringLiteral("stop"), QStringLiteral("Stop when the reply contains S (repeatable); S is not printed."), QStringLiteral("S")},
        {QStringLiteral("system"), QStringLiteral("System message."), QStringLiteral("S")},
        {QStringLiteral("think"), QStringLiteral("Let templates with a thinking switch (Qwen 3) think: on or off."), QStringLiteral("on|off")},
    });
}

v4::generation_params generationParams(const QCommandLineParser & parser, const v4::tokenizer & tok) {
    v4::generation_params gp;
    gp.max_tokens = intValue(parser, QStringLiteral("n-predict"), -1, 1 << 30);
    for (const QString & s : parser.values(QStringLiteral("stop"))) {
        gp.stop.push_back(s.toStdString());
    }
    gp.eog_tokens = endOfGenerationTokens(tok);
    return gp;
}

std::optional<bool> thinkingOption(const QCommandLineParser & parser) {
    if (!parser.isSet(QStringLiteral("think"))) {
        return std::nullopt;
    }
    const QString v = parser.value(QStringLiteral("think"));
    if (v != QLatin1String("on") && v != QLatin1String("off")) {
        throw UsageError("--think wants on or off");
    }
    return v == QLatin1String("on");
}

void printReplyStats(const ReplyStats & s) {
    std::fprintf(stderr,
                 "prompt tokens: %u, reused: %u, evaluated: %u\n"
                 "ttft: %.1f ms, prefill: %.1f tok/s, decode: %.1f tok/s (%d tokens), stop: %s\n",
                 s.promptTokens, s.reused, s.evaluated, s.ttftMs, s.prefillTokensPerSecond(), s.decodeTokensPerSecond(),
                 s.generated, s.stopText().c_str());
}

std::string ReplyStats::stopText() const {
    if (interrupted) return "interrupted";
    if (contextFull) return "context full";
    return v4::stop_reason_name(reason);
}

ReplyStats statsOf(const v4::chat_result & r) {
    ReplyStats s;
    s.promptTokens = r.n_prompt;
    s.reused       = r.n_reused;
    s.evaluated    = r.n_evaluated;
    s.prefillMs    = r.prefill_seconds * 1000.0;
    s.ttftMs       = r.ttft_seconds * 1000.0;
    s.decodeMs     = r.decode_seconds * 1000.0;
    s.generated    = static_cast<int>(r.n_generated);
    s.decoded      = r.n_generated > 0 ? static_cast<int>(r.n_generated) - 1 : 0;
    s.reason       = r.reason;
    s.contextFull  = r.context_full;
    return s;
}

std::vector<int32_t> endOfGenerationTokens(const v4::tokenizer & tok) {
    std::vector<int32_t> ids;
    for (int32_t id = 0; id < tok.n_vocab(); ++id) {
        if (tok.is_eog(id)) {
            ids.push_back(id);
        }
    }
    return ids;
}

std::vector<int32_t> encodePrompt(const v4::tokenizer & tok, std::string_view text, bool templated) {
    if (!templated) {
        return tok.encode(text, /*add_special=*/true, /*parse_special=*/false);
    }
    std::vector<int32_t> ids = tok.encode(text, /*add_special=*/false, /*parse_special=*/true);
    if (tok.add_bos() && tok.bos() >= 0 && (ids.empty() || ids.front() != tok.bos())) {
        ids.insert(ids.begin(), tok.bos());
    }
    return ids;
}

ReplyStats generateReply(v4::session & session, const v4::tokenizer & tok, v4::sampler & sampler,
                         std::span<const int32_t> prompt, const v4::generation_params & params,
                         const std::function<void(std::string_view)> & onText) {
    ReplyStats stats;
    stats.promptTokens = static_cast<uint32_t>(prompt.size());

    Stopwatch                 clock;
    const v4::prefill_stats   pf = session.prefill(prompt, interruptFlag());
    stats.prefillMs              = clock.ms();
    stats.reused                 = pf.n_reused;
    stats.evaluated              = pf.n_evaluated;

    std::span<const float> logits = session.logits();
    v4::utf8_stream        decoder(tok, /*render_special=*/false);
    v4::generation         gen(params);
    while (!gen.done()) {
        if (interrupted()) {
            stats.interrupted = true;
            break;
        }
        const int32_t token = sampler.sample(logits);
        if (stats.generated++ == 0) {
            stats.ttftMs = clock.ms();
        }
        sampler.accept(token);
        const std::string piece = tok.is_eog(token) ? std::string() : decoder.push(token);
        onText(gen.push(token, piece));
        if (gen.done()) {
            break;
        }
        if (session.n_past() >= session.n_ctx()) {
            stats.contextFull = true;
            break;
        }
        Stopwatch step;
        try {
            logits = session.decode_one(token, interruptFlag());
        } catch (const v4::Error & e) {
            if (e.code() != v4::ErrorCode::cancelled) {
                throw;
            }
            stats.interrupted = true;
            break;
        }
        stats.decodeMs += step.ms();
        ++stats.decoded;
    }
    stats.reason = gen.reason();
    if (gen.reason() != v4::stop_reason::stop_string) {
        onText(gen.finish() + decoder.finish());
    }
    return stats;
}

} // namespace v4cli
