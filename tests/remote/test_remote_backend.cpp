// RemoteBackend against a scripted loopback server: normal streams, every HTTP error, retries,
// slow and broken connections, oversized and malformed data, timeouts and cancel. Only 127.0.0.1.
#include "ScriptedServer.h"
#include "backends/ImageAttachments.h"
#include "backends/RemoteBackend.h"

#include <QElapsedTimer>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLoggingCategory>
#include <QSignalSpy>
#include <QSslSocket>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTest>

#include <optional>

using namespace v4app;
using namespace v4test;

namespace {

const QString kKey = QStringLiteral("sk-secret-key-0123456789");

// Collects everything a backend emits for one generation.
struct Recorder {
    QString                        tokens;
    QString                        thinking;
    std::optional<GenerationStats> stats;
    std::optional<ChatError>       error;
    QList<int>                     retryDelays;
    bool done() const { return stats.has_value() || error.has_value(); }

    void attach(RemoteBackend * backend) {
        QObject::connect(backend, &ChatBackend::token, backend, [this](const QString & t) { tokens += t; });
        QObject::connect(backend, &ChatBackend::thinking, backend, [this](const QString & t) { thinking += t; });
        QObject::connect(backend, &ChatBackend::finished, backend, [this](const GenerationStats & s) {
            QVERIFY(!done());
            stats = s;
        });
        QObject::connect(backend, &ChatBackend::failed, backend, [this](const ChatError & e) {
            QVERIFY(!done());
            error = e;
        });
        QObject::connect(backend, &RemoteBackend::retrying, backend,
                         [this](int, int delayMs, const QString &) { retryDelays.append(delayMs); });
    }
};

QByteArray chunkJson(const QByteArray & deltaKey, const QByteArray & text) {
    QJsonObject delta{{QString::fromUtf8(deltaKey), QString::fromUtf8(text)}};
    QJsonObject choice{{"index", 0}, {"delta", delta}, {"finish_reason", QJsonValue::Null}};
    return QJsonDocument(QJsonObject{{"choices", QJsonArray{choice}}}).toJson(QJsonDocument::Compact);
}

QByteArray sse(const QByteArray & json) {
    return "data: " + json + "\n\n";
}

// reasoning_content, then content, then finish_reason, then usage, then [DONE].
QByteArray normalBody() {
    return sse(chunkJson("reasoning_content", "Let me ")) + sse(chunkJson("reasoning_content", "think.")) +
           sse(chunkJson("content", "Hello")) + sse(chunkJson("content", " world")) +
           sse(R"({"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]})") +
           sse(R"({"choices":[],"usage":{"prompt_tokens":12,"completion_tokens":7,"total_tokens":19}})") +
           "data: [DONE]\n\n";
}

ChatRequest request() {
    ChatRequest r;
    r.messages = {{QStringLiteral("user"), QStringLiteral("Hi"), {}}};
    r.model = QStringLiteral("test-model");
    return r;
}

// Every message Qt logs while one of these lives (all categories, debug included).
struct LogCapture {
    static inline QStringList lines;
    QtMessageHandler          previous;
    LogCapture() {
        lines.clear();
        QLoggingCategory::setFilterRules(QStringLiteral("*.debug=true"));
        previous = qInstallMessageHandler([](QtMsgType, const QMessageLogContext &, const QString & text) { lines.append(text); });
    }
    ~LogCapture() {
        qInstallMessageHandler(previous);
        QLoggingCategory::setFilterRules(QString());
    }
};

// The smallest valid-looking PNG (signature + IHDR start); RemoteBackend checks the signature only.
QByteArray tinyPng() {
    return QByteArray("\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x02", 24);
}

} // namespace

class TestRemoteBackend : public QObject {
    Q_OBJECT

    ScriptedServer * m_server = nullptr;
    RemoteBackend *  m_backend = nullptr;
    Recorder *       m_rec = nullptr;
    QElapsedTimer    m_testClock;

    RemoteSettings settings() const {
        RemoteSettings s;
        s.baseUrl = m_server->baseUrl();
        s.apiKey = kKey;
        s.preset = EndpointPreset::VLLM;
        s.connectTimeoutMs = 1500;
        s.inactivityTimeoutMs = 1500;
        s.modelsTimeoutMs = 1500;
        s.maxRetryDelayMs = 2000;
        return s;
    }

