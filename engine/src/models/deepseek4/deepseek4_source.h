// Where DeepSeek-V4 weights come from: one tensor table (d4_load_tensors, in transformers' names
// and PyTorch shapes) read through a source that maps the names to its file format
// (safetensors: as is; GGUF: llama.cpp's names, deepseek4_gguf.cpp) and converts to fp32.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "models/deepseek4/deepseek4.h"

namespace v4::deepseek4 {

namespace d4_names {  // transformers' DeepseekV4ForCausalLM state dict
inline constexpr const char * tok_embd = "model.embed_tokens.weight";
inline constexpr const char * out_norm = "model.norm.weight";
inline constexpr const char * lm_head = "lm_head.weight";
inline constexpr const char * head_fn = "model.hc_head.hc_fn";
inline constexpr const char * head_base = "model.hc_head.hc_base";
inline constexpr const char * head_scale = "model.hc_head.hc_scale";
inline std::string layer(int il, const std::string & suffix) { return "model.layers." + std::to_string(il) + "." + suffix; }
} // namespace d4_names

class d4_tensor_source {
public:
    virtual ~d4_tensor_source() = default;
    virtual std::string where() const = 0;  // file path, for messages
    // The name the file uses for a transformers name (what error messages show).
    virtual std::string name_of(const std::string & hf_name) const { return hf_name; }
    virtual bool has(const std::string & hf_name) const = 0;
    // fp32 data of a tensor with exactly `shape` (PyTorch order); throws format naming the tensor.
    virtual std::vector<float> f32(const std::string & hf_name, const std::vector<int64_t> & shape) const = 0;
    virtual std::vector<int64_t> i64(const std::string & hf_name, const std::vector<int64_t> & shape) const = 0;
};

// Reads every tensor m.cfg calls for from `src`.
void d4_load_tensors(d4_model & m, const d4_tensor_source & src);

} // namespace v4::deepseek4
