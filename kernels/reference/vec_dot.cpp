#include "reference/vec_dot.h"

#include "reference/dequantize.h"

namespace v4::kernels::ref {

std::optional<double> vec_dot(qtype type, const void * row, const float * x, int64_t n) {
    const block_geometry g = geometry(type);
    if (g.block_size == 0 || n < 0 || n % g.block_size != 0) {
        return std::nullopt;
    }
    const auto * src = static_cast<const uint8_t *>(row);
    float        w[qk_k]; // one block at a time; no block is larger than a K-quant super-block
    double       sum = 0.0;
    for (int64_t i = 0; i < n; i += g.block_size) {
        dequantize_row(type, src, w, g.block_size);
        for (int j = 0; j < g.block_size; ++j) {
            sum += static_cast<double>(w[j]) * static_cast<double>(x[i + j]);
        }
        src += g.block_bytes;
    }
    return sum;
}

} // namespace v4::kernels::ref
