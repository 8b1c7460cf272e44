// K-quant super-blocks (256 elements). Each sub-block's scale (and, for q4_K/q5_K, min) is chosen
// by trying a few candidate grids and fitting the scale by weighted least squares to the rounded
// levels (the idea of ggml's make_qx_quants / make_qkx2_quants); the sub-block scales are then
// quantized to 6 or 8 bits under one fp16 super-scale, and the levels are rounded again against
// the scales as they will be decoded, so the error measured is the error of the file.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "quantize/quantize_kernels.h"
#include "reference/dequantize.h"

namespace v4::quant::detail {

namespace k = v4::kernels;

namespace {

constexpr int qk_k = k::qk_k;

int nearest(float v) { return static_cast<int>(std::nearbyint(v)); }

// w[i] = importance[i] * sqrt(sigma2 + x[i]^2): large elements and busy columns weigh more.
void element_weights(const float * x, const float * importance, float * w) {
    float sum2 = 0.0f;
    for (int i = 0; i < qk_k; ++i) {
        sum2 += x[i] * x[i];
    }
    const float sigma2 = sum2 / qk_k;
    for (int i = 0; i < qk_k; ++i) {
        w[i] = std::sqrt(sigma2 + x[i] * x[i]) * (importance != nullptr ? importance[i] : 1.0f);
    }
}

// Levels L in [-nmax, nmax - 1] and scale s minimising sum w (x - s L)^2 over 19 candidate grids.
float fit_symmetric(int n, int nmax, const float * x, const float * w, int8_t * L) {
    float amax = 0.0f, max = 0.0f;
    for (int i = 0; i < n; ++i) {
        if (std::fabs(x[i]) > amax) {
            amax = std::fabs(x[i]);
            max  = x[i];
        }
    }
    if (amax < 1e-30f) {
        std::fill_n(L, n, int8_t{0});
        return 0.0f;
    }
    float best_gain = -1.0f, best_scale = 0.0f;
    for (int is = -9; is <= 9; ++is) {
        const float iscale = -(static_cast<float>(nmax) + 0.1f * static_cast<float>(is)) / max;
        double      sumlx = 0.0, suml2 = 0.0;
        for (int i = 0; i < n; ++i) {
            const int l = std::clamp(nearest(iscale * x[i]), -nmax, nmax - 1);
            sumlx += static_cast<double>(w[i]) * x[i] * l;
            suml2 += static_cast<double>(w[i]) * l * l;
        }
        // The weighted error is sum w x^2 - sumlx^2 / suml2 at the optimal scale: maximise the gain.
        if (suml2 > 0.0 && sumlx * sumlx / suml2 > best_gain) {
            best_gain  = static_cast<float>(sumlx * sumlx / suml2);
            best_scale = static_cast<float>(sumlx / suml2);
            for (int i = 0; i < n; ++i) {
                L[i] = static_cast<int8_t>(std::clamp(nearest(iscale * x[i]), -nmax, nmax - 1));
            }
        }
    }
    return best_scale;
}

// Levels L in [0, nmax] with x ~ scale * L - min (scale >= 0, min >= 0), weighted least squares
// over 21 candidate grids spanning [min(x, 0), max(x)].
void fit_affine(int n, int nmax, const float * x, const float * w, float & scale, float & min_out) {
    float lo = x[0], hi = x[0];
    for (int i = 1; i < n; ++i) {
        lo = std::min(lo, x[i]);
        hi = std::max(hi, x[i]);
    }
    lo = std::min(lo, 0.0f);
    if (hi <= lo) {
        scale   = 0.0f;
        min_out = -lo;
        return;
    }
    auto error_of = [&](float s, float m) {
        double err = 0.0;
        for (int i = 0; i < n; ++i) {
            const int    l = s > 0.0f ? std::clamp(nearest((x[i] - m) / s), 0, nmax) : 0;
            const double e = static_cast<double>(s) * l + m - x[i];
            err += w[i] * e * e;
        }
        return err;
    };
    float  best_s = (hi - lo) / static_cast<float>(nmax), best_m = lo;
    double best_err = error_of(best_s, best_m);
    for (int is = 0; is <= 20; ++is) {
        const float iscale = (-1.0f + 0.1f * static_cast<float>(is) + static_cast<float>(nmax)) / (hi - lo);
        double sw = 0.0, sl = 0.0, sl2 = 0.0, sx = 0.0, sxl = 0.0;
        for (int i = 0; i < n; ++i) {
            const int l = std::clamp(nearest(iscale * (x[i] - lo)), 0, nmax);
            sw += w[i];
            sl += w[i] * l;
            sl2 += static_cast<double>(w[i]) * l * l;
            sx += w[i] * x[i];
            sxl += static_cast<double>(w[i]) * l * x[i];
        }
        const double det = sw * sl2 - sl * sl;
        if (det <= 0.0) {
            continue;
        }
        double s = (sw * sxl - sx * sl) / det;
        double m = (sl2 * sx - sl * sxl) / det;
        if (m > 0.0) { // the offset must be <= 0 (stored as a non-negative min)
            m = 0.0;
            s = sxl / sl2;
        }
        if (s <= 0.0) {
            continue;
        }
        const double err = error_of(static_cast<float>(s), static_cast<float>(m));
        if (err < best_err) {
            best_err = err;
            best_s   = static_cast<float>(s);
            best_m   = static_cast<float>(m);
        }
    }
    scale   = best_s;
    min_out = -best_m;
}

// q4_K / q5_K share everything but the level count and the packing of the fifth bit.
template <int nmax>
void quantize_affine_superblock(const float * x, const float * importance, uint16_t & d16, uint16_t & dmin16,
                                uint8_t * scales, uint8_t * L) {
    float w[qk_k], sc[8], mn[8];
    element_weights(x, importance, w);
    float max_sc = 0.0f, max_mn = 0.0f;
    for (int j = 0; j < 8; ++j) {
        fit_affine(32, nmax, x + 32 * j, w + 32 * j, sc[j], mn[j]);
        max_sc = std::max(max_sc, sc[j]);
        max_mn = std::max(max_mn, mn[j]);
    }
    const float inv_sc = max_sc > 0.0f ? 63.0f / max_sc : 0.0f;
    const float inv_mn = max_mn > 0.0f ? 63.0f / max_mn : 0.0f;
    uint8_t     ls[8], lm[8];
    for (int j = 0; j < 8; ++j) {
        ls[j] = static_cast<uint8_t>(std::min(63, nearest(inv_sc * sc[j])));
        lm[j] = static_cast<uint8_t>(std::min(63, nearest(inv_mn * mn[j])));
    }
    d16    = k::ref::fp32_to_fp16(max_sc / 63.0f);
    dmin16 = k::ref::fp32_to_fp16(max_mn / 63.0f);
    std::memset(scales, 0, k::k_scale_size);
    for (int j = 0; j < 8; ++j) {
        if (j < 4) {
            scales[j]     = ls[j];
            scales[j + 4] = lm[j];
        } else {
            scales[j + 4] = static_cast<uint8_t>((ls[j] & 0xF) | ((lm[j] & 0xF) << 4));
            scales[j - 4] |= static_cast<uint8_t>((ls[j] >> 4) << 6);
            scales[j] |= static_cast<uint8_t>((lm[j] >> 4) << 6);
        }
    }
    // Round again against the scales as decoded.
    const float d = k::ref::fp16_to_fp32(d16), dmin = k::ref::fp16_to_fp32(dmin16);
    for (int j = 0; j < 8; ++j) {
        const float dl = d * ls[j], ml = dmin * lm[j];
        for (int i = 0; i < 32; ++i) {
            L[32 * j + i] = dl == 0.0f ? 0 : static_cast<uint8_t>(std::clamp(nearest((x[32 * j + i] + ml) / dl), 0, nmax));
        }
    }
}


// The symmetric K-quants (Q6_K, Q3_K): fits each of the 16 sub-blocks of 16 with levels in
// [-nmax, nmax - 1] (scales into sc) and returns the scale of largest magnitude, sign kept, which
// sets the super-block scale; 0 for an all-zero block.
float fit_sixteen_subblocks(const float * xb, const float * w, int nmax, float * sc) {
    int8_t L8[qk_k];
    float  amax = 0.0f, max_sc = 0.0f;
    for (int j = 0; j < 16; ++j) {
        sc[j] = fit_symmetric(16, nmax, xb + 16 * j, w + 16 * j, L8 + 16 * j);
        if (std::fabs(sc[j]) > amax) {
            amax   = std::fabs(sc[j]);
            max_sc = sc[j];
        }
    }
    return max_sc;
}

} // namespace

void quantize_q4_k(const float * x, void * dst, int64_t nb, const float * importance) {
    auto * y = static_cast<k::block_q4_k *>(dst);
    for (int64_t b = 0; b < nb; ++b) {
        const float * xb = x + b * qk_k;
        k::block_q4_k blk;
        uint8_t       L[qk_k];
        quantize_affine_superblock<15>(xb, importance ? importance + b * qk_k : nullptr, blk.d, blk.dmin, blk.scales, L);
        uint8_t * q = blk.qs;
        for (int j = 0; j < qk_k; j += 64, q += 32) {
            for (int l = 0; l < 32; ++l) {
                q[l] = static_cast<uint8_t>(L[j + l] | (L[j + l + 32] << 4));
            }
        }
        std::memcpy(&y[b], &blk, sizeof blk);
    }
}

void quantize_q5_k(const float * x, void * dst, int64_t nb, const float * importance) {
    auto * y = static_cast<k::block_q5_k *>(dst);
    for (int64_t b = 0; b < nb; ++b) {
        const float * xb = x + b * qk_k;
        k::block_q5_k blk;
        uint8_t       L[qk_k];
        quantize_affine_superblock<31>(xb, importance ? importance + b * qk_k : nullptr, blk.d, blk.dmin, blk.scales, L);
        std::memset(blk.qh, 0, sizeof blk.qh);
        uint8_t * ql = blk.qs;
        uint8_t   m1 = 1, m2 = 2;
        for (int n = 0; n < qk_k; n += 64, ql += 32) {
            for (int j = 0; j < 32; ++j) {
                int l1 = L[n + j], l2 = L[n + j + 32];
                if (l1 > 15) {
                    l1 -= 16;
                    blk.qh[j] |= m1;
                }
                if (l2 > 15) {
                    l2 -= 16;
                    blk.qh[j] |= m2;
                }
                ql[j] = static_cast<uint8_t>(l1 | (l2 << 4));
            }
            m1 = static_cast<uint8_t>(m1 << 2);
            m2 = static_cast<uint8_t>(m2 << 2);
        }
        std::memcpy(&y[b], &blk, sizeof blk);
    }
}

void quantize_q6_k(const float * x, void * dst, int64_t nb, const float * importance) {
    auto * y = static_cast<k::block_q6_k *>(dst);
    for (int64_t b = 0; b < nb; ++b) {
        const float * xb = x + b * qk_k;
        float         w[qk_k], sc[16];
        element_weights(xb, importance ? importance + b * qk_k : nullptr, w);
        const float max_sc = fit_sixteen_subblocks(xb, w, 32, sc);
        k::block_q6_k blk {};
        uint8_t       L[qk_k] = {};
        if (max_sc != 0.0f) {
            const float iscale = -128.0f / max_sc;
            blk.d              = k::ref::fp32_to_fp16(1.0f / iscale);
            const float d      = k::ref::fp16_to_fp32(blk.d);
            for (int j = 0; j < 16; ++j) {
                blk.scales[j]  = static_cast<int8_t>(std::min(127, nearest(iscale * sc[j])));
                const float dl = d * blk.scales[j];
                for (int i = 0; i < 16; ++i) {
                    const int l  = dl == 0.0f ? 0 : std::clamp(nearest(xb[16 * j + i] / dl), -32, 31);
                    L[16 * j + i] = static_cast<uint8_t>(l + 32);
                }
            }
        } else {
            std::fill_n(L, qk_k, uint8_t{32});
        }
        uint8_t * ql = blk.ql;
        uint8_t * qh = blk.qh;
        for (int j = 0; j < qk_k; j += 128, ql += 64, qh += 32) {
            for (int l = 0; l < 32; ++l) {
                const uint8_t q1 = L[j + l], q2 = L[j + l + 32], q3 = L[j + l + 64], q4 = L[j + l + 96];
                ql[l]      = static_cast<uint8_t>((q1 & 0xF) | ((q3 & 0xF) << 4));
                ql[l + 32] = static_cast<uint8_t>((q2 & 0xF) | ((q4 & 0xF) << 4));
                qh[l]      = static_cast<uint8_t>((q1 >> 4) | ((q2 >> 4) << 2) | ((q3 >> 4) << 4) | ((q4 >> 4) << 6));
            }
        }
        std::memcpy(&y[b], &blk, sizeof blk);
    }
}

void quantize_q3_k(const float * x, void * dst, int64_t nb, const float * importance) {
    auto * y = static_cast<k::block_q3_k *>(dst);
    for (int64_t b = 0; b < nb; ++b) {
        const float * xb = x + b * qk_k;
        float         w[qk_k], sc[16];
        element_weights(xb, importance ? importance + b * qk_k : nullptr, w);
        const float max_sc = fit_sixteen_subblocks(xb, w, 4, sc);
        k::block_q3_k blk {};
        uint8_t       L[qk_k];
        std::fill_n(L, qk_k, uint8_t{4});
        if (max_sc != 0.0f) {
            const float iscale = -32.0f / max_sc;
            blk.d              = k::ref::fp32_to_fp16(1.0f / iscale);
            const float d      = k::ref::fp16_to_fp32(blk.d);
            for (int j = 0; j < 16; ++j) {
                const int ls = std::clamp(nearest(iscale * sc[j]), -32, 31) + 32; // 6 bits
                if (j < 8) {
                    blk.scales[j] = static_cast<uint8_t>(ls & 0xF);
                } else {
                    blk.scales[j - 8] |= static_cast<uint8_t>((ls & 0xF) << 4);
                }
                blk.scales[8 + j % 4] |= static_cast<uint8_t>((ls >> 4) << (2 * (j / 4)));
                const float dl = d * static_cast<float>(ls - 32);
                for (int i = 0; i < 16; ++i) {
                    const int l   = dl == 0.0f ? 0 : std::clamp(nearest(xb[16 * j + i] / dl), -4, 3);
                    L[16 * j + i] = static_cast<uint8_t>(l + 4);
                }
            }
        } else {
            // Scales of 0 (stored 32) decode to 0 whatever the levels.
            for (int j = 0; j < 16; ++j) { // 32 = 0b10'0000: only the two high bits are set
                blk.scales[8 + j % 4] |= static_cast<uint8_t>(2 << (2 * (j / 4)));
            }
        }
        // Bit 2 of element j goes to hmask[j % 32] bit j / 32; the low two bits to qs.
        for (int j = 0; j < qk_k; ++j) {
            if (L[j] > 3) {
                blk.hmask[j % 32] |= static_cast<uint8_t>(1 << (j / 32));
                L[j] = static_cast<uint8_t>(L[j] - 4);
            }
        }
        for (int j = 0; j < qk_k; j += 128) {
            for (int l = 0; l < 32; ++l) {
                blk.qs[j / 4 + l] = static_cast<uint8_t>(L[j + l] | (L[j + l + 32] << 2) | (L[j + l + 64] << 4) | (L[j + l + 96] << 6));
            }
        }
        std::memcpy(&y[b], &blk, sizeof blk);
    }
}

} // namespace v4::quant::detail
