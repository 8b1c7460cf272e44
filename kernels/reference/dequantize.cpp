#include "reference/dequantize.h"

#include "reference/dequantize_legacy.h"

#include <cmath>
#include <cstring>

namespace v4::kernels::ref {

namespace {

uint32_t float_bits(float f) {
    uint32_t u;
    std::memcpy(&u, &f, sizeof(u));
    return u;
}

float bits_float(uint32_t u) {
    float f;
    std::memcpy(&f, &u, sizeof(f));
    return f;
}

// Blocks are copied out rather than cast: GGUF data is only guaranteed 32-byte aligned for the
// tensor start, and a 17-byte mxfp4 block (or a caller's odd buffer) may sit anywhere.
template <typename Block> Block load_block(const void * src, int64_t i) {
    Block b;
    std::memcpy(&b, static_cast<const uint8_t *>(src) + i * static_cast<int64_t>(sizeof(Block)), sizeof(Block));
    return b;
}

// The 6-bit scale and min of sub-block j (0..7) of a q4_K/q5_K super-block (ggml get_scale_min_k4).
void get_scale_min_k4(int j, const uint8_t * q, uint8_t & d, uint8_t & m) {
    if (j < 4) {
        d = q[j] & 63;
        m = q[j + 4] & 63;
    } else {
        d = static_cast<uint8_t>((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
        m = static_cast<uint8_t>((q[j + 4] >> 4) | ((q[j - 0] >> 6) << 4));
    }
}

// The signed scale of sub-block j (0..15) of a q3_K block: 4 low bits from bytes 0..7, 2 high
// bits from bytes 8..11, minus 32 (the layout ggml unpacks with kmask1/kmask2).
int q3_k_scale(const uint8_t * scales, int j) {
    const int low  = j < 8 ? (scales[j] & 0xF) : (scales[j - 8] >> 4);
    const int high = (scales[8 + j % 4] >> (2 * (j / 4))) & 3;
    return (low | (high << 4)) - 32;
}

void dequantize_q4_0(const void * src, float * y, int64_t nb) {
    for (int64_t i = 0; i < nb; ++i) {
        const auto  b = load_block<block_q4_0>(src, i);
        const float d = fp16_to_fp32(b.d);
        for (int j = 0; j < qk4_0 / 2; ++j) {
            const int x0 = (b.qs[j] & 0x0F) - 8;
            const int x1 = (b.qs[j] >> 4) - 8;
            y[i * qk4_0 + j]             = static_cast<float>(x0) * d;
            y[i * qk4_0 + j + qk4_0 / 2] = static_cast<float>(x1) * d;
        }
    }
}

void dequantize_q8_0(const void * src, float * y, int64_t nb) {
    for (int64_t i = 0; i < nb; ++i) {
        const auto  b = load_block<block_q8_0>(src, i);
        const float d = fp16_to_fp32(b.d);
        for (int j = 0; j < qk8_0; ++j) {
            y[i * qk8_0 + j] = static_cast<float>(b.qs[j]) * d;
        }
    }
}

void dequantize_mxfp4(const void * src, float * y, int64_t nb) {
    for (int64_t i = 0; i < nb; ++i) {
        const auto  b = load_block<block_mxfp4>(src, i);
        const float d = e8m0_to_fp32_half(b.e);
        for (int j = 0; j < qk_mx / 2; ++j) {
            y[i * qk_mx + j]             = static_cast<float>(kvalues_mxfp4[b.qs[j] & 0x0F]) * d;
            y[i * qk_mx + j + qk_mx / 2] = static_cast<float>(kvalues_mxfp4[b.qs[j] >> 4]) * d;
        }
    }
}

void dequantize_q3_k(const void * src, float * y, int64_t nb) {
    for (int64_t i = 0; i < nb; ++i) {
        const auto      b     = load_block<block_q3_k>(src, i);
        const float     d_all = fp16_to_fp32(b.d);
        const uint8_t * q     = b.qs;
        uint8_t         m     = 1; // bit of hmask for the current 32-element group
        int             is    = 0;
        for (int n = 0; n < qk_k; n += 128) {
            int shift = 0;
            for (int j = 0; j < 4; ++j) {
                for (int half = 0; half < 2; ++half) {
                    const float dl = d_all * static_cast<float>(q3_k_scale(b.scales, is++));
                    for (int l = 0; l < 16; ++l) {
                        const int k  = l + 16 * half;
                        const int q2 = (q[k] >> shift) & 3;
                        const int hi = (b.hmask[k] & m) ? 0 : 4;
                        *y++         = dl * static_cast<float>(q2 - hi);
                    }
                }
                shift += 2;
                m = static_cast<uint8_t>(m << 1);
            }
            q += 32;
        }
    }
}

void dequantize_q4_k(const void * src, float * y, int64_t nb) {
    for (int64_t i = 0; i < nb; ++i) {
        const auto      b   = load_block<block_q4_k>(src, i);
        const float     d   = fp16_to_fp32(b.d);
        const float     min = fp16_to_fp32(b.dmin);
        const uint8_t * q   = b.qs;
        int             is  = 0;
        for (int j = 0; j < qk_k; j += 64) {
            uint8_t sc, m;
            get_scale_min_k4(is + 0, b.scales, sc, m);
            const float d1 = d * sc, m1 = min * m;
            get_scale_min_k4(is + 1, b.scales, sc, m);
            const float d2 = d * sc, m2 = min * m;
            for (int l = 0; l < 32; ++l) {
                *y++ = d1 * static_cast<float>(q[l] & 0xF) - m1;
            }
            for (int l = 0; l < 32; ++l) {
                *y++ = d2 * static_cast<float>(q[l] >> 4) - m2;
            }
            q += 32;
            is += 2;
        }
    }
}

void dequantize_q5_k(const void * src, float * y, int64_t nb) {
    for (int64_t i = 0; i < nb; ++i) {
        const auto      b   = load_block<block_q5_k>(src, i);
        const float     d   = fp16_to_fp32(b.d);
        const float     min = fp16_to_fp32(b.dmin);
        const uint8_t * ql  = b.qs;
        int             is  = 0;
        uint8_t         u1 = 1, u2 = 2; // qh bits of the low- and high-nibble halves
        for (int j = 0; j < qk_k; j += 64) {
            uint8_t sc, m;
            get_scale_min_k4(is + 0, b.scales, sc, m);
            const float d1 = d * sc, m1 = min * m;
            get_scale_min_k4(is + 1, b.scales, sc, m);
            const float d2 = d * sc, m2 = min * m;
            for (int l = 0; l < 32; ++l) {
                *y++ = d1 * static_cast<float>((ql[l] & 0xF) + ((b.qh[l] & u1) ? 16 : 0)) - m1;
            }
            for (int l = 0; l < 32; ++l) {
                *y++ = d2 * static_cast<float>((ql[l] >> 4) + ((b.qh[l] & u2) ? 16 : 0)) - m2;
            }
            ql += 32;
            is += 2;
            u1 = static_cast<uint8_t>(u1 << 2);
            u2 = static_cast<uint8_t>(u2 << 2);
        }
    }
}

void dequantize_q6_k(const void * src, float * y, int64_t nb) {
    for (int64_t i = 0; i < nb; ++i) {
        const auto      b  = load_block<block_q6_k>(src, i);
        const float     d  = fp16_to_fp32(b.d);
        const uint8_t * ql = b.ql;
        const uint8_t * qh = b.qh;
        const int8_t *  sc = b.scales;
        for (int n = 0; n < qk_k; n += 128) {
            for (int l = 0; l < 32; ++l) {
                const int is = l / 16;
                const int q1 = ((ql[l + 0] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
                const int q2 = ((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
                const int q3 = ((ql[l + 0] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
                const int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
                // (d * scale) * q, in this order, as ggml and gguf-py compute it.
                y[l + 0]  = d * static_cast<float>(sc[is + 0]) * static_cast<float>(q1);
                y[l + 32] = d * static_cast<float>(sc[is + 2]) * static_cast<float>(q2);
                y[l + 64] = d * static_cast<float>(sc[is + 4]) * static_cast<float>(q3);
                y[l + 96] = d * static_cast<float>(sc[is + 6]) * static_cast<float>(q4);
            }
            y += 128;
            ql += 64;
            qh += 32;
            sc += 8;
        }
    }
}

void dequantize_q8_k(const void * src, float * y, int64_t nb) {
    for (int64_t i = 0; i < nb; ++i) {
        const auto b = load_block<block_q8_k>(src, i);
        for (int j = 0; j < qk_k; ++j) {
            y[i * qk_k + j] = b.d * static_cast<float>(b.qs[j]);
        }
    }
}

// ggml's nearest_int: round to nearest, ties to even, via the 1.5 * 2^23 trick; |x| <= 2^22.
int nearest_int(float fval) {
    const float val = fval + 12582912.f;
    int         i;
    std::memcpy(&i, &val, sizeof(int));
    return (i & 0x007fffff) - 0x00400000;
}

} // namespace

float fp16_to_fp32(uint16_t h) {
    const uint32_t sign = static_cast<uint32_t>(h & 0x8000) << 16;
    const uint32_t exp  = (h >> 10) & 0x1f;
    uint32_t       mant = h & 0x3ff;
    if (exp == 0x1f) { // inf or NaN: keep the payload
        return bits_float(sign | 0x7f800000u | (mant << 13));
    }
    if (exp != 0) { // normal: rebias 15 -> 127
        return bits_float(sign | ((exp + 112) << 23) | (mant << 13));
    }
    if (mant == 0) {
        return bits_float(sign);
    }
    // Subnormal: mant * 2^-24. Shift the leading one up to bit 10; each shift lowers the exponent.
    uint32_t e = 113;
    while ((mant & 0x400) == 0) {
        mant <<= 1;
        --e;
    }
    return bits_float(sign | (e << 23) | ((mant & 0x3ff) << 13));
}

uint16_t fp32_to_fp16(float f) {
    uint32_t       x    = float_bits(f);
    const uint32_t sign = (x >> 16) & 0x8000;
    x &= 0x7fffffff;
    if (x > 0x7f800000u) {
        return static_cast<uint16_t>(sign | 0x7e00);
    }
    const uint32_t exp = x >> 23;
    if (exp >= 113) { // normal half range or above: keep 10 mantissa bits, round the other 13
        uint32_t       h   = ((exp - 112) << 10) | ((x & 0x7fffff) >> 13);
        const uint32_t rem = x & 0x1fff;
        if (rem > 0x1000 || (rem == 0x1000 && (h & 1))) {
            ++h; // a carry into the exponent is the right answer
        }
        return static_cast<uint16_t>(sign | (h >= 0x7c00 ? 0x7c00 : h));
    }
    if (exp < 102) { // below 2^-25: rounds to zero (2^-25 itself ties to even zero too)
        return static_cast<uint16_t>(sign);
    }
    // Half subnormal: value / 2^-24 = m * 2^(exp - 126) with the implicit bit in m.
    const uint32_t m     = (x & 0x7fffff) | 0x800000;
    const uint32_t shift = 126 - exp; // 14..24
    uint32_t       h     = m >> shift;
    const uint32_t rem   = m & ((1u << shift) - 1);
    const uint32_t half  = 1u << (shift - 1);
    if (rem > half || (rem == half && (h & 1))) {
        ++h; // may become 0x400, the smallest normal: correct
    }
    return static_cast<uint16_t>(sign | h);
}

float bf16_to_fp32(uint16_t h) { return bits_float(static_cast<uint32_t>(h) << 16); }

uint16_t fp32_to_bf16(float f) {
    const uint32_t u = float_bits(f);
    if ((u & 0x7fffffff) > 0x7f800000u) {
        return static_cast<uint16_t>((u >> 16) | 64); // force quiet
    }
    return static_cast<uint16_t>((u + (0x7fff + ((u >> 16) & 1))) >> 16);
}

float e8m0_to_fp32_half(uint8_t e) {
    // e < 2 gives a subnormal (2^-128, 2^-127); otherwise the exponent field is e - 1.
    const uint32_t bits = e < 2 ? (0x00200000u << e) : (static_cast<uint32_t>(e - 1) << 23);
    return bits_float(bits);
}

bool dequantize_row(qtype type, const void * src, float * dst, int64_t n) {
    const block_geometry g = geometry(type);
    if (g.block_size == 0 || n < 0 || n % g.block_size != 0) {
        return false;
    }
    const int64_t nb = n / g.block_size;
    switch (type) {
        case qtype::f32: std::memcpy(dst, src, static_cast<size_t>(n) * sizeof(float)); return true;
        case qtype::f16:
        case qtype::bf16: {
            const auto * p = static_cast<const uint8_t *>(src);
            for (int64_t i = 0; i < n; ++i) {
                uint16_t h;
                std::memcpy(&h, p + 2 * i, 2);
                dst[i] = type == qtype::f16 ? fp16_to_fp32(h) : bf16_to_fp32(h);
            }
            return true;
        }
        case qtype::q4_0:  dequantize_q4_0(src, dst, nb); return true;
        case qtype::q4_1:  dequantize_row_q4_1(static_cast<const block_q4_1 *>(src), dst, n); return true;
        case qtype::q5_0:  dequantize_row_q5_0(static_cast<const block_q5_0 *>(src), dst, n); return true;
        case qtype::q5_1:  dequantize_row_q5_1(static_cast<const block_q5_1 *>(src), dst, n); return true;
        case qtype::q8_0:  dequantize_q8_0(src, dst, nb); return true;
        case qtype::mxfp4: dequantize_mxfp4(src, dst, nb); return true;
        case qtype::q3_k:  dequantize_q3_k(src, dst, nb); return true;
        case qtype::q4_k:  dequantize_q4_k(src, dst, nb); return true;
        case qtype::q5_k:  dequantize_q5_k(src, dst, nb); return true;
        case qtype::q6_k:  dequantize_q6_k(src, dst, nb); return true;
        case qtype::q8_k:  dequantize_q8_k(src, dst, nb); return true;
    }
    return false;
}

void quantize_row_q8_0(const float * x, block_q8_0 * y, int64_t n) {
    const int64_t nb = n / qk8_0;
    for (int64_t i = 0; i < nb; ++i) {
        float amax = 0.0f;
        for (int j = 0; j < qk8_0; ++j) {
            amax = std::fmax(amax, std::fabs(x[i * qk8_0 + j]));
        }
        const float d  = amax / ((1 << 7) - 1);
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        y[i].d         = fp32_to_fp16(d);
        for (int j = 0; j < qk8_0; ++j) {
            const float x0 = x[i * qk8_0 + j] * id;
            y[i].qs[j]     = static_cast<int8_t>(std::roundf(x0)); // ties away from zero
        }
    }
}

void quantize_row_q8_k(const float * x, block_q8_k * y, int64_t n) {
    const int64_t nb = n / qk_k;
    for (int64_t i = 0; i < nb; ++i, x += qk_k) {
        float max  = 0.0f; // the signed value of largest magnitude (the first one on ties)
        float amax = 0.0f;
        for (int j = 0; j < qk_k; ++j) {
            const float ax = std::fabs(x[j]);
            if (ax > amax) {
                amax = ax;
                max  = x[j];
            }
        }
        if (amax == 0.0f) {
            y[i].d = 0.0f;
            std::memset(y[i].qs, 0, sizeof(y[i].qs));
            std::memset(y[i].bsums, 0, sizeof(y[i].bsums));
            continue;
        }
        // -127/max maps the extreme value to -127 exactly (ggml chose it over -128 for IQ2_XXS).
        const float iscale = -127.f / max;
        for (int j = 0; j < qk_k; ++j) {
            const int v = nearest_int(iscale * x[j]);
            y[i].qs[j]  = static_cast<int8_t>(v < 127 ? v : 127);
        }
        for (int j = 0; j < qk_k / 16; ++j) {
            int sum = 0;
            for (int k = 0; k < 16; ++k) {
                sum += y[i].qs[j * 16 + k];
            }
            y[i].bsums[j] = static_cast<int16_t>(sum);
        }
        y[i].d = 1 / iscale;
    }
}

} // namespace v4::kernels::ref
