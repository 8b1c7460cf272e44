// The local API server without a model: a fake CompletionSource stands in for the engine, so the
// HTTP layer, SSE framing, the queue, cancellation and every refusal are tested in milliseconds.
#include "ServerTestClient.h"
#include "backends/RemoteBackend.h"
#include "server/ApiServer.h"
#include "server/ChatCompletions.h"
#include "v4/error.h"

#include <QJsonArray>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QSignalSpy>
#include <QTest>

#include <chrono>
#include <thread>

using namespace v4app;
using v4test::httpRequest;
using v4test::rawExchange;

namespace {

// Replies by the last user message: "think" -> "<think>hmm</think>answer"; "slow" -> "tick "
// every 10 ms until cancelled; "block" -> waits for the gate (or cancel); anything else ->
// "Hello world" in two pieces. Records what it saw so tests can check cancellation and sampling.
struct FakeState {
    std::atomic<bool>    gateOpen{false};
    std::atomic<int>     cancelled{0};
    std::atomic<int>     started{0};
    std::atomic<int64_t> lastMaxTokens{0};
    std::atomic<float>   lastTemperature{0};
};

class FakeSource final : public CompletionSource {
public:
    explicit FakeSource(FakeState & state) : m_state(state) {}
    QString modelId() const override { return QStringLiteral("fake-model"); }
    bool    promptOpensThinking(const v4::chat_request &) override { return false; }

    v4::chat_result generate(const v4::chat_request & request, const v4::text_callback & onText,
                             const std::atomic<bool> * cancel) override {
        m_state.started++;
        m_state.lastMaxTokens   = request.max_tokens;
        m_state.lastTemperature = request.sampling.temperature;
        const std::string prompt = request.messages.back().content;
        v4::chat_result   r;
        r.n_prompt = 7;
        r.reason   = v4::stop_reason::eog_token;
        auto emitPiece = [&](std::string_view piece) {
            if (cancel && cancel->load()) {
                m_state.cancelled++;
                throw v4::Error(v4::ErrorCode::cancelled, "cancelled");
            }
            r.text += piece;
            r.n_generated++;
            onText(piece);
        };
        if (prompt == "think") {
            emitPiece("<think>hm");
            emitPiece("m</think>answer");
        } else if (prompt == "slow") {
            for (int i = 0; i < 1000; ++i) {
                emitPiece("tick ");
                std::this_thread::sleep_for(std::chrono::milliseconds(10));
            }
        } else if (prompt == "block") {
            while (!m_state.gateOpen.load()) {
                if (cancel && cancel->load()) {
                    m_state.cancelled++;
                    throw v4::Error(v4::ErrorCode::cancelled, "cancelled");
                }
                std::this_thread::sleep_for(std::chrono::milliseconds(5));
            }
            emitPiece("done");
        } else if (prompt == "overflow") {
            throw v4::Error(v4::ErrorCode::context_overflow, "the prompt needs 9000 tokens; the context holds 8192");
        } else {
            emitPiece("Hello");
            emitPiece(" world");
            if (request.max_tokens == 2) {
                r.reason = v4::stop_reason::max_tokens;
            }
        }
        return r;
    }

private:
    FakeState & m_state;
};

QByteArray chatBody(const QString & prompt, bool stream, const QJsonObject & extra = {}) {
    QJsonObject body{{QStringLiteral("model"), QStringLiteral("fake-model")},
                     {QStringLiteral("messages"), QJsonArray{QJsonObject{{QStringLiteral("role"), QStringLiteral("user")},
                                                                         {QStringLiteral("content"), prompt}}}},
                     {QStringLiteral("stream"), stream}};
    for (auto it = extra.begin(); it != extra.end(); ++it) {
        body.insert(it.key(), it.value());
    }
    return QJsonDocument(body).toJson(QJsonDocument::Compact);
}

} // namespace

