// Attention for the CPU backend: splits attention_args (backend.h) into tasks over the thread pool
// and runs the block kernels of kernels/cpu/attention.h. Keeps its own scratch, so the backend
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
    std::vector<float>              m_state;   // online-softmax state (m, l, o) of every task
    std::vector<std::vector<float>> m_scratch; // per thread: the kernel's f32 K/V tile
};

} // namespace v4::detail
