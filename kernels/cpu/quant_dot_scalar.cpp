// Scalar dot kernels: dequantize a chunk of the weight row and of the activation row with the
// reference code and multiply in float. Obviously correct, slow; the fallback on CPUs without AVX2
// and the twin the SIMD kernels are tested against.
#include <cstring>

#include "cpu/q8_0x4.h"
#include "cpu/quant_dot.h"
#include "cpu/x16.h"
#include "reference/dequantize.h"
#include "reference/dequantize_legacy.h"

namespace v4::kernels::cpu {

namespace {

constexpr int64_t k_chunk = 256; // a multiple of every block size

size_t weight_bytes(uint32_t type, int64_t n) {
    switch (type) {
        case qtype_q4_1: return static_cast<size_t>(n / 32) * sizeof(block_q4_1);
        case qtype_q5_0: return static_cast<size_t>(n / 32) * sizeof(block_q5_0);
        case qtype_q5_1: return static_cast<size_t>(n / 32) * sizeof(block_q5_1);
        default: {
            const block_geometry g = geometry(static_cast<qtype>(type));
            return static_cast<size_t>(n / g.block_size) * g.block_bytes;
        }
    }
}

template <uint32_t WType, act_format Act>
float dot_generic(int64_t n, const void * w, const void * a) {
    float  wf[k_chunk];
    float  af[k_chunk];
    double sum = 0.0;
    for (int64_t i = 0; i < n; i += k_chunk) {
        const int64_t len = n - i < k_chunk ? n - i : k_chunk;
        ref::dequantize_row_any(WType, static_cast<const uint8_t *>(w) + weight_bytes(WType, i), wf, len);
        const float * ap = af;
        if constexpr (Act == act_format::f32) {
            ap = static_cast<const float *>(a) + i;
        } else if constexpr (Act == act_format::q8_0) {
            ref::dequantize_row(qtype::q8_0, static_cast<const block_q8_0 *>(a) + i / 32, af, len);
        } else {
            ref::dequantize_row(qtype::q8_k, static_cast<const block_q8_k *>(a) + i / 256, af, len);
        }
        float s = 0.0f;
        for (int64_t j = 0; j < len; ++j) {
            s += wf[j] * ap[j];
        }
        sum += s;
    }
    return static_cast<float>(sum);
}

struct entry {
    uint32_t   type;
    dot_kernel kernel;
};

template <uint32_t T, act_format A>
constexpr entry make() { return {T, {A, dot_generic<T, A>, "scalar"}}; }

constexpr entry k_scalar[] = {
    make<0, act_format::f32>(),          // f32
    make<1, act_format::f32>(),          // f16
    make<30, act_format::f32>(),         // bf16
    make<2, act_format::q8_0>(),         // q4_0
    make<qtype_q4_1, act_format::q8_0>(),
    make<qtype_q5_0, act_format::q8_0>(),
    make<qtype_q5_1, act_format::q8_0>(),
    make<8, act_format::q8_0>(),         // q8_0
    make<39, act_format::q8_0>(),        // mxfp4
    make<11, act_format::q8_k>(),        // q3_K
    make<12, act_format::q8_k>(),        // q4_K
    make<13, act_format::q8_k>(),        // q5_K
    make<14, act_format::q8_k>(),        // q6_K
};

template <uint32_t T>
constexpr entry make_f32() { return {T, {act_format::f32, dot_generic<T, act_format::f32>, "scalar-f32"}}; }

// Weights dequantized, activations kept in f32: no activation rounding at all (reference runs).
constexpr entry k_exact[] = {
    make_f32<0>(), make_f32<1>(), make_f32<30>(), make_f32<2>(), make_f32<qtype_q4_1>(), make_f32<qtype_q5_0>(),
    make_f32<qtype_q5_1>(), make_f32<8>(), make_f32<39>(), make_f32<11>(), make_f32<12>(), make_f32<13>(),
    make_f32<14>(),
};

} // namespace

const dot_kernel * find_dot_kernel_exact(uint32_t ggml_type) {
    for (const entry & e : k_exact) {
        if (e.type == ggml_type) {
            return &e.kernel;
        }
    }
    return nullptr;
}

const dot_kernel * find_dot_kernel_scalar(uint32_t ggml_type) {
    for (const entry & e : k_scalar) {
        if (e.type == ggml_type) {
            return &e.kernel;
        }
    }
    return nullptr;
}

size_t act_row_bytes(act_format format, int64_t n) {
    switch (format) {
        case act_format::f32:  return static_cast<size_t>(n) * sizeof(float);
        case act_format::q8_0: return static_cast<size_t>(n / 32) * sizeof(block_q8_0);
        case act_format::q8_k: return static_cast<size_t>(n / 256) * sizeof(block_q8_k);
        case act_format::q8_0x4: return q8_0x4_row_bytes(n);
        case act_format::q8_0x16: return q8_0x16_row_bytes(n);
    }
    return 0;
}

q8_0_block_sum quantize_block_q8_0_sum(const float * x) {
    block_q8_0 q;
    ref::quantize_row_q8_0(x, &q, 32);
    q8_0_block_sum out;
    std::memcpy(out.qs, q.qs, 32);
    out.sum = 0;
    for (const int8_t v : q.qs) {
        out.sum += v;
    }
    out.d = ref::fp16_to_fp32(q.d);
    return out;
}

void quantize_row_q8_0x4_scalar(const float * x, void * dst, int64_t n) {
    auto * g = static_cast<uint8_t *>(dst);
    std::memset(g, 0, q8_0x4_row_bytes(n));
    for (int64_t b = 0; b < n / 32; ++b) {
        const q8_0_block_sum q = quantize_block_q8_0_sum(x + b * 32);
        uint8_t *            grp = g + static_cast<size_t>(b / 4) * q8_0x4_group_bytes;
        const int            j = static_cast<int>(b % 4);
        std::memcpy(grp + 16 * j, q.qs, 16);
        std::memcpy(grp + 64 + 16 * j, q.qs + 16, 16);
        std::memcpy(grp + 128 + 16 * j, &q.sum, 4);
        for (int k = 0; k < 4; ++k) {
            std::memcpy(grp + 192 + 16 * j + 4 * k, &q.d, 4);
        }
    }
}

void dequantize_row_q8_0x4(const void * src, float * y, int64_t n) {
    const auto * g = static_cast<const uint8_t *>(src);
    for (int64_t b = 0; b < n / 32; ++b) {
        const uint8_t * grp = g + static_cast<size_t>(b / 4) * q8_0x4_group_bytes;
        const int       j = static_cast<int>(b % 4);
        float           d;
        std::memcpy(&d, grp + 192 + 16 * j, 4);
        for (int i = 0; i < 32; ++i) {
            const auto q = static_cast<int8_t>(i < 16 ? grp[16 * j + i] : grp[64 + 16 * j + i - 16]);
            y[b * 32 + i] = d * q;
        }
    }
}

void quantize_act_row(act_format format, const float * x, void * dst, int64_t n) {
    switch (format) {
        case act_format::f32:  std::memcpy(dst, x, static_cast<size_t>(n) * sizeof(float)); break;
        case act_format::q8_0: ref::quantize_row_q8_0(x, static_cast<block_q8_0 *>(dst), n); break;
        case act_format::q8_k: quantize_row_q8_k(x, dst, n); break;
        case act_format::q8_0x4: quantize_row_q8_0x4(x, dst, n); break;
        case act_format::q8_0x16: quantize_row_q8_0x16(x, dst, n); break;
    }
}

void dequantize_act_row(act_format format, const void * src, float * y, int64_t n) {
    switch (format) {
        case act_format::f32:  std::memcpy(y, src, static_cast<size_t>(n) * sizeof(float)); break;
        case act_format::q8_0: ref::dequantize_row(qtype::q8_0, src, y, n); break;
        case act_format::q8_k: ref::dequantize_row(qtype::q8_k, src, y, n); break;
        case act_format::q8_0x4: dequantize_row_q8_0x4(src, y, n); break;
        case act_format::q8_0x16: dequantize_row_q8_0x16(src, y, n); break;
    }
}

} // namespace v4::kernels::cpu
