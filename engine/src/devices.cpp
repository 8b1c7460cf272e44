#include "v4/devices.h"

#include "cpu/cpu_features.h"

#if defined(V4_WITH_CUDA)
#include "cuda/device.h"
#endif

#include <cstdio>

namespace v4 {

namespace {

compute_device_report probe() {
    compute_device_report report;
    report.backend     = "cpu";
    report.description = kernels::describe_cpu_features(kernels::detect_cpu_features());
#if defined(V4_WITH_CUDA)
    const kernels::cuda::device_probe probe = kernels::cuda::probe_devices();
    if (probe.device_count > 0) {
        char desc[256];
        std::snprintf(desc, sizeof desc, "%s (sm_%d%d, %.1f GiB)", probe.name.c_str(), probe.compute_major,
                      probe.compute_minor, static_cast<double>(probe.total_memory) / (1024.0 * 1024.0 * 1024.0));
        report.backend     = "cuda";
        report.description = desc;
        report.reason      = "CUDA device found";
    } else {
        report.reason = "no usable GPU (" + probe.unavailable_reason + "), using the CPU backend";
    }
#else
    report.reason = "this build has no CUDA support, using the CPU backend";
#endif
    return report;
}

} // namespace

compute_device_report probe_compute_devices() {
    // Devices do not come and go during a run; asking the driver once keeps later callers
    // (every answer's stats, the self-check) free of driver round trips.
    static const compute_device_report report = probe();
    return report;
}

} // namespace v4
