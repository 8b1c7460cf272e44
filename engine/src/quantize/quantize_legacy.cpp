// The 32-element block types, written to match gguf-py's quantize_blocks() bit for bit: every
// product and sum is a float operation in the order numpy evaluates it (this file is compiled with
// -ffp-contract=off so that no multiply-add is fused), and ties go to the first index as argmax /
// argmin do.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "quantize/quantize_kernels.h"
#include "reference/dequantize.h"
#include "reference/dequantize_legacy.h"

namespace v4::quant::detail {

namespace k = v4::kernels;

namespace {

constexpr int qk = 32;

// The element of largest magnitude, first one on ties (numpy argmax of abs).
float signed_absmax(const float * x) {
    float amax = 0.0f, max = 0.0f;
    for (int i = 0; i < qk; ++i) {
        if (std::fabs(x[i]) > amax) {
            amax = std::fabs(x[i]);
            max  = x[i];
        }
    }
    return max;
}

// Symmetric 4/5-bit: d = max / -(levels/2), q = trunc(x / d + levels/2 + 0.5) clipped.
void symmetric_block(const float * x, int levels, uint16_t & d16, uint8_t * q) {
    const float max  = signed_absmax(x);
    const float half = static_cast<float>(levels / 2);
    const float d    = max / -half;
    const float id   = d == 0.0f ? 0.0f : 1.0f / d;
    for (int i = 0; i < qk; ++i) {
        const float v = std::trunc(x[i] * id + (half + 0.5f));
        q[i]          = static_cast<uint8_t>(std::fmin(std::fmax(v, 0.0f), static_cast<float>(levels - 1)));
    }
    d16 = k::ref::fp32_to_fp16(d);
}

// Affine 4/5-bit: d = (max - min) / (levels - 1), q = trunc((x - min) / d + 0.5) clipped.
void affine_block(const float * x, int levels, uint16_t & d16, uint16_t & m16, uint8_t * q) {
    float min = x[0], max = x[0];
    for (int i = 1; i < qk; ++i) {
        min = std::fmin(min, x[i]);
        max = std::fmax(max, x[i]);
    }
    const float d  = (max - min) / static_cast<float>(levels - 1);
    const float id = d == 0.0f ? 0.0f : 1.0f / d;
    for (int i = 0; i < qk; ++i) {
        const float v = std::trunc((x[i] - min) * id + 0.5f);
        q[i]          = static_cast<uint8_t>(std::fmin(std::fmax(v, 0.0f), static_cast<float>(levels - 1)));
    }
    d16 = k::ref::fp32_to_fp16(d);
    m16 = k::ref::fp32_to_fp16(min);
}

// Element j in the low nibble of byte j, element j + 16 in the high nibble.
void pack_nibbles(const uint8_t * q, uint8_t * qs) {
    for (int j = 0; j < qk / 2; ++j) {
        qs[j] = static_cast<uint8_t>((q[j] & 0x0F) | ((q[j + qk / 2] & 0x0F) << 4));
    }
}

// Bit j of the little-endian 32-bit qh is bit 4 of element j.
void pack_fifth_bits(const uint8_t * q, uint8_t * qh) {
    uint32_t bits = 0;
    for (int j = 0; j < qk; ++j) {
        bits |= static_cast<uint32_t>((q[j] >> 4) & 1) << j;
    }
    for (int b = 0; b < 4; ++b) {
        qh[b] = static_cast<uint8_t>(bits >> (8 * b));
    }
}

} // namespace

void quantize_q8_0(const float * x, void * dst, int64_t nb) {
    auto * y = static_cast<k::block_q8_0 *>(dst);
    for (int64_t b = 0; b < nb; ++b, x += qk) {
        float amax = 0.0f;
        for (int i = 0; i < qk; ++i) {
            amax = std::fmax(amax, std::fabs(x[i]));
        }
        const float d  = amax / 127.0f;
        const float id = d == 0.0f ? 0.0f : 1.0f / d;
        k::block_q8_0 blk;
        for (int i = 0; i < qk; ++i) {
            blk.qs[i] = static_cast<int8_t>(std::round(x[i] * id)); // half away from zero, as np_roundf
        }
        blk.d = k::ref::fp32_to_fp16(d);
        std::memcpy(&y[b], &blk, sizeof blk);
    }
}

void quantize_q4_0(const float * x, void * dst, int64_t nb) {
    auto * y = static_cast<k::block_q4_0 *>(dst);
    for (int64_t b = 0; b < nb; ++b, x += qk) {
        k::block_q4_0 blk;
        uint8_t       q[qk];
        symmetric_block(x, 16, blk.d, q);
        pack_nibbles(q, blk.qs);
        std::memcpy(&y[b], &blk, sizeof blk);
    }
}

void quantize_q5_0(const float * x, void * dst, int64_t nb) {
    auto * y = static_cast<k::block_q5_0 *>(dst);
    for (int64_t b = 0; b < nb; ++b, x += qk) {
        k::block_q5_0 blk;
        uint8_t       q[qk];
        symmetric_block(x, 32, blk.d, q);
        pack_fifth_bits(q, blk.qh);
        pack_nibbles(q, blk.qs);
        std::memcpy(&y[b], &blk, sizeof blk);
    }
}

void quantize_q4_1(const float * x, void * dst, int64_t nb) {
    auto * y = static_cast<k::block_q4_1 *>(dst);
    for (int64_t b = 0; b < nb; ++b, x += qk) {
        k::block_q4_1 blk;
        uint8_t       q[qk];
        affine_block(x, 16, blk.d, blk.m, q);
        pack_nibbles(q, blk.qs);
        std::memcpy(&y[b], &blk, sizeof blk);
    }
}

void quantize_q5_1(const float * x, void * dst, int64_t nb) {
    auto * y = static_cast<k::block_q5_1 *>(dst);
    for (int64_t b = 0; b < nb; ++b, x += qk) {
        k::block_q5_1 blk;
        uint8_t       q[qk];
        affine_block(x, 32, blk.d, blk.m, q);
        pack_fifth_bits(q, blk.qh);
        pack_nibbles(q, blk.qs);
        std::memcpy(&y[b], &blk, sizeof blk);
    }
}

// Shared exponent e = floor(log2(amax)) - 2 + 127 (the largest E2M1 magnitude, 6 = 1.5 * 2^2),
// then each element takes the nearest of the 16 doubled E2M1 values times 2^(e - 128).
void quantize_mxfp4(const float * x, void * dst, int64_t nb) {
    auto * y = static_cast<k::block_mxfp4 *>(dst);
    for (int64_t b = 0; b < nb; ++b, x += qk) {
        float amax = 0.0f;
        for (int i = 0; i < qk; ++i) {
            amax = std::fmax(amax, std::fabs(x[i]));
        }
        k::block_mxfp4 blk;
        int            e = 0;
        if (amax > 0.0f) {
            int exp2 = 0;
            std::frexp(amax, &exp2); // amax = f * 2^exp2, f in [0.5, 1): floor(log2(amax)) = exp2 - 1
            e = std::max(0, std::min(255, exp2 - 1 - 2 + 127));
        }
        blk.e         = static_cast<uint8_t>(e);
        const float d = k::ref::e8m0_to_fp32_half(blk.e);
        uint8_t     q[qk];
        for (int i = 0; i < qk; ++i) {
            int   best = 0;
            float err  = std::fabs(d * static_cast<float>(k::kvalues_mxfp4[0]) - x[i]);
            for (int c = 1; c < 16; ++c) {
                const float ec = std::fabs(d * static_cast<float>(k::kvalues_mxfp4[c]) - x[i]);
                if (ec < err) {
                    err  = ec;
                    best = c;
                }
            }
            q[i] = static_cast<uint8_t>(best);
        }
        pack_nibbles(q, blk.qs);
        std::memcpy(&y[b], &blk, sizeof blk);
    }
}

} // namespace v4::quant::detail
