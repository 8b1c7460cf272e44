#include "backends/LocalBackend.h"

#include "backends/ImageAttachments.h"
#include "sessions/SnapshotWriter.h"

#include <QDateTime>
#include <QElapsedTimer>
#include <QFileInfo>
#include <QMetaObject>

#include <spdlog/spdlog.h>

#include "v4/chat.h"
#include "v4/devices.h"
#include "v4/error.h"
#include "v4/reasoning.h"

namespace v4app {

// Runs on the worker thread: owns the model and the chat runner (KV cache reused across turns).
class LocalWorker final : public QObject {
    Q_OBJECT

public:
    explicit LocalWorker(LocalBackendSettings settings) : m_settings(std::move(settings)) {
        if (!m_settings.snapshotsDir.isEmpty()) {
            m_snapshots = std::make_unique<sessions::SessionSnapshotStore>(m_settings.snapshotsDir);
            m_writer    = std::make_unique<sessions::SnapshotWriter>(
                *m_snapshots, sessions::SnapshotBudget{},
                [this](qint64 conversationId, const Expected<sessions::SnapshotInfo> & result) {
                    if (result) {
                        const sessions::SnapshotInfo & info = result.value();
                        spdlog::info("session snapshot of conversation {} saved: {} tokens, {} MB ({})", conversationId,
                                     info.tokenCount, info.storedBytes >> 20, info.codec.toStdString());
                        emit sessionSaved(conversationId, info.tokenCount, info.storedBytes);
                    } else {
                        spdlog::warn("session snapshot of conversation {} not saved: {}", conversationId,
                                     result.error().message.toStdString());
                        emit sessionSaveFailed(conversationId, result.error().message);
                    }
                });
        }
    }

    Q_INVOKABLE bool load(const QString & path, std::shared_ptr<std::atomic<bool>> cancel) {
        if (m_chat && m_path == path) {
            return true;
        }
        m_chat.reset();
        m_path.clear();
        m_sessionConversation = 0;
        try {
            v4::load_params params;
            params.threads  = m_settings.threads;
            params.progress = [this, cancel](float f) {
                emit loadProgress(f);
                return !cancel->load();
            };
            auto model = v4::model::load(path.toStdString(), params);
            m_chat     = std::make_unique<v4::chat_runner>(
                model, v4::session_params{.n_ctx = static_cast<uint32_t>(m_settings.contextSize), .n_threads = m_settings.threads});
            m_path  = path;
            m_model = sessions::ModelIdentity::ofFile(path);
            const v4::model_info & info = model->info();
            emit loaded(path, QString::fromStdString(info.name + " (" + info.architecture + ")"),
                        static_cast<int>(m_chat->get_session().n_ctx()));
            return true;
        } catch (const std::exception & e) {
            emit loadFailed(path, QString::fromUtf8(e.what()));
            return false;
        }
    }

