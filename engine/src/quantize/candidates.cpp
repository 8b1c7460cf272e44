#include "quantize/candidates.h"

namespace v4::quant {

namespace {
constexpr dtype k_super_block_types[] = {dtype::q3_k, dtype::q4_k, dtype::q5_k, dtype::q6_k, dtype::q8_0};
constexpr dtype k_block32_types[]     = {dtype::q4_0, dtype::q4_1, dtype::q5_0, dtype::q5_1, dtype::q8_0};
} // namespace

std::span<const dtype> candidate_types(int64_t n_in) {
    if (n_in % 256 == 0) {
        return k_super_block_types;
    }
    return k_block32_types;
}

dtype with_fallback(dtype wanted, int64_t n_in) {
    if (row_bytes(wanted, n_in)) {
        return wanted;
    }
    switch (wanted) {
        case dtype::q3_k: return dtype::q4_0;
        case dtype::q4_k: return dtype::q5_0;
        case dtype::q5_k: return dtype::q5_1;
        case dtype::q6_k: return dtype::q8_0;
        default:          return dtype::f16;
    }
}

} // namespace v4::quant
