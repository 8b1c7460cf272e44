// DeepSeek-V4 decode-time state size, from one formula (spec §6):
//   bytes/token (asymptotic) = N_CSA * (b_kv + b_idx) / csa_ratio + N_HCA * b_kv / hca_ratio
// plus per layer a window of the last sliding_window - 1 K=V rows and the compressors' open windows.
// d4_kv_bytes gives the exact size at n tokens for a row format; with d4_kv_format::engine() it is
// what d4_state holds (d4_state_bytes measures the real thing; a test checks they agree).
#pragma once

#include <cstdint>

#include "models/deepseek4/deepseek4.h"

namespace v4::deepseek4 {

struct d4_kv_format {
    const char * name = "";
    double kv_row_bytes = 0;     // one compressed (or window) K=V row of head_dim values
    double index_row_bytes = 0;  // one indexer key of index_head_dim values
    double state_elem_bytes = 0; // compressor open-window buffers (kv and gate projections)

    static d4_kv_format engine(const d4_config & c);  // this engine: fp32 everywhere
    static d4_kv_format bf16(const d4_config & c);    // transformers / DeepSeek's reference
    static d4_kv_format fp8_fp4();                    // vLLM / sglang: 584-byte FP8 rows, FP4 indexer keys
};

struct d4_kv_size {
    int n_swa = 0, n_csa = 0, n_hca = 0;
    double bytes_per_token = 0;     // asymptotic growth (the formula above)
    uint64_t compressed_bytes = 0;  // CSA + HCA entries and indexer keys at n tokens
    uint64_t window_bytes = 0;      // min(n, W - 1) rows per layer
    uint64_t open_window_bytes = 0; // compressor buffers (open window; CSA: previous window too)
    uint64_t total() const { return compressed_bytes + window_bytes + open_window_bytes; }
};

d4_kv_size d4_kv_bytes(const d4_config & c, const d4_kv_format & f, uint64_t n_tokens);

// The state one decode step reads when the newest token is the n-th (n >= 1): per layer the window
// rows (the carried tail and the new row), then HCA every closed window, CSA the indexer's keys (all
// closed windows) and the selected entries (top-k); the compressors' open windows are left out.
uint64_t d4_decode_state_bytes(const d4_config & c, const d4_kv_format & f, uint64_t n);

// What a d4_state really holds in its per-layer caches (fp32 bytes of all vectors).
uint64_t d4_state_bytes(const d4_state & s);

// Dense MLA (DeepSeek-V3 / V3.2) for comparison: one latent row (+ optional indexer key) per token per layer.
inline double dense_mla_bytes_per_token(int n_layers, double latent_row_bytes, double index_row_bytes) {
    return n_layers * (latent_row_bytes + index_row_bytes);
}

} // namespace v4::deepseek4
