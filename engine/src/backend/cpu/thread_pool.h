// A persistent pool of worker threads for the CPU backend. Threads are created once; run() wakes
// them, every thread (the caller included) pulls task indices from one atomic counter, and run()
// returns when all tasks are done. Idle workers spin briefly (a decode step issues hundreds of
// run() calls a few microseconds apart) and then sleep on a condition variable.
//
// Not reentrant: one run() at a time, from the thread that owns the pool. Tasks must not throw.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <type_traits>
#include <vector>

namespace v4::detail {

class thread_pool {
public:
    explicit thread_pool(int n_threads); // total threads including the caller; >= 1
    ~thread_pool();
    thread_pool(const thread_pool &) = delete;
    thread_pool & operator=(const thread_pool &) = delete;

    int size() const { return static_cast<int>(m_workers.size()) + 1; }

    // Calls fn(task, thread) for every task in [0, n_tasks); `thread` is in [0, size()).
    template <class F>
    void run(int n_tasks, F && fn) {
        using fn_t = std::remove_reference_t<F>;
        auto call = [](void * ctx, int task, int thread) { (*static_cast<fn_t *>(ctx))(task, thread); };
        run_impl(n_tasks, call, const_cast<void *>(static_cast<const void *>(&fn)));
    }

private:
    using task_fn = void (*)(void * ctx, int task, int thread);
    void run_impl(int n_tasks, task_fn fn, void * ctx);
    void worker_loop(int thread);
    void work(int thread);

    std::vector<std::thread> m_workers;
    std::mutex               m_mutex;
    std::condition_variable  m_wake;
    std::atomic<uint64_t>    m_generation{0};
    std::atomic<int>         m_next{0};
    std::atomic<int>         m_pending{0}; // workers still inside the current generation
    std::atomic<bool>        m_stop{false};
    int                      m_n_tasks = 0;
    task_fn                  m_fn = nullptr;
    void *                   m_ctx = nullptr;
};

} // namespace v4::detail
