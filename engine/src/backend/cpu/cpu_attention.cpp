// CPU attention over an f32 KV cache, split by (token, KV head) or (token, head).
#include "backend/cpu/cpu_attention.h"

#include <algorithm>

#include "cpu/attention.h"

namespace v4::detail {

namespace kc = v4::kernels::cpu;

void cpu_attention::run(thread_pool & pool, const attention_args & a) {
    const int n_kv = a.pos0 + a.n_tokens;
    // One task per (token, KV head) so each K/V row is read once for its query heads; per
    // (token, query head) when that leaves too few tasks to keep every thread busy (decode of
    // a model with one KV head).
    const int  group = a.n_head / a.n_head_kv;
    const bool by_kv = a.n_tokens * a.n_head_kv >= 2 * pool.size();
    const int  per_task = by_kv ? group : 1;
    const int  tasks_per_token = a.n_head / per_task;
    const kc::attend_fn attend = kc::find_attend_kernel(a.head_dim);
    m_scores.resize(static_cast<size_t>(pool.size()));
    for (auto & s : m_scores) {
        s.resize(static_cast<size_t>(n_kv) * per_task);
    }
    pool.run(a.n_tokens * tasks_per_token, [&](int task, int thread) {
        const int    t = task / tasks_per_token;
        const int    h0 = task % tasks_per_token * per_task; // first query head of this task
        const int    p = a.pos0 + t;
        const int    k0 = a.window > 0 ? std::max(0, p - a.window + 1) : 0;
        const size_t kv_off = static_cast<size_t>(k0) * a.kv_stride + static_cast<size_t>(h0 / group) * a.head_dim;
        const size_t q_off = (static_cast<size_t>(t) * a.n_head + h0) * a.head_dim;
        attend(a.q + q_off, a.k_cache + kv_off, a.v_cache + kv_off, static_cast<size_t>(a.kv_stride), p - k0 + 1,
               a.head_dim, per_task, a.scale, m_scores[static_cast<size_t>(thread)].data(), a.out + q_off);
    });
}

} // namespace v4::detail
