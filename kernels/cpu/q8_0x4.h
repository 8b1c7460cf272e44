// The q8_0x4 activation format of the AVX-512 VNNI kernels: the same int8 values and scales as
// Q8_0 (quantize_row_q8_0, bit for bit), laid out so that four consecutive 32-element blocks fill
// the four 128-bit lanes of a 512-bit register and no shuffles are needed per block on the
// activation side. One group of 4 blocks (128 elements) is 256 bytes:
//
//   int8  lo[4][16]   block j, elements 0..15, in lane j
//   int8  hi[4][16]   block j, elements 16..31, in lane j
//   int32 sum[16]     sum[4j] = sum of block j's 32 values, the other lanes 0 (for unsigned-weight
//                     offsets: a kernel computes sum (w + c) * a and subtracts c * sum)
//   float d[16]       d[4j..4j+3] = block j's scale (the fp16-rounded Q8_0 scale, as f32)
//
// A row of n elements (n a multiple of 32) is ceil(n / 128) groups; blocks past the end of the row
// are zero (values, sums and scales), so kernels may treat every group as full on the activation
// side.
#pragma once

#include <cstddef>
#include <cstdint>

namespace v4::kernels::cpu {

inline constexpr int64_t q8_0x4_group = 128;   // elements per group
inline constexpr size_t  q8_0x4_group_bytes = 256;

inline size_t q8_0x4_row_bytes(int64_t n) {
    return static_cast<size_t>((n + q8_0x4_group - 1) / q8_0x4_group) * q8_0x4_group_bytes;
}

void quantize_row_q8_0x4(const float * x, void * dst, int64_t n);        // the fastest below (quant_dot.cpp)
void quantize_row_q8_0x4_scalar(const float * x, void * dst, int64_t n); // quant_dot_scalar.cpp
void dequantize_row_q8_0x4(const void * src, float * y, int64_t n);      // quant_dot_scalar.cpp
#if defined(__x86_64__) || defined(_M_X64)
void quantize_row_q8_0x4_avx512(const float * x, void * dst, int64_t n); // x86/avx512vnni_quant_dot.cpp
#endif

} // namespace v4::kernels::cpu
