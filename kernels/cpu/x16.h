// The x16 layout: Q4_0, Q5_0 and Q8_0 weight rows rearranged at load for the AVX-512 VNNI kernels, and
// the q8_0x16 activations they pair with.
//
// Why: the kernels on the GGUF layout spend most of their instructions gathering each block's
// quants and fp16 scale into the lanes the activations sit in (vpermt2b, vpermt2w, vcvtph2ps per
// four blocks), and Zen 4 runs this mix at ~1 zmm op per cycle, so Q4_0 decode was bound by
// instruction count (~17 cycles per four blocks, against ~15 for DRAM to deliver their bytes).
// In the x16 layout, 16 consecutive blocks of a row lie "column-interleaved": 32-bit lane L of
// every register is block L, so eight vpdpbusd accumulate each block's integer dot product whole
// in its own lane, and the scales are applied once per 16 blocks (one vcvtph2ps, one multiply, one
// convert, one fma) instead of once per 4. No shuffle is left in the loop.
//
// A row of n elements (n a multiple of 32, nb = n / 32 blocks) is ceil(nb / 16) super-blocks of
// k = 16 blocks each, the last one k = nb mod 16 when that is not 0. A super-block of k blocks:
//
//   Q4_0 (18k bytes):  quants[4][k] uint32   quants[r][L] = qs bytes 4r..4r+3 of block L (byte i
//                                            holds element i in its low nibble, i + 16 in its high)
//                      d[k]           fp16
//   Q5_0 (22k bytes):  quants[4][k] uint32   as Q4_0
//                      qh[k]          uint32 block L's fifth bits (bit j: element j)
//                      d[k]           fp16
//   Q8_0 (34k bytes):  quants[8][k] uint32   quants[r][L] = qs bytes 4r..4r+3 of block L, each
//                                            xor 0x80 (w + 128, unsigned for vpdpbusd)
//                      d[k]           fp16
//
// so a row keeps its GGUF size and rows are repacked in place. The layout is a property of the
// loaded weight (weight::x16 in the engine), never of a file.
//
// q8_0x16 activations: the int8 values and scales of quantize_row_q8_0 (bit for bit), per
// super-block of 16 blocks (640 bytes, blocks past the end of the row zero):
//
//   int8  q[8][16][4]   q[r][L] = elements 4r..4r+3 of block L
//   int32 sum[16]       sum of block L's 32 values (the kernels' offset term: a Q4_0 nibble is
//                       w + 8, a Q5_0 quant w + 16, a flipped Q8_0 byte w + 128)
//   float d[16]         block L's scale (the fp16-rounded Q8_0 scale, as f32)
#pragma once

#include <cstddef>
#include <cstdint>

#include "cpu/quant_dot.h"

namespace v4::kernels::cpu {

inline constexpr int     x16_blocks = 16;
inline constexpr int64_t x16_elements = 32 * x16_blocks;
inline constexpr size_t  q8_0x16_super_bytes = 640;

// Does `ggml_type` have an x16 layout (Q4_0, Q5_0, Q8_0)? Whether this CPU has kernels for it is
// find_dot_kernel_x16's answer.
bool   x16_type(uint32_t ggml_type);
// The kernels for x16 rows of `ggml_type` (activations q8_0x16), or nullptr when the type has no
// x16 layout or the CPU lacks AVX-512 VNNI (the loader then keeps the GGUF layout).
const dot_kernel * find_dot_kernel_x16(uint32_t ggml_type);

// One row of n elements, GGUF blocks -> x16 and back (src and dst must not overlap); the two are
// exact inverses. The x16 type's row bytes equal the GGUF row bytes.
void   repack_row_x16(uint32_t ggml_type, const void * src, void * dst, int64_t n);
void   unpack_row_x16(uint32_t ggml_type, const void * src, void * dst, int64_t n);
// n_rows consecutive rows of n elements, x16 -> GGUF blocks (a whole matrix, for code that reads
// GGUF blocks: the exact debug kernels, the CUDA upload).
void   unpack_rows_x16(uint32_t ggml_type, const void * src, void * dst, int64_t n, int64_t n_rows);

size_t q8_0x16_row_bytes(int64_t n);
void   quantize_row_q8_0x16(const float * x, void * dst, int64_t n);        // the fastest available
void   quantize_row_q8_0x16_scalar(const float * x, void * dst, int64_t n);
void   dequantize_row_q8_0x16(const void * src, float * y, int64_t n);
#if defined(__x86_64__) || defined(_M_X64)
void               quantize_row_q8_0x16_avx512(const float * x, void * dst, int64_t n); // x86/avx512_x16.cpp
const dot_kernel * find_dot_kernel_x16_avx512(uint32_t ggml_type);                      // x86/avx512_x16.cpp
#endif

} // namespace v4::kernels::cpu
