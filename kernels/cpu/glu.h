// Gated activations of the feed-forward block, in place: gate[i] = act(gate[i]) * up[i].
//   silu(g)      = g / (1 + e^-g)                                   (llama, qwen)
//   gelu_tanh(g) = g / 2 * (1 + tanh(sqrt(2/pi) * (g + 0.044715 g^3)))  (gemma)
// AVX-512 when the CPU has it (a polynomial e^x, ~2e-7 relative), else the plain loops with
// std::exp / std::tanh, which are also what the SIMD versions are tested against.
#pragma once

#include <cstddef>

namespace v4::kernels::cpu {

void glu_silu(float * gate, const float * up, size_t n);
void glu_gelu_tanh(float * gate, const float * up, size_t n);
void glu_silu_scalar(float * gate, const float * up, size_t n);
void glu_gelu_tanh_scalar(float * gate, const float * up, size_t n);
#if defined(__x86_64__) || defined(_M_X64)
void glu_silu_avx512(float * gate, const float * up, size_t n);      // x86/avx512_glu.cpp
void glu_gelu_tanh_avx512(float * gate, const float * up, size_t n); // x86/avx512_glu.cpp
#endif

} // namespace v4::kernels::cpu
