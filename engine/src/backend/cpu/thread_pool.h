// A persistent pool of worker threads for the CPU backend. Threads are created once; run() wakes
// them, every thread (the caller included) claims task indices from one shared counter, and run()
// returns when every task has finished. Idle workers spin briefly (a decode step issues hundreds
// of run() calls a few microseconds apart) and then sleep on a futex.
//
// Graceful under load: run() waits only for tasks that another thread has claimed, never for a
// worker to show up. A worker that is asleep or preempted (a busy desktop, a second pool) simply
// claims nothing, and the caller does the work itself; the counter carries the run's generation,
// so a worker waking late cannot claim a task of a run that has moved on.
//
// Not reentrant: one run() at a time, from the thread that owns the pool. Tasks must not throw.
#pragma once

#include <atomic>
#include <cstdint>
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
    void work(uint32_t generation, int thread);

    std::vector<std::thread> m_workers;
    // (generation << 32) | next task index: claiming a task is a compare-exchange that also checks
    // the run it belongs to.
    std::atomic<uint64_t> m_claim{0};
    std::atomic<uint32_t> m_epoch{0};  // the generation, for futex sleep and wake-up
    std::atomic<int>      m_done{0};   // tasks of the current run finished
    std::atomic<bool>     m_stop{false};
    uint32_t              m_generation = 0; // owner thread only
    std::atomic<int>      m_n_tasks{0};     // written before the generation is published
    task_fn               m_fn = nullptr;
    void *                m_ctx = nullptr;
};

} // namespace v4::detail
