// AVX-512 gated activations (cpu/glu.h): 16 elements per step, the tail through a mask.
#include <immintrin.h>

#include "cpu/glu.h"
#include "cpu/x86/avx512_common.h"

namespace v4::kernels::cpu {

namespace {

inline __m512 silu(__m512 g) {
    return _mm512_div_ps(g, _mm512_add_ps(_mm512_set1_ps(1.0f), exp512(_mm512_sub_ps(_mm512_setzero_ps(), g))));
}

// tanh(u) = 1 - 2 / (1 + e^2u): +-1 at the ends without special cases (e^2u = inf or 0).
inline __m512 gelu_tanh(__m512 g) {
    const __m512 u = _mm512_mul_ps(_mm512_mul_ps(_mm512_set1_ps(0.7978845608028654f), g),
                                   _mm512_fmadd_ps(_mm512_mul_ps(_mm512_set1_ps(0.044715f), g), g, _mm512_set1_ps(1.0f)));
    const __m512 e = exp512(_mm512_add_ps(u, u));
    const __m512 t = _mm512_sub_ps(_mm512_set1_ps(1.0f), _mm512_div_ps(_mm512_set1_ps(2.0f), _mm512_add_ps(e, _mm512_set1_ps(1.0f))));
    return _mm512_mul_ps(_mm512_mul_ps(_mm512_set1_ps(0.5f), g), _mm512_add_ps(_mm512_set1_ps(1.0f), t));
}

template <__m512 (*Act)(__m512)>
void glu(float * gate, const float * up, size_t n) {
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        _mm512_storeu_ps(gate + i, _mm512_mul_ps(Act(_mm512_loadu_ps(gate + i)), _mm512_loadu_ps(up + i)));
    }
    if (i < n) {
        const __mmask16 m = static_cast<__mmask16>((1u << (n - i)) - 1);
        _mm512_mask_storeu_ps(gate + i, m, _mm512_mul_ps(Act(_mm512_maskz_loadu_ps(m, gate + i)), _mm512_maskz_loadu_ps(m, up + i)));
    }
}

} // namespace

void glu_silu_avx512(float * gate, const float * up, size_t n) { glu<silu>(gate, up, n); }
void glu_gelu_tanh_avx512(float * gate, const float * up, size_t n) { glu<gelu_tanh>(gate, up, n); }

} // namespace v4::kernels::cpu
