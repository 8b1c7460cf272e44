#include "server/ApiServer.h"

#include <QDateTime>
#include <QJsonArray>
#include <QJsonDocument>
#include <QLoggingCategory>
#include <QPointer>
#include <QRandomGenerator>
#include <QTimer>
#include <QUuid>

#include "server/ChatCompletions.h"
#include "v4/error.h"

Q_LOGGING_CATEGORY(lcServer, "v4.server")

namespace v4app {

namespace {

QByteArray toJson(const QJsonObject & o) { return QJsonDocument(o).toJson(QJsonDocument::Compact); }

void sendError(HttpConnection * connection, const ApiError & error, const QList<QPair<QByteArray, QByteArray>> & headers = {}) {
    connection->respondJson(error.status, errorBody(error), headers);
}

bool isWildcard(const QString & host) { return host == QLatin1String("0.0.0.0") || host == QLatin1String("::"); }

// Constant-time comparison, so the key cannot be guessed byte by byte from response times.
bool sameSecret(const QByteArray & a, const QByteArray & b) {
    unsigned char diff = a.size() == b.size() ? 0 : 1;
    for (qsizetype i = 0; i < a.size(); ++i) {
        diff |= static_cast<unsigned char>(a[i] ^ b[i % qMax<qsizetype>(b.size(), 1)]);
    }
    return diff == 0 && !b.isEmpty();
}

// One chat completion in flight: connects the job's signals to the connection, turns them into
// SSE chunks or one JSON answer, and cancels the job when the client goes away.
class ChatExchange final : public QObject {
public:
    ChatExchange(HttpConnection * connection, GenerationQueue & queue, std::shared_ptr<GenerationJob> job,
                 const CompletionRequest & request, QString model, int keepAliveMs)
        : QObject(connection), m_connection(connection), m_queue(queue), m_job(std::move(job)),
          m_stream(request.stream), m_includeUsage(request.includeUsage), m_model(std::move(model)),
          m_id(QStringLiteral("chatcmpl-") + QUuid::createUuid().toString(QUuid::Id128)),
          m_created(QDateTime::currentSecsSinceEpoch()) {
        connect(m_job.get(), &GenerationJob::output, this, &ChatExchange::onOutput);
        connect(m_job.get(), &GenerationJob::finished, this, &ChatExchange::onFinished);
        connect(m_job.get(), &GenerationJob::failed, this, &ChatExchange::onFailed);
        connect(connection, &HttpConnection::closed, this, [this] {
            m_queue.cancel(m_job);
            deleteLater();
        });
        if (m_stream) {
            // Headers wait for the first output (so an error before it still gets its own
            // status); a long queue or prefill gets the headers and keep-alive comments instead.
            m_keepAlive.setInterval(keepAliveMs);
            connect(&m_keepAlive, &QTimer::timeout, this, [this] {
                if (!m_connection->isStreaming()) {
                    beginStream();
                } else if (!m_sentSinceTick) {
                    m_connection->sendComment("keep-alive");
                }
                m_sentSinceTick = false;
            });
            m_keepAlive.start();
        }
    }

private:
    void beginStream() {
        m_connection->beginEventStream();
        send(completionChunk(m_id, m_created, m_model,
                             {{QStringLiteral("role"), QStringLiteral("assistant")}, {QStringLiteral("content"), QString()}},
                             {}));
    }

    void send(const QJsonObject & chunk) {
        m_connection->sendEvent(toJson(chunk));
        m_sentSinceTick = true;
    }

    void onOutput(const QByteArray & thinking, const QByteArray & content) {
        if (!m_stream) {
            m_reasoning += QString::fromUtf8(thinking);
            m_content += QString::fromUtf8(content);
            return;
        }
        if (!m_connection->isStreaming()) {
            beginStream();
        }
        if (!thinking.isEmpty()) {
            send(completionChunk(m_id, m_created, m_model, {{QStringLiteral("reasoning_content"), QString::fromUtf8(thinking)}}, {}));
        }
        if (!content.isEmpty()) {
            send(completionChunk(m_id, m_created, m_model, {{QStringLiteral("content"), QString::fromUtf8(content)}}, {}));
        }
    }

    void onFinished(const v4::chat_result & result) {
        m_keepAlive.stop();
        qCInfo(lcServer, "%s: %u prompt tokens (%u reused), %u generated, %s", qPrintable(m_id), result.n_prompt,
               result.n_reused, result.n_generated, qPrintable(finishReason(result)));
        if (!m_stream) {
            m_connection->respondJson(200, toJson(completionObject(m_id, m_created, m_model, m_content, m_reasoning, result)));
            deleteLater();
            return;
        }
        if (!m_connection->isStreaming()) {
            beginStream();
        }
        send(completionChunk(m_id, m_created, m_model, {}, finishReason(result)));
        if (m_includeUsage) {
            send(usageChunk(m_id, m_created, m_model, result));
        }
        m_connection->sendEvent("[DONE]");
        m_connection->endEventStream();
        deleteLater();
    }

