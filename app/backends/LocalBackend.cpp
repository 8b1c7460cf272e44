#include "backends/LocalBackend.h"

#include "backends/ImageAttachments.h"

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
    explicit LocalWorker(LocalBackendSettings settings) : m_settings(settings) {}

    Q_INVOKABLE bool load(const QString & path, std::shared_ptr<std::atomic<bool>> cancel) {
        if (m_chat && m_path == path) {
            return true;
        }
        m_chat.reset();
        m_path.clear();
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
            m_path = path;
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
    void loadProgress(double fraction);
    void loaded(const QString & path, const QString & description, int contextSize);
    void loadFailed(const QString & path, const QString & message);
    void token(const QString & text);
    void thinking(const QString & text);
    void finished(const v4app::GenerationStats & stats);
    void failed(const v4app::ChatError & error);
    void done();

private:
    LocalBackendSettings             m_settings;
    std::unique_ptr<v4::chat_runner> m_chat;
    QString                          m_path;
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
