// What the DeepSeek-V4 CPU kernels share for their AVX-512 paths: the feature check (the code is
// built for the baseline ISA; AVX-512 functions carry a target attribute and run only where the CPU
// has it) and a 16 x 16 in-register transpose.
#pragma once

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define D4_HAVE_AVX512_PATH 1
// GCC 12's AVX-512 headers build _mm512_undefined_ps from a self-initialised variable, which
// -Wmaybe-uninitialized reports at every inlined use (GCC bug 105593).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

namespace v4::deepseek4 {

inline bool cpu_has_avx512() {
    static const bool has = __builtin_cpu_supports("avx512f");
    return has;
}

// r[i] becomes column i of the 16 x 16 block whose rows were r[0..15].
__attribute__((target("avx512f"), always_inline)) inline void transpose16(__m512 * r) {
    __m512 t[16];
    for (int k = 0; k < 16; k += 2) {
        t[k] = _mm512_unpacklo_ps(r[k], r[k + 1]);
        t[k + 1] = _mm512_unpackhi_ps(r[k], r[k + 1]);
    }
    for (int k = 0; k < 16; k += 4) {
        r[k] = _mm512_shuffle_ps(t[k], t[k + 2], 0x44);
        r[k + 1] = _mm512_shuffle_ps(t[k], t[k + 2], 0xEE);
        r[k + 2] = _mm512_shuffle_ps(t[k + 1], t[k + 3], 0x44);
        r[k + 3] = _mm512_shuffle_ps(t[k + 1], t[k + 3], 0xEE);
    }
    for (int k = 0; k < 16; k += 8) {
        for (int j = 0; j < 4; j++) {
            t[k + j] = _mm512_shuffle_f32x4(r[k + j], r[k + 4 + j], 0x88);
            t[k + 4 + j] = _mm512_shuffle_f32x4(r[k + j], r[k + 4 + j], 0xdd);
        }
    }
    for (int j = 0; j < 8; j++) {
        r[j] = _mm512_shuffle_f32x4(t[j], t[8 + j], 0x88);
        r[8 + j] = _mm512_shuffle_f32x4(t[j], t[8 + j], 0xdd);
    }
}

// Lanes [0, n) of a 16-lane mask.
inline __mmask16 first_lanes(int n) { return n >= 16 ? __mmask16(0xffff) : __mmask16((1u << n) - 1); }

} // namespace v4::deepseek4

#endif
