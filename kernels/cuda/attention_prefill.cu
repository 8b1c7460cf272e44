// Query-tiled attention for prefill ubatches (flash-attention style, f32 arithmetic on the f16
// cache). Where flash-decoding (attention.cu) gives every query its own blocks, which re-read the
// same keys once per query, one block here serves attention_query_tile consecutive queries of one
// q head: it streams the keys they see through shared memory 32 at a time, once for all of them.
//
// Block: 4 warps, warp w owns queries t0 + 4w .. t0 + 4w + 3 (the block's q rows sit in shared
// memory, pre-scaled). Per key tile and query: lane j scores key j of the tile against the query
// (the whole dot product: K rows are padded so lane j's reads hit distinct banks), the warp takes
// the tile's max and updates its online softmax (running max m, sum l), then every lane adds
// sum_j p_j V[j][d] for its dims d = lane + 32 i (p_j shuffled from lane j). Causality and the
// sliding window mask per query: query t at position pos sees keys max(0, pos - window + 1) .. pos.
#include <cmath>

#include "cuda/dense_ops.h"

namespace v4::kernels::cuda {

namespace {

constexpr int k_warps = 4;
constexpr int k_queries_per_warp = attention_query_tile / k_warps;
constexpr int k_keys = 32; // keys per tile: one per lane
constexpr int k_max_nd = max_head_dim / 32;
static_assert(attention_query_tile % k_warps == 0, "every warp owns the same number of queries");

// Shared memory: q [tile][D] f32, K [32][D + 2] f16, V [32][D] f16. The K pad puts lane j's row
// at word j * (D / 2 + 1): D is a multiple of 32, so D / 2 + 1 is odd and the 32 lanes reading
// the same column of their rows hit 32 distinct banks.
__host__ __device__ constexpr size_t prefill_smem_bytes(int D) {
    return static_cast<size_t>(attention_query_tile) * D * sizeof(float) +
           static_cast<size_t>(k_keys) * (D + 2) * sizeof(__half) + static_cast<size_t>(k_keys) * D * sizeof(__half);
}

__device__ __forceinline__ int visible_lo(int pos, int window) { return window > 0 ? max(0, pos - window + 1) : 0; }

__global__ void __launch_bounds__(32 * k_warps) attention_prefill_kernel(attention_params p) {
    extern __shared__ __align__(16) unsigned char smem[];
    const int D = p.head_dim, nd = D / 32;
    float *   qs = reinterpret_cast<float *>(smem);
    __half *  ks = reinterpret_cast<__half *>(qs + attention_query_tile * D);
    __half *  vs = ks + k_keys * (D + 2);
    const int h = blockIdx.y, t0 = blockIdx.x * attention_query_tile;
    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    const int kv_dim = p.n_head_kv * D;
    const int kvh = h / (p.n_head / p.n_head_kv);
    const int pos0 = *p.pos0;
    const int t_last = min(t0 + attention_query_tile, p.n_tokens) - 1;

    for (int i = threadIdx.x; i < attention_query_tile * D; i += blockDim.x) {
        const int qi = i / D, d = i % D, t = t0 + qi;
        qs[i] = t < p.n_tokens ? p.q[(static_cast<int64_t>(t) * p.n_head + h) * D + d] * p.scale : 0.0f;
    }

    float m[k_queries_per_warp], l[k_queries_per_warp], acc[k_queries_per_warp][k_max_nd];
#pragma unroll
    for (int r = 0; r < k_queries_per_warp; ++r) {
        m[r] = -INFINITY;
        l[r] = 0.0f;
#pragma unroll
        for (int i = 0; i < k_max_nd; ++i) acc[r][i] = 0.0f;
    }

    // Keys any query of the block sees: from the first query's window start to the last query.
    const int key_lo = visible_lo(pos0 + t0, p.window), key_hi = pos0 + t_last; // inclusive
    for (int k0 = key_lo; k0 <= key_hi; k0 += k_keys) {
        __syncthreads(); // the previous tile is consumed (and, the first time, q is in place)
        const int per_row = D / 8; // 16-byte pieces of one head's row (8 halves)
        for (int i = threadIdx.x; i < k_keys * per_row; i += blockDim.x) {
            const int j = i / per_row, c = i % per_row, key = k0 + j;
            uint4     kv = make_uint4(0, 0, 0, 0), vv = make_uint4(0, 0, 0, 0);
            if (key <= key_hi) {
                const int64_t off = static_cast<int64_t>(key) * kv_dim + static_cast<int64_t>(kvh) * D + 8 * c;
                kv = *reinterpret_cast<const uint4 *>(p.k_cache + off);
                vv = *reinterpret_cast<const uint4 *>(p.v_cache + off);
            }
            // K rows are D + 2 halves apart: 4-byte aligned, so the piece goes in as four half2 words.
            uint32_t * kd = reinterpret_cast<uint32_t *>(ks + j * (D + 2) + 8 * c);
            kd[0] = kv.x;
            kd[1] = kv.y;
            kd[2] = kv.z;
            kd[3] = kv.w;
            *reinterpret_cast<uint4 *>(vs + j * D + 8 * c) = vv;
        }
        __syncthreads();

#pragma unroll
    for (int r = 0; r < k_queries_per_warp; ++r) {
            const int qi = warp * k_queries_per_warp + r, t = t0 + qi;
            if (t >= p.n_tokens) break; // warp-uniform
            const int pos = pos0 + t, lo = visible_lo(pos, p.window);
            if (k0 > pos || k0 + k_keys - 1 < lo) continue; // the whole tile is outside this query's view
            const int key = k0 + lane;
            float     s = -INFINITY;
            if (key >= lo && key <= pos) {
                const float *  qrow = qs + qi * D;
                const __half * krow = ks + lane * (D + 2);
                float          dot = 0.0f;
                for (int d = 0; d < D; d += 2) {
                    const float2 kf = __half22float2(*reinterpret_cast<const __half2 *>(krow + d));
                    dot += qrow[d] * kf.x + qrow[d + 1] * kf.y;
                }
                s = dot;
            }
            float tile_max = s;
            for (int o = 16; o > 0; o >>= 1) tile_max = fmaxf(tile_max, __shfl_xor_sync(0xffffffffu, tile_max, o));
            const float m_new = fmaxf(m[r], tile_max); // finite: the tile holds at least one visible key
            const float corr = __expf(m[r] - m_new);   // m = -inf before the first tile: 0
            const float pj = __expf(s - m_new);        // masked keys: 0
            float       psum = pj;
            for (int o = 16; o > 0; o >>= 1) psum += __shfl_xor_sync(0xffffffffu, psum, o);
            l[r] = l[r] * corr + psum;
            m[r] = m_new;
#pragma unroll
            for (int i = 0; i < k_max_nd; ++i) {
                if (i < nd) acc[r][i] *= corr;
            }
            for (int j = 0; j < k_keys; ++j) {
                const float pjj = __shfl_sync(0xffffffffu, pj, j);
                if (pjj == 0.0f) continue; // warp-uniform: pjj is the same value on every lane
                const __half * vrow = vs + j * D + lane;
#pragma unroll
                for (int i = 0; i < k_max_nd; ++i) {
                    if (i < nd) acc[r][i] += pjj * __half2float(vrow[32 * i]);
                }
            }
        }
    }

#pragma unroll
    for (int r = 0; r < k_queries_per_warp; ++r) {
        const int t = t0 + warp * k_queries_per_warp + r;
        if (t >= p.n_tokens) break;
        float * out = p.out + (static_cast<int64_t>(t) * p.n_head + h) * D + lane;
#pragma unroll
        for (int i = 0; i < k_max_nd; ++i) {
            if (i < nd) out[32 * i] = acc[r][i] / l[r]; // key pos is always visible: l > 0
        }
    }
}

} // namespace

void attention_prefill(const attention_params & p, cudaStream_t stream) {
    // Above 48 KiB (head_dim 256) a kernel must opt in to more dynamic shared memory; once per process.
    static const cudaError_t opt_in = cudaFuncSetAttribute(attention_prefill_kernel,
                                                           cudaFuncAttributeMaxDynamicSharedMemorySize,
                                                           static_cast<int>(prefill_smem_bytes(max_head_dim)));
    (void) opt_in; // a failure shows up as the launch's error (take_last_error)
    const dim3 grid(static_cast<unsigned>((p.n_tokens + attention_query_tile - 1) / attention_query_tile),
                    static_cast<unsigned>(p.n_head));
    attention_prefill_kernel<<<grid, 32 * k_warps, prefill_smem_bytes(p.head_dim), stream>>>(p);
}

} // namespace v4::kernels::cuda
