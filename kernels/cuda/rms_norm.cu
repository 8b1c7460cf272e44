#include "cuda/rms_norm.h"

#include <cuda_runtime.h>

namespace v4::kernels::cuda {

namespace {

// One block per row; threads stride over the columns and reduce the sum of squares in shared memory.
__global__ void rms_norm_kernel(const float * x, const float * w, float * y, int64_t cols, float eps) {
    extern __shared__ float partial[];
    const int64_t row = blockIdx.x;
    const float * xr = x + row * cols;
    float *       yr = y + row * cols;

    float sum = 0.0f;
    for (int64_t c = threadIdx.x; c < cols; c += blockDim.x) {
        sum += xr[c] * xr[c];
    }
    partial[threadIdx.x] = sum;
    __syncthreads();
    for (unsigned stride = blockDim.x / 2; stride > 0; stride /= 2) {
        if (threadIdx.x < stride) {
            partial[threadIdx.x] += partial[threadIdx.x + stride];
        }
        __syncthreads();
    }
    const float scale = rsqrtf(partial[0] / static_cast<float>(cols) + eps);
    for (int64_t c = threadIdx.x; c < cols; c += blockDim.x) {
        yr[c] = xr[c] * scale * w[c];
    }
}

struct device_buffer {
    float * ptr = nullptr;
    ~device_buffer() { cudaFree(ptr); }
};

} // namespace

std::string rms_norm_host(const float * x, const float * w, float * y, int64_t rows, int64_t cols, float eps) {
    device_buffer dx, dw, dy;
    const size_t bytes = static_cast<size_t>(rows * cols) * sizeof(float);
    cudaError_t err = cudaMalloc(&dx.ptr, bytes);
    if (err == cudaSuccess) err = cudaMalloc(&dw.ptr, static_cast<size_t>(cols) * sizeof(float));
    if (err == cudaSuccess) err = cudaMalloc(&dy.ptr, bytes);
    if (err == cudaSuccess) err = cudaMemcpy(dx.ptr, x, bytes, cudaMemcpyHostToDevice);
    if (err == cudaSuccess) err = cudaMemcpy(dw.ptr, w, static_cast<size_t>(cols) * sizeof(float), cudaMemcpyHostToDevice);
    if (err == cudaSuccess) {
        constexpr int threads = 256;
        rms_norm_kernel<<<static_cast<unsigned>(rows), threads, threads * sizeof(float)>>>(dx.ptr, dw.ptr, dy.ptr, cols, eps);
        err = cudaGetLastError();
    }
    if (err == cudaSuccess) err = cudaMemcpy(y, dy.ptr, bytes, cudaMemcpyDeviceToHost);
    return err == cudaSuccess ? std::string() : std::string(cudaGetErrorString(err));
}

} // namespace v4::kernels::cuda
