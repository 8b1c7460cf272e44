// How a warp copies a byte range of global memory into shared memory with 16-byte loads although
// the range (a stretch of GGUF blocks) starts and ends anywhere: the aligned middle moves in 16-byte
// pieces, the head before it and the tail after it (< 16 bytes each) byte by byte, and the stage
// keeps every byte at its global address modulo 16 so the 16-byte stores are aligned too. The split
// is __host__ __device__ so a unit test checks it covers [begin, end) exactly (test_cuda_dequant_host).
#pragma once

#include <cstdint>

#include <cuda_runtime.h>

namespace v4::kernels::cuda {

struct stage_split {
    uintptr_t base;     // begin rounded down to 16: stage byte 0
    uintptr_t head_end; // [begin, head_end): bytes before the first aligned piece
    uintptr_t mid_lo;   // [mid_lo, mid_hi): whole aligned 16-byte pieces (empty when mid_hi <= mid_lo)
    uintptr_t mid_hi;
    uintptr_t tail_lo;  // [tail_lo, end): bytes after the last aligned piece (empty when no middle)
};

__host__ __device__ constexpr stage_split split_for_stage(uintptr_t b, uintptr_t e) {
    const uintptr_t mid_lo = (b + 15) & ~uintptr_t{15}, mid_hi = e & ~uintptr_t{15};
    const bool      has_mid = mid_hi >= mid_lo; // else the range lies inside one 16-byte piece
    return {b & ~uintptr_t{15}, mid_lo < e ? mid_lo : e, mid_lo, has_mid ? mid_hi : mid_lo, has_mid ? mid_hi : e};
}

} // namespace v4::kernels::cuda
