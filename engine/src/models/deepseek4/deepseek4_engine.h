// The DeepSeek-V4 model behind a loaded v4::model, for the paths that run it on another device
// (backend/cuda/deepseek4/d4_cuda_runner.cpp).
#pragma once

namespace v4::deepseek4 {
struct d4_model;
}

namespace v4::detail {

struct model_impl;

// The model's d4_model, or null when it is another family. Lives as long as the model.
const deepseek4::d4_model * d4_model_of(const model_impl & m);

} // namespace v4::detail
