#include "cuda/device.h"

#include <cuda_runtime.h>
#include <unistd.h>

namespace v4::kernels::cuda {

device_probe probe_devices() {
    device_probe probe;
    int count = 0;
    const cudaError_t err = cudaGetDeviceCount(&count);
    if (err != cudaSuccess) {
        // Without the NVIDIA kernel driver the runtime says "driver version is insufficient",
        // which misleads; name the real cause.
        const bool driver_loaded = access("/proc/driver/nvidia/version", F_OK) == 0;
        probe.unavailable_reason = driver_loaded ? std::string("CUDA runtime reports: ") + cudaGetErrorString(err)
                                                 : std::string("no NVIDIA driver is loaded");
        cudaGetLastError(); // clear the sticky error so later calls start clean
        return probe;
    }
    if (count == 0) {
        probe.unavailable_reason = "no CUDA device is present";
        return probe;
    }
    cudaDeviceProp prop{};
    if (cudaGetDeviceProperties(&prop, 0) != cudaSuccess) {
        probe.unavailable_reason = "could not read the properties of CUDA device 0";
        return probe;
    }
    probe.device_count  = count;
    probe.name          = prop.name;
    probe.total_memory  = prop.totalGlobalMem;
    probe.compute_major = prop.major;
    probe.compute_minor = prop.minor;
    return probe;
}

} // namespace v4::kernels::cuda
