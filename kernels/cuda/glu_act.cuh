// The gated activations of the FFN, shared by the element-wise GLU kernel and the gate+up GEMV's
// epilogue so the two paths cannot drift apart: SiLU (llama, qwen) and the tanh GELU (gemma3),
// the formulas of the CPU backend.
#pragma once

namespace v4::kernels::cuda {

// act: 0 = silu, 1 = gelu (tanh approximation).
__device__ __forceinline__ float glu_activation(float g, int act) {
    if (act == 0) return g / (1.0f + expf(-g));
    constexpr float k_sqrt_2_over_pi = 0.7978845608028654f;
    return 0.5f * g * (1.0f + tanhf(k_sqrt_2_over_pi * g * (1.0f + 0.044715f * g * g)));
}

} // namespace v4::kernels::cuda