    Q_INVOKABLE void generate(const v4app::ChatRequest & request, std::shared_ptr<std::atomic<bool>> cancel) {
        if (!load(request.model, cancel)) {
            emit failed({ChatError::Kind::ModelLoad, QStringLiteral("The model could not be loaded."), 0, 0});
            emit done();
            return;
        }
        v4::chat_request req;
        for (const ChatMessage & m : request.messages) {
            req.messages.push_back({m.role.toStdString(), m.content.toStdString(), m.thinking.toStdString()});
        }
        req.enable_thinking = request.thinking;
        req.max_tokens      = request.maxTokens;
        req.sampling.temperature = static_cast<float>(request.sampling.temperature);
        req.sampling.top_k       = request.sampling.topK;
        req.sampling.top_p       = static_cast<float>(request.sampling.topP);
        req.sampling.min_p       = static_cast<float>(request.sampling.minP);
        req.sampling.repetition_penalty = static_cast<float>(request.sampling.repetitionPenalty);
        req.sampling.seed = request.sampling.seed >= 0 ? static_cast<uint64_t>(request.sampling.seed)
                                                       : static_cast<uint64_t>(QDateTime::currentMSecsSinceEpoch());

        // Batch pieces so the GUI thread gets at most ~30 updates a second.
        QString       pendingText, pendingThinking;
        QElapsedTimer sinceFlush;
        sinceFlush.start();
        auto flush = [&] {
            if (!pendingThinking.isEmpty()) emit thinking(std::exchange(pendingThinking, {}));
            if (!pendingText.isEmpty()) emit token(std::exchange(pendingText, {}));
            sinceFlush.restart();
        };
        v4::reasoning_splitter splitter(m_chat->prompt_opens_thinking(req));
        auto route = [&](const v4::reasoning_splitter::parts & p) {
            pendingThinking += QString::fromStdString(p.thinking);
            pendingText += QString::fromStdString(p.content);
            if (sinceFlush.elapsed() >= 33) flush();
        };
        restoreSnapshot(request.conversationId, req);
        try {
            const v4::chat_result r = m_chat->generate(req, [&](std::string_view piece) { route(splitter.push(piece)); },
                                                       cancel.get());
            route(splitter.finish());
            flush();
            GenerationStats stats;
            stats.backend            = QString::fromStdString("local-" + v4::probe_compute_devices().backend);
            stats.model              = QFileInfo(m_path).fileName();
            stats.promptTokens       = static_cast<int>(r.n_prompt);
            stats.reusedPromptTokens = static_cast<int>(r.n_reused);
            stats.completionTokens   = static_cast<int>(r.n_generated);
            stats.ttftMs             = r.ttft_seconds * 1000.0;
            stats.tokensPerSecond    = r.decode_seconds > 0 ? (r.n_generated - 1) / r.decode_seconds : 0.0;
            stats.finishReason       = r.context_full ? QStringLiteral("length")
                                     : r.reason == v4::stop_reason::max_tokens ? QStringLiteral("length")
                                                                                : QStringLiteral("stop");
            emit finished(stats);
            saveSnapshot(request.conversationId, r);
        } catch (const v4::Error & e) {
            route(splitter.finish());
            flush();
            const bool cancelled = e.code() == v4::ErrorCode::cancelled;
            emit failed({cancelled ? ChatError::Kind::Cancelled : ChatError::Kind::Engine,
                         cancelled ? QStringLiteral("Stopped.") : QString::fromUtf8(e.what()), 0, 0});
        } catch (const std::exception & e) {
            flush();
            emit failed({ChatError::Kind::Engine, QString::fromUtf8(e.what()), 0, 0});
        }
        emit done();
    }

signals:
    void sessionRestored(qint64 conversationId, int tokens);
    void sessionSaved(qint64 conversationId, int tokens, qint64 bytes);
    void sessionDropped(qint64 conversationId, const QString & reason);
    void sessionSaveFailed(qint64 conversationId, const QString & message);
    void loadProgress(double fraction);
    void loaded(const QString & path, const QString & description, int contextSize);
    void loadFailed(const QString & path, const QString & message);
    void token(const QString & text);
    void thinking(const QString & text);
    void finished(const v4app::GenerationStats & stats);
    void failed(const v4app::ChatError & error);
    void done();

private:
    // The session holds another conversation's cache (or none): load this one's snapshot, if any
    // is valid for this model and prompt, so generate() evaluates only what follows it.
    void restoreSnapshot(qint64 conversationId, const v4::chat_request & req) {
        const bool switching = conversationId != m_sessionConversation;
        m_sessionConversation = conversationId;
        if (!m_snapshots || conversationId == 0 || !switching) {
            return;
        }
        m_evaluatedSinceSave = 0;
        std::vector<int32_t> tokens;
        try {
            tokens = m_chat->tokenize_prompt(m_chat->render_prompt(req));
        } catch (const std::exception &) {
            return; // generate() reports the template's error
        }
        auto outcome = m_snapshots->restore(conversationId, m_model, tokens, m_chat->get_session());
        if (!outcome) {
            spdlog::warn("session snapshot of conversation {} not read: {}", conversationId,
                         outcome.error().message.toStdString());
        } else if (!outcome->staleReason.isEmpty()) {
            spdlog::info("session snapshot of conversation {} dropped: {}", conversationId,
                         outcome->staleReason.toStdString());
            emit sessionDropped(conversationId, outcome->staleReason);
        } else if (outcome->restoredTokens > 0) {
            spdlog::info("session snapshot of conversation {} restored: {} tokens", conversationId, outcome->restoredTokens);
            emit sessionRestored(conversationId, outcome->restoredTokens);
        }
    }

    // After an answer: once the prefills since the last save evaluated snapshotMinTokens, copy the
    // state out and hand it to the writer. Runs after finished(), so the answer never waits for it.
    void saveSnapshot(qint64 conversationId, const v4::chat_result & r) {
        m_evaluatedSinceSave += int(r.n_evaluated);
        if (!m_writer || conversationId == 0 || m_evaluatedSinceSave < m_settings.snapshotMinTokens) {
            return;
        }
        auto capture = sessions::SessionSnapshotStore::capture(m_chat->get_session());
        if (!capture) {
            spdlog::warn("session snapshot of conversation {} not taken: {}", conversationId,
                         capture.error().message.toStdString());
            emit sessionSaveFailed(conversationId, capture.error().message);
            return;
        }
        m_evaluatedSinceSave = 0;
        m_writer->submit(conversationId, m_model, std::move(capture.value()));
    }