    void run(const RemoteSettings & s, const ChatRequest & r = request()) {
        m_backend->setSettings(s);
        m_backend->start(r);
        QVERIFY(m_backend->isBusy());
        QTRY_VERIFY_WITH_TIMEOUT(m_rec->done(), 8000);
        QVERIFY(!m_backend->isBusy());
    }
    void run() { run(settings()); }

    // A request refused before anything is sent: failed() comes on the next event loop turn.
    void refuse(const RemoteSettings & s, const ChatRequest & r) {
        m_backend->setSettings(s);
        m_backend->start(r);
        QVERIFY(!m_backend->isBusy());
        QTRY_VERIFY_WITH_TIMEOUT(m_rec->done(), 1000);
        QCOMPARE(m_server->requests.size(), 0);
    }

    void expectError(ChatError::Kind kind, const QStringList & words) {
        QVERIFY2(m_rec->error.has_value(), "expected failed(), got finished()");
        QVERIFY2(m_rec->error->kind == kind,
                 qPrintable(QStringLiteral("kind %1, message: %2").arg(int(m_rec->error->kind)).arg(m_rec->error->message)));
        for (const QString & w : words) {
            QVERIFY2(m_rec->error->message.contains(w, Qt::CaseInsensitive),
                     qPrintable(QStringLiteral("\"%1\" not in: %2").arg(w, m_rec->error->message)));
        }
        QVERIFY(!m_rec->error->message.contains(kKey));
        QVERIFY(!m_rec->error->message.contains(QLatin1String("0123456789")));
    }

private slots:
    void init() {
        m_server = new ScriptedServer(this);
        QVERIFY(m_server->listen());
        m_backend = new RemoteBackend(this);
        m_rec = new Recorder;
        m_rec->attach(m_backend);
        m_testClock.start();
    }

    void cleanup() {
        delete m_backend;
        delete m_server;
        delete m_rec;
        // No scripted case may take more than a few seconds.
        QVERIFY2(m_testClock.elapsed() < 6000, qPrintable(QStringLiteral("took %1 ms").arg(m_testClock.elapsed())));
    }

    void normalStream() {
        m_server->enqueue(sseScript(normalBody()));
        run();
        QVERIFY(m_rec->stats.has_value());
        QCOMPARE(m_rec->thinking, QStringLiteral("Let me think."));
        QCOMPARE(m_rec->tokens, QStringLiteral("Hello world"));
        QCOMPARE(m_rec->stats->promptTokens, 12);
        QCOMPARE(m_rec->stats->completionTokens, 7);
        QCOMPARE(m_rec->stats->finishReason, QStringLiteral("stop"));
        QCOMPARE(m_rec->stats->backend, QStringLiteral("remote"));
        QCOMPARE(m_rec->stats->model, QStringLiteral("test-model"));
        QVERIFY(m_rec->stats->ttftMs >= 0);

        QCOMPARE(m_server->requests.size(), 1);
        const SeenRequest & seen = m_server->requests[0];
        QCOMPARE(seen.method, QByteArray("POST"));
        QCOMPARE(seen.path, QByteArray("/v1/chat/completions"));
        QCOMPARE(seen.headers.value("authorization"), "Bearer " + kKey.toUtf8());
        QCOMPARE(seen.headers.value("accept"), QByteArray("text/event-stream"));
        const QJsonObject body = QJsonDocument::fromJson(seen.body).object();
        QCOMPARE(body.value("stream").toBool(), true);
        QCOMPARE(body.value("stream_options").toObject().value("include_usage").toBool(), true);
        QCOMPARE(body.value("model").toString(), QStringLiteral("test-model"));
        QCOMPARE(body.value("messages").toArray().size(), 1);
    }

    void deltaReasoningFieldAndStatsWithoutUsage() {
        m_server->enqueue(sseScript(sse(chunkJson("reasoning", "r1")) + sse(chunkJson("content", "a")) +
                                    sse(chunkJson("content", "b")) + "data: [DONE]\n\n"));
        run();
        QCOMPARE(m_rec->thinking, QStringLiteral("r1"));
        QCOMPARE(m_rec->tokens, QStringLiteral("ab"));
        QCOMPARE(m_rec->stats->completionTokens, 3); // counted chunks when the server sends no usage
    }

