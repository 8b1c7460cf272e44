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
    bool avx_vnni   = false;
};

const cpu_features & detect_cpu_features();
std::string          describe_cpu_features(const cpu_features & features);

} // namespace v4::kernels
