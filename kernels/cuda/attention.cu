// Flash-decoding attention over the f16 KV cache (see dense_ops.h for the contract).
//
// Pass 1, one block of 4 warps per (q head, split, token): the warps take the split's keys in
// turn (warp w: keys k0 + w, k0 + w + 4, ...); lane l holds dims [l*nd, l*nd + nd) of q, of the
// running V sum and of each key/value row (nd = head_dim / 32), so one warp-wide shuffle sum gives
// q.k. Each warp keeps an online softmax (running max m, sum l); the four are merged through
// shared memory and written as one partial: acc[head_dim], m, l.
// Pass 2, one block per (q head, token): merges the splits, out = sum(acc_s e^(m_s-M)) / sum(l_s e^(m_s-M)).
#include <cmath>

#include "cuda/dense_ops.h"

namespace v4::kernels::cuda {

namespace {

constexpr int k_warps = 4;
constexpr int k_max_nd = max_head_dim / 32;

struct key_range {
    int lo, hi; // [lo, hi)
};

// The keys split s of n_split covers for a query at position pos.
__device__ __forceinline__ key_range split_range(int pos, int window, int s, int n_split) {
    const int lo = window > 0 ? max(0, pos - window + 1) : 0;
    const int n = pos - lo + 1;
    const int per = (n + n_split - 1) / n_split;
    const int k0 = lo + s * per;
    return {min(k0, pos + 1), min(k0 + per, pos + 1)};
}

__global__ void attention_split_kernel(attention_params p) {
    __shared__ float sm_m[k_warps], sm_l[k_warps];
    __shared__ float sm_acc[k_warps][max_head_dim];
    const int h = blockIdx.x, s = blockIdx.y, t = blockIdx.z;
    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    const int D = p.head_dim, nd = D / 32;
    const int pos = *p.pos0 + t;
    const int kv_dim = p.n_head_kv * D;
    const int kvh = h / (p.n_head / p.n_head_kv);
    const key_range r = split_range(pos, p.window, s, p.n_split);

    float qv[k_max_nd], acc[k_max_nd];
    const float * qrow = p.q + (static_cast<int64_t>(t) * p.n_head + h) * D + lane * nd;
    for (int i = 0; i < k_max_nd; ++i) {
        qv[i] = i < nd ? qrow[i] * p.scale : 0.0f;
        acc[i] = 0.0f;
    }
    float m = -INFINITY, l = 0.0f;
    for (int key = r.lo + warp; key < r.hi; key += k_warps) {
        const int64_t  off = static_cast<int64_t>(key) * kv_dim + static_cast<int64_t>(kvh) * D + lane * nd;
        const __half * kp = p.k_cache + off;
        float          dot = 0.0f;
        for (int i = 0; i < k_max_nd; ++i) {
            if (i < nd) dot += qv[i] * __half2float(kp[i]);
        }
        for (int o = 16; o > 0; o >>= 1) dot += __shfl_xor_sync(0xffffffffu, dot, o);
        const float m_new = fmaxf(m, dot);
        const float corr = __expf(m - m_new); // m = -inf on the first key: 0
        const float e = __expf(dot - m_new);
        l = l * corr + e;
        const __half * vp = p.v_cache + off;
        for (int i = 0; i < k_max_nd; ++i) {
            if (i < nd) acc[i] = acc[i] * corr + e * __half2float(vp[i]);
        }
        m = m_new;
    }
    if (lane == 0) {
        sm_m[warp] = m;
        sm_l[warp] = l;
    }
    for (int i = 0; i < nd; ++i) sm_acc[warp][lane * nd + i] = acc[i];
    __syncthreads();

    float M = -INFINITY;
    for (int w = 0; w < k_warps; ++w) M = fmaxf(M, sm_m[w]);
    float * out = p.partial + ((static_cast<int64_t>(t) * p.n_head + h) * p.n_split + s) * (D + 2);
    float   L = 0.0f;
    for (int w = 0; w < k_warps; ++w) {
        if (sm_m[w] != -INFINITY) L += sm_l[w] * __expf(sm_m[w] - M);
    }
    for (int d = threadIdx.x; d < D; d += blockDim.x) {
        float a = 0.0f;
        for (int w = 0; w < k_warps; ++w) {
            if (sm_m[w] != -INFINITY) a += sm_acc[w][d] * __expf(sm_m[w] - M);
        }
        out[d] = a;
    }
    if (threadIdx.x == 0) {
        out[D] = M;     // -inf when the split saw no key
        out[D + 1] = L;
    }
}

__global__ void attention_merge_kernel(attention_params p) {
    const int     h = blockIdx.x, t = blockIdx.y, D = p.head_dim;
    const float * part = p.partial + (static_cast<int64_t>(t) * p.n_head + h) * p.n_split * (D + 2);
    float         M = -INFINITY;
    for (int s = 0; s < p.n_split; ++s) M = fmaxf(M, part[s * (D + 2) + D]);
    float L = 0.0f;
    for (int s = 0; s < p.n_split; ++s) {
        const float ms = part[s * (D + 2) + D];
        if (ms != -INFINITY) L += part[s * (D + 2) + D + 1] * __expf(ms - M);
    }
    float * out = p.out + (static_cast<int64_t>(t) * p.n_head + h) * D;
    for (int d = threadIdx.x; d < D; d += blockDim.x) {
        float a = 0.0f;
        for (int s = 0; s < p.n_split; ++s) {
            const float ms = part[s * (D + 2) + D];
            if (ms != -INFINITY) a += part[s * (D + 2) + d] * __expf(ms - M);
        }
        out[d] = a / L; // split 0 always holds key lo, so L > 0
    }
}

} // namespace

void attention(const attention_params & p, cudaStream_t stream) {
    const dim3 grid1(static_cast<unsigned>(p.n_head), static_cast<unsigned>(p.n_split), static_cast<unsigned>(p.n_tokens));
    attention_split_kernel<<<grid1, 32 * k_warps, 0, stream>>>(p);
    const dim3 grid2(static_cast<unsigned>(p.n_head), static_cast<unsigned>(p.n_tokens));
    attention_merge_kernel<<<grid2, 128, 0, stream>>>(p);
}

} // namespace v4::kernels::cuda
