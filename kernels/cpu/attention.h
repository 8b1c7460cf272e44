// Attention of one query position over a run of cached keys, for `group` query heads that share
// one KV head (grouped-query attention): each K and V row is loaded once for the whole group.
//
//   out[g] = sum_j softmax_j(scale * q[g] . k_j) * v_j      for j in [0, n_keys)
//
// find_attend_kernel() picks AVX2+FMA (vectorized exp, head_dim a multiple of 8) or the scalar
// twin, which is the reference the SIMD one is tested against.
#pragma once

#include <cstddef>

namespace v4::kernels::cpu {

// q: [group][head_dim]; k, v: n_keys rows, row j at k + j * kv_stride; scores: scratch of
// group * n_keys floats; out: [group][head_dim].
using attend_fn = void (*)(const float * q, const float * k, const float * v, size_t kv_stride, int n_keys,
                           int head_dim, int group, float scale, float * scores, float * out);

attend_fn find_attend_kernel(int head_dim);
attend_fn find_attend_kernel_scalar();

} // namespace v4::kernels::cpu
