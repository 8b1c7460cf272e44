// What bounds a model's speed on this CPU: the bytes one decode step must read (weights and KV
// cache), the arithmetic of a prefill, and the machine's measured read bandwidth. `v4 bench
// --roofline` divides the one by the other to say how close decode runs to the memory roofline.
#pragma once

#include <cstdint>

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

// Read bandwidth in bytes/s of n_threads threads (the CPU backend's thread pool, so the same threads
// and split a matmul uses) streaming a buffer much larger than the last-level cache: the median of
// `repetitions` passes after one warm-up pass.
double measure_read_bandwidth(int n_threads, int repetitions = 9);

} // namespace v4
