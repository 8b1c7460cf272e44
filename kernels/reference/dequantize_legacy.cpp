#include "reference/dequantize_legacy.h"

#include <cstring>

#include "reference/dequantize.h"

namespace v4::kernels::ref {

void dequantize_row_q4_1(const block_q4_1 * src, float * dst, int64_t n) {
    for (int64_t b = 0; b < n / 32; ++b) {
        const float d = fp16_to_fp32(src[b].d);
        const float m = fp16_to_fp32(src[b].m);
        for (int j = 0; j < 16; ++j) {
            dst[b * 32 + j] = static_cast<float>(src[b].qs[j] & 0x0f) * d + m;
            dst[b * 32 + j + 16] = static_cast<float>(src[b].qs[j] >> 4) * d + m;
        }
    }
}

void dequantize_row_q5_0(const block_q5_0 * src, float * dst, int64_t n) {
    for (int64_t b = 0; b < n / 32; ++b) {
        const float d = fp16_to_fp32(src[b].d);
        uint32_t    qh;
        std::memcpy(&qh, src[b].qh, 4);
        for (int j = 0; j < 16; ++j) {
            const int lo = (src[b].qs[j] & 0x0f) | static_cast<int>(((qh >> j) & 1u) << 4);
            const int hi = (src[b].qs[j] >> 4) | static_cast<int>(((qh >> (j + 16)) & 1u) << 4);
            dst[b * 32 + j] = static_cast<float>(lo - 16) * d;
            dst[b * 32 + j + 16] = static_cast<float>(hi - 16) * d;
        }
    }
}

void dequantize_row_q5_1(const block_q5_1 * src, float * dst, int64_t n) {
    for (int64_t b = 0; b < n / 32; ++b) {
        const float d = fp16_to_fp32(src[b].d);
        const float m = fp16_to_fp32(src[b].m);
        uint32_t    qh;
        std::memcpy(&qh, src[b].qh, 4);
        for (int j = 0; j < 16; ++j) {
            const int lo = (src[b].qs[j] & 0x0f) | static_cast<int>(((qh >> j) & 1u) << 4);
            const int hi = (src[b].qs[j] >> 4) | static_cast<int>(((qh >> (j + 16)) & 1u) << 4);
            dst[b * 32 + j] = static_cast<float>(lo) * d + m;
            dst[b * 32 + j + 16] = static_cast<float>(hi) * d + m;
        }
    }
}

bool dequantize_row_any(uint32_t ggml_type, const void * src, float * dst, int64_t n) {
    if (ggml_type == qtype_q4_1 || ggml_type == qtype_q5_0 || ggml_type == qtype_q5_1) {
        if (n < 0 || n % 32 != 0) {
            return false;
        }
        switch (ggml_type) {
            case qtype_q4_1: dequantize_row_q4_1(static_cast<const block_q4_1 *>(src), dst, n); break;
            case qtype_q5_0: dequantize_row_q5_0(static_cast<const block_q5_0 *>(src), dst, n); break;
            default:         dequantize_row_q5_1(static_cast<const block_q5_1 *>(src), dst, n); break;
        }
        return true;
    }
    return dequantize_row(static_cast<qtype>(ggml_type), src, dst, n);
}

} // namespace v4::kernels::ref