class TestServerApi : public QObject {
    Q_OBJECT

private:
    FakeState                  m_state;
    std::unique_ptr<ApiServer> m_server;

    std::unique_ptr<ApiServer> makeServer(ApiServerSettings settings, int workers = 1) {
        settings.port = 0;
        std::vector<std::unique_ptr<CompletionSource>> sources;
        for (int i = 0; i < workers; ++i) {
            sources.push_back(std::make_unique<FakeSource>(m_state));
        }
        auto server = std::make_unique<ApiServer>(settings, std::move(sources));
        QString error;
        if (!server->listen(&error)) {
            qFatal("listen failed: %s", qPrintable(error));
        }
        return server;
    }

    quint16 port() const { return m_server->port(); }

    void expectNormalRequestWorks() {
        const auto r = rawExchange(port(), httpRequest("POST", "/v1/chat/completions", chatBody(QStringLiteral("hi"), false)));
        QCOMPARE(r.status, 200);
        QCOMPARE(r.json()[QLatin1String("choices")].toArray().at(0)[QLatin1String("message")][QLatin1String("content")].toString(), QStringLiteral("Hello world"));
    }

    RemoteSettings remoteSettings() const {
        RemoteSettings s;
        s.baseUrl = m_server->baseUrl();
        s.preset  = EndpointPreset::LlamaCpp;
        s.model   = QStringLiteral("fake-model");
        return s;
    }

private slots:
    void init() {
        m_state.gateOpen = false;
        m_state.cancelled = 0;
        m_server = makeServer({});
    }
    void cleanup() {
        m_state.gateOpen = true;
        m_server.reset();
    }

    void healthAndModels() {
        auto r = rawExchange(port(), httpRequest("GET", "/health"));
        QCOMPARE(r.status, 200);
        QCOMPARE(r.json()[QLatin1String("status")].toString(), QStringLiteral("ok"));
        r = rawExchange(port(), httpRequest("GET", "/v1/models"));
        QCOMPARE(r.status, 200);
        QCOMPARE(r.json()[QLatin1String("object")].toString(), QStringLiteral("list"));
        QCOMPARE(r.json()[QLatin1String("data")].toArray().at(0)[QLatin1String("id")].toString(), QStringLiteral("fake-model"));
    }

    void nonStreamedCompletion() {
        const QJsonObject extra{{QStringLiteral("max_tokens"), 2}, {QStringLiteral("temperature"), 0.25}};
        const auto r = rawExchange(port(), httpRequest("POST", "/v1/chat/completions", chatBody(QStringLiteral("hi"), false, extra)));
        QCOMPARE(r.status, 200);
        const QJsonObject o = r.json();
        QCOMPARE(o[QLatin1String("object")].toString(), QStringLiteral("chat.completion"));
        QCOMPARE(o[QLatin1String("choices")].toArray().at(0)[QLatin1String("finish_reason")].toString(), QStringLiteral("length"));
        QCOMPARE(o[QLatin1String("usage")][QLatin1String("prompt_tokens")].toInt(), 7);
        QCOMPARE(o[QLatin1String("usage")][QLatin1String("completion_tokens")].toInt(), 2);
        QCOMPARE(o[QLatin1String("usage")][QLatin1String("total_tokens")].toInt(), 9);
        QCOMPARE(m_state.lastMaxTokens.load(), int64_t{2});
        QCOMPARE(m_state.lastTemperature.load(), 0.25f);
    }

