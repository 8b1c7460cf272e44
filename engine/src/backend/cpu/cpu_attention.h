// Attention for the CPU backend: splits attention_args (backend.h) into tasks over the thread pool
// and runs the kernels of kernels/cpu/attention.h. Keeps its own per-thread scratch, so the backend
// only forwards to it.
#pragma once

#include <vector>

#include "backend/backend.h"
#include "backend/cpu/thread_pool.h"

namespace v4::detail {

class cpu_attention {
public:
    void run(thread_pool & pool, const attention_args & a);

private:
    std::vector<std::vector<float>> m_scores; // per thread: attention scores
};

} // namespace v4::detail
