#include "server/GenerationQueue.h"

#include <algorithm>
#include <exception>

#include "v4/error.h"
#include "v4/reasoning.h"

namespace v4app {

std::shared_ptr<GenerationJob> GenerationJob::create(v4::chat_request request) {
    return {new GenerationJob(std::move(request)), [](GenerationJob * job) { job->deleteLater(); }};
}

GenerationQueue::GenerationQueue(std::vector<std::unique_ptr<CompletionSource>> sources, int maxPending)
    : m_maxPending(maxPending), m_sources(std::move(sources)) {
    qRegisterMetaType<v4::chat_result>();
    if (!m_sources.empty()) {
        m_modelId = m_sources.front()->modelId();
    }
    for (auto & source : m_sources) {
        m_threads.emplace_back([this, s = source.get()] { workerLoop(*s); });
    }
}

GenerationQueue::~GenerationQueue() { stop(); }

bool GenerationQueue::submit(const std::shared_ptr<GenerationJob> & job) {
    {
        std::lock_guard lock(m_mutex);
        if (m_stopping || static_cast<int>(m_pending.size()) >= m_maxPending) {
            return false;
        }
        m_pending.push_back(job);
    }
    m_wake.notify_one();
    return true;
}

void GenerationQueue::cancel(const std::shared_ptr<GenerationJob> & job) {
    std::lock_guard lock(m_mutex);
    job->cancelFlag()->store(true);
    std::erase(m_pending, job);
}

int GenerationQueue::pendingCount() const {
    std::lock_guard lock(m_mutex);
    return static_cast<int>(m_pending.size());
}

void GenerationQueue::stop() {
    {
        std::lock_guard lock(m_mutex);
        if (m_stopping && m_threads.empty()) {
            return;
        }
        m_stopping = true;
        for (auto & job : m_pending) {
            job->cancelFlag()->store(true);
        }
        m_pending.clear();
        for (auto & job : m_running) {
            job->cancelFlag()->store(true);
        }
    }
    m_wake.notify_all();
    for (std::thread & t : m_threads) {
        t.join();
    }
    m_threads.clear();
}

void GenerationQueue::workerLoop(CompletionSource & source) {
    for (;;) {
        std::shared_ptr<GenerationJob> job;
        {
            std::unique_lock lock(m_mutex);
            m_wake.wait(lock, [this] { return m_stopping || !m_pending.empty(); });
            if (m_stopping) {
                return;
            }
            job = m_pending.front();
            m_pending.pop_front();
            m_running.push_back(job);
        }
        emit job->started();
        std::optional<v4::reasoning_splitter> splitter;
        auto send = [&](const v4::reasoning_splitter::parts & p) {
            if (!p.thinking.empty() || !p.content.empty()) {
                emit job->output(QByteArray::fromStdString(p.thinking), QByteArray::fromStdString(p.content));
            }
        };
        try {
            splitter.emplace(source.promptOpensThinking(job->request()));
            const v4::chat_result result = source.generate(
                job->request(), [&](std::string_view piece) { send(splitter->push(piece)); }, job->cancelFlag());
            send(splitter->finish());
            emit job->finished(result);
        } catch (const v4::Error & e) {
            if (splitter) {
                send(splitter->finish());
            }
            emit job->failed(static_cast<int>(e.code()), QString::fromUtf8(e.what()));
        } catch (const std::exception & e) {
            emit job->failed(-1, QString::fromUtf8(e.what()));
        }
        std::lock_guard lock(m_mutex);
        std::erase(m_running, job);
    }
}

} // namespace v4app
