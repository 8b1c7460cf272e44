#include "backend/cpu/thread_pool.h"

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#define V4_CPU_RELAX() _mm_pause()
#else
#define V4_CPU_RELAX() std::this_thread::yield()
#endif

namespace v4::detail {

namespace {
constexpr int k_spin_iterations = 1 << 14; // ~50-100 us of pause before sleeping
}

thread_pool::thread_pool(int n_threads) {
    for (int i = 1; i < n_threads; ++i) {
        m_workers.emplace_back([this, i] { worker_loop(i); });
    }
}

thread_pool::~thread_pool() {
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        m_stop.store(true);
        m_generation.fetch_add(1);
    }
    m_wake.notify_all();
    for (std::thread & t : m_workers) {
        t.join();
    }
}

void thread_pool::work(int thread) {
    for (;;) {
        const int task = m_next.fetch_add(1, std::memory_order_relaxed);
        if (task >= m_n_tasks) {
            break;
        }
        m_fn(m_ctx, task, thread);
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
    m_n_tasks = n_tasks;
    m_fn = fn;
    m_ctx = ctx;
    m_next.store(0, std::memory_order_relaxed);
    m_pending.store(static_cast<int>(m_workers.size()), std::memory_order_relaxed);
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        m_generation.fetch_add(1, std::memory_order_release);
    }
    m_wake.notify_all();
    work(0);
    while (m_pending.load(std::memory_order_acquire) != 0) {
        V4_CPU_RELAX();
    }
}

void thread_pool::worker_loop(int thread) {
    uint64_t seen = 0;
    for (;;) {
        int spins = 0;
        while (m_generation.load(std::memory_order_acquire) == seen && spins < k_spin_iterations) {
            V4_CPU_RELAX();
            ++spins;
        }
        if (m_generation.load(std::memory_order_acquire) == seen) {
            std::unique_lock<std::mutex> lock(m_mutex);
            m_wake.wait(lock, [&] { return m_generation.load(std::memory_order_acquire) != seen; });
        }
        seen = m_generation.load(std::memory_order_acquire);
        if (m_stop.load()) {
            return;
        }
        work(thread);
        m_pending.fetch_sub(1, std::memory_order_acq_rel);
    }
}

} // namespace v4::detail
