// A d4_state as bytes and back, for session snapshots. Reading checks every vector's size against
// what the model and the position imply (window tail, open windows, previous window, entries), so
// a damaged or foreign snapshot is a format error naming the layer and the part, never a state
// the forward would index out of bounds.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "models/deepseek4/deepseek4.h"

namespace v4::deepseek4 {

// Layout (little endian): "D4ST", u32 version, u32 n_layers, i32 n_past, then per layer the window
// tail and the compressor and indexer-compressor states (buf_kv, buf_gate, prev_kv, prev_gate,
// entries), each as u64 count + f32 values, and the compressors' i32 n_entries.
std::vector<uint8_t> d4_save_state(const d4_state & s);
d4_state d4_load_state(const d4_model & m, std::span<const uint8_t> bytes);

} // namespace v4::deepseek4
