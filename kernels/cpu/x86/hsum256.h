// Horizontal sum of the eight floats of a 256-bit register, for the x86 kernel files. Internal
// linkage on purpose: each kernel file is compiled with its own ISA flags (AVX2, AVX-512), so each
// gets its own copy instead of one inline definition the linker could pick from either.
#pragma once

#include <immintrin.h>

namespace v4::kernels::cpu {
namespace {

inline float hsum256(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

} // namespace
} // namespace v4::kernels::cpu
