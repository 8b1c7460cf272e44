// q/k post-processing fused with the KV-cache append: bias, per-head RMSNorm, RoPE, f16 store.
// One block per (token, head); blockIdx.y < n_head is a q head, the rest are kv heads (k and v).
#include "cuda/dense_ops.h"

namespace v4::kernels::cuda {

namespace {

constexpr int k_threads = 128;

__global__ void qkv_rope_store_kernel(qkv_params p) {
    __shared__ float x[max_head_dim];
    __shared__ float warp_sums[k_threads / 32];
    const int  t = blockIdx.x;
    const bool is_q = static_cast<int>(blockIdx.y) < p.n_head;
    const int  head = is_q ? static_cast<int>(blockIdx.y) : static_cast<int>(blockIdx.y) - p.n_head;
    const int  D = p.head_dim;
    const int  pos = *p.pos0 + t;
    const int  kv_dim = p.n_head_kv * D;

    const float * src = is_q ? p.q + (static_cast<int64_t>(t) * p.n_head + head) * D
                             : p.k + (static_cast<int64_t>(t) * p.n_head_kv + head) * D;
    const float * bias = is_q ? p.bq : p.bk;
    const float * norm = is_q ? p.q_norm : p.k_norm;

    float ss = 0.0f;
    for (int d = threadIdx.x; d < D; d += k_threads) {
        const float v = src[d] + (bias != nullptr ? bias[head * D + d] : 0.0f);
        x[d] = v;
        ss += v * v;
    }
    if (norm != nullptr) {
        for (int o = 16; o > 0; o >>= 1) ss += __shfl_xor_sync(0xffffffffu, ss, o);
        if ((threadIdx.x & 31) == 0) warp_sums[threadIdx.x >> 5] = ss;
    }
    __syncthreads();
    if (norm != nullptr) {
        float total = 0.0f;
        for (int i = 0; i < k_threads / 32; ++i) total += warp_sums[i];
        const float inv = rsqrtf(total / static_cast<float>(D) + p.norm_eps);
        for (int d = threadIdx.x; d < D; d += k_threads) x[d] = x[d] * inv * norm[d];
        __syncthreads();
    }
    // RoPE: thread i rotates pair i; theta in double as the CPU backend computes it (positions in
    // the tens of thousands times a frequency near 1 need more than a float's 24 bits).
    const int half = p.n_rot / 2;
    for (int i = threadIdx.x; i < half; i += k_threads) {
        double inv_freq = pow(static_cast<double>(p.freq_base), -2.0 * i / p.n_rot);
        if (p.freq_factors != nullptr) inv_freq /= p.freq_factors[i];
        const double theta = static_cast<double>(pos) * p.freq_scale * inv_freq;
        double       sn, cs;
        sincos(theta, &sn, &cs);
        const float c = static_cast<float>(cs), s = static_cast<float>(sn);
        const int   i0 = p.neox ? i : 2 * i;
        const int   i1 = p.neox ? i + half : 2 * i + 1;
        const float x0 = x[i0], x1 = x[i1];
        x[i0] = x0 * c - x1 * s;
        x[i1] = x0 * s + x1 * c;
    }
    __syncthreads();
    if (is_q) {
        float * dst = p.q + (static_cast<int64_t>(t) * p.n_head + head) * D;
        for (int d = threadIdx.x; d < D; d += k_threads) dst[d] = x[d];
        return;
    }
    const int64_t row = static_cast<int64_t>(pos) * kv_dim + static_cast<int64_t>(head) * D;
    const float * vsrc = p.v + (static_cast<int64_t>(t) * p.n_head_kv + head) * D;
    for (int d = threadIdx.x; d < D; d += k_threads) {
        p.k_cache[row + d] = __float2half(x[d]);
        p.v_cache[row + d] = __float2half(vsrc[d] + (p.bv != nullptr ? p.bv[head * D + d] : 0.0f));
    }
}

} // namespace

void qkv_rope_store(const qkv_params & p, cudaStream_t stream) {
    const dim3 grid(static_cast<unsigned>(p.n_tokens), static_cast<unsigned>(p.n_head + p.n_head_kv));
    qkv_rope_store_kernel<<<grid, k_threads, 0, stream>>>(p);
}

} // namespace v4::kernels::cuda
