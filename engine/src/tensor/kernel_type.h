// The engine's dtype and the kernels' qtype share ggml's numbering; this maps one to the other
// for the types the kernels handle.
#pragma once

#include <optional>

#include "reference/quant_blocks.h"
#include "tensor/dtype.h"

namespace v4 {

// nullopt for a type the kernels do not handle (every dtype with traits().supported == false).
inline std::optional<kernels::qtype> kernel_type(dtype t) {
    switch (t) {
        case dtype::f32:   return kernels::qtype::f32;
        case dtype::f16:   return kernels::qtype::f16;
        case dtype::bf16:  return kernels::qtype::bf16;
        case dtype::q4_0:  return kernels::qtype::q4_0;
        case dtype::q4_1:  return kernels::qtype::q4_1;
        case dtype::q5_0:  return kernels::qtype::q5_0;
        case dtype::q5_1:  return kernels::qtype::q5_1;
        case dtype::q8_0:  return kernels::qtype::q8_0;
        case dtype::q3_k:  return kernels::qtype::q3_k;
        case dtype::q4_k:  return kernels::qtype::q4_k;
        case dtype::q5_k:  return kernels::qtype::q5_k;
        case dtype::q6_k:  return kernels::qtype::q6_k;
        case dtype::mxfp4: return kernels::qtype::mxfp4;
        default:           return std::nullopt;
    }
}

} // namespace v4
