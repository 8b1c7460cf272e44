// Quantized matrix-vector products for decode, and the row dequantizers the prefill GEMM and the
// embedding lookup use. All of them walk a row in 32-element chunks (dequant.cuh).
//
// GEMV: one warp per output row; lane l takes chunks l, l + 32, ...: adjacent lanes read adjacent
// chunks, so a warp's loads cover one contiguous stretch of the row (576 bytes of q4_K per step).
// The chunk is dequantized in registers and multiplied with up to gemv_max_rows activation rows
// kept in f32 (no activation quantization: decode is bound by reading the weights, and f32
// activations keep the result as close to the reference as the dequantized weights allow).
#include "cuda/dense_ops.h"
#include "cuda/dequant.cuh"

namespace v4::kernels::cuda {

namespace {

constexpr int k_gemv_warps = 4; // rows per block

__device__ __forceinline__ float warp_sum(float v) {
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

template <int MaxRows>
__global__ void gemv_kernel(uint32_t type, const uint8_t * __restrict__ w, size_t row_bytes, int64_t n_in,
                            int64_t n_out, const float * __restrict__ x, int n_rows, float * __restrict__ y) {
    const int     lane = threadIdx.x & 31;
    const int64_t row = static_cast<int64_t>(blockIdx.x) * k_gemv_warps + (threadIdx.x >> 5);
    if (row >= n_out) return; // whole warps leave together: no shuffle is left half-empty
    const uint8_t * wr = w + row * row_bytes;
    const int64_t   n_chunks = n_in / 32;
    float           acc[MaxRows];
    for (int t = 0; t < MaxRows; ++t) acc[t] = 0.0f;
    for (int64_t c = lane; c < n_chunks; c += 32) {
        float wv[32];
        dequant_chunk(type, wr, c, wv);
        for (int t = 0; t < MaxRows; ++t) {
            if (t >= n_rows) break;
            const float4 * xv = reinterpret_cast<const float4 *>(x + t * n_in + c * 32);
            float          s = 0.0f;
            for (int j = 0; j < 8; ++j) {
                const float4 a = xv[j];
                s += wv[4 * j] * a.x + wv[4 * j + 1] * a.y + wv[4 * j + 2] * a.z + wv[4 * j + 3] * a.w;
            }
            acc[t] += s;
        }
    }
    for (int t = 0; t < MaxRows; ++t) {
        if (t >= n_rows) break;
        const float s = warp_sum(acc[t]);
        if (lane == 0) y[t * n_out + row] = s;
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

} // namespace

bool weight_supported(uint32_t type, int64_t n_in) {
    return block_elems(type) > 0 && n_in > 0 && n_in % 32 == 0;
}

void gemv(const dev_weight & w, const float * x, int n_rows, float * y, cudaStream_t stream) {
    const unsigned blocks = blocks_for(w.n_out, k_gemv_warps);
    if (n_rows == 1) {
        gemv_kernel<1><<<blocks, 32 * k_gemv_warps, 0, stream>>>(w.type, w.data, w.row_bytes, w.n_in, w.n_out, x, 1, y);
    } else {
        gemv_kernel<gemv_max_rows><<<blocks, 32 * k_gemv_warps, 0, stream>>>(w.type, w.data, w.row_bytes, w.n_in,
                                                                            w.n_out, x, n_rows, y);
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
