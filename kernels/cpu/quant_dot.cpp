// Run-time choice of the dot kernels: AVX-512 VNNI for the Q8_0-activation types when present
// (V4_NO_AVX512=1 disables it, see usable_cpu_features; needs VBMI too), else the AVX2 table when the CPU has AVX2, FMA and F16C, with the
// scalar kernels for the types neither has.

#include "cpu/cpu_features.h"
#include "cpu/q8_0x4.h"
#include "cpu/quant_dot.h"
#include "cpu/x16.h"
#include "reference/dequantize.h"

namespace v4::kernels::cpu {

#if defined(__x86_64__) || defined(_M_X64)
const dot_kernel * find_dot_kernel_avx2(uint32_t ggml_type);       // x86/avx2_quant_dot.cpp
const dot_kernel * find_dot_kernel_avx512vnni(uint32_t ggml_type); // x86/avx512vnni_quant_dot.cpp
#endif

namespace {
#if defined(__x86_64__) || defined(_M_X64)
bool has_avx2() {
    static const bool yes = [] {
        const cpu_features & f = usable_cpu_features();
        return f.avx2 && f.fma && f.f16c;
    }();
    return yes;
}
// cpu_features has no AVX512VL bit; every CPU with AVX512-VNNI and AVX512BW also has VL. The
// q8_0x4 kernels gather weight bytes with vpermt2b (VBMI).
bool has_vnni() {
    static const bool yes = [] {
        const cpu_features & f = usable_cpu_features();
        return has_avx2() && f.avx512f && f.avx512bw && f.avx512vnni && f.avx512vbmi;
    }();
    return yes;
}
#endif
} // namespace

void quantize_row_q8_0x4(const float * x, void * dst, int64_t n) {
#if defined(__x86_64__) || defined(_M_X64)
    if (has_vnni()) {
        quantize_row_q8_0x4_avx512(x, dst, n);
        return;
    }
#endif
    quantize_row_q8_0x4_scalar(x, dst, n);
}

void quantize_row_q8_k(const float * x, void * dst, int64_t n) {
#if defined(__x86_64__) || defined(_M_X64)
    if (has_vnni()) {
        quantize_row_q8_k_avx512(x, dst, n);
        return;
    }
#endif
    ref::quantize_row_q8_k(x, static_cast<block_q8_k *>(dst), n);
}

void quantize_row_q8_0x16(const float * x, void * dst, int64_t n) {
#if defined(__x86_64__) || defined(_M_X64)
    if (has_vnni()) {
        quantize_row_q8_0x16_avx512(x, dst, n);
        return;
    }
#endif
    quantize_row_q8_0x16_scalar(x, dst, n);
}

const dot_kernel * find_dot_kernel_x16(uint32_t ggml_type) {
#if defined(__x86_64__) || defined(_M_X64)
    if (has_vnni()) {
        return find_dot_kernel_x16_avx512(ggml_type);
    }
#endif
    (void)ggml_type;
    return nullptr;
}

const dot_kernel * find_dot_kernel(uint32_t ggml_type) {
#if defined(__x86_64__) || defined(_M_X64)
    const bool has_vnni = cpu::has_vnni(), has_avx2 = cpu::has_avx2();
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