    // The stream cut into 5-byte pieces (inside UTF-8 sequences and CRLFs), chunked encoding.
    void splitChunksCrlfAndKeepAlives() {
        const QByteArray text = "Gr\xC3\xBC\xC3\x9F" "e \xE4\xB8\x96\xE7\x95\x8C \xF0\x9F\x98\x80";
        QByteArray       body = ": keep-alive\r\n\r\n";
        body += "event: message\r\ndata: " + chunkJson("content", text) + "\r\n\r\n";
        body += ": keep-alive\r\n\r\n";
        body += "data: " + chunkJson("content", "!") + "\r\n\r\n";
        body += "data: [DONE]\r\n\r\n";
        Script script;
        script.steps.append(Step{httpHead(200, "text/event-stream; charset=utf-8", {}, true)});
        for (qsizetype i = 0; i < body.size(); i += 5) {
            script.steps.append(Step{httpChunk(body.mid(i, 5)), 2});
        }
        script.steps.append(Step{"0\r\n\r\n"});
        m_server->enqueue(script);
        run();
        QVERIFY(m_rec->stats.has_value());
        QCOMPARE(m_rec->tokens, QString::fromUtf8(text) + QLatin1Char('!'));
    }

    void unauthorized401NeverEchoesKey() {
        m_server->enqueue(Script{{Step{jsonResponse(
            401, R"({"error":{"message":"Incorrect API key provided: sk-secret-key-0123456789","type":"invalid_request_error"}})")}}});
        run();
        expectError(ChatError::Kind::Unauthorized, {"API key", "401"});
        QCOMPARE(m_rec->error->httpStatus, 401);
    }

    void forbidden403() {
        m_server->enqueue(Script{{Step{jsonResponse(403, R"({"error":{"message":"Insufficient balance"}})")}}});
        run();
        expectError(ChatError::Kind::Unauthorized, {"403", "Insufficient balance"});
    }

    void notFound404NamesModel() {
        m_server->enqueue(Script{{Step{jsonResponse(404, R"({"error":{"message":"The model `test-model` does not exist"}})")}}});
        run();
        expectError(ChatError::Kind::NotFound, {"test-model", "404"});
    }

    void contextTooLong400() {
        m_server->enqueue(Script{{Step{jsonResponse(
            400, "{\"error\":{\"message\":\"This model's maximum context length is 4096 tokens. However, you requested 9000 "
                 "tokens.\"}}")}}});
        run();
        expectError(ChatError::Kind::ContextTooLong, {"too long", "maximum context length"});
    }

    void otherBadRequest400IsServer() {
        m_server->enqueue(Script{{Step{jsonResponse(400, R"({"error":{"message":"temperature must be <= 2"}})")}}});
        run();
        expectError(ChatError::Kind::Server, {"400", "temperature must be"});
    }

    void payloadTooLarge413() {
        m_server->enqueue(Script{{Step{jsonResponse(413, "Request Entity Too Large")}}});
        run();
        expectError(ChatError::Kind::ContextTooLong, {"413", "too long"});
    }

    void rateLimitedThenSuccess() {
        m_server->enqueue(Script{{Step{jsonResponse(429, R"({"error":{"message":"slow down"}})", {"Retry-After: 1"})}}});
        m_server->enqueue(sseScript(normalBody()));
        QElapsedTimer clock;
        clock.start();
        run();
        QVERIFY(m_rec->stats.has_value());
        QCOMPARE(m_rec->tokens, QStringLiteral("Hello world"));
        QCOMPARE(m_server->requests.size(), 2);
        QCOMPARE(m_rec->retryDelays, QList<int>({1000}));
        QVERIFY(clock.elapsed() >= 950); // Retry-After honoured
    }

    void rateLimitedForever() {
        for (int i = 0; i < 5; ++i) {
            m_server->enqueue(Script{{Step{jsonResponse(429, R"({"error":{"message":"quota"}})", {"Retry-After: 1"})}}});
        }
        RemoteSettings s = settings();
        s.maxRetryDelayMs = 200; // cap below Retry-After
        run(s);
        expectError(ChatError::Kind::RateLimited, {"429", "3 tries"});
        QCOMPARE(m_server->requests.size(), 3);
        QCOMPARE(m_rec->retryDelays, QList<int>({200, 200}));
        QCOMPARE(m_rec->error->retryAfterSeconds, 1);
    }