    void streamedEventsAreOpenAiShaped() {
        const QJsonObject extra{{QStringLiteral("stream_options"), QJsonObject{{QStringLiteral("include_usage"), true}}}};
        const auto r = rawExchange(port(), httpRequest("POST", "/v1/chat/completions", chatBody(QStringLiteral("think"), true, extra)));
        QCOMPARE(r.status, 200);
        QVERIFY(r.head.contains("Content-Type: text/event-stream"));
        QList<QJsonObject> chunks;
        QByteArrayList     events = r.body.split('\n');
        events.removeAll(QByteArray());
        QCOMPARE(events.last(), QByteArray("data: [DONE]"));
        events.removeLast();
        for (const QByteArray & e : events) {
            QVERIFY2(e.startsWith("data: "), e.constData());
            chunks.append(QJsonDocument::fromJson(e.mid(6)).object());
        }
        QVERIFY(chunks.size() >= 4);
        QCOMPARE(chunks.first()[QLatin1String("choices")].toArray().at(0)[QLatin1String("delta")][QLatin1String("role")].toString(), QStringLiteral("assistant"));
        QString thinking, content;
        for (const QJsonObject & c : chunks) {
            QCOMPARE(c[QLatin1String("object")].toString(), QStringLiteral("chat.completion.chunk"));
            const QJsonArray choices = c[QLatin1String("choices")].toArray();
            if (!choices.isEmpty()) {
                thinking += choices.at(0)[QLatin1String("delta")][QLatin1String("reasoning_content")].toString();
                content += choices.at(0)[QLatin1String("delta")][QLatin1String("content")].toString();
            }
        }
        QCOMPARE(thinking, QStringLiteral("hmm"));
        QCOMPARE(content, QStringLiteral("answer"));
        const QJsonObject finish = chunks.at(chunks.size() - 2);
        QCOMPARE(finish[QLatin1String("choices")].toArray().at(0)[QLatin1String("finish_reason")].toString(), QStringLiteral("stop"));
        QVERIFY(chunks.last()[QLatin1String("choices")].toArray().isEmpty());
        QCOMPARE(chunks.last()[QLatin1String("usage")][QLatin1String("prompt_tokens")].toInt(), 7);
    }

    void remoteBackendRoundTrip() {
        RemoteBackend backend(remoteSettings());
        QSignalSpy    tokens(&backend, &ChatBackend::token);
        QSignalSpy    thinking(&backend, &ChatBackend::thinking);
        QSignalSpy    finished(&backend, &ChatBackend::finished);
        QSignalSpy    failed(&backend, &ChatBackend::failed);
        ChatRequest   request;
        request.messages = {{QStringLiteral("user"), QStringLiteral("think"), {}}};
        request.thinking = true;
        backend.start(request);
        QTRY_VERIFY_WITH_TIMEOUT(finished.size() + failed.size() > 0, 10000);
        QCOMPARE(failed.size(), 0);
        QString text, thought;
        for (const auto & a : tokens) text += a.at(0).toString();
        for (const auto & a : thinking) thought += a.at(0).toString();
        QCOMPARE(text, QStringLiteral("answer"));
        QCOMPARE(thought, QStringLiteral("hmm"));
        const auto stats = finished.first().at(0).value<GenerationStats>();
        QCOMPARE(stats.promptTokens, 7);
        QVERIFY(stats.completionTokens > 0);
        QCOMPARE(stats.finishReason, QStringLiteral("stop"));
    }

    void cancelMidStreamStopsGeneration() {
        RemoteBackend backend(remoteSettings());
        QSignalSpy    tokens(&backend, &ChatBackend::token);
        QSignalSpy    failed(&backend, &ChatBackend::failed);
        ChatRequest   request;
        request.messages = {{QStringLiteral("user"), QStringLiteral("slow"), {}}};
        backend.start(request);
        QTRY_VERIFY_WITH_TIMEOUT(tokens.size() >= 2, 10000);
        QElapsedTimer timer;
        timer.start();
        backend.cancel();
        QTRY_COMPARE_WITH_TIMEOUT(failed.size(), 1, 2000);
        QCOMPARE(failed.first().at(0).value<ChatError>().kind, ChatError::Kind::Cancelled);
        // The server noticed the disconnect and the generation stopped at its next token.
        QTRY_COMPARE_WITH_TIMEOUT(m_state.cancelled.load(), 1, 2000);
        QVERIFY2(timer.elapsed() < 2000, qPrintable(QString::number(timer.elapsed())));
        expectNormalRequestWorks();
    }

