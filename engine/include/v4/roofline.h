// What bounds a model's speed on this CPU: the bytes one decode step must read (weights and KV
// cache), the arithmetic of a prefill, and the machine's measured read bandwidth. `v4 bench
// --roofline` divides the one by the other to say how close decode runs to the memory roofline.
#pragma once

#include <cstdint>
#include <memory>

#include "v4/model.h"

namespace v4 {

struct decode_traffic {
    uint64_t weight_bytes = 0; // every matrix once, except the token embedding (one row) when untied
    uint64_t kv_bytes = 0;     // K and V rows attention reads, all layers (sliding windows honoured)
};

// Bytes read by one decode step that attends to n_kv cached positions (the new one included).
decode_traffic decode_bytes(const model & m, uint32_t n_kv);

// Floating-point (or integer multiply-add) operations, counting a multiply-add as 2, of prefilling
// n_tokens from an empty cache: every layer matmul per token, attention (q.k and p.v) per pair seen,
// and the output projection for the last position only.
double prefill_flops(const model & m, uint32_t n_tokens);

// The read bandwidth a decode step can hope for: n_threads threads (the CPU backend's thread pool,
// so the same threads and split a matmul uses) streaming the model's own weight bytes, where they
// live (the resident huge-page copy, or the file mapping), with a plain summing loop. Weights of a
// real model are several times the last-level cache, so every pass comes from DRAM (below 64 MiB
// of weights the probe streams a 256 MiB buffer of its own instead).
// On a shared host the available bandwidth drifts by tens of percent within seconds, so a caller
// measures right before and after the run it relates to the roofline (`v4 bench --roofline`).
class bandwidth_probe {
public:
    bandwidth_probe(const model & m, int n_threads);
    ~bandwidth_probe();
    bandwidth_probe(const bandwidth_probe &) = delete;
    bandwidth_probe & operator=(const bandwidth_probe &) = delete;

    double   measure(int passes = 3); // bytes/s, the median of `passes` passes
    uint64_t bytes() const;           // bytes one pass reads

private:
    struct impl;
    std::unique_ptr<impl> m_impl;
};

} // namespace v4