    void rateLimitedAfterTokensIsNotRetried() {
        // A 429 can't come after tokens on one stream; but a mid-stream error object must not retry.
        m_server->enqueue(sseScript(sse(chunkJson("content", "par")) +
                                    sse(R"({"error":{"message":"Rate limit reached","code":429}})")));
        run();
        expectError(ChatError::Kind::Server, {"Rate limit reached", "partial answer"});
        QCOMPARE(m_rec->tokens, QStringLiteral("par"));
        QCOMPARE(m_server->requests.size(), 1);
    }

    void serverError500WithJson() {
        m_server->enqueue(Script{{Step{jsonResponse(500, R"({"error":{"message":"CUDA out of memory","code":500}})")}}});
        run();
        expectError(ChatError::Kind::Server, {"500", "CUDA out of memory"});
    }

    void serviceUnavailable503() {
        m_server->enqueue(Script{{Step{httpHead(503, "text/html", {}, false, 22) + "<html>busy</html>     "}}});
        run();
        expectError(ChatError::Kind::Server, {"503"});
    }

    void slowDrip() {
        // Headers at once, then the body one byte every 50 ms; inactivity timeout 400 ms.
        Script script;
        script.steps.append(Step{httpHead(200, "text/event-stream")});
        script.steps.append(Step{R"(data:{"choices":[{"delta":{"content":"Hi"}}]})" "\n\ndata:[DONE]\n\n", 0, 50});
        m_server->enqueue(script);
        RemoteSettings s = settings();
        s.inactivityTimeoutMs = 400;
        run(s);
        QVERIFY2(m_rec->stats.has_value(), qPrintable(m_rec->error ? m_rec->error->message : QString()));
        QCOMPARE(m_rec->tokens, QStringLiteral("Hi"));
    }

    void droppedMidStreamKeepsPartial() {
        Script script;
        script.steps.append(Step{httpHead(200, "text/event-stream", {}, true)});
        script.steps.append(Step{httpChunk(sse(chunkJson("content", "Hel")))});
        script.steps.append(Step{httpChunk("data: {\"choi"), 20}); // then the connection drops
        m_server->enqueue(script);
        run();
        expectError(ChatError::Kind::Network, {"closed", "partial answer"});
        QCOMPARE(m_rec->tokens, QStringLiteral("Hel"));
    }

    void closedWithoutDoneButFinishReasonIsSuccess() {
        m_server->enqueue(sseScript(sse(chunkJson("content", "ok")) +
                                    sse(R"({"choices":[{"index":0,"delta":{},"finish_reason":"length"}]})")));
        run();
        QVERIFY(m_rec->stats.has_value());
        QCOMPARE(m_rec->stats->finishReason, QStringLiteral("length"));
    }

    void malformedJsonLine() {
        m_server->enqueue(sseScript(sse(chunkJson("content", "A")) + "data: {\"choices\": [oops\n\n" +
                                    sse(chunkJson("content", "B"))));
        run();
        expectError(ChatError::Kind::BadResponse, {"malformed"});
        QCOMPARE(m_rec->tokens, QStringLiteral("A"));
    }

    void errorObjectMidStream() {
        m_server->enqueue(sseScript(sse(chunkJson("content", "x")) +
                                    "event: error\ndata: {\"error\":{\"message\":\"engine crashed\"}}\n\n"));
        run();
        expectError(ChatError::Kind::Server, {"engine crashed"});
        QCOMPARE(m_rec->tokens, QStringLiteral("x"));
    }

    void tenMegabyteLine() {
        const QByteArray huge = "data: {\"choices\":[{\"delta\":{\"content\":\"" + QByteArray(10 * 1024 * 1024, 'a') + "\"}}]}\n\n";
        Script script;
        script.steps.append(Step{httpHead(200, "text/event-stream") + sse(chunkJson("content", "before"))});
        script.steps.append(Step{huge});
        script.steps.append(Step{"data: [DONE]\n\n"});
        m_server->enqueue(script);
        QElapsedTimer clock;
        clock.start();
        run();
        expectError(ChatError::Kind::BadResponse, {"larger than"});
        QCOMPARE(m_rec->tokens, QStringLiteral("before"));
        QVERIFY(clock.elapsed() < 4000);
    }

