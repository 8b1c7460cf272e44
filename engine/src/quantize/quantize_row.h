// Weight quantizers: f32 rows -> the GGUF block layouts of kernels/reference/quant_blocks.h.
//
// The types that gguf-py can quantize (q8_0, q4_0, q4_1, q5_0, q5_1, mxfp4) follow its
// quantize_blocks() bit for bit (tests/quantize checks against fixtures it produced), so a file we
// write is the file gguf-py would write from the same floats. The K-quants (q3_K, q4_K, q5_K, q6_K)
// search each sub-block's scale (and min) by weighted least squares over a few candidate grids, as
// ggml's make_qx_quants / make_qkx2_quants do; the weight of element i is
//     importance[i] * sqrt(sigma2 + x[i]^2)      (sigma2: mean square of the 256-element block)
// where importance is the per-column activation energy from calibration text (an "importance
// matrix") or 1 without one. The layouts are ggml's; the choice of scales is ours.
#pragma once

#include <cstdint>

#include "tensor/dtype.h"

namespace v4::quant {

// True for the types quantize_row() can produce: f32, f16, bf16 and the quantized types above.
bool can_quantize(dtype t);

// Quantizes n elements of x (n a multiple of the type's block size) into dst, which must hold
// row_bytes(t, n) bytes. importance: n non-negative weights (one per column) or nullptr; only the
// K-quants use it. Throws v4::Error (invalid_argument) for a type it cannot produce or a bad n.
void quantize_row(dtype t, const float * x, void * dst, int64_t n, const float * importance = nullptr);

// Dequantizes n elements of any type the reference kernels know; throws v4::Error (unsupported).
void dequantize_row(dtype t, const void * src, float * dst, int64_t n);

} // namespace v4::quant
