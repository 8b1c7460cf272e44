// Dispatch of quantize_row()/dequantize_row() over the types (quantize_kernels.h has the blocks).
#include "quantize/quantize_row.h"

#include <algorithm>
#include <string>

#include "quantize/quantize_kernels.h"
#include "reference/dequantize.h"
#include "reference/dequantize_legacy.h"
#include "v4/error.h"

namespace v4::quant {

namespace k = v4::kernels;

bool can_quantize(dtype t) {
    switch (t) {
        case dtype::f32: case dtype::f16: case dtype::bf16:
        case dtype::q8_0: case dtype::q4_0: case dtype::q4_1: case dtype::q5_0: case dtype::q5_1: case dtype::mxfp4:
        case dtype::q3_k: case dtype::q4_k: case dtype::q5_k: case dtype::q6_k:
            return true;
        default:
            return false;
    }
}

void quantize_row(dtype t, const float * x, void * dst, int64_t n, const float * importance) {
    if (!can_quantize(t)) {
        throw Error(ErrorCode::invalid_argument, std::string("cannot quantize to ") + traits(t).name);
    }
    if (!row_bytes(t, n)) {
        throw Error(ErrorCode::invalid_argument, std::string("a row of ") + std::to_string(n) +
                                                     " elements is not a whole number of " + traits(t).name + " blocks");
    }
    const int64_t nb = n / static_cast<int64_t>(traits(t).block_size);
    auto *        u16 = static_cast<uint16_t *>(dst);
    switch (t) {
        case dtype::f32:   std::copy_n(x, n, static_cast<float *>(dst)); break;
        case dtype::f16:   for (int64_t i = 0; i < n; ++i) { u16[i] = k::ref::fp32_to_fp16(x[i]); } break;
        case dtype::bf16:  for (int64_t i = 0; i < n; ++i) { u16[i] = k::ref::fp32_to_bf16(x[i]); } break;
        case dtype::q8_0:  detail::quantize_q8_0(x, dst, nb); break;
        case dtype::q4_0:  detail::quantize_q4_0(x, dst, nb); break;
        case dtype::q4_1:  detail::quantize_q4_1(x, dst, nb); break;
        case dtype::q5_0:  detail::quantize_q5_0(x, dst, nb); break;
        case dtype::q5_1:  detail::quantize_q5_1(x, dst, nb); break;
        case dtype::mxfp4: detail::quantize_mxfp4(x, dst, nb); break;
        case dtype::q3_k:  detail::quantize_q3_k(x, dst, nb, importance); break;
        case dtype::q4_k:  detail::quantize_q4_k(x, dst, nb, importance); break;
        case dtype::q5_k:  detail::quantize_q5_k(x, dst, nb, importance); break;
        case dtype::q6_k:  detail::quantize_q6_k(x, dst, nb, importance); break;
        default: break; // excluded by can_quantize()
    }
}

void dequantize_row(dtype t, const void * src, float * dst, int64_t n) {
    if (!k::ref::dequantize_row_any(static_cast<uint32_t>(t), src, dst, n)) {
        throw Error(ErrorCode::unsupported, std::string("cannot dequantize ") + traits(t).name + " rows of " +
                                                std::to_string(n) + " elements");
    }
}

} // namespace v4::quant
