// CPU attention over the KV cache (f16, or f32 with accurate precision). A task is (query block, key split):
//  - query blocks of ~64 rows (tokens x the query heads of one KV head) stream each K/V row once
//    per block instead of once per query (prefill at 4k+ context was bound by re-reading K/V);
//  - key splits (flash-decoding) keep every thread busy when there are few blocks: decode splits
//    its keys over the threads and merges the partial softmax states afterwards, so each token
//    still reads the cache once;
//  - a task walks its keys in tiles and every KV head within a tile, so it reads the cache rows
//    (all heads of a position side by side) as one forward stream. One task per head read each
//    row's slice of one head at a stride of the whole row: the hardware prefetchers did not follow
//    that from DRAM and decode attention waited on its K loads (Q4_0 llama-shape decode: ~20% of
//    the time at context 700 for ~7% of the bytes).
#include "backend/cpu/cpu_attention.h"

#include <algorithm>

#include "cpu/attention.h"

namespace v4::detail {

namespace kc = v4::kernels::cpu;

namespace {

constexpr int k_block_rows = 64;     // query rows (tokens x group) per block
constexpr int k_min_split_keys = 64; // fewer keys per split cost more in merging than they gain
constexpr int k_head_tile = 64;      // keys per step of a task's walk over the KV heads

// Keys a block of queries at positions [p_first, p_last] may see: [begin, end).
struct key_range {
    int begin, end;
};
key_range visible_keys(const attention_args & a, int p_first, int p_last) {
    return {a.window > 0 ? std::max(0, p_first - a.window + 1) : 0, p_last + 1};
}

} // namespace

void cpu_attention::run(thread_pool & pool, const attention_args & a) {
    const int    group = a.n_head / a.n_head_kv;
    const int    hd = a.head_dim;
    const int    q_block = std::max(1, std::min(a.n_tokens, k_block_rows / group));
    const int    n_qb = (a.n_tokens + q_block - 1) / q_block;
    const int    rows = q_block * group;
    const size_t state_floats = static_cast<size_t>(rows) * (hd + 2);
    // Split the keys when the blocks alone give fewer than ~4 tasks per thread.
    const key_range widest = visible_keys(a, a.pos0 + a.n_tokens - 1, a.pos0 + a.n_tokens - 1);
    const int max_split = std::max(1, (widest.end - widest.begin) / k_min_split_keys);
    const int n_split = std::clamp((4 * pool.size() + n_qb - 1) / n_qb, 1, max_split);
    const int n_tasks = n_qb * n_split;

    const bool                f16 = a.kv_type == dtype::f16;
    const kc::attend_block_fn fn = kc::find_attend_block_kernel(hd);
    m_state.resize(state_floats * static_cast<size_t>(n_tasks) * a.n_head_kv);
    m_scratch.resize(static_cast<size_t>(pool.size()));
    for (auto & s : m_scratch) {
        s.resize(kc::attend_scratch_floats(hd));
    }
    const size_t q_stride = static_cast<size_t>(a.n_head) * hd;
    auto block_of = [&](int qb, int kvh) {
        kc::attend_block b;
        const int t0 = qb * q_block;
        b.q = a.q + t0 * q_stride + static_cast<size_t>(kvh) * group * hd;
        b.q_stride = q_stride;
        b.n_q = std::min(q_block, a.n_tokens - t0);
        b.group = group;
        b.head_dim = hd;
        b.pos0 = a.pos0 + t0;
        b.window = a.window;
        b.scale = a.scale;
        const size_t head_off = static_cast<size_t>(kvh) * hd * (f16 ? sizeof(kc::kv_half) : sizeof(float));
        b.k = static_cast<const uint8_t *>(a.k_cache) + head_off;
        b.v = static_cast<const uint8_t *>(a.v_cache) + head_off;
        b.kv_stride = static_cast<size_t>(a.kv_stride);
        b.format = f16 ? kc::kv_format::f16 : kc::kv_format::f32;
        return b;
    };
    // the state of (task, KV head)
    auto state_of = [&](int task, int kvh) {
        float * base = m_state.data() + state_floats * (static_cast<size_t>(task) * a.n_head_kv + kvh);
        return kc::attend_state{base, base + rows, base + 2 * rows};
    };
    // Tasks split-major within a block; the last blocks (most keys) first.
    pool.run(n_tasks, [&](int task, int thread) {
        const int              qb = n_qb - 1 - task / n_split, split = task % n_split;
        const kc::attend_block b0 = block_of(qb, 0);
        const key_range        keys = visible_keys(a, b0.pos0, b0.pos0 + b0.n_q - 1);
        const int              n_keys = keys.end - keys.begin;
        const int              k0 = keys.begin + static_cast<int>(static_cast<int64_t>(n_keys) * split / n_split);
        const int              k1 = keys.begin + static_cast<int>(static_cast<int64_t>(n_keys) * (split + 1) / n_split);
        for (int kvh = 0; kvh < a.n_head_kv; ++kvh) {
            kc::attend_state_init(state_of(task, kvh), b0.n_q * group, hd);
        }
        float * scratch = m_scratch[static_cast<size_t>(thread)].data();
        for (int lo = k0; lo < k1; lo += k_head_tile) {
            for (int kvh = 0; kvh < a.n_head_kv; ++kvh) {
                fn(block_of(qb, kvh), lo, std::min(k1, lo + k_head_tile), state_of(task, kvh), scratch);
            }
        }
        if (n_split == 1) {
            for (int kvh = 0; kvh < a.n_head_kv; ++kvh) {
                const kc::attend_block b = block_of(qb, kvh);
                kc::attend_state_finish(state_of(task, kvh), b.n_q, group, hd, a.out + (b.q - a.q), q_stride);
            }
        }
    });
    if (n_split > 1) {
        pool.run(n_qb * a.n_head_kv, [&](int bh, int) {
            const int              qb = n_qb - 1 - bh / a.n_head_kv, kvh = bh % a.n_head_kv;
            const kc::attend_block b = block_of(qb, kvh);
            const int              first = (n_qb - 1 - qb) * n_split; // the block's split-0 task
            const kc::attend_state st = state_of(first, kvh);
            for (int split = 1; split < n_split; ++split) {
                kc::attend_state_merge(st, state_of(first + split, kvh), b.n_q * group, hd);
            }
            kc::attend_state_finish(st, b.n_q, group, hd, a.out + (b.q - a.q), q_stride);
        });
    }
}

} // namespace v4::detail
