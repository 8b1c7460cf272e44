// GenerationQueue: the server's workers. Each worker thread owns one CompletionSource (for the
// engine: one chat_runner, so each keeps its own KV cache and prefix reuse), and all take jobs
// from one FIFO queue, so requests are served in arrival order whatever the worker count.
//
// A job is a QObject living on the server's thread; the worker emits its signals from the worker
// thread, so receivers on the server's thread get them queued. Cancelling a queued job removes it;
// cancelling a running one raises its atomic flag, which the engine checks between tokens.
#pragma once

#include <QByteArray>
#include <QObject>
#include <QString>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "server/CompletionSource.h"
#include "v4/chat.h"

namespace v4app {

class GenerationJob final : public QObject {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(GenerationJob)

public:
    // Jobs are shared between the server and a worker; the last owner may be either thread, so
    // deletion always goes through deleteLater on the job's own thread.
    static std::shared_ptr<GenerationJob> create(v4::chat_request request);

    const v4::chat_request & request() const { return m_request; }
    std::atomic<bool> *      cancelFlag() { return &m_cancel; }

signals:
    void started();
    void output(const QByteArray & thinking, const QByteArray & content); // UTF-8, either may be empty
    void finished(const v4::chat_result & result);
    void failed(int errorCode, const QString & message); // errorCode: a v4::ErrorCode, or -1 for other failures

private:
    explicit GenerationJob(v4::chat_request request) : m_request(std::move(request)) {}

    v4::chat_request  m_request;
    std::atomic<bool> m_cancel{false};
};

class GenerationQueue {
public:
    GenerationQueue(std::vector<std::unique_ptr<CompletionSource>> sources, int maxPending);
    ~GenerationQueue();
    GenerationQueue(const GenerationQueue &) = delete;
    GenerationQueue & operator=(const GenerationQueue &) = delete;

    QString modelId() const { return m_modelId; }

    // False when maxPending jobs are already waiting (the caller answers 429) or after stop().
    bool submit(const std::shared_ptr<GenerationJob> & job);
    void cancel(const std::shared_ptr<GenerationJob> & job);
    int  pendingCount() const;
    // Cancels everything, then joins the workers. Idempotent.
    void stop();

private:
    void workerLoop(CompletionSource & source);

    QString                                        m_modelId;
    int                                            m_maxPending;
    std::vector<std::unique_ptr<CompletionSource>> m_sources;
    std::vector<std::thread>                       m_threads;
    mutable std::mutex                             m_mutex;
    std::condition_variable                        m_wake;
    std::deque<std::shared_ptr<GenerationJob>>     m_pending;
    std::vector<std::shared_ptr<GenerationJob>>    m_running;
    bool                                           m_stopping = false;
};

} // namespace v4app

Q_DECLARE_METATYPE(v4::chat_result)
