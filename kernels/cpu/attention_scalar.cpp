// Scalar attention: the plain three passes (scores, softmax, weighted sum of V), std::exp.
#include <algorithm>
#include <cmath>

#include "cpu/attention.h"
#include "cpu/cpu_features.h"

namespace v4::kernels::cpu {

namespace {

void attend_scalar(const float * q, const float * k, const float * v, size_t kv_stride, int n_keys, int head_dim,
                   int group, float scale, float * scores, float * out) {
    for (int g = 0; g < group; ++g) {
        const float * qg = q + static_cast<size_t>(g) * head_dim;
        float *       s = scores + static_cast<size_t>(g) * n_keys;
        float         mx = -INFINITY;
        for (int j = 0; j < n_keys; ++j) {
            const float * kj = k + static_cast<size_t>(j) * kv_stride;
            float         dot = 0.0f;
            for (int d = 0; d < head_dim; ++d) {
                dot += qg[d] * kj[d];
            }
            s[j] = dot * scale;
            mx = std::max(mx, s[j]);
        }
        float sum = 0.0f;
        for (int j = 0; j < n_keys; ++j) {
            s[j] = std::exp(s[j] - mx);
            sum += s[j];
        }
        const float inv = 1.0f / sum;
        float *     og = out + static_cast<size_t>(g) * head_dim;
        std::fill(og, og + head_dim, 0.0f);
        for (int j = 0; j < n_keys; ++j) {
            const float * vj = v + static_cast<size_t>(j) * kv_stride;
            const float   wj = s[j] * inv;
            for (int d = 0; d < head_dim; ++d) {
                og[d] += wj * vj[d];
            }
        }
    }
}

} // namespace

#if defined(__x86_64__) || defined(_M_X64)
attend_fn find_attend_kernel_avx2(); // x86/avx2_attention.cpp
#endif

attend_fn find_attend_kernel_scalar() { return attend_scalar; }

attend_fn find_attend_kernel(int head_dim) {
#if defined(__x86_64__) || defined(_M_X64)
    static const bool has_avx2 = [] {
        const cpu_features & f = detect_cpu_features();
        return f.avx2 && f.fma;
    }();
    if (has_avx2 && head_dim % 8 == 0) {
        return find_attend_kernel_avx2();
    }
#endif
    (void)head_dim;
    return attend_scalar;
}

} // namespace v4::kernels::cpu
