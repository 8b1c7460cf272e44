// FP8 E4M3 / UE8M0 / FP4 E2M1 decoding (see quant_formats.h).
#include "models/deepseek4/quant_formats.h"

#include <cmath>
#include <limits>

namespace v4::deepseek4 {

float fp8_e4m3_to_float(uint8_t bits) {
    const int sign = bits >> 7, exp = (bits >> 3) & 0xF, mant = bits & 0x7;
    float v;
    if (exp == 0xF && mant == 0x7) {
        v = std::numeric_limits<float>::quiet_NaN();
    } else if (exp == 0) {
        v = std::ldexp(float(mant), -9);  // subnormal: mant / 8 * 2^-6
    } else {
        v = std::ldexp(float(8 + mant), exp - 10);  // (1 + mant / 8) * 2^(exp - 7)
    }
    return sign ? -v : v;
}

float e8m0_to_float(uint8_t bits) {
    if (bits == 0xFF) return std::numeric_limits<float>::quiet_NaN();
    return std::ldexp(1.0f, int(bits) - 127);
}

float fp4_e2m1_to_float(uint8_t nibble) {
    static constexpr float table[16] = {0.0f, 0.5f, 1.0f, 1.5f, 2.0f, 3.0f, 4.0f, 6.0f,
                                        -0.0f, -0.5f, -1.0f, -1.5f, -2.0f, -3.0f, -4.0f, -6.0f};
    return table[nibble & 0xF];
}

void dequant_fp8_blocks(const uint8_t * w, int64_t rows, int64_t cols, const float * scale, int block, float * out) {
    const int64_t scale_cols = (cols + block - 1) / block;
    for (int64_t r = 0; r < rows; r++) {
        const float * srow = scale + (r / block) * scale_cols;
        for (int64_t c = 0; c < cols; c++) out[r * cols + c] = fp8_e4m3_to_float(w[r * cols + c]) * srow[c / block];
    }
}

void dequant_fp4(const uint8_t * packed, int64_t rows, int64_t cols, const uint8_t * scales, float * out) {
    for (int64_t r = 0; r < rows; r++) {
        for (int64_t c = 0; c < cols; c++) {
            const uint8_t byte = packed[r * (cols / 2) + c / 2];
            const uint8_t code = (c % 2 == 0) ? (byte & 0xF) : (byte >> 4);
            out[r * cols + c] = fp4_e2m1_to_float(code) * e8m0_to_float(scales[r * (cols / 32) + c / 32]);
        }
    }
}

} // namespace v4::deepseek4
