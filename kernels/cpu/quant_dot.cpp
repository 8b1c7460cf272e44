// Run-time choice of the dot kernels: AVX-512 VNNI for the Q8_0-activation types when present
// (V4_NO_AVX512=1 disables it), else the AVX2 table when the CPU has AVX2, FMA and F16C, with the
// scalar kernels for the types neither has.
#include <cstdlib>

#include "cpu/cpu_features.h"
#include "cpu/quant_dot.h"

namespace v4::kernels::cpu {

#if defined(__x86_64__) || defined(_M_X64)
const dot_kernel * find_dot_kernel_avx2(uint32_t ggml_type);       // x86/avx2_quant_dot.cpp
const dot_kernel * find_dot_kernel_avx512vnni(uint32_t ggml_type); // x86/avx512vnni_quant_dot.cpp
#endif

const dot_kernel * find_dot_kernel(uint32_t ggml_type) {
#if defined(__x86_64__) || defined(_M_X64)
    static const bool has_avx2 = [] {
        const cpu_features & f = detect_cpu_features();
        return f.avx2 && f.fma && f.f16c;
    }();
    // cpu_features has no AVX512VL bit; every CPU with AVX512-VNNI and AVX512BW also has VL.
    static const bool has_vnni = [] {
        const cpu_features & f = detect_cpu_features();
        return f.avx2 && f.fma && f.f16c && f.avx512f && f.avx512bw && f.avx512vnni && !std::getenv("V4_NO_AVX512");
    }();
    if (has_vnni) {
        if (const dot_kernel * k = find_dot_kernel_avx512vnni(ggml_type)) {
            return k;
        }
    }
    if (has_avx2) {
        if (const dot_kernel * k = find_dot_kernel_avx2(ggml_type)) {
            return k;
        }
    }
#endif
    return find_dot_kernel_scalar(ggml_type);
}

} // namespace v4::kernels::cpu
