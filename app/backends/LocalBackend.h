// LocalBackend: the in-process engine behind the ChatBackend interface. The engine runs on a
// worker thread that this object owns; the GUI thread only sees queued signals. Text reaches the
// receiver in batches (about 30 per second) so a fast model never floods the event loop.
// Loading a model is asynchronous too and reports progress; a request for a model that is not
// loaded yet loads it first.
#pragma once

#include <QThread>

#include <atomic>
#include <memory>

#include "backends/ChatBackend.h"

namespace v4app {

class LocalWorker;

struct LocalBackendSettings {
    int contextSize = 8192;
    int threads = 0; // 0: all cores
};

class LocalBackend final : public ChatBackend {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(LocalBackend)

public:
    explicit LocalBackend(LocalBackendSettings settings = {}, QObject * parent = nullptr);
    ~LocalBackend() override;

    QString name() const override;
    bool    isBusy() const override;
    void    start(const ChatRequest & request) override; // request.model is the GGUF path
    void    cancel() override;

    // Loads (or switches to) a model file without generating.
    void loadModel(const QString & path);
    QString loadedModelPath() const;

signals:
    void modelLoadProgress(double fraction);
    void modelLoaded(const QString & path, const QString & description, int contextSize);
    void modelLoadFailed(const QString & path, const QString & message);

private:
    void onWorkerDone();

    LocalBackendSettings m_settings;
    QThread              m_thread;
    LocalWorker *        m_worker = nullptr; // lives on m_thread
    std::shared_ptr<std::atomic<bool>> m_cancel;
    bool                 m_busy = false;
    QString              m_loadedPath;
};

} // namespace v4app
