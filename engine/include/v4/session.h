// v4::session: one conversation's state on top of a shared v4::model: the KV cache, the scratch
// buffers and the logits of the last evaluated position.
//
// Thread safety: a session is NOT thread-safe; use each session from one thread at a time (the
// app's worker thread). Several sessions may share one model concurrently, since the model is
// read-only. The only thing another thread may touch during prefill()/decode_one() is the
// std::atomic<bool> cancel flag passed in: it is checked between layers and between ubatches,
// and a raised flag ends the call with v4::Error(ErrorCode::cancelled); the cache then holds the
// positions evaluated before the cancel (n_past() says how many), so a retry reuses them.
//
// Usage:
//   auto model = v4::model::load(path);
//   v4::session s(model, {.n_ctx = 4096, .n_threads = 2});
//   std::vector<int32_t> prompt = tokenizer.encode(text);      // token ids
//   std::atomic<bool> stop{false};
//   v4::prefill_stats st = s.prefill(prompt, &stop);           // reuses the cached common prefix
//   std::span<const float> logits = s.logits();                // [n_vocab], last position
//   for (int i = 0; i < 64; ++i) {
//       int32_t next = sampler.sample(logits);
//       if (next == eos) break;
//       logits = s.decode_one(next, &stop);
//   }
//   std::vector<uint8_t> snap = s.save_state();                // later: s.load_state(snap)
//
// Errors (v4::Error): context_overflow when tokens do not fit n_ctx (the message has the
// numbers), invalid_argument for a token id outside the vocabulary, cancelled, format for a
// load_state() blob that does not match (magic, version, model fingerprint, sizes).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "v4/model.h"
#include "v4/sampler.h"

namespace v4 {

// How the CPU matmuls see activations. Both quantize to int8 blocks (Q8_0 / Q8_K) for integer dot
// products; `accurate` also quantizes the rounding residual and adds a second dot, which makes the
// logits match an fp32 reference (Gemma 3 270M: 100% top-1, KL < 1e-6 vs 95-96%, KL 0.0035) for
// about 25% slower decode and 40% slower prefill on a small model.
enum class activation_precision { fast, accurate };

// Where a session runs its forward passes. `cuda` runs the dense families (llama, qwen2, qwen3,
// gemma3) on the first CUDA device and throws v4::Error (unsupported, or out_of_memory with the
// weights/KV/scratch numbers) when it cannot; `automatic` uses CUDA when it can and the CPU
// otherwise, and session::device_note() says why. session::sample() samples on the device there.
enum class compute_device { cpu, cuda, automatic };
// "cpu", "cuda", "auto" -> the device; anything else -> false.
bool parse_compute_device(std::string_view name, compute_device & out);

struct session_params {
    uint32_t n_ctx = 4096;     // KV cache positions; 0: the model's training context
    int      n_threads = 0;    // 0: hardware concurrency
    uint32_t n_batch = 256;    // tokens evaluated per forward pass (ubatch) during prefill
    activation_precision precision = activation_precision::fast;
    compute_device device = compute_device::cpu;
};

struct prefill_options {
    bool all_logits = false;   // keep the logits of every evaluated position (perplexity, KL)
};

struct prefill_stats {
    uint32_t n_reused = 0;     // tokens already in the cache (longest common prefix)
    uint32_t n_evaluated = 0;  // tokens run through the model now
    double   seconds = 0.0;
};

namespace detail { struct session_impl; }

class session {
public:
    session(std::shared_ptr<const model> model, const session_params & params = {});
    ~session();
    session(session &&) noexcept;
    session & operator=(session &&) noexcept;

    // Makes the cache hold exactly `tokens`: keeps the longest common prefix with what is cached,
    // drops the rest, evaluates the remainder. At least the last token is always evaluated so that
    // logits() is fresh (when `tokens` equals the cache, the last one is re-run).
    prefill_stats prefill(std::span<const int32_t> tokens, const std::atomic<bool> * cancel = nullptr,
                          const prefill_options & options = {});

    // Appends one token and returns the logits after it (valid until the next call).
    std::span<const float> decode_one(int32_t token, const std::atomic<bool> * cancel = nullptr);
    // Appends one token; its logits are fetched only when logits() asks (a CUDA session keeps them
    // on the device, so decode() + sample() moves one token id across PCIe instead of n_vocab floats).
    void decode(int32_t token, const std::atomic<bool> * cancel = nullptr);
    // The token smp.sample(logits()) returns: on a CUDA session drawn on the device with the same
    // parameters, penalty window and random stream (the host sampler runs instead when the device
    // cannot: no top-k and no top-p/min-p cut, or logits that came from load_state()).
    int32_t sample(sampler & smp);

    std::span<const float> logits() const;       // [n_vocab] of the last evaluated position
    // [n_evaluated * n_vocab] of the last prefill with all_logits, row i = position n_reused + i.
    std::span<const float> all_logits() const;

    uint32_t                     n_past() const; // positions in the cache
    uint32_t                     n_ctx() const;
    uint32_t                     n_vocab() const;
    const std::vector<int32_t> & tokens() const; // the cached tokens
    void                         clear();

    std::vector<uint8_t> save_state() const;
    void                 load_state(std::span<const uint8_t> bytes);

    const model & get_model() const;

    const char *        device() const;      // "cpu" or "cuda": where this session runs
    const std::string & device_note() const; // one line: the device, or why `automatic` chose the CPU
    // Peak memory bandwidth of the session's GPU in bytes/s: 2 (DDR) x memory clock x bus width / 8,
    // from the CUDA device attributes; 0 on the CPU. `v4 bench` divides achieved traffic by it.
    double              device_peak_bandwidth() const;

private:
    std::unique_ptr<detail::session_impl> m_impl;
};

} // namespace v4