    void serverNeverAnswers() {
        Script script;
        script.steps.append(Step{{}, 0, 0, true}); // read the request, then say nothing
        m_server->enqueue(script);
        RemoteSettings s = settings();
        s.connectTimeoutMs = 300;
        QElapsedTimer clock;
        clock.start();
        run(s);
        expectError(ChatError::Kind::Timeout, {"did not answer"});
        QVERIFY(clock.elapsed() >= 250);
    }

    void stallsMidStream() {
        Script script;
        script.steps.append(Step{httpHead(200, "text/event-stream") + sse(chunkJson("content", "half"))});
        script.steps.append(Step{{}, 0, 0, true});
        m_server->enqueue(script);
        RemoteSettings s = settings();
        s.inactivityTimeoutMs = 300;
        run(s);
        expectError(ChatError::Kind::Timeout, {"stopped sending", "partial answer"});
        QCOMPARE(m_rec->tokens, QStringLiteral("half"));
    }

    void cancelMidStreamClosesConnection() {
        Script script;
        script.steps.append(Step{httpHead(200, "text/event-stream") + sse(chunkJson("content", "one"))});
        script.steps.append(Step{sse(chunkJson("content", "two")), 3000}); // never reached
        m_server->enqueue(script);
        m_backend->setSettings(settings());
        m_backend->start(request());
        QTRY_COMPARE_WITH_TIMEOUT(m_rec->tokens, QStringLiteral("one"), 3000);
        const qint64 cancelAt = m_server->clock.elapsed();
        m_backend->cancel();
        QVERIFY(m_rec->error.has_value()); // failed(Cancelled) at once
        QCOMPARE(m_rec->error->kind, ChatError::Kind::Cancelled);
        QVERIFY(!m_backend->isBusy());
        QTRY_COMPARE_WITH_TIMEOUT(m_server->clientClosed, 1, 1000);
        QVERIFY(m_server->clientClosedAtMs - cancelAt < 500);
        QCOMPARE(m_rec->tokens, QStringLiteral("one"));
    }

    void cancelFromTokenSlot() {
        m_server->enqueue(sseScript(normalBody()));
        connect(m_backend, &ChatBackend::token, m_backend, [this] { m_backend->cancel(); });
        run();
        QCOMPARE(m_rec->error->kind, ChatError::Kind::Cancelled);
        QCOMPARE(m_rec->tokens, QStringLiteral("Hello")); // nothing after the cancel
    }

    void busyWhileRunning() {
        Script script;
        script.steps.append(Step{httpHead(200, "text/event-stream") + sse(chunkJson("content", "a"))});
        script.steps.append(Step{"data: [DONE]\n\n", 200});
        m_server->enqueue(script);
        m_backend->setSettings(settings());
        m_backend->start(request());
        QSignalSpy failedSpy(m_backend, &ChatBackend::failed);
        m_backend->start(request());
        QTRY_COMPARE_WITH_TIMEOUT(failedSpy.size(), 1, 1000);
        QCOMPARE(failedSpy[0][0].value<ChatError>().kind, ChatError::Kind::Busy);
        m_rec->error.reset();
        QTRY_VERIFY_WITH_TIMEOUT(m_rec->stats.has_value(), 3000);
        QCOMPARE(m_rec->tokens, QStringLiteral("a"));
    }

