// The weight formats of the released DeepSeek-V4 checkpoints (spec §5), decoded to fp32 at load:
//   FP8 E4M3 ("float8_e4m3fn": bias 7, no infinities, S.1111.111 = NaN) with one scale per
//   128 x 128 block (HF: `<name>_scale_inv`, the multiplier; the release: UE8M0 bytes);
//   FP4 E2M1 routed experts, two codes per byte along the input dim (element 2k = low nibble), one
//   UE8M0 scale per 32 inputs (MXFP4).
#pragma once

#include <cstdint>

namespace v4::deepseek4 {

float fp8_e4m3_to_float(uint8_t bits);
float e8m0_to_float(uint8_t bits);       // 2^(e - 127); 0xFF is NaN
float fp4_e2m1_to_float(uint8_t nibble); // 0, .5, 1, 1.5, 2, 3, 4, 6 and their negatives

// out[r, c] = fp8(w[r, c]) * scale[r / block, c / block]; scale is [ceil(rows/block), ceil(cols/block)].
void dequant_fp8_blocks(const uint8_t * w, int64_t rows, int64_t cols, const float * scale, int block, float * out);

// out[r, c] = fp4(code of (r, c)) * e8m0(scales[r, c / 32]); packed is [rows, cols / 2], scales [rows, cols / 32].
void dequant_fp4(const uint8_t * packed, int64_t rows, int64_t cols, const uint8_t * scales, float * out);

} // namespace v4::deepseek4
