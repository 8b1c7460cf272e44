// Token sampling and generation control: the part between "the model produced logits" and "this
// is the next token / the text to show".
//
//   v4::sampler_params sp = v4::sampler_default_params();
//   sp.temperature = 0.7f;
//   sp.seed        = 42;
//   v4::sampler smp(sp);
//
//   v4::generation_params gp;
//   gp.max_tokens = 256;
//   gp.stop       = {"</answer>"};
//   gp.eog_tokens = {1, 106};           // from the tokenizer
//   v4::generation gen(gp);
//
//   while (!gen.done()) {
//       int32_t tok = smp.sample(session.logits());   // logits: one float per vocab entry
//       smp.accept(tok);                              // feeds the repetition penalties
//       std::string piece = decoder.push(tok);        // streaming UTF-8 decoder (tokenizer.h)
//       std::cout << gen.push(tok, piece);            // withholds a possible stop-string prefix
//       if (!gen.done()) session.decode(tok);
//   }
//   std::cout << gen.finish();
//
// Pipeline of sampler::sample(), in this order (the same order as llama.cpp's default chain):
//   logit_bias -> penalties -> [temperature <= 0: argmax] -> top_k -> top_p -> min_p
//   -> temperature -> draw.
// top_k, top_p and min_p are computed on the untempered distribution; temperature only reshapes
// what is left.
//
// Determinism: a sampler's draws depend only on its seed, the logits and the accepted tokens. It
// uses its own std::mt19937_64 and its own uniform conversion, so results do not depend on the
// standard library's distributions, and nothing iterates an unordered container.
//
// Thread safety: a sampler or generation object is used by one thread at a time; distinct
// objects are independent.
#pragma once

#include <cstdint>
#include <map>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace v4 {

struct sampler_params {
    float    temperature        = 0.8f;  // <= 0: greedy (argmax after bias and penalties)
    int32_t  top_k              = 40;    // <= 0 or >= n_vocab: disabled
    float    top_p              = 0.95f; // >= 1: disabled
    float    min_p              = 0.05f; // <= 0: disabled; keeps p >= min_p * p_max
    float    repetition_penalty = 1.0f;  // 1: disabled; logit > 0 ? logit / rp : logit * rp
    float    presence_penalty   = 0.0f;  // subtracted once from every token seen in the window
    float    frequency_penalty  = 0.0f;  // subtracted count times
    int32_t  penalty_last_n     = 64;    // window of accepted tokens; 0: none, -1: all
    uint64_t seed               = 0;
    std::map<int32_t, float> logit_bias; // added to the logit; -INFINITY bans the token
};

sampler_params sampler_default_params();
sampler_params sampler_greedy_params(); // temperature 0, no penalties

// A candidate for the next token with its probability among the surviving candidates.
struct token_prob {
    int32_t id    = 0;
    float   logit = 0.0f; // after bias and penalties, before temperature
    float   p     = 0.0f; // after temperature, normalised over the candidates
};

// Applies the repetition / presence / frequency penalties of `params` to `logits` for the tokens
// in `window` (the last penalty_last_n accepted tokens). Out-of-range ids are ignored.
void apply_penalties(std::span<float> logits, std::span<const int32_t> window, const sampler_params & params);

// Adds params.logit_bias to `logits`. Out-of-range ids are ignored.
void apply_logit_bias(std::span<float> logits, const sampler_params & params);

class sampler {
public:
    explicit sampler(sampler_params params);

    // Picks the next token from one row of logits (size n_vocab). Does not record it: call
    // accept() with the token actually fed back to the model. Throws v4::Error
    // (invalid_argument) when logits is empty or every token is banned.
    int32_t sample(std::span<const float> logits);

    // The candidate set the next draw would choose from, in descending probability. For tests
    // and for showing alternatives; does not touch the random state.
    std::vector<token_prob> candidates(std::span<const float> logits);

    void accept(int32_t token);       // adds to the penalty window
    void reset();                     // clears the window and reseeds with params().seed
    void set_seed(uint64_t seed);     // reseeds (and stores the seed in params())

    const sampler_params & params() const { return m_params; }
    std::span<const int32_t> history() const { return m_history; }

    // For a sampler that runs elsewhere with this one's parameters (a CUDA session samples on the
    // device): the uniform number in [0, 1) the next draw would use, without consuming it, and
    // consuming it. sample() draws only when more than one candidate survives, so the other side
    // says whether it drew and the caller then calls consume_uniform(): the random stream stays
    // the one sample() would have used.
    double peek_uniform() const;
    void   consume_uniform();

private:
    // Fills m_work with bias + penalties applied; returns its view.
    std::span<float> prepare(std::span<const float> logits);
    // Reduces m_cand to the top_k / top_p / min_p survivors, sorted by descending logit, and
    // fills their probabilities at `temperature`.
    void filter(std::span<const float> work);
    double uniform01();

    sampler_params            m_params;
    std::mt19937_64           m_rng;
    std::vector<int32_t>      m_history; // accepted tokens, trimmed to the penalty window
    std::vector<float>        m_work;    // scratch: n_vocab logits
    std::vector<token_prob>   m_cand;    // scratch: candidates
};

// --- generation control ---------------------------------------------------------------------

enum class stop_reason {
    none,        // still generating
    eog_token,   // the model produced an end-of-generation token
    stop_string, // the output contained one of generation_params::stop
    max_tokens,  // generation_params::max_tokens were produced
};
const char * stop_reason_name(stop_reason reason);

struct generation_params {
    int32_t                  max_tokens = -1; // < 0: unlimited
    std::vector<std::string> stop;            // matched on decoded text, across token boundaries
    std::vector<int32_t>     eog_tokens;      // end-of-generation ids (never shown)
};

// Tracks one reply: counts tokens, detects end-of-generation tokens and stop strings. Text that
// might be the start of a stop string is withheld until it is known not to be; the matched stop
// string (and anything after it) is never returned.
class generation {
public:
    explicit generation(generation_params params);

    // Feeds one sampled token and the text the streaming decoder produced for it (may be empty).
    // Returns the text that is now safe to show. After done() is true, further calls return "".
    std::string push(int32_t token, std::string_view text);

    // Returns any text still withheld (a partial stop-string prefix that never completed). Call
    // once after generation ends for any reason; returns "" when a stop string matched.
    std::string finish();

    bool        done() const { return m_reason != stop_reason::none; }
    stop_reason reason() const { return m_reason; }
    int32_t     n_tokens() const { return m_n_tokens; } // tokens pushed, eog token included
    const std::string & matched_stop() const { return m_matched_stop; }

private:
    generation_params m_params;
    std::string       m_pending; // withheld text: a suffix that is a prefix of some stop string
    std::string       m_matched_stop;
    stop_reason       m_reason   = stop_reason::none;
    int32_t           m_n_tokens = 0;
};

} // namespace v4