    LocalBackendSettings             m_settings;
    std::unique_ptr<v4::chat_runner> m_chat;
    QString                          m_path;
    sessions::ModelIdentity          m_model;
    qint64                           m_sessionConversation = 0; // whose tokens the session's cache holds
    int                              m_evaluatedSinceSave = 0;  // tokens prefilled since its last snapshot
    std::unique_ptr<sessions::SessionSnapshotStore> m_snapshots;
    std::unique_ptr<sessions::SnapshotWriter>       m_writer; // after m_snapshots: destroyed first
};

LocalBackend::LocalBackend(LocalBackendSettings settings, QObject * parent)
    : ChatBackend(parent), m_settings(settings), m_worker(new LocalWorker(settings)),
      m_cancel(std::make_shared<std::atomic<bool>>(false)) {
    qRegisterMetaType<v4app::ChatRequest>();
    qRegisterMetaType<v4app::GenerationStats>();
    qRegisterMetaType<v4app::ChatError>();
    qRegisterMetaType<std::shared_ptr<std::atomic<bool>>>();
    m_thread.setObjectName(QStringLiteral("v4-engine"));
    m_worker->moveToThread(&m_thread);
    connect(&m_thread, &QThread::finished, m_worker, &QObject::deleteLater);
    connect(m_worker, &LocalWorker::token, this, &ChatBackend::token);
    connect(m_worker, &LocalWorker::thinking, this, &ChatBackend::thinking);
    connect(m_worker, &LocalWorker::finished, this, &ChatBackend::finished);
    connect(m_worker, &LocalWorker::failed, this, &ChatBackend::failed);
    connect(m_worker, &LocalWorker::loadProgress, this, &LocalBackend::modelLoadProgress);
    connect(m_worker, &LocalWorker::loaded, this, [this](const QString & path, const QString & description, int ctx) {
        m_loadedPath = path;
        emit modelLoaded(path, description, ctx);
    });
    connect(m_worker, &LocalWorker::loadFailed, this, &LocalBackend::modelLoadFailed);
    connect(m_worker, &LocalWorker::done, this, &LocalBackend::onWorkerDone);
    connect(m_worker, &LocalWorker::sessionRestored, this, &LocalBackend::sessionRestored);
    connect(m_worker, &LocalWorker::sessionSaved, this, &LocalBackend::sessionSaved);
    connect(m_worker, &LocalWorker::sessionDropped, this, &LocalBackend::sessionDropped);
    connect(m_worker, &LocalWorker::sessionSaveFailed, this, &LocalBackend::sessionSaveFailed);
    m_thread.start();
}

LocalBackend::~LocalBackend() {
    m_cancel->store(true);
    m_thread.quit();
    m_thread.wait();
}

QString LocalBackend::name() const { return QStringLiteral("local"); }

bool LocalBackend::isBusy() const { return m_busy; }

QString LocalBackend::loadedModelPath() const { return m_loadedPath; }

void LocalBackend::loadModel(const QString & path) {
    m_cancel = std::make_shared<std::atomic<bool>>(false);
    QMetaObject::invokeMethod(m_worker, "load", Qt::QueuedConnection, Q_ARG(QString, path),
                              Q_ARG(std::shared_ptr<std::atomic<bool>>, m_cancel));
}

void LocalBackend::start(const ChatRequest & request) {
    if (m_busy) {
        emit failed({ChatError::Kind::Busy, tr("Still answering the previous message."), 0, 0});
        return;
    }
    if (hasAttachments(request.messages)) {
        // Synchronous like Busy above: nothing was started.
        emit failed({ChatError::Kind::Unsupported,
                     tr("The local engine's models read text only; remove the images, or send them to a remote "
                        "endpoint whose model accepts images."),
                     0, 0});
        return;
    }
    m_busy   = true;
    m_cancel = std::make_shared<std::atomic<bool>>(false);
    QMetaObject::invokeMethod(m_worker, "generate", Qt::QueuedConnection, Q_ARG(v4app::ChatRequest, request),
                              Q_ARG(std::shared_ptr<std::atomic<bool>>, m_cancel));
}

void LocalBackend::cancel() { m_cancel->store(true); }

void LocalBackend::onWorkerDone() { m_busy = false; }

} // namespace v4app

#include "LocalBackend.moc"
