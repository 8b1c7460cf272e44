// How a DeepSeek-V4 sequence state follows a session that rewinds, for the CPU state
// (deepseek4_engine.cpp) and the device one (backend/cuda/deepseek4/d4_cuda_runner.cpp): compressed
// entries cannot be "un-pooled", so going back means a fresh state and a replay of the kept prefix;
// appending (the chat case) costs nothing extra.
//
// `log` holds every token placed at positions 0.. since the last rewind: the state has seen a prefix of
// it (a replay cut short by a cancel resumes on the next call). State provides `int position() const`,
// `void reset()` (a fresh state) and `void advance(const std::vector<int32_t> &)` (evaluate, logits
// discarded).
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "v4/error.h"

namespace v4::deepseek4 {

// Brings the state to position pos0 and cuts the log there; the caller then evaluates the new tokens
// and appends them to the log.
template <class State>
void d4_seek(State & s, std::vector<int32_t> & log, int pos0, const std::atomic<bool> * cancel) {
    if (pos0 < 0 || size_t(pos0) > log.size()) {
        throw Error(ErrorCode::internal, "deepseek4: the session is at position " + std::to_string(pos0) + " but " +
                                             std::to_string(log.size()) + " tokens were evaluated");
    }
    if (pos0 < s.position()) s.reset();
    constexpr int chunk = 256;
    while (s.position() < pos0) {
        if (cancel != nullptr && cancel->load(std::memory_order_relaxed)) {
            throw Error(ErrorCode::cancelled, "evaluation cancelled");
        }
        const auto from = log.begin() + s.position();
        s.advance(std::vector<int32_t>(from, from + std::min(chunk, pos0 - s.position())));
    }
    log.resize(size_t(pos0));
}

} // namespace v4::deepseek4
