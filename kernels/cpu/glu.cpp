// The gated activations' plain loops and the run-time choice (cpu/glu.h).
#include "cpu/glu.h"

#include <cmath>

#include "cpu/cpu_features.h"

namespace v4::kernels::cpu {

namespace {
constexpr float k_sqrt_2_over_pi = 0.7978845608028654f;

bool has_avx512() {
#if defined(__x86_64__) || defined(_M_X64)
    static const bool yes = usable_cpu_features().avx512f;
    return yes;
#else
    return false;
#endif
}
} // namespace

void glu_silu_scalar(float * gate, const float * up, size_t n) {
    for (size_t i = 0; i < n; ++i) {
        const float g = gate[i];
        gate[i] = g / (1.0f + std::exp(-g)) * up[i];
    }
}

void glu_gelu_tanh_scalar(float * gate, const float * up, size_t n) {
    for (size_t i = 0; i < n; ++i) {
        const float g = gate[i];
        gate[i] = 0.5f * g * (1.0f + std::tanh(k_sqrt_2_over_pi * g * (1.0f + 0.044715f * g * g))) * up[i];
    }
}

void glu_silu(float * gate, const float * up, size_t n) {
#if defined(__x86_64__) || defined(_M_X64)
    if (has_avx512()) {
        glu_silu_avx512(gate, up, n);
        return;
    }
#endif
    glu_silu_scalar(gate, up, n);
}

void glu_gelu_tanh(float * gate, const float * up, size_t n) {
#if defined(__x86_64__) || defined(_M_X64)
    if (has_avx512()) {
        glu_gelu_tanh_avx512(gate, up, n);
        return;
    }
#endif
    glu_gelu_tanh_scalar(gate, up, n);
}

} // namespace v4::kernels::cpu
