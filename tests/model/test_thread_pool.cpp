// The CPU backend's thread pool: every task runs exactly once per run, on a thread id no other
// running task holds; runs stay correct when tasks are uneven, when two pools take turns on one
// thread (the bench's bandwidth probe beside a session), after workers have gone to sleep, and
// when the pool is destroyed with sleeping workers.
#include <QTest>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "backend/cpu/thread_pool.h"

using v4::detail::thread_pool;

class TestThreadPool : public QObject {
    Q_OBJECT

    // Runs n_tasks on `pool`, checking exactly-once execution and exclusive thread ids.
    static void checkRun(thread_pool & pool, int n_tasks, int slow_task = -1) {
        std::vector<std::atomic<int>> runs(static_cast<size_t>(n_tasks));
        std::vector<std::atomic<int>> busy(static_cast<size_t>(pool.size()));
        std::atomic<int>              bad_thread{0};
        pool.run(n_tasks, [&](int task, int thread) {
            if (thread < 0 || thread >= pool.size() || busy[static_cast<size_t>(thread)].fetch_add(1) != 0) {
                bad_thread.fetch_add(1);
                return;
            }
            if (task == slow_task) {
                std::this_thread::sleep_for(std::chrono::milliseconds(2));
            }
            runs[static_cast<size_t>(task)].fetch_add(1);
            busy[static_cast<size_t>(thread)].fetch_sub(1);
        });
        QCOMPARE(bad_thread.load(), 0);
        for (int t = 0; t < n_tasks; ++t) {
            const int n = runs[static_cast<size_t>(t)].load();
            QVERIFY2(n == 1, qPrintable(QStringLiteral("task %1 ran %2 times").arg(t).arg(n)));
        }
    }

private slots:
    void everyTaskOnce() {
        for (int threads = 1; threads <= 4; ++threads) {
            thread_pool pool(threads);
            QCOMPARE(pool.size(), threads);
            for (int n = 0; n <= 67; ++n) {
                checkRun(pool, n);
            }
        }
    }

    void manyShortRuns() { // decode issues hundreds of runs a few microseconds apart
        thread_pool pool(2);
        for (int i = 0; i < 20000; ++i) {
            checkRun(pool, 1 + i % 9);
        }
    }

    void unevenTasks() {
        thread_pool pool(3);
        for (int i = 0; i < 50; ++i) {
            checkRun(pool, 16, i % 16);
        }
    }

    void twoPoolsTakeTurns() {
        thread_pool a(2), b(2);
        for (int i = 0; i < 5000; ++i) {
            checkRun(i % 2 ? a : b, 8);
        }
    }

    void afterWorkersSleep() {
        thread_pool pool(2);
        for (int i = 0; i < 5; ++i) {
            checkRun(pool, 32);
            std::this_thread::sleep_for(std::chrono::milliseconds(5)); // past the spin: workers sleep
        }
    }

    void destroyWithSleepingWorkers() {
        for (int i = 0; i < 3; ++i) {
            thread_pool pool(4);
            checkRun(pool, 4);
            std::this_thread::sleep_for(std::chrono::milliseconds(3));
        } // the destructor must wake and join them (a hang fails the test by timeout)
    }
};

QTEST_APPLESS_MAIN(TestThreadPool)
#include "test_thread_pool.moc"
