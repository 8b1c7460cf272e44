// ApiServer: the OpenAI-compatible local server (`v4 serve`) over CompletionSources.
//
//   GET  /health               {"status": "ok"}; never needs the key
//   GET  /v1/models            the loaded model (also /models)
//   POST /v1/chat/completions  stream true: SSE chat.completion.chunk events, then "data: [DONE]";
//                              stream false: one chat.completion (also /chat/completions)
//
// Guards, in order, each answered with an OpenAI-style {"error": {...}} body and the connection
// kept usable: malformed HTTP (400/411/431), body over maxBodyBytes (413), Host not loopback and
// not the bound host (403, against DNS rebinding: a web page must not reach the server through a
// name that resolves to 127.0.0.1), missing or wrong Bearer key when one is set (401), unknown
// route (404) or method (405), invalid JSON or fields (400), another model (404), more than
// maxQueued requests waiting (429 with Retry-After).
//
// A client that disconnects cancels its request: a queued one is dropped, a running one stops at
// the next token. Lives on one thread (the one running the event loop).
//
//     ApiServerSettings s;            // 127.0.0.1:8080
//     std::vector<std::unique_ptr<CompletionSource>> sources;
//     sources.push_back(std::make_unique<ChatRunnerSource>(model, sessionParams, "my-model"));
//     ApiServer server(s, std::move(sources));
//     if (!server.listen(&error)) ...
//     app.exec();                     // server.close() joins the workers
#pragma once

#include <QHostAddress>
#include <QObject>
#include <QString>
#include <QTcpServer>
#include <QUrl>

#include <memory>
#include <vector>

#include "server/CompletionSource.h"
#include "server/GenerationQueue.h"
#include "server/HttpConnection.h"

namespace v4app {

struct ApiServerSettings {
    QString   host         = QStringLiteral("127.0.0.1"); // an address; "localhost" means 127.0.0.1
    quint16   port         = 8080;                        // 0: any free port (see ApiServer::port())
    QString   apiKey;                                     // empty: no key needed
    qsizetype maxBodyBytes = 4 * 1024 * 1024;
    int       maxQueued    = 16;                          // requests waiting for a worker
    int       keepAliveMs  = 5000;                        // SSE comment interval while there is no output
    int       maxConnections = 128;                       // open client connections; more are answered 503
};

class ApiServer final : public QObject {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ApiServer)

public:
    ApiServer(ApiServerSettings settings, std::vector<std::unique_ptr<CompletionSource>> sources,
              QObject * parent = nullptr);
    ~ApiServer() override;

    bool    listen(QString * error);
    quint16 port() const;
    QUrl    baseUrl() const; // http://host:port (without /v1)
    QString modelId() const { return m_queue.modelId(); }
    int     pendingCount() const { return m_queue.pendingCount(); }

    // Stops listening, cancels every request and joins the workers. Idempotent.
    void close();

    bool hostAllowed(const QByteArray & hostHeader) const;

private:
    void onNewConnection();
    void handle(HttpConnection * connection, const HttpRequest & request);
    void handleModels(HttpConnection * connection);
    void handleChatCompletions(HttpConnection * connection, const HttpRequest & request);
    bool authorized(const HttpRequest & request) const;

    ApiServerSettings m_settings;
    QTcpServer        m_server;
    GenerationQueue   m_queue;
    int               m_connections = 0;
    bool              m_closed = false;
};

} // namespace v4app
