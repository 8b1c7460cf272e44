// SnapshotWriter: compresses and writes captured session states on a thread of its own, so the
// engine thread pays only for copying the cache out and an answer never waits for the disk.
// At most one write runs and one waits; a newer capture replaces the waiting one (a snapshot is a
// cache: skipping one costs a re-prefill later, queueing gigabytes of captures could cost memory).
// After each write the folder is pruned to the budget, the conversation just written kept.
//
// Thread contract: submit() from any one thread; `report` runs on the writer's thread once per
// write that was started (success or error).
#pragma once

#include "sessions/SessionSnapshotStore.h"

#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>

namespace v4app::sessions {

class SnapshotWriter final {
public:
    using Report = std::function<void(qint64 conversationId, const Expected<SnapshotInfo> & result)>;

    SnapshotWriter(SessionSnapshotStore store, SnapshotBudget budget, Report report);
    ~SnapshotWriter(); // drops the waiting capture, finishes the running write (no half files either way)
    SnapshotWriter(const SnapshotWriter &)             = delete;
    SnapshotWriter & operator=(const SnapshotWriter &) = delete;

    void submit(qint64 conversationId, ModelIdentity model, SessionCapture capture);

private:
    struct Job {
        qint64         conversationId = 0;
        ModelIdentity  model;
        SessionCapture capture;
    };
    void run();

    SessionSnapshotStore    m_store;
    SnapshotBudget          m_budget;
    Report                  m_report;
    std::mutex              m_mutex;
    std::condition_variable m_wake;
    std::optional<Job>      m_pending;
    bool                    m_stop = false;
    std::thread             m_thread; // last: starts after the members it uses
};

} // namespace v4app::sessions
