// KV / state size of DeepSeek-V4 (see deepseek4_kv.h).
#include "models/deepseek4/deepseek4_kv.h"

#include <algorithm>

namespace v4::deepseek4 {

d4_kv_format d4_kv_format::engine(const d4_config & c) {
    return {"fp32 (this engine)", 4.0 * c.head_dim, 4.0 * c.index_head_dim, 4.0};
}

d4_kv_format d4_kv_format::bf16(const d4_config & c) {
    return {"bf16", 2.0 * c.head_dim, 2.0 * c.index_head_dim, 4.0};
}

// vLLM quantize_and_insert_k: 448 FP8 nope + 64 BF16 rope + 7 UE8M0 scales + 1 pad = 584 bytes;
// sglang's FP4 indexer key: 64 packed bytes + 4 UE8M0 scales = 68 bytes (spec §6).
d4_kv_format d4_kv_format::fp8_fp4() { return {"fp8 kv + fp4 indexer", 584.0, 68.0, 4.0}; }

d4_kv_size d4_kv_bytes(const d4_config & c, const d4_kv_format & f, uint64_t n) {
    d4_kv_size s;
    const uint64_t window_rows = std::min<uint64_t>(n, uint64_t(c.sliding_window - 1));
    // One compressor: `ratio`, projection width `w` (2x dim with the CSA overlap), buffered rows.
    auto open_window = [&](int ratio, int dim, bool overlap) {
        const double width = (overlap ? 2.0 : 1.0) * dim;
        double rows = double(n % uint64_t(ratio));       // tokens of the open window
        if (overlap && n >= uint64_t(ratio)) rows += ratio; // the previous window's projections
        return uint64_t(rows * width * 2.0 * f.state_elem_bytes);  // kv and gate
    };
    for (int il = 0; il < c.n_layers; il++) {
        s.window_bytes += uint64_t(double(window_rows) * f.kv_row_bytes);
        switch (c.attn_types[size_t(il)]) {
            case d4_attn::sliding: s.n_swa++; break;
            case d4_attn::csa:
                s.n_csa++;
                s.compressed_bytes += uint64_t(double(n / uint64_t(c.csa_ratio)) * (f.kv_row_bytes + f.index_row_bytes));
                s.open_window_bytes += open_window(c.csa_ratio, c.head_dim, true) +
                                       open_window(c.csa_ratio, c.index_head_dim, true);
                break;
            case d4_attn::hca:
                s.n_hca++;
                s.compressed_bytes += uint64_t(double(n / uint64_t(c.hca_ratio)) * f.kv_row_bytes);
                s.open_window_bytes += open_window(c.hca_ratio, c.head_dim, false);
                break;
        }
    }
    s.bytes_per_token = s.n_csa * (f.kv_row_bytes + f.index_row_bytes) / c.csa_ratio + s.n_hca * f.kv_row_bytes / c.hca_ratio;
    return s;
}

uint64_t d4_decode_state_bytes(const d4_config & c, const d4_kv_format & f, uint64_t n) {
    double bytes = 0;
    for (int il = 0; il < c.n_layers; il++) {
        bytes += double(std::min<uint64_t>(n, uint64_t(c.sliding_window))) * f.kv_row_bytes;
        switch (c.attn_types[size_t(il)]) {
            case d4_attn::sliding: break;
            case d4_attn::csa: {
                const uint64_t entries = n / uint64_t(c.csa_ratio);
                bytes += double(entries) * f.index_row_bytes + double(std::min<uint64_t>(entries, uint64_t(c.index_topk))) * f.kv_row_bytes;
                break;
            }
            case d4_attn::hca: bytes += double(n / uint64_t(c.hca_ratio)) * f.kv_row_bytes; break;
        }
    }
    return uint64_t(bytes);
}

uint64_t d4_state_bytes(const d4_state & s) {
    uint64_t floats = 0;
    auto comp = [&](const d4_comp_state & cs) {
        floats += cs.buf_kv.size() + cs.buf_gate.size() + cs.prev_kv.size() + cs.prev_gate.size() + cs.entries.size();
    };
    for (const d4_layer_state & l : s.layers) {
        floats += l.kv_tail.size();
        comp(l.comp);
        comp(l.index_comp);
    }
    return floats * sizeof(float);
}

} // namespace v4::deepseek4
