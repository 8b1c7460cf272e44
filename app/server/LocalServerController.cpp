#include "server/LocalServerController.h"

#include "server/ApiServer.h"

#include <QFileInfo>
#include <QFutureWatcher>
#include <QtConcurrent/QtConcurrentRun>

#include "v4/error.h"
#include "v4/model.h"

namespace v4app {

namespace {

using Sources = std::vector<std::unique_ptr<CompletionSource>>;

Sources loadEngineSources(const LocalServerSettings & settings, QString * error) {
    if (!QFileInfo(settings.modelPath).isFile()) {
        *error = QStringLiteral("The model file %1 does not exist; choose a model first.").arg(settings.modelPath);
        return {};
    }
    const QString id = settings.modelId.isEmpty() ? QFileInfo(settings.modelPath).completeBaseName() : settings.modelId;
    try {
        const auto         model = v4::model::load(settings.modelPath.toStdString(), v4::load_params{});
        v4::session_params sp;
        sp.n_ctx     = static_cast<uint32_t>(std::max(0, settings.contextLength));
        sp.n_threads = settings.threads;
        Sources sources;
        for (int i = 0; i < std::max(1, settings.parallel); ++i) {
            sources.push_back(std::make_unique<ChatRunnerSource>(model, sp, id));
        }
        return sources;
    } catch (const std::exception & e) {
        *error = QStringLiteral("Cannot load the model %1: %2").arg(QFileInfo(settings.modelPath).fileName(), QString::fromUtf8(e.what()));
        return {};
    }
}

} // namespace

LocalServerController::LocalServerController(QObject * parent) : LocalServerController(loadEngineSources, parent) {}

LocalServerController::LocalServerController(SourceFactory factory, QObject * parent)
    : QObject(parent), m_factory(std::move(factory)) {}

LocalServerController::~LocalServerController() {
    // No stateChanged from a destructor. A load still running finishes on the pool and its
    // result is dropped with the future (the watcher, a child, goes with this object).
    if (m_server) {
        m_server->close();
    }
}

void LocalServerController::start(const LocalServerSettings & settings) {
    if (m_state == State::Starting || m_state == State::Running) {
        return;
    }
    m_settings = settings;
    const quint64 attempt = ++m_attempt;
    setState(State::Starting);

    auto * watcher = new QFutureWatcher<std::pair<std::shared_ptr<Sources>, QString>>(this);
    connect(watcher, &QFutureWatcherBase::finished, this, [this, watcher, attempt] {
        const auto [sources, error] = watcher->result();
        watcher->deleteLater();
        onSourcesReady(attempt, sources, error);
    });
    // The task gets copies only: it may outlive this object.
    watcher->setFuture(QtConcurrent::run([factory = m_factory, settings] {
        QString error;
        auto    sources = std::make_shared<Sources>(factory(settings, &error));
        if (sources->empty() && error.isEmpty()) {
            error = QStringLiteral("The model could not be prepared for serving.");
        }
        return std::make_pair(sources, error);
    }));
}

void LocalServerController::onSourcesReady(quint64 attempt, std::shared_ptr<Sources> sources, const QString & error) {
    if (attempt != m_attempt || m_state != State::Starting) {
        return; // stopped (or restarted) while loading
    }
    if (!error.isEmpty()) {
        setState(State::Failed, error);
        return;
    }
    ApiServerSettings s;
    s.host   = m_settings.exposeOnNetwork ? QStringLiteral("0.0.0.0") : QStringLiteral("127.0.0.1");
    s.port   = m_settings.port;
    s.apiKey = m_settings.apiKey;
    auto server = std::make_unique<ApiServer>(s, std::move(*sources));
    QString listenError;
    if (!server->listen(&listenError)) {
        server->close();
        setState(State::Failed, QStringLiteral("The local server could not start: %1.").arg(listenError));
        return;
    }
    m_server = std::move(server);
    setState(State::Running);
}

void LocalServerController::stop() {
    ++m_attempt;
    if (m_server) {
        m_server->close();
        m_server.reset();
    }
    if (m_state != State::Stopped) {
        setState(State::Stopped);
    }
}

QUrl LocalServerController::url() const {
    if (!m_server) {
        return {};
    }
    QUrl url = m_server->baseUrl();
    url.setPath(QStringLiteral("/v1"));
    return url;
}

QString LocalServerController::modelId() const {
    return m_server ? m_server->modelId() : QString();
}

void LocalServerController::setState(State state, const QString & error) {
    m_state = state;
    m_error = error;
    emit stateChanged(state);
}

} // namespace v4app
