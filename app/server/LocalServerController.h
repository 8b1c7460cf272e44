// LocalServerController: the desktop app's switch for the OpenAI-compatible local server (the
// same ApiServer as `v4 serve`), so other programs on this machine can use the loaded model.
//
// start() loads the model in the background (seconds for a large file), then listens; the state
// goes Stopped -> Starting -> Running, or -> Failed with errorString() saying what to do (port in
// use, model missing, ...). stop() cancels running answers, joins the workers and frees the model
// (Running/Failed -> Stopped). stop() during Starting abandons the load: the state goes to Stopped
// at once and the loaded model is dropped when the load finishes. Lives on the GUI thread.
//
//     auto * server = new LocalServerController(this);
//     connect(server, &LocalServerController::stateChanged, this, [=] {
//         statusLabel->setText(server->state() == LocalServerController::State::Running
//                                  ? server->url().toString() : server->errorString());
//     });
//     LocalServerSettings s;
//     s.modelPath = AppPaths::defaultModelPath();
//     s.port = 8080;
//     s.apiKey = key;      // optional
//     server->start(s);
#pragma once

#include <QObject>
#include <QString>
#include <QUrl>

#include <functional>
#include <memory>
#include <vector>

#include "server/CompletionSource.h"

namespace v4app {

class ApiServer;

struct LocalServerSettings {
    QString modelPath;                // GGUF file
    QString modelId;                  // id shown by /v1/models; empty: the file name without .gguf
    quint16 port = 8080;              // 0: any free port (url() tells which)
    QString apiKey;                   // empty: no key needed (loopback only either way)
    bool    exposeOnNetwork = false;  // listen on 0.0.0.0 instead of 127.0.0.1; set an apiKey then
    int     parallel = 1;             // requests generated at once, each with its own context
    int     contextLength = 8192;     // per worker; 0: the model's training context
    int     threads = 0;              // per worker; 0: all cores
};

class LocalServerController final : public QObject {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(LocalServerController)

public:
    enum class State { Stopped, Starting, Running, Failed };
    Q_ENUM(State)

    // Builds the workers' sources for the settings (runs on a background thread); on failure
    // returns none and sets *error. The default loads settings.modelPath with the engine; tests
    // pass a fake.
    using SourceFactory =
        std::function<std::vector<std::unique_ptr<CompletionSource>>(const LocalServerSettings &, QString * error)>;

    explicit LocalServerController(QObject * parent = nullptr);
    LocalServerController(SourceFactory factory, QObject * parent = nullptr);
    ~LocalServerController() override;

    void start(const LocalServerSettings & settings); // no-op unless Stopped or Failed
    void stop();

    State   state() const { return m_state; }
    QString errorString() const { return m_error; } // set in Failed
    QUrl    url() const;                            // http://127.0.0.1:PORT/v1 while Running
    QString modelId() const;                        // while Running

signals:
    void stateChanged(v4app::LocalServerController::State state);

private:
    void onSourcesReady(quint64 attempt, std::shared_ptr<std::vector<std::unique_ptr<CompletionSource>>> sources,
                        const QString & error);
    void setState(State state, const QString & error = {});

    SourceFactory              m_factory;
    LocalServerSettings        m_settings;
    State                      m_state = State::Stopped;
    QString                    m_error;
    quint64                    m_attempt = 0; // bumped by start() and stop(): a late load is ignored
    std::unique_ptr<ApiServer> m_server;
};

} // namespace v4app
