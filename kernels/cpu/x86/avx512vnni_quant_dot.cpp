// AVX-512 VNNI (256-bit, VL) variants of the Q8_0-activation dot kernels: vpdpbusd replaces the
// maddubs + madd pair of the AVX2 kernels. Integer sums are exact either way, and the float order
// is the same as the AVX2 kernels', so results are identical. Chosen at run time.
#include <immintrin.h>

#include <cstring>

#include "cpu/quant_dot.h"
#include "reference/dequantize_legacy.h"
#include "reference/quant_blocks.h"

namespace v4::kernels::cpu {

namespace {

inline float hsum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

inline __m256i nibbles_32(const uint8_t * p) {
    const __m128i tmp = _mm_loadu_si128(reinterpret_cast<const __m128i *>(p));
    return _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(tmp, 4), tmp), _mm256_set1_epi8(0x0f));
}

struct unpack_q8_0 {
    using block = block_q8_0;
    static __m256i q(const block & b) { return _mm256_loadu_si256(reinterpret_cast<const __m256i *>(b.qs)); }
};
struct unpack_q4_0 {
    using block = block_q4_0;
    static __m256i q(const block & b) { return _mm256_sub_epi8(nibbles_32(b.qs), _mm256_set1_epi8(8)); }
};
struct unpack_q5_0 {
    using block = block_q5_0;
    static __m256i q(const block & b) {
        uint32_t qh;
        std::memcpy(&qh, b.qh, 4);
        // bit set -> byte 0x00 kept as is; bit clear -> or 0xf0 (nibble - 16)
        const __mmask32 set = static_cast<__mmask32>(qh);
        return _mm256_mask_blend_epi8(set, _mm256_or_si256(nibbles_32(b.qs), _mm256_set1_epi8(static_cast<char>(0xf0))),
                                      nibbles_32(b.qs));
    }
};

template <class U>
void dot4(int64_t n, const void * w, const void * a, size_t a_stride, int n_act, float * out) {
    const auto * x = static_cast<const typename U::block *>(w);
    __m256       acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
    for (int64_t b = 0; b < n / 32; ++b) {
        const float   dx = _cvtsh_ss(x[b].d);
        const __m256i qx = U::q(x[b]);
        const __m256i ax = _mm256_abs_epi8(qx);
        for (int r = 0; r < n_act; ++r) {
            const auto *  y = reinterpret_cast<const block_q8_0 *>(static_cast<const uint8_t *>(a) + r * a_stride) + b;
            const __m256i qy = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(y->qs));
            const __m256i p = _mm256_dpbusd_epi32(_mm256_setzero_si256(), ax, _mm256_sign_epi8(qy, qx));
            acc[r] = _mm256_fmadd_ps(_mm256_set1_ps(dx * _cvtsh_ss(y->d)), _mm256_cvtepi32_ps(p), acc[r]);
        }
    }
    for (int r = 0; r < n_act; ++r) {
        out[r] = hsum(acc[r]);
    }
}

template <class U>
float dot1(int64_t n, const void * w, const void * a) {
    float out;
    dot4<U>(n, w, a, 0, 1, &out);
    return out;
}

struct entry {
    uint32_t   type;
    dot_kernel kernel;
};

constexpr entry k_vnni[] = {
    {2, {act_format::q8_0, dot1<unpack_q4_0>, "avx512vnni", dot4<unpack_q4_0>}},
    {qtype_q5_0, {act_format::q8_0, dot1<unpack_q5_0>, "avx512vnni", dot4<unpack_q5_0>}},
    {8, {act_format::q8_0, dot1<unpack_q8_0>, "avx512vnni", dot4<unpack_q8_0>}},
};

} // namespace

const dot_kernel * find_dot_kernel_avx512vnni(uint32_t ggml_type) {
    for (const entry & e : k_vnni) {
        if (e.type == ggml_type) {
            return &e.kernel;
        }
    }
    return nullptr;
}

} // namespace v4::kernels::cpu
