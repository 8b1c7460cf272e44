// Quantized matrix-vector products for decode, and the row dequantizers the prefill GEMM and the
// embedding lookup use. All of them walk a row in 32-element chunks (dequant.cuh).
//
// GEMV: one warp per output row. The warp walks the row 32 chunks at a time: it first copies the
// stretch those chunks occupy (576 bytes of q4_K, 4 KiB of f32) into its shared-memory stage with
// 16-byte loads of the aligned middle (byte loads only for the < 16-byte unaligned ends: GGUF
// blocks are 17..210 bytes, so a block is not aligned in general), then lane l dequantizes chunk l
// from the stage in registers and multiplies it with up to gemv_max_rows activation rows: in f32,
// or, when the caller passes q8_1 activations and the row has an integer block type, as integers
// (dequant_int.cuh) with four dp4a per 16 values, scaled once per half chunk. The f32 form keeps
// the result as close to the reference as the dequantized weights allow (the accurate setting);
// the integer form reads a quarter of the activation bytes and does a quarter of the multiplies.
//
// One launch serves up to three matrices of the same n_in (the q, k and v projections: the grid
// covers their rows one after the other), or, in the GLU form, the gate and up rows of the same
// output with act(gate . x) * (up . x) written in the epilogue (the FFN's SwiGLU/GeGLU).
#include "cuda/dense_ops.h"
#include "cuda/dequant.cuh"
#include "cuda/dequant_int.cuh"
#include "cuda/glu_act.cuh"
#include "cuda/stage.cuh"

