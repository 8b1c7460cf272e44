// Scalar reference conversions: the ground truth that every SIMD and CUDA kernel is tested
// against. Written to be obviously correct, not fast. Formulas and operation order follow ggml's
// dequantize_row_* and quantize_row_*_ref (ggml-quants.c), so results match ggml bit for bit.
#pragma once

#include <cstdint>

#include "reference/quant_blocks.h"

namespace v4::kernels::ref {

// Exact IEEE conversions (integer code, independent of the FPU mode).
//  - fp16 -> fp32 is exact for every input, subnormals included; NaN payloads are kept.
//  - fp32 -> fp16 rounds to nearest even; overflow gives +-inf; every NaN becomes sign|0x7e00 (as ggml).
//  - bf16 -> fp32 is a shift.
//  - fp32 -> bf16 rounds to nearest even; NaNs keep their top bits and are made quiet (as ggml).
float    fp16_to_fp32(uint16_t h);
uint16_t fp32_to_fp16(float f);
float    bf16_to_fp32(uint16_t h);
uint16_t fp32_to_bf16(float f);
// The MXFP4 block scale: 2^(e - 128), i.e. half of the E8M0 value 2^(e - 127) (ggml_e8m0_to_fp32_half).
float    e8m0_to_fp32_half(uint8_t e);

// Dequantizes `n` elements (a multiple of the type's block size) from `src` into `dst`.
// Types: f32, f16, bf16, q4_0, q4_1, q5_0, q5_1, q8_0, mxfp4, q3_K, q4_K, q5_K, q6_K, q8_K
// (q4_1/q5_0/q5_1 live in dequantize_legacy.cpp). Returns false (and
// writes nothing) for any other type or when n is not a multiple of the block size.
bool dequantize_row(qtype type, const void * src, float * dst, int64_t n);

// Activation quantizers, exactly as ggml's quantize_row_q8_0_ref and quantize_row_q8_K_ref.
// n must be a multiple of 32 (q8_0) or 256 (q8_K).
void quantize_row_q8_0(const float * src, block_q8_0 * dst, int64_t n);
void quantize_row_q8_k(const float * src, block_q8_k * dst, int64_t n);

} // namespace v4::kernels::ref
