// The DeepSeek-V4 forward's two dense hot spots on the CPU, vectorised with AVX-512 where the CPU
// has it (checked at run time) and plain loops elsewhere:
//   - matmul: y[T, out] = x[T, in] @ w[out, in]^T for prefill chunks (the projections, mHC mixes and
//     the experts), over a range of output rows so callers can split it across threads;
//   - attend: one query's heads against a list of K=V rows (window, selected or all compressed
//     entries) with a per-head sink logit.
// Results agree with the scalar loops to fp32 rounding (different summation order), not bitwise.
// A row's result does not depend on the thread count; it may differ in the last bits between a
// decode step (few rows: dot products) and a prefill chunk (many rows: tokens in vector lanes).
#pragma once

#include <vector>

namespace v4::deepseek4 {

// Activations transposed once per matmul ([in, T rounded up to 16], zero padding), so the kernel
// broadcasts a weight and multiplies 16 tokens at a time with no horizontal sums.
struct d4_packed_rows {
    std::vector<float> xt;
    int T = 0, T_pad = 0, in = 0;
    const float * x = nullptr;  // the row-major original (small-T fallback)
};
d4_packed_rows d4_pack_rows(const float * x, int T, int in);

// y[t * out + o] for o in [o0, o1).
void d4_matmul_rows(const d4_packed_rows & x, const float * w, int out, int o0, int o1, float * y);

// out[h, :] = sum_j softmax_j(scale * q[h] . rows[j]; sink[h]) rows[j] for the H heads of one query
// (q [H, dim]); the sink takes probability mass and adds no value. `scratch` is resized as needed.
void d4_attend(const float * q, int H, int dim, const float * const * rows, int n_rows, const float * sinks, float scale,
               float * out, std::vector<float> & scratch);

} // namespace v4::deepseek4