namespace v4::kernels::cuda {

namespace {

constexpr int k_gemv_warps = 4;                   // rows per block
constexpr int k_stage_bytes = 32 * 32 * 4 + 16;   // 32 chunks of the widest type (f32) + alignment slack

__device__ __forceinline__ float warp_sum(float v) {
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

// Byte offset of chunk c in a row; c a multiple of 8 for the K-quants (always true here: c is a
// multiple of 32 or the row's end, and K-quant rows hold whole 256-element super-blocks).
__device__ __forceinline__ int64_t chunk_offset(uint32_t type, int64_t c) {
    return c * 32 / block_elems(type) * block_bytes(type);
}

// Copies global bytes [begin, end) into `stage` (16-byte aligned) at the same offset modulo 16 and
// returns the stage address of `begin` (stage.cuh: 16-byte loads for the aligned middle, one byte
// per lane for the < 16-byte head and tail). Nothing outside [begin, end) is read, so a row at the
// end of an allocation is safe.
__device__ __forceinline__ const uint8_t * stage_bytes(const uint8_t * begin, const uint8_t * end, uint8_t * stage,
                                                       int lane) {
    const uintptr_t   b = reinterpret_cast<uintptr_t>(begin);
    const stage_split sp = split_for_stage(b, reinterpret_cast<uintptr_t>(end));
    const uintptr_t   at = static_cast<uintptr_t>(lane);
    __syncwarp(); // every lane is done with the previous stretch
    if (at < sp.head_end - b) stage[b - sp.base + at] = begin[at];
    const uint4 * src = reinterpret_cast<const uint4 *>(sp.mid_lo);
    uint4 *       dst = reinterpret_cast<uint4 *>(stage + (sp.mid_lo - sp.base));
    const int     n16 = static_cast<int>((sp.mid_hi - sp.mid_lo) / 16);
    for (int i = lane; i < n16; i += 32) dst[i] = __ldg(src + i);
    if (at < reinterpret_cast<uintptr_t>(end) - sp.tail_lo) {
        stage[sp.tail_lo - sp.base + at] = reinterpret_cast<const uint8_t *>(sp.tail_lo)[at];
    }
    __syncwarp();
    return stage + (b - sp.base);
}

// acc[t] += (this lane's share of) row . x[t] for t < n_rows; the caller sums over the warp.
// xq.q != null and an integer type: the integer dot against the q8_1 activations instead of x.
template <int MaxRows>
__device__ __forceinline__ void row_dot(uint32_t type, const uint8_t * row, int64_t n_in, const float * __restrict__ x,
                                        const q8_act & xq, int n_rows, uint8_t * stage, int lane,
                                        float (&acc)[MaxRows]) {
    const int64_t n_chunks = n_in / 32;
    const bool    integer = xq.q != nullptr && has_int_chunk(type);
    for (int64_t c0 = 0; c0 < n_chunks; c0 += 32) {
        const int64_t   nc = n_chunks - c0 < 32 ? n_chunks - c0 : 32;
        const uint8_t * s = stage_bytes(row + chunk_offset(type, c0), row + chunk_offset(type, c0 + nc), stage, lane);
        if (lane >= nc) continue;
        const int64_t c = c0 + lane;
        if (integer) {
            int_chunk w;
            int_chunk_of(type, s, lane, w);
            for (int t = 0; t < MaxRows; ++t) {
                if (t >= n_rows) break;
                const int4 * a = reinterpret_cast<const int4 *>(xq.q + t * n_in + c * 32);
                const int4   a0 = a[0], a1 = a[1];
                const float2 ds = xq.ds[t * n_chunks + c];
                int          lo = __dp4a(w.qw[0], a0.x, 0);
                lo = __dp4a(w.qw[1], a0.y, lo);
                lo = __dp4a(w.qw[2], a0.z, lo);
                lo = __dp4a(w.qw[3], a0.w, lo);
                int hi = __dp4a(w.qw[4], a1.x, 0);
                hi = __dp4a(w.qw[5], a1.y, hi);
                hi = __dp4a(w.qw[6], a1.z, hi);
                hi = __dp4a(w.qw[7], a1.w, hi);
                acc[t] += ds.x * (w.scale[0] * static_cast<float>(lo) + w.scale[1] * static_cast<float>(hi)) +
                          w.min * ds.y;
            }
            continue;
        }
        float wv[32];
        dequant_chunk(type, s, lane, wv);
        for (int t = 0; t < MaxRows; ++t) {
            if (t >= n_rows) break;
            const float4 * xv = reinterpret_cast<const float4 *>(x + t * n_in + c * 32);
            float          sum = 0.0f;
            for (int j = 0; j < 8; ++j) {
                const float4 a = xv[j];
                sum += wv[4 * j] * a.x + wv[4 * j + 1] * a.y + wv[4 * j + 2] * a.z + wv[4 * j + 3] * a.w;
            }
            acc[t] += sum;
        }
    }
}

// One matrix of a launch and where its products go.
struct gemv_job {
    uint32_t        type = 0;
    const uint8_t * data = nullptr;
    size_t          row_bytes = 0;
    int64_t         n_out = 0;
    float *         y = nullptr; // [n_rows][n_out]
};
struct gemv_jobs {
    gemv_job j[3];
    int      n = 0;
    int64_t  n_rows_total = 0; // rows the grid covers: the sum of n_out, or n_out of the gate (GLU)
};

template <int MaxRows>
__global__ void __launch_bounds__(32 * k_gemv_warps)
    gemv_kernel(gemv_jobs jobs, int64_t n_in, const float * __restrict__ x, q8_act xq, int n_rows) {
    __shared__ __align__(16) uint8_t stage[k_gemv_warps][k_stage_bytes];
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    int64_t   row = static_cast<int64_t>(blockIdx.x) * k_gemv_warps + warp;
    if (row >= jobs.n_rows_total) return; // whole warps leave together: no shuffle is left half-empty
    int i = 0;
    while (row >= jobs.j[i].n_out) row -= jobs.j[i++].n_out; // the matrix this row belongs to
    const gemv_job & J = jobs.j[i];
    float            acc[MaxRows];
    for (int t = 0; t < MaxRows; ++t) acc[t] = 0.0f;
    row_dot<MaxRows>(J.type, J.data + row * J.row_bytes, n_in, x, xq, n_rows, stage[warp], lane, acc);
    for (int t = 0; t < MaxRows; ++t) {
        if (t >= n_rows) break;
        const float s = warp_sum(acc[t]);
        if (lane == 0) J.y[t * J.n_out + row] = s;
    }
}

// jobs.j[0] = gate (its y receives the result), jobs.j[1] = up; one warp per output row.
template <int MaxRows>
__global__ void __launch_bounds__(32 * k_gemv_warps)
    gemv_glu_kernel(gemv_jobs jobs, int64_t n_in, const float * __restrict__ x, q8_act xq, int n_rows, int act) {
    __shared__ __align__(16) uint8_t stage[k_gemv_warps][k_stage_bytes];
    const int     lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    const int64_t row = static_cast<int64_t>(blockIdx.x) * k_gemv_warps + warp;
    const gemv_job & G = jobs.j[0], & U = jobs.j[1];
    if (row >= G.n_out) return;
    float g[MaxRows], u[MaxRows];
    for (int t = 0; t < MaxRows; ++t) g[t] = u[t] = 0.0f;
    row_dot<MaxRows>(G.type, G.data + row * G.row_bytes, n_in, x, xq, n_rows, stage[warp], lane, g);
    row_dot<MaxRows>(U.type, U.data + row * U.row_bytes, n_in, x, xq, n_rows, stage[warp], lane, u);
    for (int t = 0; t < MaxRows; ++t) {
        if (t >= n_rows) break;
        const float gs = warp_sum(g[t]), us = warp_sum(u[t]);
        if (lane == 0) G.y[t * G.n_out + row] = glu_activation(gs, act) * us;
    }
}

// One thread per chunk: out[r][32c .. 32c + 31] for rows r0 .. r0 + n - 1.
__global__ void dequantize_rows_kernel(uint32_t type, const uint8_t * __restrict__ w, size_t row_bytes, int64_t n_in,
                                       int64_t r0, int64_t n, float * __restrict__ out) {
    const int64_t n_chunks = n_in / 32;
    const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
    if (i >= n * n_chunks) return;
    const int64_t r = i / n_chunks, c = i % n_chunks;
    float         v[32];
    dequant_chunk(type, w + (r0 + r) * row_bytes, c, v);
    float4 * o = reinterpret_cast<float4 *>(out + r * n_in + c * 32);
    for (int j = 0; j < 8; ++j) o[j] = make_float4(v[4 * j], v[4 * j + 1], v[4 * j + 2], v[4 * j + 3]);
}

__global__ void get_rows_kernel(uint32_t type, const uint8_t * __restrict__ w, size_t row_bytes, int64_t n_in,
                                int64_t n_out, const int32_t * __restrict__ ids, float scale, float * __restrict__ out) {
    const int64_t n_chunks = n_in / 32;
    const int64_t i = blockIdx.y;
    const int64_t c = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
    if (c >= n_chunks) return;
    int64_t id = ids[i];
    if (id < 0 || id >= n_out) id = 0; // the host validated ids; never read outside the matrix
    float v[32];
    dequant_chunk(type, w + id * row_bytes, c, v);
    float * o = out + i * n_in + c * 32;
    for (int j = 0; j < 32; ++j) o[j] = v[j] * scale;
}

unsigned blocks_for(int64_t n, int per_block) { return static_cast<unsigned>((n + per_block - 1) / per_block); }

gemv_job job_of(const dev_weight & w, float * y) { return {w.type, w.data, w.row_bytes, w.n_out, y}; }

q8_act q8_or_none(const q8_act * xq) { return xq != nullptr ? *xq : q8_act{}; }

void launch_gemv(const gemv_jobs & jobs, int64_t n_in, const float * x, const q8_act * xq, int n_rows,
                 cudaStream_t stream) {
    const unsigned blocks = blocks_for(jobs.n_rows_total, k_gemv_warps);
    if (n_rows == 1) {
        gemv_kernel<1><<<blocks, 32 * k_gemv_warps, 0, stream>>>(jobs, n_in, x, q8_or_none(xq), 1);
    } else {
        gemv_kernel<gemv_max_rows><<<blocks, 32 * k_gemv_warps, 0, stream>>>(jobs, n_in, x, q8_or_none(xq), n_rows);
    }
}

} // namespace

bool weight_supported(uint32_t type, int64_t n_in) {
    return block_elems(type) > 0 && n_in > 0 && n_in % 32 == 0;
}

void gemv(const dev_weight & w, const float * x, int n_rows, float * y, cudaStream_t stream, const q8_act * xq) {
    gemv_jobs jobs;
    jobs.j[0] = job_of(w, y);
    jobs.n = 1;
    jobs.n_rows_total = w.n_out;
    launch_gemv(jobs, w.n_in, x, xq, n_rows, stream);
}

void gemv_multi(const dev_weight * const * w, float * const * y, int n, const float * x, int n_rows,
                cudaStream_t stream, const q8_act * xq) {
    gemv_jobs jobs;
    jobs.n = n < 3 ? n : 3;
    for (int i = 0; i < jobs.n; ++i) {
        jobs.j[i] = job_of(*w[i], y[i]);
        jobs.n_rows_total += w[i]->n_out;
    }
    launch_gemv(jobs, w[0]->n_in, x, xq, n_rows, stream);
}

void gemv_glu(const dev_weight & gate, const dev_weight & up, const float * x, int n_rows, int act, float * out,
              cudaStream_t stream, const q8_act * xq) {
    gemv_jobs jobs;
    jobs.j[0] = job_of(gate, out);
    jobs.j[1] = job_of(up, nullptr);
    jobs.n = 2;
    jobs.n_rows_total = gate.n_out;
    const unsigned blocks = blocks_for(gate.n_out, k_gemv_warps);
    if (n_rows == 1) {
        gemv_glu_kernel<1><<<blocks, 32 * k_gemv_warps, 0, stream>>>(jobs, gate.n_in, x, q8_or_none(xq), 1, act);
    } else {
        gemv_glu_kernel<gemv_max_rows><<<blocks, 32 * k_gemv_warps, 0, stream>>>(jobs, gate.n_in, x, q8_or_none(xq),
                                                                                n_rows, act);
    }
}

void dequantize_rows(const dev_weight & w, int64_t r0, int64_t n, float * out, cudaStream_t stream) {
    constexpr int threads = 256;
    dequantize_rows_kernel<<<blocks_for(n * (w.n_in / 32), threads), threads, 0, stream>>>(
        w.type, w.data, w.row_bytes, w.n_in, r0, n, out);
}

void get_rows(const dev_weight & w, const int32_t * ids, int n_ids, float scale, float * out, cudaStream_t stream) {
    constexpr int threads = 64;
    const dim3    grid(blocks_for(w.n_in / 32, threads), static_cast<unsigned>(n_ids));
    get_rows_kernel<<<grid, threads, 0, stream>>>(w.type, w.data, w.row_bytes, w.n_in, w.n_out, ids, scale, out);
}

std::string take_last_error() {
    const cudaError_t err = cudaGetLastError();
    return err == cudaSuccess ? std::string() : std::string(cudaGetErrorString(err));
}

} // namespace v4::kernels::cuda