    void onFailed(int code, const QString & message) {
        m_keepAlive.stop();
        ApiError error{500, "server_error", "internal_error", message, {}};
        if (code == static_cast<int>(v4::ErrorCode::context_overflow)) {
            error = {400, "invalid_request_error", "context_length_exceeded", message, QStringLiteral("messages")};
        } else if (code == static_cast<int>(v4::ErrorCode::invalid_argument)) {
            error = {400, "invalid_request_error", "invalid_request", message, QStringLiteral("messages")};
        } else if (code == static_cast<int>(v4::ErrorCode::cancelled)) {
            error = {503, "server_error", "cancelled", QStringLiteral("the server is shutting down"), {}};
        }
        qCWarning(lcServer, "%s failed: %s", qPrintable(m_id), qPrintable(message));
        if (m_connection->isStreaming()) {
            m_connection->sendEvent(errorBody(error)); // OpenAI clients raise on an "error" event
            m_connection->endEventStream();
        } else {
            sendError(m_connection, error);
        }
        deleteLater();
    }

    HttpConnection *               m_connection;
    GenerationQueue &              m_queue;
    std::shared_ptr<GenerationJob> m_job;
    bool                           m_stream;
    bool                           m_includeUsage;
    QString                        m_model;
    QString                        m_id;
    qint64                         m_created;
    QString                        m_content, m_reasoning;
    QTimer                         m_keepAlive;
    bool                           m_sentSinceTick = false;
};

} // namespace

ApiServer::ApiServer(ApiServerSettings settings, std::vector<std::unique_ptr<CompletionSource>> sources, QObject * parent)
    : QObject(parent), m_settings(std::move(settings)), m_queue(std::move(sources), m_settings.maxQueued) {
    qRegisterMetaType<v4app::HttpRequest>();
    connect(&m_server, &QTcpServer::newConnection, this, &ApiServer::onNewConnection);
}

ApiServer::~ApiServer() { close(); }

bool ApiServer::listen(QString * error) {
    QHostAddress address;
    if (m_settings.host == QLatin1String("localhost")) {
        address = QHostAddress(QHostAddress::LocalHost);
    } else if (!address.setAddress(m_settings.host)) {
        if (error) *error = QStringLiteral("'%1' is not an IP address").arg(m_settings.host);
        return false;
    }
    if (!m_server.listen(address, m_settings.port)) {
        if (error) {
            *error = m_server.serverError() == QAbstractSocket::AddressInUseError
                         ? QStringLiteral("port %1 is already in use by another program; choose another port").arg(m_settings.port)
                         : m_server.errorString();
        }
        return false;
    }
    if (!address.isLoopback()) {
        qCWarning(lcServer, "listening on %s, reachable from other machines%s", qPrintable(m_settings.host),
                  m_settings.apiKey.isEmpty() ? "; consider --api-key" : "");
    }
    return true;
}

quint16 ApiServer::port() const { return m_server.serverPort(); }

QUrl ApiServer::baseUrl() const {
    QUrl url;
    url.setScheme(QStringLiteral("http"));
    url.setHost(isWildcard(m_settings.host) || m_settings.host == QLatin1String("localhost") ? QStringLiteral("127.0.0.1")
                                                                                           : m_settings.host);
    url.setPort(port());
    return url;
}

void ApiServer::close() {
    if (m_closed) {
        return;
    }
    m_closed = true;
    m_server.close();
    m_queue.stop();
}

bool ApiServer::hostAllowed(const QByteArray & hostHeader) const {
    QByteArray host = hostHeader.trimmed().toLower();
    if (host.startsWith('[')) {
        const qsizetype close = host.indexOf(']');
        if (close < 0) {
            return false;
        }
        host = host.mid(1, close - 1); // [::1]:8080 -> ::1
    } else if (host.count(':') == 1) {
        host = host.left(host.indexOf(':'));
    }
    if (host == "localhost" || host == "127.0.0.1" || host == "::1") {
        return true;
    }
    if (isWildcard(m_settings.host)) {
        return true; // bound to every interface on purpose: any name may reach it
    }
    return !host.isEmpty() && host == m_settings.host.toLower().toUtf8();
}

bool ApiServer::authorized(const HttpRequest & request) const {
    if (m_settings.apiKey.isEmpty()) {
        return true;
    }
    const QByteArray value = request.header("authorization");
    if (!value.startsWith("Bearer ")) {
        return false;
    }
    return sameSecret(value.mid(7).trimmed(), m_settings.apiKey.toUtf8());
}

void ApiServer::onNewConnection() {
    while (QTcpSocket * socket = m_server.nextPendingConnection()) {
        auto * connection = new HttpConnection(socket, m_settings.maxBodyBytes, this);
        ++m_connections;
        connect(connection, &QObject::destroyed, this, [this] { --m_connections; });
        connect(connection, &HttpConnection::closed, connection, &QObject::deleteLater);
        if (m_connections > m_settings.maxConnections) {
            sendError(connection, {503, "server_error", "too_many_connections",
                                   QStringLiteral("%1 connections are open; retry shortly").arg(m_settings.maxConnections), {}},
                      {{"Retry-After", "1"}});
            continue;
        }
        connect(connection, &HttpConnection::requestReady, this,
                [this, connection](const HttpRequest & request) { handle(connection, request); });
    }
}

void ApiServer::handle(HttpConnection * connection, const HttpRequest & request) {
    if (!hostAllowed(request.header("host")) && request.version == "HTTP/1.1") {
        sendError(connection, {403, "permission_error", "host_not_allowed",
                               QStringLiteral("Host '%1' is not allowed; use localhost or 127.0.0.1")
                                   .arg(QString::fromLatin1(request.header("host").left(200))), {}});
        return;
    }
    const QByteArray & path = request.path;
    if (path == "/health") {
        if (request.method != "GET" && request.method != "HEAD") {
            sendError(connection, {405, "invalid_request_error", "method_not_allowed", QStringLiteral("use GET /health"), {}});
            return;
        }
        connection->respondJson(200, R"({"status":"ok"})");
        return;
    }
    const bool models = path == "/v1/models" || path == "/models";
    const bool chat   = path == "/v1/chat/completions" || path == "/chat/completions";
    if (!models && !chat) {
        sendError(connection, {404, "invalid_request_error", "not_found",
                               QStringLiteral("no route for %1 %2").arg(QString::fromLatin1(request.method),
                                                                         QString::fromLatin1(path.left(200))), {}});
        return;
    }
    if (!authorized(request)) {
        sendError(connection, {401, "authentication_error", "invalid_api_key",
                               QStringLiteral("missing or invalid API key: send 'Authorization: Bearer <key>'"), {}},
                  {{"WWW-Authenticate", "Bearer"}});
        return;
    }
    if (models && request.method != "GET") {
        sendError(connection, {405, "invalid_request_error", "method_not_allowed", QStringLiteral("use GET /v1/models"), {}});
        return;
    }
    if (chat && request.method != "POST") {
        sendError(connection, {405, "invalid_request_error", "method_not_allowed",
                               QStringLiteral("use POST /v1/chat/completions"), {}});
        return;
    }
    if (models) {
        handleModels(connection);
    } else {
        handleChatCompletions(connection, request);
    }
}

void ApiServer::handleModels(HttpConnection * connection) {
    const QJsonObject model{{QStringLiteral("id"), modelId()},
                            {QStringLiteral("object"), QStringLiteral("model")},
                            {QStringLiteral("created"), QDateTime::currentSecsSinceEpoch()},
                            {QStringLiteral("owned_by"), QStringLiteral("v4")}};
    connection->respondJson(200, toJson({{QStringLiteral("object"), QStringLiteral("list")},
                                         {QStringLiteral("data"), QJsonArray{model}}}));
}

void ApiServer::handleChatCompletions(HttpConnection * connection, const HttpRequest & request) {
    CompletionRequest parsed;
    if (auto error = parseCompletionRequest(request.body, parsed)) {
        sendError(connection, *error);
        return;
    }
    if (!parsed.model.isEmpty() && parsed.model != modelId() && parsed.model != modelId() + QStringLiteral(".gguf")) {
        sendError(connection, {404, "invalid_request_error", "model_not_found",
                               QStringLiteral("model '%1' is not served here; this server has '%2'")
                                   .arg(parsed.model.left(200), modelId()), QStringLiteral("model")});
        return;
    }
    if (!parsed.seedGiven) {
        parsed.chat.sampling.seed = QRandomGenerator::global()->generate64();
    }
    auto job = GenerationJob::create(parsed.chat);
    // Connect before submitting: a worker may emit at once.
    auto * exchange = new ChatExchange(connection, m_queue, job, parsed, modelId(), m_settings.keepAliveMs);
    if (!m_queue.submit(job)) {
        delete exchange; // the job never ran, so nothing is queued for it
        sendError(connection, {429, "rate_limit_error", "too_many_requests",
                               QStringLiteral("%1 requests are already waiting; retry shortly").arg(m_settings.maxQueued), {}},
                  {{"Retry-After", "1"}});
    }
}

} // namespace v4app
