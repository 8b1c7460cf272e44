// Dot products of one weight row (in its GGUF block format) with one activation row, the inner
// loop of every CPU matmul. Activations are quantized once per matmul to the format the weight
// type pairs with (as ggml's vec_dot_type): Q8_0 for Q4_0/Q4_1/Q5_0/Q5_1/Q8_0/MXFP4, Q8_K for the
// K-quants, f32 (no quantization) for F32/F16/BF16. The AVX-512 VNNI kernels of Q4_0 and Q8_0 take
// q8_0x4: Q8_0's values in a lane-friendly layout (cpu/q8_0x4.h).
//
// find_dot_kernel() picks the fastest variant the CPU supports (AVX2+FMA+F16C, else scalar);
// find_dot_kernel_scalar() returns the scalar twin, which dequantizes both sides with
// kernels/reference and multiplies in float: the fallback and the test reference.
#pragma once

#include <cstddef>
#include <cstdint>

namespace v4::kernels::cpu {

enum class act_format { f32, q8_0, q8_k, q8_0x4, q8_0x16 }; // q8_0x16: cpu/x16.h

// Returns sum_i w[i] * a[i] over n elements (n a multiple of the weight's block size).
using vec_dot_fn = float (*)(int64_t n, const void * w, const void * a);

// Up to 4 activation rows at once (a + r * a_stride, r < n_act) against one weight row: the
// weight block is unpacked once and reused, which matters for prefill. Same summation order as
// vec_dot_fn, so a row gives the same result either way.
using vec_dot4_fn = void (*)(int64_t n, const void * w, const void * a, size_t a_stride, int n_act, float * out);

// A register tile for prefill: n_w (<= 4) weight rows (w + i * w_stride) times n_act (<= 4)
// activation rows; y[r * y_stride + i] = row i . activation r. Same summation order as vec_dot_fn
// within a kernel is not promised (the f32/f16 tiles split the sum over more accumulators).
using gemm_tile_fn = void (*)(int64_t n, const void * w, size_t w_stride, int n_w, const void * a, size_t a_stride,
                              int n_act, float * y, size_t y_stride);

// Decode's matrix-vector product: n_w (<= 4) consecutive weight rows (w + i * w_stride) against
// one activation row; y[i] = row i . a, bit for bit what vec_dot_fn gives. The rows share the
// activation loads, the call and one transposed horizontal sum.
using gemv_fn = void (*)(int64_t n, const void * w, size_t w_stride, int n_w, const void * a, float * y);

struct dot_kernel {
    act_format   act;
    vec_dot_fn   dot;
    const char * isa;                // "avx512vnni", "avx2", "scalar"
    vec_dot4_fn  dot4 = nullptr;     // optional
    gemm_tile_fn tile = nullptr;     // optional; used for prefill when present
    gemv_fn      gemv = nullptr;     // optional; used for decode when present
};

// Keyed by ggml type number; nullptr when the type has no kernel.
const dot_kernel * find_dot_kernel(uint32_t ggml_type);
const dot_kernel * find_dot_kernel_scalar(uint32_t ggml_type);
// Dequantized weights times f32 activations (no activation quantization): slow; for measuring
// how much of a difference to a float reference comes from the int8 activations.
const dot_kernel * find_dot_kernel_exact(uint32_t ggml_type);

// One 32-element block as quantize_row_q8_0 makes it, with what the lane layouts (q8_0x4.h, x16.h)
// keep beside it: the sum of its values and its fp16-rounded scale as f32. The scalar step of
// both layouts' quantizers (quant_dot_scalar.cpp).
struct q8_0_block_sum {
    int8_t  qs[32];
    int32_t sum;
    float   d;
};
q8_0_block_sum quantize_block_q8_0_sum(const float * x);

// Q8_K activations, bit for bit ref::quantize_row_q8_k (dst: n / 256 block_q8_k): AVX-512 when
// the CPU has it (quant_dot.cpp). Decode quantizes every K-quant matmul's input on one thread.
void quantize_row_q8_k(const float * x, void * dst, int64_t n);
#if defined(__x86_64__) || defined(_M_X64)
void quantize_row_q8_k_avx512(const float * x, void * dst, int64_t n); // x86/avx512vnni_quant_dot.cpp
#endif

// Bytes of one activation row of n elements in `format`.
size_t act_row_bytes(act_format format, int64_t n);
// Converts one f32 row into `format` (a plain copy for f32).
void   quantize_act_row(act_format format, const float * x, void * dst, int64_t n);
// The inverse of quantize_act_row (exact for f32).
void   dequantize_act_row(act_format format, const void * src, float * y, int64_t n);

} // namespace v4::kernels::cpu
