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

__device__ inline bool aligned16(const void * p) { return (reinterpret_cast<uintptr_t>(p) & 15) == 0; }

// x[0..N) (N a multiple of 4, x 16-byte aligned) as float4 loads into v.
template <int N>
__device__ inline void load_floats(const float * x, float * v) {
    const float4 * x4 = reinterpret_cast<const float4 *>(x);
    for (int k = 0; k < N / 4; k++) {
        const float4 a = x4[k];
        v[4 * k] = a.x;
        v[4 * k + 1] = a.y;
        v[4 * k + 2] = a.z;
        v[4 * k + 3] = a.w;
    }
}

// Lane `lane`'s share of row r (logical, of the view) of expert e dotted with x[0, cols); sum with
// warp_sum. The format is a template argument so the inner loop has no switch. When the row and x
// are 16-byte aligned (cudaMalloc'd buffers, rows of whole groups), each lane reads 16 bytes of
// weights at a time (4 f32, 8 bf16, 16 FP8 codes under one block scale, or 32 FP4 codes under one
// UE8M0 scale) and the warp 512 contiguous bytes per step; the element loop takes what is left (or
// everything when misaligned). The grouping changes only the order of the additions.
template <wfmt F>
__device__ inline float row_dot_lane(const weight_view & w, int e, int64_t r, const float * x, int lane) {
    const int64_t pr = w.row0 + r, cols = w.cols;
    const uint8_t * base = static_cast<const uint8_t *>(w.data) + int64_t(e) * ref::d4::weight_expert_bytes(w);
    float s = 0.0f, xv[16];
    int64_t done = 0;  // columns covered by 16-byte groups
    if constexpr (F == wfmt::f32) {
        const float * row = reinterpret_cast<const float *>(base) + pr * cols;
        if (aligned16(row) && aligned16(x)) {
            const float4 * r4 = reinterpret_cast<const float4 *>(row);
            const float4 * x4 = reinterpret_cast<const float4 *>(x);
            for (int64_t g = lane; g < cols / 4; g += 32) {
                const float4 a = r4[g], b = x4[g];
                s += a.x * b.x + a.y * b.y + a.z * b.z + a.w * b.w;
            }
            done = cols / 4 * 4;
        }
        for (int64_t c = done + lane; c < cols; c += 32) s += row[c] * x[c];
    } else if constexpr (F == wfmt::bf16) {
        const uint16_t * row = reinterpret_cast<const uint16_t *>(base) + pr * cols;
        if (aligned16(row) && aligned16(x)) {
            const uint4 * r4 = reinterpret_cast<const uint4 *>(row);
            for (int64_t g = lane; g < cols / 8; g += 32) {
                const uint4 bits = r4[g];
                const uint32_t words[4] = {bits.x, bits.y, bits.z, bits.w};
                load_floats<8>(x + g * 8, xv);
                float part = 0.0f;
                for (int k = 0; k < 4; k++) {
                    part += ref::d4::bf16_to_float(uint16_t(words[k] & 0xFFFF)) * xv[2 * k] +
                            ref::d4::bf16_to_float(uint16_t(words[k] >> 16)) * xv[2 * k + 1];
                }
                s += part;
            }
            done = cols / 8 * 8;
        }
        for (int64_t c = done + lane; c < cols; c += 32) s += ref::d4::bf16_to_float(row[c]) * x[c];
    } else if constexpr (F == wfmt::fp8_e4m3_b128) {
        const uint8_t * row = base + pr * cols;
        const float * sc = static_cast<const float *>(w.scales) + int64_t(e) * ref::d4::weight_expert_scales(w) +
                           (pr / 128) * ((cols + 127) / 128);
        if (aligned16(row) && aligned16(x)) {
            const uint4 * r4 = reinterpret_cast<const uint4 *>(row);
            for (int64_t g = lane; g < cols / 16; g += 32) {  // 16 codes inside one 128-column block
                const uint4 bits = r4[g];
                const uint32_t words[4] = {bits.x, bits.y, bits.z, bits.w};
                load_floats<16>(x + g * 16, xv);
                float part = 0.0f;
                for (int k = 0; k < 16; k++) part += ref::d4::fp8_e4m3_to_float(uint8_t(words[k / 4] >> (8 * (k % 4)))) * xv[k];
                s += part * sc[(g * 16) / 128];
            }
            done = cols / 16 * 16;
        }
        for (int64_t c = done + lane; c < cols; c += 32) s += ref::d4::fp8_e4m3_to_float(row[c]) * sc[c / 128] * x[c];
    } else {
        const uint8_t * row = base + pr * (cols / 2);
        const uint8_t * sc = static_cast<const uint8_t *>(w.scales) + int64_t(e) * ref::d4::weight_expert_scales(w) +
                             pr * (cols / 32);
        if (aligned16(row) && aligned16(x)) {
            const uint4 * r4 = reinterpret_cast<const uint4 *>(row);
            for (int64_t g = lane; g < cols / 32; g += 32) {  // 32 codes under one UE8M0 scale
                const uint4 bits = r4[g];
                const uint32_t words[4] = {bits.x, bits.y, bits.z, bits.w};
                float part = 0.0f;
                for (int half = 0; half < 2; half++) {
                    load_floats<16>(x + g * 32 + half * 16, xv);
                    for (int k = 0; k < 16; k++) {  // code 16 half + k: byte (16 half + k) / 2, low nibble first
                        const uint32_t byte = (words[(8 * half + k / 2) / 4] >> (8 * ((8 * half + k / 2) % 4))) & 0xFF;
                        part += ref::d4::fp4_e2m1_to_float(uint8_t(k % 2 == 0 ? (byte & 0xF) : (byte >> 4))) * xv[k];
                    }
                }
                s += part * ref::d4::e8m0_to_float(sc[g]);
            }
            done = cols / 32 * 32;
        }
        for (int64_t c = done + lane; c < cols; c += 32) {
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
