// The candidate types of a tensor and llama.cpp's fallback for rows that K-quants cannot hold.
#pragma once

#include <cstdint>
#include <span>

#include "tensor/dtype.h"

namespace v4::quant {

// Cheapest first. K-quant rows must be a multiple of 256 elements; other rows (Gemma 3's 640,
// SmolLM2's 576) choose among the 32-element types.
std::span<const dtype> candidate_types(int64_t n_in);

// The type llama.cpp substitutes when `wanted` cannot store rows of n_in elements
// (q3_K -> q4_0 (llama.cpp: iq4_nl), q4_K -> q5_0, q5_K -> q5_1, q6_K -> q8_0); `wanted` otherwise.
dtype with_fallback(dtype wanted, int64_t n_in);

} // namespace v4::quant
