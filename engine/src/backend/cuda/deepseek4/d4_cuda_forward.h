// DeepSeek-V4 forward resident on a CUDA device: the same computation as d4_eval
// (models/deepseek4/deepseek4.h), built from the kernels of kernels/cuda/deepseek4, with the weights
// uploaded once and the per-sequence state (window tails, compressors' open windows, compressed
// entries) kept on the device. Only the chunk's token ids go up and the logits come back.
//
//   auto dm = d4_cuda_upload(m);                    // throws v4::Error (unsupported / out_of_memory)
//   d4_cuda_state s = d4_cuda_new_state(*dm);
//   std::vector<float> l = d4_cuda_eval(*dm, s, prompt);   // [T, vocab], as d4_eval
//   l = d4_cuda_eval(*dm, s, {next}, false);               // decode: [vocab]
//
// The weights are those of d4_model, fp32 (the engine decodes FP8 / MXFP4 at load); the kernels
// already read the checkpoints' block formats, see docs/notes-cuda-deepseek4.md for what keeping
// them is missing. One model may serve several states; a state is used by one thread at a time.
// d4_cuda_upload throws out_of_memory with the numbers when the weights exceed the free device memory.
// Without a CUDA build every function throws unsupported with the reason.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "models/deepseek4/deepseek4.h"

namespace v4::deepseek4 {

struct d4_cuda_model;
struct d4_cuda_state_impl;

struct d4_cuda_state {
    int n_past = 0;
    std::shared_ptr<d4_cuda_state_impl> impl;
};

// Why the device forward cannot run here ("" when it can): no CUDA build, or no device.
std::string d4_cuda_unavailable_reason();

// Device 0, for logs and `v4 bench` (empty name and 0 without a device).
struct d4_cuda_device {
    std::string name;
    double peak_bandwidth = 0;  // bytes/s: 2 (DDR) x memory clock x bus width / 8; 0 when unknown
};
d4_cuda_device d4_cuda_device_info();

std::shared_ptr<const d4_cuda_model> d4_cuda_upload(const d4_model & m);
d4_cuda_state d4_cuda_new_state(const d4_cuda_model & m);
std::vector<float> d4_cuda_eval(const d4_cuda_model & m, d4_cuda_state & state, const std::vector<int32_t> & tokens,
                                bool all_logits = true);
// Device bytes of the uploaded weights (for messages and budgeting).
uint64_t d4_cuda_weight_bytes(const d4_cuda_model & m);

} // namespace v4::deepseek4
