#include "cuda/dense_ops.h"
#include "cuda/q8_1.cuh"
#include "cuda/rms_norm.h"

namespace v4::kernels::cuda {

namespace {

constexpr int k_norm_threads = 256;

// One block per row: optional residual add, then the sum of squares reduced with warp shuffles and
// one shared-memory step, then the scaled write. Each thread touches only its own columns, so y
// may alias x and the add needs no barrier before the reduction. With Q8 the write pass also
// quantizes: in each step warp w writes columns 32w .. 32w + 31 of a 256-column stretch, one whole
// q8_1 block (cols is a multiple of 32, so every warp runs the same number of steps).
template <bool Q8>
__global__ void add_rms_norm_kernel(float * x, const float * add, const float * w, float * y, int64_t cols, float eps,
                                    q8_act q8) {
    __shared__ float warp_sums[k_norm_threads / 32];
    const int64_t row = blockIdx.x;
    float *       xr = x + row * cols;
    float *       yr = y + row * cols;

    float sum = 0.0f;
    for (int64_t c = threadIdx.x; c < cols; c += blockDim.x) {
        float v = xr[c];
        if (add != nullptr) {
            v += add[row * cols + c];
            xr[c] = v;
        }
        sum += v * v;
    }
    for (int o = 16; o > 0; o >>= 1) sum += __shfl_xor_sync(0xffffffffu, sum, o);
    if ((threadIdx.x & 31) == 0) warp_sums[threadIdx.x >> 5] = sum;
    __syncthreads();
    float total = 0.0f;
    for (int i = 0; i < k_norm_threads / 32; ++i) total += warp_sums[i];
    const float scale = rsqrtf(total / static_cast<float>(cols) + eps);
    for (int64_t c = threadIdx.x; c < cols; c += blockDim.x) {
        const float v = xr[c] * scale * w[c];
        yr[c] = v;
        if constexpr (Q8) {
            const int64_t at = row * cols + c; // this lane's value; its block starts 31 & threadIdx.x earlier
            quantize_q8_1_block(v, q8.q + (at - (threadIdx.x & 31)), q8.ds + at / 32, threadIdx.x & 31);
        }
    }
}

__global__ void quantize_q8_1_kernel(const float * __restrict__ x, int64_t n_blocks, q8_act out) {
    const int64_t block = (static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x) / 32;
    if (block >= n_blocks) return; // whole warps: blockDim is a multiple of 32
    const int lane = threadIdx.x & 31;
    quantize_q8_1_block(x[block * 32 + lane], out.q + block * 32, out.ds + block, lane);
}

struct device_buffer {
    float * ptr = nullptr;
    ~device_buffer() { cudaFree(ptr); }
};

} // namespace

void add_rms_norm(float * x, const float * add, const float * w, float * y, int n_rows, int n, float eps,
                  cudaStream_t stream, const q8_act * q8) {
    if (q8 != nullptr) {
        add_rms_norm_kernel<true><<<static_cast<unsigned>(n_rows), k_norm_threads, 0, stream>>>(x, add, w, y, n, eps, *q8);
    } else {
        add_rms_norm_kernel<false><<<static_cast<unsigned>(n_rows), k_norm_threads, 0, stream>>>(x, add, w, y, n, eps, {});
    }
}

void quantize_q8_1(const float * x, int n_rows, int64_t n, const q8_act & out, cudaStream_t stream) {
    constexpr int threads = 256;
    const int64_t n_blocks = static_cast<int64_t>(n_rows) * (n / 32);
    quantize_q8_1_kernel<<<static_cast<unsigned>((n_blocks * 32 + threads - 1) / threads), threads, 0, stream>>>(
        x, n_blocks, out);
}

std::string rms_norm_host(const float * x, const float * w, float * y, int64_t rows, int64_t cols, float eps) {
    device_buffer dx, dw;
    const size_t bytes = static_cast<size_t>(rows * cols) * sizeof(float);
    cudaError_t err = cudaMalloc(&dx.ptr, bytes);
    if (err == cudaSuccess) err = cudaMalloc(&dw.ptr, static_cast<size_t>(cols) * sizeof(float));
    if (err == cudaSuccess) err = cudaMemcpy(dx.ptr, x, bytes, cudaMemcpyHostToDevice);
    if (err == cudaSuccess) err = cudaMemcpy(dw.ptr, w, static_cast<size_t>(cols) * sizeof(float), cudaMemcpyHostToDevice);
    if (err == cudaSuccess) {
        add_rms_norm(dx.ptr, nullptr, dw.ptr, dx.ptr, static_cast<int>(rows), static_cast<int>(cols), eps, nullptr);
        err = cudaGetLastError();
    }
    if (err == cudaSuccess) err = cudaMemcpy(y, dx.ptr, bytes, cudaMemcpyDeviceToHost);
    return err == cudaSuccess ? std::string() : std::string(cudaGetErrorString(err));
}

} // namespace v4::kernels::cuda
