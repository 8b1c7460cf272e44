// Device helpers shared by the DeepSeek-V4 kernels: warp reductions, the weight-row dot product in
// each expert format, the launch-check idiom. Included by the .cu files only.
#pragma once

#include <cuda_runtime.h>

#include <string>

#include "cuda/deepseek4/d4_launch_math.h"
#include "reference/deepseek4_ops.h"

namespace v4::kernels::cuda::d4 {

using ref::d4::weight_view;
using ref::d4::wfmt;

constexpr unsigned full_mask = 0xFFFFFFFFu;

__device__ inline float warp_sum(float v) {
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(full_mask, v, o);
    return v;
}

// Sum over the block (blockDim.x a multiple of 32, at most 1024); every thread gets the total.
// `scratch` holds 32 floats; the block must not reuse it until all threads have returned.
__device__ inline float block_sum(float v, float * scratch) {
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, n_warps = blockDim.x >> 5;
    v = warp_sum(v);
    __syncthreads();  // scratch may still be read by a previous call
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    v = lane < n_warps ? scratch[lane] : 0.0f;
    return warp_sum(v);
}

// Interleaved RoPE of the trailing 2 * pairs channels of v[dim] (shared memory), threads over pairs.
__device__ inline void rope_block(float * v, int dim, const ref::d4::rope_table & rope, int pos, float sign) {
    float * r = v + (dim - 2 * rope.pairs);
    for (int i = threadIdx.x; i < rope.pairs; i += blockDim.x) {
        const float angle = float(pos) * rope.inv_freq[i];
        const float c = cosf(angle) * rope.attn_factor, s = sign * sinf(angle) * rope.attn_factor;
        const float a = r[2 * i], b = r[2 * i + 1];
        r[2 * i] = a * c - b * s;
        r[2 * i + 1] = b * c + a * s;
    }
}

// Lane `lane`'s share of row r (logical, of the view) of expert e dotted with x[0, cols): the lanes
// of a warp stride over the columns; sum with warp_sum. The format is a template argument so the
// inner loop has no switch.
template <wfmt F>
__device__ inline float row_dot_lane(const weight_view & w, int e, int64_t r, const float * x, int lane) {
    const int64_t pr = w.row0 + r, cols = w.cols;
    const uint8_t * base = static_cast<const uint8_t *>(w.data) + int64_t(e) * ref::d4::weight_expert_bytes(w);
    float s = 0.0f;
    if constexpr (F == wfmt::f32) {
        const float * row = reinterpret_cast<const float *>(base) + pr * cols;
        for (int64_t c = lane; c < cols; c += 32) s += row[c] * x[c];
    } else if constexpr (F == wfmt::bf16) {
        const uint16_t * row = reinterpret_cast<const uint16_t *>(base) + pr * cols;
        for (int64_t c = lane; c < cols; c += 32) s += ref::d4::bf16_to_float(row[c]) * x[c];
    } else if constexpr (F == wfmt::fp8_e4m3_b128) {
        const uint8_t * row = base + pr * cols;
        const float * sc = static_cast<const float *>(w.scales) + int64_t(e) * ref::d4::weight_expert_scales(w) +
                           (pr / 128) * ((cols + 127) / 128);
        for (int64_t c = lane; c < cols; c += 32) s += ref::d4::fp8_e4m3_to_float(row[c]) * sc[c / 128] * x[c];
    } else {
        const uint8_t * row = base + pr * (cols / 2);
        const uint8_t * sc = static_cast<const uint8_t *>(w.scales) + int64_t(e) * ref::d4::weight_expert_scales(w) +
                             pr * (cols / 32);
        for (int64_t c = lane; c < cols; c += 32) {
            const uint8_t byte = row[c / 2];
            s += ref::d4::fp4_e2m1_to_float((c % 2 == 0) ? (byte & 0xF) : (byte >> 4)) * ref::d4::e8m0_to_float(sc[c / 32]) * x[c];
        }
    }
    return s;
}

// "" after a clean launch, else the CUDA error text prefixed with the operator's name.
inline std::string launch_status(const char * op) {
    const cudaError_t err = cudaGetLastError();
    return err == cudaSuccess ? std::string() : std::string(op) + ": " + cudaGetErrorString(err);
}

// Validates a weight view at the host boundary; "" when usable.
std::string check_weight_view(const char * name, const weight_view & w, int64_t rows, int64_t cols);

} // namespace v4::kernels::cuda::d4
