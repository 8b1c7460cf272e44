// Device-side sampling (see sampling.h). After the copy and the adjust kernel, one block of 1024
// threads does the rest:
//  1. max / argmax / count of the allowed logits (allowed: > -inf, so not NaN);
//  2. the candidate threshold: with top-k the k-th largest logit (a 4-pass, 8-bit radix select on
//     order-preserving keys), else the sampler's pre-filter threshold (min-p, the top-p floor);
//  3. the candidates (<= sample_max_candidates) gathered into shared memory and bitonic-sorted in
//     the sampler's order; top-k, top-p, min-p, temperature and the draw on that sorted list.
// Sums run in double as the host sampler's do; their order differs, so a draw that lands within
// rounding (~1e-15) of a boundary may pick the neighbour the host would not.
#include "cuda/sampling.h"

#include <cmath>
#include <cstdint>

namespace v4::kernels::cuda {

namespace {

constexpr int      k_threads = 1024;
constexpr int      k_warps = k_threads / 32;
constexpr unsigned k_full = 0xffffffffu;

__device__ __forceinline__ bool allowed(float l) { return l > -INFINITY; }

// Larger float -> larger key (sign-magnitude to two's-complement order); -0 and +0 share a key, as
// they compare equal in the sampler's order.
__device__ __forceinline__ uint32_t order_key(float l) {
    const uint32_t b = l == 0.0f ? 0u : __float_as_uint(l);
    return (b & 0x80000000u) ? ~b : (b | 0x80000000u);
}

// The sampler's order: higher logit first, then lower id.
__device__ __forceinline__ bool better(float la, int32_t ia, float lb, int32_t ib) {
    return la != lb ? la > lb : ia < ib;
}

__global__ void adjust_kernel(sample_params p) {
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= p.n_adjust) return;
    const sample_adjust a = p.adjust[i];
    if (a.id < 0 || a.id >= p.n_vocab) return;
    float l = p.work[a.id] + a.bias;
    if (a.count > 0) {
        l = l > 0.0f ? l / p.repetition_penalty : l * p.repetition_penalty;
        l -= static_cast<float>(a.count) * p.frequency_penalty + p.presence_penalty;
    }
    p.work[a.id] = l;
}

struct select_shared {
    float    cand_logit[sample_max_candidates];
    int32_t  cand_id[sample_max_candidates];
    double   w[sample_max_candidates]; // weights, then their inclusive prefix sums
    unsigned hist[256];
    float    red_f[k_warps];
    int32_t  red_i[k_warps];
    double   red_d[k_warps];
    float    max_logit;
    int32_t  best, n_allowed, count, n_c;
    uint32_t prefix, want;
    double   z;
};

// Block-wide argmax (lowest id among equal maxima) and count of allowed logits.
__device__ void max_and_count(const float * work, int n, select_shared & s) {
    float   bv = -INFINITY;
    int32_t bi = -1, cnt = 0;
    for (int i = threadIdx.x; i < n; i += k_threads) {
        const float l = work[i];
        if (!allowed(l)) continue;
        ++cnt;
        if (bi < 0 || better(l, i, bv, bi)) { bv = l; bi = i; }
    }
    for (int o = 16; o > 0; o >>= 1) {
        const float   ov = __shfl_xor_sync(k_full, bv, o);
        const int32_t oi = __shfl_xor_sync(k_full, bi, o);
        cnt += __shfl_xor_sync(k_full, cnt, o);
        if (oi >= 0 && (bi < 0 || better(ov, oi, bv, bi))) { bv = ov; bi = oi; }
    }
    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    if (lane == 0) {
        s.red_f[warp] = bv;
        s.red_i[warp] = bi;
        s.hist[warp] = static_cast<unsigned>(cnt);
    }
    __syncthreads();
    if (threadIdx.x == 0) {
        float   v = -INFINITY;
        int32_t b = -1, c = 0;
        for (int w = 0; w < k_warps; ++w) {
            c += static_cast<int32_t>(s.hist[w]);
            if (s.red_i[w] >= 0 && (b < 0 || better(s.red_f[w], s.red_i[w], v, b))) { v = s.red_f[w]; b = s.red_i[w]; }
        }
        s.max_logit = v;
        s.best = b;
        s.n_allowed = c;
    }
    __syncthreads();
}

// Block-wide sum of a per-thread double; every thread gets it.
__device__ double block_sum(double v, select_shared & s) {
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(k_full, v, o);
    if ((threadIdx.x & 31) == 0) s.red_d[threadIdx.x >> 5] = v;
    __syncthreads();
    double total = 0.0;
    for (int w = 0; w < k_warps; ++w) total += s.red_d[w];
    __syncthreads(); // red_d may be reused right after
    return total;
}

// The key of the k-th largest allowed logit (1 <= k <= n_allowed): 8 bits per pass, high first.
__device__ uint32_t kth_largest_key(const float * work, int n, int k, select_shared & s) {
    if (threadIdx.x == 0) {
        s.prefix = 0;
        s.want = static_cast<uint32_t>(k);
    }
    uint32_t mask = 0;
    for (int shift = 24; shift >= 0; shift -= 8) {
        for (int b = threadIdx.x; b < 256; b += k_threads) s.hist[b] = 0;
        __syncthreads();
        const uint32_t prefix = s.prefix;
        for (int i = threadIdx.x; i < n; i += k_threads) {
            const float l = work[i];
            if (!allowed(l)) continue;
            const uint32_t key = order_key(l);
            if ((key & mask) == prefix) atomicAdd(&s.hist[(key >> shift) & 255u], 1u);
        }
        __syncthreads();
        if (threadIdx.x == 0) { // the bin holding the want-th largest of the keys still in play
            uint32_t above = 0;
            for (int b = 255; b >= 0; --b) {
                if (above + s.hist[b] >= s.want) {
                    s.want -= above;
                    s.prefix |= static_cast<uint32_t>(b) << shift;
                    break;
                }
                above += s.hist[b];
            }
        }
        mask |= 0xffu << shift;
        __syncthreads();
    }
    return s.prefix;
}

// Warp 0: w[0..n) becomes its inclusive prefix sums.
__device__ void warp_prefix_sum(double * w, int n, int lane) {
    double carry = 0.0;
    for (int base = 0; base < n; base += 32) {
        double v = base + lane < n ? w[base + lane] : 0.0;
        for (int o = 1; o < 32; o <<= 1) {
            const double y = __shfl_up_sync(k_full, v, o);
            if (lane >= o) v += y;
        }
        v += carry;
        if (base + lane < n) w[base + lane] = v;
        carry = __shfl_sync(k_full, v, 31);
    }
}

// Warp 0: the first i < n with S[i] > x (strict) or >= x, else n.
__device__ int warp_first_reaching(const double * S, int n, double x, bool strict, int lane) {
    for (int base = 0; base < n; base += 32) {
        const int      i = base + lane;
        const bool     hit = i < n && (strict ? S[i] > x : S[i] >= x);
        const unsigned bits = __ballot_sync(k_full, hit);
        if (bits != 0) return base + __ffs(bits) - 1;
    }
    return n;
}

__global__ void __launch_bounds__(k_threads) select_kernel(sample_params p) {
    __shared__ select_shared s;
    const int n = p.n_vocab, lane = threadIdx.x & 31;
    const float * work = p.work;

    max_and_count(work, n, s);
    if (s.n_allowed == 0) {
        if (threadIdx.x == 0) *p.result = {-1, sample_all_banned};
        return;
    }
    if (p.temperature <= 0.0f) {
        if (threadIdx.x == 0) *p.result = {s.best, sample_ok};
        return;
    }
    const float max_logit = s.max_logit;

    // 2. Who can be a candidate: key >= thr_key (top-k) or logit >= threshold (the pre-filter).
    const bool top_k = p.top_k > 0 && p.top_k < n;
    uint32_t   thr_key = 0;                 // every allowed key is > 0
    double     threshold = -INFINITY, z = 0.0;
    if (top_k) {
        if (p.top_k < s.n_allowed) thr_key = kth_largest_key(work, n, p.top_k, s);
    } else {
        if (p.top_p < 1.0f) { // the normaliser over every allowed token (float terms, as on the host)
            double part = 0.0;
            for (int i = threadIdx.x; i < n; i += k_threads) {
                if (allowed(work[i])) part += expf(work[i] - max_logit);
            }
            z = block_sum(part, s);
        }
        if (p.min_p > 0.0f) threshold = max_logit + log(static_cast<double>(p.min_p));
        if (p.top_p < 1.0f) {
            const double floor_p = (1.0 - p.top_p) / static_cast<double>(s.n_allowed);
            threshold = fmax(threshold, max_logit + log(z) + log(floor_p));
        }
    }
    auto passes = [&](float l) {
        return allowed(l) && (top_k ? order_key(l) >= thr_key : static_cast<double>(l) >= threshold);
    };

    // 3. Gather the candidates (or find there are too many).
    if (threadIdx.x == 0) s.count = 0;
    __syncthreads();
    int local = 0;
    for (int i = threadIdx.x; i < n; i += k_threads) local += passes(work[i]) ? 1 : 0;
    if (local > 0) atomicAdd(&s.count, local);
    __syncthreads();
    const int count = s.count;
    if (count > sample_max_candidates) {
        if (threadIdx.x == 0) *p.result = {-1, sample_too_many};
        return;
    }
    __syncthreads();
    if (threadIdx.x == 0) s.count = 0;
    __syncthreads();
    if (count == 0) { // rounding emptied the pre-filter: the host keeps the best token
        if (threadIdx.x == 0) *p.result = {s.best, sample_ok};
        return;
    }
    for (int i = threadIdx.x; i < n; i += k_threads) {
        if (passes(work[i])) {
            const int at = atomicAdd(&s.count, 1);
            s.cand_logit[at] = work[i];
            s.cand_id[at] = i;
        }
    }
    int size = 1;
    while (size < count) size <<= 1;
    for (int i = count + threadIdx.x; i < size; i += k_threads) { // sentinels sort last
        s.cand_logit[i] = -INFINITY;
        s.cand_id[i] = INT32_MAX;
    }
    __syncthreads();
    // Bitonic sort of size (a power of two <= 2048) elements, best first; thread i owns pairs i, i + k_threads.
    for (int k = 2; k <= size; k <<= 1) {
        for (int j = k >> 1; j > 0; j >>= 1) {
            for (int i = threadIdx.x; i < size; i += k_threads) {
                const int partner = i ^ j;
                if (partner <= i) continue;
                const bool ascending = (i & k) == 0; // "ascending" = best first in this run
                const bool swap = ascending ? better(s.cand_logit[partner], s.cand_id[partner], s.cand_logit[i], s.cand_id[i])
                                            : better(s.cand_logit[i], s.cand_id[i], s.cand_logit[partner], s.cand_id[partner]);
                if (swap) {
                    const float   tl = s.cand_logit[i];
                    const int32_t ti = s.cand_id[i];
                    s.cand_logit[i] = s.cand_logit[partner];
                    s.cand_id[i] = s.cand_id[partner];
                    s.cand_logit[partner] = tl;
                    s.cand_id[partner] = ti;
                }
            }
            __syncthreads();
        }
    }

    // 4. top-k, top-p, min-p on the sorted list; the max is cand[0] (the best token always passes).
    int n_c = top_k ? min(count, p.top_k) : count;
    if (top_k && p.top_p < 1.0f && n_c > 1) { // the normaliser over the top-k survivors (double terms)
        double part = 0.0;
        for (int i = threadIdx.x; i < n_c; i += k_threads) part += exp(static_cast<double>(s.cand_logit[i]) - max_logit);
        z = block_sum(part, s);
    }
    if (p.top_p < 1.0f && n_c > 1) {
        for (int i = threadIdx.x; i < n_c; i += k_threads) s.w[i] = exp(static_cast<double>(s.cand_logit[i]) - max_logit);
        __syncthreads();
        if (threadIdx.x < 32) {
            warp_prefix_sum(s.w, n_c, lane);
            __syncwarp();
            const int cut = warp_first_reaching(s.w, n_c, static_cast<double>(p.top_p) * z, false, lane);
            if (lane == 0) s.n_c = cut < n_c ? cut + 1 : n_c;
        }
        __syncthreads();
        n_c = s.n_c;
    }
    if (p.min_p > 0.0f && n_c > 1) {
        const float thr = max_logit + logf(p.min_p);
        int         keep = 0; // sorted: the survivors are a prefix
        for (int i = threadIdx.x; i < n_c; i += k_threads) keep += s.cand_logit[i] >= thr ? 1 : 0;
        n_c = static_cast<int>(block_sum(static_cast<double>(keep), s) + 0.5);
    }
    if (n_c <= 1) {
        if (threadIdx.x == 0) *p.result = {s.cand_id[0], sample_ok};
        return;
    }

    // 5. Temperature (p_i = float(w_i) / sum w, rounded to float as on the host), then the draw.
    const double inv_t = 1.0 / static_cast<double>(p.temperature);
    double       part = 0.0;
    for (int i = threadIdx.x; i < n_c; i += k_threads) {
        const double w = exp((static_cast<double>(s.cand_logit[i]) - max_logit) * inv_t);
        s.w[i] = static_cast<float>(w);
        part += w;
    }
    const double sum = block_sum(part, s); // block_sum's barrier also publishes w
    for (int i = threadIdx.x; i < n_c; i += k_threads) s.w[i] = static_cast<float>(s.w[i] / sum);
    __syncthreads();
    if (threadIdx.x < 32) {
        warp_prefix_sum(s.w, n_c, lane);
        __syncwarp();
        const double u = p.uniform * s.w[n_c - 1];
        int          pick = warp_first_reaching(s.w, n_c, u, true, lane);
        if (pick >= n_c) pick = n_c - 1; // u on the very top of the range
        if (lane == 0) *p.result = {s.cand_id[pick], sample_ok_drew};
    }
}

} // namespace

void sample(const sample_params & p, cudaStream_t stream) {
    cudaMemcpyAsync(p.work, p.logits, static_cast<size_t>(p.n_vocab) * sizeof(float), cudaMemcpyDeviceToDevice, stream);
    if (p.n_adjust > 0) {
        constexpr int threads = 256;
        adjust_kernel<<<(p.n_adjust + threads - 1) / threads, threads, 0, stream>>>(p);
    }
    select_kernel<<<1, k_threads, 0, stream>>>(p);
}

} // namespace v4::kernels::cuda
