// What the CPU we run on can do, read once with CPUID; kernels dispatch on it.
#pragma once

#include <string>

namespace v4::kernels {

struct cpu_features {
    bool avx2       = false;
    bool fma        = false;
    bool f16c       = false;
    bool avx512f    = false;
    bool avx512bw   = false;
    bool avx512vnni = false;
    bool avx512vbmi = false;
    bool avx512bitalg = false;
    bool gfni       = false;
    bool avx_vnni   = false;
};

// What CPUID says.
const cpu_features & detect_cpu_features();
// What the kernels may use: detect_cpu_features() with the AVX-512 bits cleared when the
// environment sets V4_NO_AVX512 (so the AVX2 kernels run, and are tested, on an AVX-512 machine).
const cpu_features & usable_cpu_features();
std::string          describe_cpu_features(const cpu_features & features);

} // namespace v4::kernels
