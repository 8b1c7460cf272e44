// DeepSeek-V4 from GGUF with llama.cpp's `deepseek4` metadata keys and tensor names (the mapping
// is one table in deepseek4_gguf.cpp; tools/reference/convert_deepseek4_gguf.py writes the same).
// Any tensor type the reference dequantizers know (f32, f16, bf16, q8_0, k-quants, mxfp4...) is
// converted to fp32 at load.
#pragma once

#include "format/gguf.h"
#include "models/deepseek4/deepseek4.h"

namespace v4::deepseek4 {

// Throws format naming the key or the GGUF tensor (missing, wrong ggml shape, unreadable type).
d4_config d4_config_from_gguf(const gguf::file & f);
d4_model d4_load_gguf(const gguf::file & f);

} // namespace v4::deepseek4
