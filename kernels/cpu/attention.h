// Attention over an f16 or f32 KV cache, flash-attention style: a block of query positions (and the
// `group` query heads that share one KV head, grouped-query attention) meets the keys one tile at
// a time. Each K/V tile is converted to f32 once and reused by every query row of the block, and
// the softmax is computed online (running max m, running sum l, unnormalized output o), so K/V is
// streamed once per query block instead of once per query, and no score row of n_keys is kept.
//
//   out[r] = sum_j softmax_j(scale * q[r] . k_j) * v_j    over the keys row r may see
//
// Query t of a block is at position pos0 + t and sees key j (at position j) when j <= pos0 + t
// and, with a sliding window, pos0 + t - j < window.
//
// find_attend_block_kernel() picks AVX-512 (head_dim a multiple of 16, up to 256), AVX2+FMA+F16C
// (head_dim a multiple of 8) or the scalar twin. The AVX-512 kernel reads f16 K/V in registers
// for blocks of few rows (decode: the group's query heads scored against each key together) and
// hands blocks of many rows (prefill) to the AVX2 tile kernel, whose converted tile serves them
// all. tests/kernels/test_attention.cpp checks each against the scalar twin's results and a plain
// three-pass softmax.
#pragma once

#include <cstddef>
#include <cstdint>

namespace v4::kernels::cpu {

using kv_half = uint16_t; // IEEE binary16 bits

// The KV cache element: f16 (half the bytes to stream) or f32 (exact; accurate precision).
enum class kv_format { f32, f16 };

// Keys per tile: a tile of K and V in f32 (2 * 32 * head_dim floats, 64 KiB at head_dim 256) stays
// in L2 while every row of the block uses it.
constexpr int k_attend_tile = 32;

struct attend_block {
    const float *   q = nullptr; // row (t, g) at q + t * q_stride + g * head_dim
    size_t          q_stride = 0;
    int             n_q = 0;      // query positions in the block
    int             group = 1;    // query heads per KV head
    int             head_dim = 0;
    int             pos0 = 0;     // position of query 0
    int             window = 0;   // > 0: sliding window (see above); 0: causal only
    float           scale = 1.0f; // applied to q . k
    const void *    k = nullptr;  // key j at element j * kv_stride of k
    const void *    v = nullptr;
    size_t          kv_stride = 0; // elements
    kv_format       format = kv_format::f16;
};

// Online-softmax state of a block's n_q * group rows, row r = t * group + g: m[r] the largest score
// so far (-inf before any key), l[r] the sum of exp(score - m[r]), o[r * head_dim ..] the sum of
// exp(score - m[r]) * v.
struct attend_state {
    float * m = nullptr;
    float * l = nullptr;
    float * o = nullptr;
};

// Folds keys [key_begin, key_end) into st; each row skips the keys it may not see.
// scratch: attend_scratch_floats(head_dim) floats.
using attend_block_fn = void (*)(const attend_block & b, int key_begin, int key_end, const attend_state & st,
                                 float * scratch);

attend_block_fn find_attend_block_kernel(int head_dim);
attend_block_fn find_attend_block_kernel_scalar();
// The few-rows (decode) kernel alone, for any block (tests, benchmarks); nullptr where the CPU or
// head_dim has none.
attend_block_fn find_attend_decode_kernel(int head_dim);
size_t          attend_scratch_floats(int head_dim);

// Plain helpers around the state (O(rows * head_dim), not worth SIMD).
void attend_state_init(const attend_state & st, int rows, int head_dim);
// Folds `from` into `into` (the two saw disjoint key ranges of the same rows).
void attend_state_merge(const attend_state & into, const attend_state & from, int rows, int head_dim);
// Row r = (t, g) of the result, o / l, to out + t * out_stride + g * head_dim; a row that saw no
// key gives zeros.
void attend_state_finish(const attend_state & st, int n_q, int group, int head_dim, float * out, size_t out_stride);

// f32 -> f16 (round to nearest even) for the KV cache store; F16C when the CPU has it.
void kv_from_f32(const float * x, kv_half * y, size_t n);

} // namespace v4::kernels::cpu
