// DeepSeek-V4 sessions on CUDA: a device_runner (backend/cuda/cuda_runner.h) over d4_cuda_eval, chosen
// by make_cuda_runner for arch "deepseek4". The weights go up once per model and are shared by its
// sessions; each session keeps its V4 state (window tails, compressors, compressed entries) on the
// device and follows rewinds by replay (models/deepseek4/deepseek4_replay.h), as the CPU path does.
// Session snapshots are refused (unsupported): the state lives on the device and is not copied back.
#pragma once

#include <memory>

#include "backend/cuda/cuda_runner.h"

namespace v4::detail {

// Throws v4::Error saying why when the device forward cannot run the model here (no CUDA build, no
// device, shapes the kernels do not take: unsupported; weights larger than the free memory:
// out_of_memory). m must be a DeepSeek-V4 model (d4_model_of). The session bounds the context and the
// ubatch; the device buffers follow the chunks.
std::unique_ptr<device_runner> make_d4_cuda_runner(const std::shared_ptr<const model> & m);

} // namespace v4::detail
