// The CUDA path of a session: a device-resident forward for the dense families (llama, qwen2,
// qwen3, gemma3). Weights are uploaded once per model in their GGUF block formats and shared by
// every session of that model; each session owns an f16 KV cache and the activations on the
// device, runs one forward per ubatch and replays the decode step from a CUDA graph. The logits
// stay on the device until asked for: sample() draws the next token there (only its id crosses
// PCIe), read_logits() copies them back for a sampler that runs on the host.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "v4/model.h"
#include "v4/sampler.h"

namespace v4::detail {

class device_runner {
public:
    virtual ~device_runner() = default;
    // Evaluates tokens at positions pos0 .. and appends their K/V to the device cache; writes the
    // logits of the last token ([n_vocab]) or, with all_logits, of every token ([T][n_vocab]).
    // tokens.size() <= the n_batch the runner was made with; tokens are already validated.
    // logits == nullptr (only without all_logits): they stay on the device for sample() / read_logits().
    virtual void forward(std::span<const int32_t> tokens, int pos0, bool all_logits, float * logits,
                         const std::atomic<bool> * cancel) = 0;
    // The logits of the last token of the last forward ([n_vocab]).
    virtual void read_logits(float * logits) = 0;
    // The token smp.sample() would pick from those logits, chosen on the device with smp's
    // parameters, penalty window and random stream (smp's draw is consumed exactly when the host
    // sampler would consume it). nullopt when the candidate set is too large for the device kernel
    // (no top-k and no min-p/top-p cut); the caller then samples read_logits() on the host.
    // Throws v4::Error (invalid_argument) when every token is banned, as sampler::sample does.
    virtual std::optional<int32_t> sample(sampler & smp) = 0;
    // Copies K and V rows 0 .. n_tokens-1 of layer il ([n_tokens][kv_dim] f16 bits, the layout of
    // the CPU session's cache) to the host, and back (session snapshots).
    virtual void read_kv(int il, int n_tokens, uint16_t * k, uint16_t * v) = 0;
    virtual void write_kv(int il, int n_tokens, const uint16_t * k, const uint16_t * v) = 0;
    // The same for a host cache kept in f32 (converted through f16, the device's format).
    void read_kv(int il, int n_tokens, float * k, float * v);
    void write_kv(int il, int n_tokens, const float * k, const float * v);
    virtual int kv_dim() const = 0;
    // "NVIDIA H100 80GB HBM3: weights 0.24 GiB + KV cache ... " for logs and `v4 bench`.
    virtual std::string describe() const = 0;
    // Bytes/s: 2 (DDR) x memory clock x bus width / 8, from cudaDevAttrMemoryClockRate and
    // cudaDevAttrGlobalMemoryBusWidth (H100 SXM: 2 x 2.619 GHz x 640 B = 3.35 TB/s).
    virtual double peak_bandwidth() const = 0;
};

// Throws v4::Error when the CUDA path cannot run this model here, saying why: no CUDA build, no
// device (the probe's reason), an architecture other than the dense families, an unsupported
// tensor type or head size (unsupported), or not enough free device memory with the numbers
// (out_of_memory). quantize_activations (the session's fast precision): decode GEMVs of integer
// weight types take q8_1 activations and dp4a; otherwise every product keeps f32 activations.
std::unique_ptr<device_runner> make_cuda_runner(const std::shared_ptr<const model> & m, uint32_t n_ctx,
                                                uint32_t n_batch, bool quantize_activations = false);

} // namespace v4::detail