    void badRequestsGetJsonErrorsAndServingGoesOn_data() {
        QTest::addColumn<QByteArray>("request");
        QTest::addColumn<int>("status");
        QTest::addColumn<QString>("code");
        QTest::newRow("malformed json") << httpRequest("POST", "/v1/chat/completions", "{\"messages\": [")
                                        << 400 << QStringLiteral("invalid_json");
        QTest::newRow("not an object") << httpRequest("POST", "/v1/chat/completions", "[1,2]") << 400 << QStringLiteral("invalid_json");
        QTest::newRow("no messages") << httpRequest("POST", "/v1/chat/completions", "{\"model\":\"fake-model\"}")
                                     << 400 << QStringLiteral("invalid_value");
        QTest::newRow("bad temperature")
            << httpRequest("POST", "/v1/chat/completions", chatBody(QStringLiteral("hi"), false, {{QStringLiteral("temperature"), QStringLiteral("hot")}}))
            << 400 << QStringLiteral("invalid_value");
        QTest::newRow("n > 1") << httpRequest("POST", "/v1/chat/completions", chatBody(QStringLiteral("hi"), false, {{QStringLiteral("n"), 3}}))
                               << 400 << QStringLiteral("unsupported_value");
        QTest::newRow("unknown model")
            << httpRequest("POST", "/v1/chat/completions", chatBody(QStringLiteral("hi"), false, {{QStringLiteral("model"), QStringLiteral("gpt-9")}}))
            << 404 << QStringLiteral("model_not_found");
        QTest::newRow("non-loopback host") << httpRequest("GET", "/v1/models", {}, {}, "evil.example:8080") << 403
                                           << QStringLiteral("host_not_allowed");
        QTest::newRow("rebinding host with loopback port") << httpRequest("GET", "/health", {}, {}, "attacker.test") << 403
                                                           << QStringLiteral("host_not_allowed");
        QTest::newRow("oversized body announced")
            << QByteArray("POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5000000\r\n\r\n{")
            << 413 << QStringLiteral("request_too_large");
        QTest::newRow("oversized body sent") << httpRequest("POST", "/v1/chat/completions", QByteArray(5 * 1024 * 1024, ' '))
                                             << 413 << QStringLiteral("request_too_large");
        QTest::newRow("chunked request body")
            << QByteArray("POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
            << 411 << QStringLiteral("length_required");
        QTest::newRow("content-length not a number")
            << QByteArray("POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nContent-Length: lots\r\n\r\n{}")
            << 400 << QStringLiteral("bad_request");
        QTest::newRow("negative content-length")
            << QByteArray("POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nContent-Length: -5\r\n\r\n{}")
            << 400 << QStringLiteral("bad_request");
        QTest::newRow("messages not an array")
            << httpRequest("POST", "/v1/chat/completions", "{\"messages\":\"hi\"}") << 400 << QStringLiteral("invalid_value");
        QTest::newRow("invalid utf-8 in json")
            << httpRequest("POST", "/v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":\"\xff\xfe\"}]}")
            << 400 << QStringLiteral("invalid_json");
        QTest::newRow("garbage request line") << QByteArray("HELLO THERE\r\n\r\n") << 400 << QStringLiteral("bad_request");
        QTest::newRow("missing host") << QByteArray("GET /health HTTP/1.1\r\n\r\n") << 400 << QStringLiteral("bad_request");
        QTest::newRow("huge headers") << QByteArray("GET /health HTTP/1.1\r\nHost: localhost\r\nX-Pad: " + QByteArray(20000, 'a') + "\r\n\r\n")
                                      << 431 << QStringLiteral("headers_too_large");
        QTest::newRow("unknown route") << httpRequest("GET", "/v2/nothing") << 404 << QStringLiteral("not_found");
        QTest::newRow("wrong method") << httpRequest("GET", "/v1/chat/completions") << 405 << QStringLiteral("method_not_allowed");
        QTest::newRow("context overflow") << httpRequest("POST", "/v1/chat/completions", chatBody(QStringLiteral("overflow"), true))
                                          << 400 << QStringLiteral("context_length_exceeded");
    }
    void badRequestsGetJsonErrorsAndServingGoesOn() {
        QFETCH(QByteArray, request);
        QFETCH(int, status);
        QFETCH(QString, code);
        const auto r = rawExchange(port(), request);
        QCOMPARE(r.status, status);
        QVERIFY2(r.head.contains("Content-Type: application/json"), r.head.constData());
        QVERIFY2(r.json()[QLatin1String("error")][QLatin1String("message")].isString(), r.body.constData());
        QVERIFY(r.json()[QLatin1String("error")][QLatin1String("type")].isString());
        QCOMPARE(r.errorCode(), code);
        expectNormalRequestWorks();
    }

    void loopbackHostSpellingsAreAccepted() {
        for (const QByteArray host : {"localhost", "localhost:8080", "127.0.0.1:1234", "[::1]:8080", "[::1]", "LOCALHOST"}) {
            QCOMPARE(rawExchange(port(), httpRequest("GET", "/health", {}, {}, host)).status, 200);
        }
    }

    void apiKeyIsRequiredWhenSet() {
        ApiServerSettings s;
        s.apiKey = QStringLiteral("sekrit-key");
        m_server = makeServer(s);
        const QByteArray body = chatBody(QStringLiteral("hi"), false);
        auto r = rawExchange(port(), httpRequest("POST", "/v1/chat/completions", body));
        QCOMPARE(r.status, 401);
        QCOMPARE(r.errorCode(), QStringLiteral("invalid_api_key"));
        QVERIFY(!r.body.contains("sekrit"));
        r = rawExchange(port(), httpRequest("POST", "/v1/chat/completions", body, "Authorization: Bearer sekrit-kez\r\n"));
        QCOMPARE(r.status, 401);
        r = rawExchange(port(), httpRequest("GET", "/v1/models", {}, "Authorization: Basic c2Vrcml0LWtleQ==\r\n"));
        QCOMPARE(r.status, 401);
        QCOMPARE(rawExchange(port(), httpRequest("GET", "/health")).status, 200); // health needs no key
        r = rawExchange(port(), httpRequest("POST", "/v1/chat/completions", body, "Authorization: Bearer sekrit-key\r\n"));
        QCOMPARE(r.status, 200);

        RemoteSettings rs = remoteSettings();
        rs.apiKey = QStringLiteral("wrong");
        RemoteBackend backend(rs);
        QSignalSpy    failed(&backend, &ChatBackend::failed);
        ChatRequest   request;
        request.messages = {{QStringLiteral("user"), QStringLiteral("hi"), {}}};
        backend.start(request);
        QTRY_COMPARE_WITH_TIMEOUT(failed.size(), 1, 10000);
        QCOMPARE(failed.first().at(0).value<ChatError>().kind, ChatError::Kind::Unauthorized);
    }

    void tooManyQueuedGets429() {
        ApiServerSettings s;
        s.maxQueued = 2;
        m_server = makeServer(s);
        m_state.started = 0;
        // One running (blocked) and two waiting fill the server; the next is refused.
        QList<QTcpSocket *> clients;
        for (int i = 0; i < 3; ++i) {
            auto * c = new QTcpSocket(this);
            c->connectToHost(QHostAddress::LocalHost, port());
            c->write(httpRequest("POST", "/v1/chat/completions", chatBody(QStringLiteral("block"), false)));
            clients.append(c);
            if (i == 0) {
                QTRY_COMPARE_WITH_TIMEOUT(m_state.started.load(), 1, 5000);
            }
        }
        QTRY_COMPARE_WITH_TIMEOUT(m_server->pendingCount(), 2, 5000);
        auto r = rawExchange(port(), httpRequest("POST", "/v1/chat/completions", chatBody(QStringLiteral("hi"), false)));
        QCOMPARE(r.status, 429);
        QCOMPARE(r.errorCode(), QStringLiteral("too_many_requests"));
        QVERIFY(r.head.contains("Retry-After: 1"));
        // A waiting client that hangs up leaves the queue.
        clients.at(2)->abort();
        QTRY_COMPARE_WITH_TIMEOUT(m_server->pendingCount(), 1, 5000);
        m_state.gateOpen = true;
        QTRY_COMPARE_WITH_TIMEOUT(m_state.started.load(), 2, 5000); // FIFO: the second client, not the aborted third
        QTRY_COMPARE_WITH_TIMEOUT(m_server->pendingCount(), 0, 5000);
        qDeleteAll(clients);
        expectNormalRequestWorks();
    }

    void keepAliveServesSeveralRequestsOnOneConnection() {
        QTcpSocket socket;
        socket.connectToHost(QHostAddress::LocalHost, port());
        QByteArray received;
        connect(&socket, &QTcpSocket::readyRead, this, [&] { received += socket.readAll(); });
        const QByteArray one = "GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n";
        socket.write(one + one);
        QTRY_COMPARE_WITH_TIMEOUT(received.count("HTTP/1.1 200 OK"), 2, 5000);
        QCOMPARE(socket.state(), QAbstractSocket::ConnectedState);
    }

    void requestParsingMapsFields() {
        CompletionRequest out;
        const QByteArray  body = R"({"model":"m","messages":[{"role":"developer","content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]},
            {"role":"user","content":"hi"}],"top_p":0.5,"top_k":7,"min_p":0.1,"seed":42,"max_completion_tokens":9,"max_tokens":3,
            "stop":["x","y"],"presence_penalty":0.5,"frequency_penalty":-0.5,"chat_template_kwargs":{"enable_thinking":false},
            "stream":true,"stream_options":{"include_usage":true}})";
        QVERIFY(!parseCompletionRequest(body, out));
        QCOMPARE(out.chat.messages.size(), size_t{2});
        QCOMPARE(out.chat.messages[0].role, std::string("system"));
        QCOMPARE(out.chat.messages[0].content, std::string("ab"));
        QCOMPARE(out.chat.sampling.top_p, 0.5f);
        QCOMPARE(out.chat.sampling.top_k, 7);
        QCOMPARE(out.chat.sampling.min_p, 0.1f);
        QCOMPARE(out.chat.sampling.seed, uint64_t{42});
        QVERIFY(out.seedGiven);
        QCOMPARE(out.chat.max_tokens, 9);
        QCOMPARE(out.chat.stop, (std::vector<std::string>{"x", "y"}));
        QCOMPARE(out.chat.sampling.presence_penalty, 0.5f);
        QCOMPARE(out.chat.sampling.frequency_penalty, -0.5f);
        QCOMPARE(out.chat.enable_thinking, std::optional<bool>(false));
        QVERIFY(out.stream && out.includeUsage);

        CompletionRequest deepseek;
        QVERIFY(!parseCompletionRequest(R"({"messages":[{"role":"user","content":"x"}],"thinking":{"type":"enabled"}})", deepseek));
        QCOMPARE(deepseek.chat.enable_thinking, std::optional<bool>(true));
        CompletionRequest bad;
        const auto e = parseCompletionRequest(R"({"messages":[{"role":"wizard","content":"x"}]})", bad);
        QVERIFY(e);
        QCOMPARE(e->param, QStringLiteral("messages[0].role"));
    }
};

QTEST_GUILESS_MAIN(TestServerApi)
#include "test_server_api.moc"
