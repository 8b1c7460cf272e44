#include "backend/cpu/thread_pool.h"

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#define V4_CPU_RELAX() _mm_pause()
#else
#define V4_CPU_RELAX() std::this_thread::yield()
#endif

namespace v4::detail {

namespace {
constexpr int k_spin_iterations = 1 << 14; // ~0.45 ms of pause on dev-2c before a worker sleeps
constexpr int k_yield_after = 1 << 10;     // the owner yields its core while waiting past ~30 us

constexpr uint64_t k_closed = 0xffffffffu; // a task index past any run's count

uint32_t generation_of(uint64_t claim) { return static_cast<uint32_t>(claim >> 32); }
} // namespace

thread_pool::thread_pool(int n_threads) {
    for (int i = 1; i < n_threads; ++i) {
        m_workers.emplace_back([this, i] { worker_loop(i); });
    }
}

thread_pool::~thread_pool() {
    m_stop.store(true, std::memory_order_release);
    m_epoch.fetch_add(1, std::memory_order_release);
    m_epoch.notify_all();
    for (std::thread & t : m_workers) {
        t.join();
    }
}

void thread_pool::work(uint32_t generation, int thread) {
    uint64_t claim = m_claim.load(std::memory_order_acquire);
    for (;;) {
        // m_n_tasks may already belong to a later run when `claim` is stale; run_impl() closed the
        // word before changing the count, so the exchange below then fails and the next round sees
        // the new generation and stops.
        const int task = static_cast<int>(claim & 0xffffffffu);
        if (generation_of(claim) != generation || task >= m_n_tasks.load(std::memory_order_acquire)) {
            return;
        }
        if (m_claim.compare_exchange_weak(claim, claim + 1, std::memory_order_acq_rel, std::memory_order_acquire)) {
            // The run cannot end before this task is done, so m_fn and m_ctx are still its own.
            m_fn(m_ctx, task, thread);
            m_done.fetch_add(1, std::memory_order_acq_rel);
            claim = m_claim.load(std::memory_order_acquire);
        }
    }
}

void thread_pool::run_impl(int n_tasks, task_fn fn, void * ctx) {
    if (n_tasks <= 0) {
        return;
    }
    if (m_workers.empty() || n_tasks == 1) {
        for (int t = 0; t < n_tasks; ++t) {
            fn(ctx, t, 0);
        }
        return;
    }
    // No worker is inside a task here (the previous run waited for all of them). A worker that is
    // late for the previous run may still hold its claim word and compare it with m_n_tasks, so
    // the word is closed first: a claim made against the new task count then fails its exchange.
    const uint32_t generation = ++m_generation;
    m_claim.store((static_cast<uint64_t>(generation) << 32) | k_closed, std::memory_order_relaxed);
    m_n_tasks.store(n_tasks, std::memory_order_release);
    m_fn = fn;
    m_ctx = ctx;
    m_done.store(0, std::memory_order_relaxed);
    m_claim.store(static_cast<uint64_t>(generation) << 32, std::memory_order_release); // opens the run
    m_epoch.store(generation, std::memory_order_release);
    m_epoch.notify_all(); // a no-op unless some worker sleeps
    work(generation, 0);
    for (int spins = 0; m_done.load(std::memory_order_acquire) != n_tasks; ++spins) {
        if (spins < k_yield_after) {
            V4_CPU_RELAX();
        } else {
            std::this_thread::yield(); // a claimed task's thread may be waiting for this core
        }
    }
}

void thread_pool::worker_loop(int thread) {
    uint32_t seen = 0;
    for (;;) {
        uint32_t epoch = m_epoch.load(std::memory_order_acquire);
        for (int spins = 0; epoch == seen && spins < k_spin_iterations; ++spins) {
            V4_CPU_RELAX();
            epoch = m_epoch.load(std::memory_order_acquire);
        }
        if (epoch == seen) {
            m_epoch.wait(seen, std::memory_order_acquire);
            epoch = m_epoch.load(std::memory_order_acquire);
        }
        if (m_stop.load(std::memory_order_acquire)) {
            return;
        }
        seen = epoch;
        work(epoch, thread);
    }
}

} // namespace v4::detail
