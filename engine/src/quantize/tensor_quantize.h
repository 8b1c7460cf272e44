// Whole-tensor helpers over quantize_row(): dequantize a GGUF tensor to f32, quantize a matrix
// (rows split over threads), and the imatrix-weighted squared error of a quantization.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "format/gguf.h"

namespace v4::quant {

// Rows of a tensor: the product of shape[1..].
int64_t tensor_rows(const gguf::tensor_info & t);

std::vector<float> dequantize_tensor(const gguf::tensor_info & t);

// w: [rows][n_in]; importance: [n_in] (the same for every row) or null.
std::vector<uint8_t> quantize_matrix(dtype type, const float * w, int64_t n_in, int64_t rows,
                                     const float * importance, int threads);

// sum over rows r and columns c of importance[c] * (w[r][c] - deq(q)[r][c])^2 (importance 1 when null).
double weighted_error(dtype type, const uint8_t * q, const float * w, int64_t n_in, int64_t rows,
                      const float * importance, int threads);

// Runs fn(begin, end) over [0, n) split into `threads` contiguous ranges on std::threads.
void parallel_rows(int64_t n, int threads, const std::function<void(int64_t, int64_t)> & fn);

} // namespace v4::quant
