// Run-time choice of the dot kernels: the AVX2 table when the CPU has AVX2, FMA and F16C, with
// the scalar kernels for the types it lacks.
#include "cpu/cpu_features.h"
#include "cpu/quant_dot.h"

namespace v4::kernels::cpu {

#if defined(__x86_64__) || defined(_M_X64)
const dot_kernel * find_dot_kernel_avx2(uint32_t ggml_type); // x86/avx2_quant_dot.cpp
#endif

const dot_kernel * find_dot_kernel(uint32_t ggml_type) {
#if defined(__x86_64__) || defined(_M_X64)
    static const bool has_avx2 = [] {
        const cpu_features & f = detect_cpu_features();
        return f.avx2 && f.fma && f.f16c;
    }();
    if (has_avx2) {
        if (const dot_kernel * k = find_dot_kernel_avx2(ggml_type)) {
            return k;
        }
    }
#endif
    return find_dot_kernel_scalar(ggml_type);
}

} // namespace v4::kernels::cpu
