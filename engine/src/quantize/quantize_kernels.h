// Per-type block quantizers behind quantize_row() (quantize_row.cpp dispatches). nb: blocks.
#pragma once

#include <cstdint>

namespace v4::quant::detail {

// quantize_legacy.cpp: gguf-py-exact 32-element types.
void quantize_q8_0(const float * x, void * dst, int64_t nb);
void quantize_q4_0(const float * x, void * dst, int64_t nb);
void quantize_q4_1(const float * x, void * dst, int64_t nb);
void quantize_q5_0(const float * x, void * dst, int64_t nb);
void quantize_q5_1(const float * x, void * dst, int64_t nb);
void quantize_mxfp4(const float * x, void * dst, int64_t nb);

// quantize_kquants.cpp: 256-element super-blocks; importance: [nb * 256] or nullptr.
void quantize_q3_k(const float * x, void * dst, int64_t nb, const float * importance);
void quantize_q4_k(const float * x, void * dst, int64_t nb, const float * importance);
void quantize_q5_k(const float * x, void * dst, int64_t nb, const float * importance);
void quantize_q6_k(const float * x, void * dst, int64_t nb, const float * importance);

} // namespace v4::quant::detail
