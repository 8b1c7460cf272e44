// CUDA device discovery. Safe to call on machines without a GPU or driver: it reports why
// instead of failing.
#pragma once

#include <string>

namespace v4::kernels::cuda {

struct device_probe {
    int         device_count = 0;
    std::string name;          // of device 0, when there is one
    size_t      total_memory = 0;
    int         compute_major = 0;
    int         compute_minor = 0;
    std::string unavailable_reason; // empty when device_count > 0
};

device_probe probe_devices();

} // namespace v4::kernels::cuda
