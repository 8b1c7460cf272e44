#include "sessions/SnapshotWriter.h"

#include <spdlog/spdlog.h>

namespace v4app::sessions {

SnapshotWriter::SnapshotWriter(SessionSnapshotStore store, SnapshotBudget budget, Report report)
    : m_store(std::move(store)), m_budget(budget), m_report(std::move(report)), m_thread([this] { run(); }) {}

SnapshotWriter::~SnapshotWriter() {
    {
        std::lock_guard lock(m_mutex);
        m_stop = true;
        m_pending.reset();
    }
    m_wake.notify_all();
    m_thread.join();
}

void SnapshotWriter::submit(qint64 conversationId, ModelIdentity model, SessionCapture capture) {
    {
        std::lock_guard lock(m_mutex);
        if (m_pending) {
            spdlog::info("session snapshot of conversation {} skipped: a newer one replaces it", m_pending->conversationId);
        }
        m_pending = Job{conversationId, std::move(model), std::move(capture)};
    }
    m_wake.notify_all();
}

void SnapshotWriter::run() {
    for (;;) {
        Job job;
        {
            std::unique_lock lock(m_mutex);
            m_wake.wait(lock, [this] { return m_stop || m_pending; });
            if (m_stop) {
                return;
            }
            job = std::move(*m_pending);
            m_pending.reset();
        }
        const Expected<SnapshotInfo> result = m_store.save(job.conversationId, job.model, job.capture);
        job.capture.state = {}; // free the copy before the report and the prune
        if (result) {
            for (const QString & path : m_store.prune(m_budget, job.conversationId)) {
                spdlog::info("session snapshot {} removed to stay within {} files / {} MB", path.toStdString(),
                             m_budget.maxFiles, m_budget.maxBytes >> 20);
            }
        }
        if (m_report) {
            m_report(job.conversationId, result);
        }
    }
}

} // namespace v4app::sessions