    void wholeJsonAnswerWhenServerIgnoresStream() {
        m_server->enqueue(Script{{Step{jsonResponse(
            200, R"({"choices":[{"index":0,"message":{"role":"assistant","content":"full","reasoning_content":"why"},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":2}})")}}});
        run();
        QVERIFY(m_rec->stats.has_value());
        QCOMPARE(m_rec->tokens, QStringLiteral("full"));
        QCOMPARE(m_rec->thinking, QStringLiteral("why"));
        QCOMPARE(m_rec->stats->completionTokens, 2);
    }

    void connectionRefused() {
        QTcpServer probe;
        QVERIFY(probe.listen(QHostAddress::LocalHost, 0));
        const quint16 port = probe.serverPort();
        probe.close();
        RemoteSettings s = settings();
        s.baseUrl = QUrl(QStringLiteral("http://127.0.0.1:%1/v1").arg(port));
        run(s);
        expectError(ChatError::Kind::Network, {"refused"});
    }

    void tlsToPlainServer() {
        if (!QSslSocket::supportsSsl()) {
            QSKIP("no TLS backend in this Qt");
        }
        // A plain-HTTP server that answers the TLS ClientHello with text and hangs up.
        QTcpServer plain;
        QVERIFY(plain.listen(QHostAddress::LocalHost, 0));
        connect(&plain, &QTcpServer::newConnection, &plain, [&plain] {
            QTcpSocket * socket = plain.nextPendingConnection();
            socket->write("HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\nnot tls");
            socket->disconnectFromHost();
        });
        RemoteSettings s = settings();
        s.baseUrl = QUrl(QStringLiteral("https://127.0.0.1:%1/v1").arg(plain.serverPort()));
        run(s);
        expectError(ChatError::Kind::Tls, {"TLS", "https://"});
    }

    void invalidBaseUrl() {
        RemoteSettings s = settings();
        s.baseUrl = QUrl(QStringLiteral("ftp://127.0.0.1/"));
        m_backend->setSettings(s);
        m_backend->start(request());
        QVERIFY(!m_backend->isBusy());
        QTRY_VERIFY_WITH_TIMEOUT(m_rec->done(), 1000);
        expectError(ChatError::Kind::Network, {"not a valid"});
    }

    void modelList() {
        m_server->enqueue(Script{{Step{jsonResponse(
            200, R"({"object":"list","data":[{"id":"qwen3-8b","object":"model"},{"id":"deepseek-r1","object":"model"}]})")}}});
        m_backend->setSettings(settings());
        QSignalSpy ready(m_backend, &RemoteBackend::modelsReady);
        m_backend->fetchModels();
        QVERIFY(ready.wait(3000));
        QCOMPARE(ready[0][0].toStringList(), QStringList({"deepseek-r1", "qwen3-8b"}));
        QCOMPARE(m_server->requests[0].method, QByteArray("GET"));
        QCOMPARE(m_server->requests[0].path, QByteArray("/v1/models"));
        QCOMPARE(m_server->requests[0].headers.value("authorization"), "Bearer " + kKey.toUtf8());
    }

    void modelListUnauthorized() {
        m_server->enqueue(Script{{Step{jsonResponse(401, R"({"error":{"message":"bad key sk-secret-key-0123456789"}})")}}});
        m_backend->setSettings(settings());
        QSignalSpy failedSpy(m_backend, &RemoteBackend::modelsFailed);
        m_backend->fetchModels();
        QVERIFY(failedSpy.wait(3000));
        const ChatError e = failedSpy[0][0].value<ChatError>();
        QCOMPARE(e.kind, ChatError::Kind::Unauthorized);
        QVERIFY(!e.message.contains(kKey));
    }

    void modelListTimeout() {
        m_server->enqueue(Script{{Step{{}, 0, 0, true}}});
        RemoteSettings s = settings();
        s.modelsTimeoutMs = 300;
        m_backend->setSettings(s);
        QSignalSpy failedSpy(m_backend, &RemoteBackend::modelsFailed);
        m_backend->fetchModels();
        QVERIFY(failedSpy.wait(3000));
        QCOMPARE(failedSpy[0][0].value<ChatError>().kind, ChatError::Kind::Timeout);
    }

    // A request with a key, a server that echoes it in a 401 and a model list: with every logging
    // category on, no line Qt logged contains the key or a recognisable piece of it.
    void apiKeyNeverInLogs() {
        LogCapture capture;
        m_server->enqueue(Script{{Step{jsonResponse(
            401, R"({"error":{"message":"Incorrect API key provided: sk-secret-key-0123456789"}})")}}});
        run();
        expectError(ChatError::Kind::Unauthorized, {"API key"});
        m_server->enqueue(Script{{Step{jsonResponse(200, R"({"data":[{"id":"m1"}]})")}}});
        QSignalSpy ready(m_backend, &RemoteBackend::modelsReady);
        m_backend->fetchModels();
        QTRY_COMPARE_WITH_TIMEOUT(ready.size(), 1, 3000);
        QVERIFY(!LogCapture::lines.isEmpty()); // the debug lines were really captured
        for (const QString & line : std::as_const(LogCapture::lines)) {
            QVERIFY2(!line.contains(QLatin1String("0123456789")) && !line.contains(QLatin1String("sk-secret")), qPrintable(line));
        }
        QCOMPARE(m_server->requests.first().headers.value("authorization"), QByteArray("Bearer ") + kKey.toUtf8());
    }

    // http_proxy (the system configuration on Linux) is honoured for a non-loopback host: the
    // request reaches the loopback "proxy" in absolute form, key and all.
    void systemProxyIsUsed() {
        qputenv("http_proxy", QStringLiteral("http://127.0.0.1:%1").arg(m_server->port()).toUtf8());
        m_server->enqueue(sseScript(normalBody()));
        RemoteSettings s = settings();
        s.baseUrl = QUrl(QStringLiteral("http://api.example.invalid/v1"));
        run(s);
        qunsetenv("http_proxy");
        QVERIFY2(m_rec->stats.has_value(), qPrintable(m_rec->error ? m_rec->error->message : QString()));
        QCOMPARE(m_rec->tokens, QStringLiteral("Hello world"));
        QCOMPARE(m_server->requests.size(), 1);
        QCOMPARE(m_server->requests.first().path, QByteArray("http://api.example.invalid/v1/chat/completions"));
    }

    void imageAttachmentsGoAsImageUrlDataParts() {
        m_server->enqueue(sseScript(normalBody()));
        RemoteSettings s = settings();
        s.acceptsImages = true;
        ChatRequest r = request();
        r.messages.first().content = QStringLiteral("What is this?");
        r.messages.first().attachments = {ChatAttachment{QStringLiteral("dot.png"), QStringLiteral("image/png"), tinyPng()}};
        r.messages.append(ChatMessage{QStringLiteral("assistant"), QStringLiteral("A dot."), {}, {}});
        r.messages.append(ChatMessage{QStringLiteral("user"), QStringLiteral("Sure?"), {}, {}});
        run(s, r);
        QVERIFY(m_rec->stats.has_value());
        const QJsonArray messages = QJsonDocument::fromJson(m_server->requests.first().body)[QLatin1String("messages")].toArray();
        QCOMPARE(messages.size(), 3);
        const QJsonArray parts = messages.at(0)[QLatin1String("content")].toArray();
        QCOMPARE(parts.size(), 2);
        QCOMPARE(parts.at(0)[QLatin1String("type")].toString(), QStringLiteral("text"));
        QCOMPARE(parts.at(0)[QLatin1String("text")].toString(), QStringLiteral("What is this?"));
        QCOMPARE(parts.at(1)[QLatin1String("type")].toString(), QStringLiteral("image_url"));
        const QString url = parts.at(1)[QLatin1String("image_url")][QLatin1String("url")].toString();
        QVERIFY(url.startsWith(QLatin1String("data:image/png;base64,")));
        QCOMPARE(QByteArray::fromBase64(url.section(QLatin1Char(','), 1).toLatin1()), tinyPng());
        // Messages without images keep plain string content.
        QCOMPARE(messages.at(2)[QLatin1String("content")].toString(), QStringLiteral("Sure?"));
    }

    void imagesRefusedWhenModelDoesNotAcceptThem() {
        ChatRequest r = request();
        r.messages.first().attachments = {ChatAttachment{QStringLiteral("dot.png"), QStringLiteral("image/png"), tinyPng()}};
        refuse(settings(), r);
        expectError(ChatError::Kind::Unsupported, {"test-model", "images"});
    }

    void imageTooLargeOrNotAnImage_data() {
        QTest::addColumn<QByteArray>("bytes");
        QTest::addColumn<QString>("mime");
        QTest::addColumn<QString>("words");
        QTest::newRow("over 10 MB") << tinyPng() + QByteArray(kMaxImageBytes, 'x') << QStringLiteral("image/png") << QStringLiteral("at most");
        QTest::newRow("gif") << QByteArray("GIF89a....") << QStringLiteral("image/gif") << QStringLiteral("PNG or JPEG");
        QTest::newRow("jpeg labelled png") << QByteArray("\xff\xd8\xff\xe0....") << QStringLiteral("image/png") << QStringLiteral("image/jpeg");
    }
    void imageTooLargeOrNotAnImage() {
        QFETCH(QByteArray, bytes);
        QFETCH(QString, mime);
        QFETCH(QString, words);
        RemoteSettings s = settings();
        s.acceptsImages = true;
        ChatRequest r = request();
        r.messages.first().attachments = {ChatAttachment{QStringLiteral("pic"), mime, bytes}};
        refuse(s, r);
        expectError(ChatError::Kind::Unsupported, {words, "\"pic\""});
    }
};

QTEST_GUILESS_MAIN(TestRemoteBackend)
#include "test_remote_backend.moc"
