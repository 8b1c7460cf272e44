// Which compute backend the engine will use, and why. CUDA is optional at build time and at run
// time: without a GPU (or without a CUDA build) the CPU backend is chosen, and `reason` says why
// in one line that hosts log.
#pragma once

#include <string>

namespace v4 {

struct compute_device_report {
    std::string backend;     // "cuda" or "cpu"
    std::string description; // e.g. "NVIDIA H100 80GB HBM3 (sm_90, 79.1 GiB)" or the CPU's features
    std::string reason;      // why this backend was chosen
};

// Probed once per process (thread-safe); later calls return the same report.
compute_device_report probe_compute_devices();

} // namespace v4
