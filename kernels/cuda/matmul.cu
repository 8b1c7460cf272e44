// Prefill matrix products: y[T][n_out] = x[T][n_in] * W^T with the weight dequantized tile by tile
// in shared memory, so no f32/f16 copy of a weight ever exists. Own kernel rather than cuBLAS: the
// package links only the static CUDA runtime and must start on machines without the toolkit.
//
// Block: 256 threads computing a 64 (tokens) x 64 (output rows) tile of y, 4 x 4 per thread.
// Each step along n_in covers one 32-element chunk: threads 0..63 dequantize chunk c of output rows
// o0 .. o0 + 63 into ws[k][o], all threads copy x[t0 .. t0 + 63][32c .. 32c + 31] into xs[k][t].
#include "cuda/dense_ops.h"
#include "cuda/dequant.cuh"

namespace v4::kernels::cuda {

namespace {

constexpr int k_bm = 64; // tokens per block
constexpr int k_bn = 64; // output rows per block
constexpr int k_threads = 256;

__global__ void __launch_bounds__(k_threads) gemm_kernel(uint32_t type, const uint8_t * __restrict__ w, size_t row_bytes,
                                                        int64_t n_in, int64_t n_out, const float * __restrict__ x,
                                                        int n_rows, float * __restrict__ y) {
    __shared__ float xs[32][k_bm + 4];
    __shared__ float ws[32][k_bn + 4];
    const int     tid = threadIdx.x;
    const int     tx = tid % 16, ty = tid / 16; // output rows tx*4.., tokens ty*4..
    const int64_t t0 = static_cast<int64_t>(blockIdx.y) * k_bm;
    const int64_t o0 = static_cast<int64_t>(blockIdx.x) * k_bn;
    float         acc[4][4] = {};
    const int64_t n_chunks = n_in / 32;
    for (int64_t c = 0; c < n_chunks; ++c) {
        if (tid < k_bn) {
            const int64_t o = o0 + tid;
            float         v[32];
            if (o < n_out) {
                dequant_chunk(type, w + o * row_bytes, c, v);
            } else {
                for (int k = 0; k < 32; ++k) v[k] = 0.0f;
            }
            for (int k = 0; k < 32; ++k) ws[k][tid] = v[k];
        }
        for (int i = tid; i < 32 * k_bm; i += k_threads) {
            const int     tt = i / 32, k = i % 32;
            const int64_t t = t0 + tt;
            xs[k][tt] = t < n_rows ? x[t * n_in + c * 32 + k] : 0.0f;
        }
        __syncthreads();
        for (int k = 0; k < 32; ++k) {
            float a[4], b[4];
            for (int i = 0; i < 4; ++i) a[i] = xs[k][ty * 4 + i];
            for (int j = 0; j < 4; ++j) b[j] = ws[k][tx * 4 + j];
            for (int i = 0; i < 4; ++i) {
                for (int j = 0; j < 4; ++j) acc[i][j] += a[i] * b[j];
            }
        }
        __syncthreads();
    }
    for (int i = 0; i < 4; ++i) {
        const int64_t t = t0 + ty * 4 + i;
        if (t >= n_rows) break;
        for (int j = 0; j < 4; ++j) {
            const int64_t o = o0 + tx * 4 + j;
            if (o < n_out) y[t * n_out + o] = acc[i][j];
        }
    }
}

} // namespace

void matmul(const dev_weight & w, const float * x, int n_rows, float * y, cudaStream_t stream) {
    if (n_rows <= gemv_max_rows) {
        gemv(w, x, n_rows, y, stream);
        return;
    }
    const dim3 grid(static_cast<unsigned>((w.n_out + k_bn - 1) / k_bn), static_cast<unsigned>((n_rows + k_bm - 1) / k_bm));
    gemm_kernel<<<grid, k_threads, 0, stream>>>(w.type, w.data, w.row_bytes, w.n_in, w.n_out, x, n_rows, y);
}

} // namespace v4::kernels::cuda
