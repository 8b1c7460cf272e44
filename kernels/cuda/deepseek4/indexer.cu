// Lightning indexer kernels (see indexer.h).
#include "cuda/deepseek4/indexer.h"

#include "cuda/deepseek4/d4_device.cuh"

namespace v4::kernels::cuda::d4 {

namespace {

constexpr int score_warps = 8;
constexpr size_t max_query_shared = 40 * 1024;

// Grid (queries, key blocks). The query's heads sit in shared memory with a padded row stride so
// lanes reading different heads at the same channel hit different banks; one warp per key, lanes
// over the heads, each lane a sequential dot over the channels (the key is broadcast from shared).
__global__ void index_scores_kernel(const float * keys, int n_keys, int dim, const float * q, const float * head_w,
                                    float w_scale, int H, float * scores) {
    extern __shared__ float sh[];
    const int stride = dim + 1;
    float * qs = sh;                                    // [H, dim + 1]
    float * ks = sh + size_t(H) * stride;               // [score_warps, dim]
    const int t = blockIdx.x, lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    for (int i = threadIdx.x; i < H * dim; i += blockDim.x) qs[(i / dim) * stride + i % dim] = q[size_t(t) * H * dim + i];
    __syncthreads();
    float * kw = ks + size_t(warp) * dim;
    for (int s = blockIdx.y * score_warps + warp; s < n_keys; s += gridDim.y * score_warps) {
        for (int i = lane; i < dim; i += 32) kw[i] = keys[size_t(s) * dim + i];
        __syncwarp();
        float acc = 0.0f;
        for (int h = lane; h < H; h += 32) {
            const float * qh = qs + size_t(h) * stride;
            float d = 0.0f;
            for (int i = 0; i < dim; i++) d += qh[i] * kw[i];
            acc += fmaxf(d, 0.0f) * (head_w[size_t(t) * H + h] * w_scale);
        }
        acc = warp_sum(acc);
        if (lane == 0) scores[size_t(t) * n_keys + s] = acc;
        __syncwarp();  // kw is rewritten for the next key
    }
}

constexpr int topk_threads = 512;

// Exclusive prefix sum of v over the block (at most 32 warps); `total` gets the block's sum.
__device__ int block_exclusive_scan(int v, int & total, int * sh) {
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, n_warps = blockDim.x >> 5;
    int inc = v;  // inclusive within the warp
    for (int o = 1; o < 32; o <<= 1) {
        const int x = __shfl_up_sync(full_mask, inc, o);
        if (lane >= o) inc += x;
    }
    __syncthreads();  // sh may still be read from the previous call
    if (lane == 31) sh[warp] = inc;
    __syncthreads();
    int before = 0;
    total = 0;
    for (int w = 0; w < n_warps; w++) {
        if (w < warp) before += sh[w];
        total += sh[w];
    }
    return before + inc - v;
}

// One block per query. Radix select finds the key of the k-th largest score (4 passes of 8 bits over
// float_order_key, most significant first) and how many entries equal to it are taken (the lowest
// ids: `ties`); an ordered pass over the ids then emits the selection ascending.
__global__ void top_k_kernel(const float * scores, int ld, int pos0, int ratio, int k, int32_t * ids, int32_t * count) {
    __shared__ int hist[256];
    __shared__ uint32_t prefix_s;
    __shared__ int need_s;
    __shared__ int scan[32];
    const int t = blockIdx.x;
    const float * row = scores + size_t(t) * ld;
    int n = visible_entries(t, pos0, ratio);
    n = n < ld ? n : ld;
    n = n < 0 ? 0 : n;
    int32_t * out = ids + size_t(t) * k;
    const int m = n < k ? n : k;
    for (int i = m + threadIdx.x; i < k; i += blockDim.x) out[i] = -1;
    if (threadIdx.x == 0) count[t] = m;
    if (n <= k) {
        for (int i = threadIdx.x; i < n; i += blockDim.x) out[i] = i;
        return;
    }
    if (threadIdx.x == 0) {
        prefix_s = 0;
        need_s = k;  // how many of the entries matching the prefix so far are still to be taken
    }
    uint32_t mask = 0;
    for (int shift = 24; shift >= 0; shift -= 8) {
        for (int i = threadIdx.x; i < 256; i += blockDim.x) hist[i] = 0;
        __syncthreads();
        const uint32_t prefix = prefix_s;
        for (int i = threadIdx.x; i < n; i += blockDim.x) {
            const uint32_t key = float_order_key(row[i]);
            if ((key & mask) == prefix) atomicAdd(&hist[(key >> shift) & 0xFF], 1);
        }
        __syncthreads();
        if (threadIdx.x == 0) {
            int need = need_s, digit = 255;
            for (; digit > 0; digit--) {  // from the largest digit down: entries above are all taken
                if (hist[digit] >= need) break;
                need -= hist[digit];
            }
            prefix_s = prefix | (uint32_t(digit) << shift);
            need_s = need;
        }
        mask |= 0xFFu << shift;
        __syncthreads();
    }
    const uint32_t kth = prefix_s;
    const int ties = need_s;  // entries equal to the k-th value to take, lowest ids first
    int eq_seen = 0, written = 0;
    for (int base = 0; base < n; base += blockDim.x) {
        const int i = base + threadIdx.x;
        const uint32_t key = i < n ? float_order_key(row[i]) : 0u;
        const int above = i < n && key > kth, equal = i < n && key == kth;
        int eq_total, take_total;
        const int eq_before = block_exclusive_scan(equal, eq_total, scan);
        const int take = above || (equal && eq_seen + eq_before < ties);
        const int take_before = block_exclusive_scan(take, take_total, scan);
        if (take) out[written + take_before] = i;
        eq_seen += eq_total;
        written += take_total;
    }
}

} // namespace

std::string index_scores(const float * keys, int n_keys, int dim, const float * q, const float * head_w, float w_scale,
                         int n_q, int H, float * scores, cudaStream_t stream) {
    if (dim < 1 || H < 1 || n_keys < 0 || n_q < 0) return "index_scores: bad shape (dim, heads, keys or queries)";
    const size_t shared = (size_t(H) * (dim + 1) + size_t(score_warps) * dim) * sizeof(float);
    if (shared > max_query_shared) {
        return "index_scores: " + std::to_string(H) + " heads x " + std::to_string(dim) + " exceed the shared-memory budget";
    }
    if (n_keys == 0 || n_q == 0) return {};
    const int key_blocks = ceil_div(n_keys, score_warps) < 1024 ? ceil_div(n_keys, score_warps) : 1024;
    const dim3 grid{unsigned(n_q), unsigned(key_blocks)};
    index_scores_kernel<<<grid, score_warps * 32, shared, stream>>>(keys, n_keys, dim, q, head_w, w_scale, H, scores);
    return launch_status("index_scores");
}

std::string top_k(const float * scores, int ld, int n_q, int pos0, int ratio, int k, int32_t * ids, int32_t * count,
                  cudaStream_t stream) {
    if (ld < 0 || n_q < 0 || pos0 < 0) return "top_k: negative size or position";
    if (ratio < 1) return "top_k: ratio must be positive";
    if (k < 1) return "top_k: k must be positive";
    if (n_q == 0) return {};
    top_k_kernel<<<n_q, topk_threads, 0, stream>>>(scores, ld, pos0, ratio, k, ids, count);
    return launch_status("top_k");
}

} // namespace v4::kernels::cuda::d4
