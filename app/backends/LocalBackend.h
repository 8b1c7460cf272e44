// LocalBackend: the in-process engine behind the ChatBackend interface. The engine runs on a
// worker thread that this object owns; the GUI thread only sees queued signals. Text reaches the
// receiver in batches (about 30 per second) so a fast model never floods the event loop.
// Loading a model is asynchronous too and reports progress; a request for a model that is not
// loaded yet loads it first.
//
// Session snapshots (when LocalBackendSettings::snapshotsDir is set): after an answer whose
// prefills since the last save evaluated at least snapshotMinTokens tokens, the engine state is
// captured (a copy, on the engine thread, after finished()) and written by a SnapshotWriter on its
// own thread, tied to the request's conversationId, the model file and the prompt's token prefix.
// The first request of a conversation the session does not hold (another conversation was open,
// or the app restarted) restores that conversation's snapshot before the prefill, so only the
// tokens after the saved prefix are evaluated. Stale snapshots are dropped and logged; a failed
// write (disk full) is a warning and the chat goes on.
#pragma once

#include <QString>
#include <QThread>

#include <atomic>
#include <memory>

#include "backends/ChatBackend.h"

namespace v4app {

class LocalWorker;

struct LocalBackendSettings {
    int     contextSize = 8192;
    int     threads = 0;          // 0: all cores
    QString snapshotsDir;         // session snapshots; empty: none
    int     snapshotMinTokens = 2048;
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
    // Session snapshots: a conversation's saved state was loaded (`tokens` need no prefill), one was
    // written, one was stale and deleted, or one could not be written (for a notice; chat goes on).
    void sessionRestored(qint64 conversationId, int tokens);
    void sessionSaved(qint64 conversationId, int tokens, qint64 bytes);
    void sessionDropped(qint64 conversationId, const QString & reason);
    void sessionSaveFailed(qint64 conversationId, const QString & message);

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
