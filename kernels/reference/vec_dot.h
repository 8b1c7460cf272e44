// Reference dot product of one weight row (any type dequantize_row accepts) with an f32
// vector. Ground truth for the optimized kernels: each block is dequantized exactly as
// dequantize_row does, and every product and sum is taken in double, so the only rounding is
// that of the dequantized weights (and of the final conversion if the caller narrows to float).
#pragma once

#include <cstdint>
#include <optional>

#include "reference/quant_blocks.h"

namespace v4::kernels::ref {

// nullopt when the type is not handled or n is not a multiple of its block size.
std::optional<double> vec_dot(qtype type, const void * row, const float * x, int64_t n);

} // namespace v4::kernels::ref
