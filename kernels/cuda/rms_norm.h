// RMSNorm on the GPU: y[r, :] = x[r, :] / sqrt(mean(x[r, :]^2) + eps) * w[:].
// Host-side wrapper: copies in, runs, copies out. Returns an empty string on success, else the
// CUDA error text. Used by the CUDA test suite against kernels/reference.
#pragma once

#include <cstdint>
#include <string>

namespace v4::kernels::cuda {

std::string rms_norm_host(const float * x, const float * w, float * y, int64_t rows, int64_t cols, float eps);

} // namespace v4::kernels::cuda
