// A V4-shaped model with random weights, built in memory (nothing written to disk): every layer type
// (SWA, CSA with the indexer, HCA), hash and learned routing, 4 mHC streams. For long-context
// benchmarks of the forward and state; the outputs mean nothing.
#pragma once

#include <cstdint>

#include "models/deepseek4/deepseek4.h"

namespace v4::deepseek4 {

// ~43M parameters: vocab 32000, hidden 256, 4 layers (SWA/hash, CSA/hash, HCA/learned, HCA/learned),
// 4 heads x 64 (rope 16), window 128, 16 experts (top-2, width 512) + shared, indexer 2 x 32 top-64.
d4_config d4_synthetic_config();

// Weights ~ N(0, 1/fan_in), norms 1, small random mHC / position biases, hash table of distinct experts.
d4_model d4_synthetic_model(const d4_config & c, uint64_t seed);

// Parameters of the model, and those one token touches (embedding row, attention, top-k + shared
// experts, router, head) — the activated-parameter figure.
struct d4_param_count {
    uint64_t total = 0, activated = 0;
};
d4_param_count d4_count_params(const d4_model & m);

} // namespace v4::deepseek4
