#include "cpu/cpu_features.h"

#include <cstdlib>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

namespace v4::kernels {

namespace {
cpu_features probe() {
    cpu_features f;
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    f.avx2       = __builtin_cpu_supports("avx2");
    f.fma        = __builtin_cpu_supports("fma");
    f.avx512f    = __builtin_cpu_supports("avx512f");
    f.avx512bw   = __builtin_cpu_supports("avx512bw");
    f.avx512vnni = __builtin_cpu_supports("avx512vnni");
    f.avx512vbmi = __builtin_cpu_supports("avx512vbmi");
    f.avx512bitalg = __builtin_cpu_supports("avx512bitalg");
    f.gfni       = __builtin_cpu_supports("gfni");
    unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
    if (__get_cpuid(1, &eax, &ebx, &ecx, &edx)) {
        f.f16c = (ecx & bit_F16C) != 0;
    }
    if (__get_cpuid_count(7, 1, &eax, &ebx, &ecx, &edx)) {
        f.avx_vnni = (eax & (1u << 4)) != 0;
    }
#endif
    return f;
}
} // namespace

const cpu_features & detect_cpu_features() {
    static const cpu_features features = probe();
    return features;
}

const cpu_features & usable_cpu_features() {
    static const cpu_features features = [] {
        cpu_features f = detect_cpu_features();
        if (std::getenv("V4_NO_AVX512") != nullptr) {
            f.avx512f = f.avx512bw = f.avx512vnni = f.avx512vbmi = f.avx512bitalg = false;
        }
        return f;
    }();
    return features;
}

std::string describe_cpu_features(const cpu_features & f) {
    std::string s;
    auto add = [&](bool on, const char * name) {
        if (on) {
            s += s.empty() ? "" : " ";
            s += name;
        }
    };
    add(f.avx2, "AVX2");
    add(f.fma, "FMA");
    add(f.f16c, "F16C");
    add(f.avx512f, "AVX512F");
    add(f.avx512bw, "AVX512BW");
    add(f.avx512vnni, "AVX512-VNNI");
    add(f.avx512vbmi, "AVX512-VBMI");
    add(f.avx512bitalg, "AVX512-BITALG");
    add(f.gfni, "GFNI");
    add(f.avx_vnni, "AVX-VNNI");
    return s.empty() ? std::string("scalar") : s;
}

} // namespace v4::kernels
