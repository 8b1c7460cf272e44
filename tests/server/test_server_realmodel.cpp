// The server over the real engine and the default model (a base model: its answers through the
// chat template mean nothing, so only the structure is checked: tokens stream, usage is counted,
// finish_reason is set, a cancel stops the generation, and the server keeps serving).
#include "ServerTestClient.h"
#include "backends/RemoteBackend.h"
#include "server/ApiServer.h"
#include "test_paths.h"

#include <QFileInfo>
#include <QJsonArray>
#include <QSignalSpy>
#include <QTest>

using namespace v4app;
using v4test::httpRequest;
using v4test::rawExchange;

class TestServerRealModel : public QObject {
    Q_OBJECT

private:
    std::unique_ptr<ApiServer> m_server;

    RemoteSettings remoteSettings() const {
        RemoteSettings s;
        s.baseUrl = m_server->baseUrl();
        s.preset  = EndpointPreset::LlamaCpp;
        s.model   = m_server->modelId();
        return s;
    }

    ChatRequest request(int maxTokens) const {
        ChatRequest r;
        r.messages           = {{QStringLiteral("user"), QStringLiteral("Write a long story about a lighthouse keeper."), {}}};
        r.maxTokens          = maxTokens;
        r.sampling.seed      = 1234;
        r.sampling.temperature = 0.8;
        return r;
    }

private slots:
    void initTestCase() {
        V4_REQUIRE_DEFAULT_MODEL(path);
        const auto model = v4::model::load(path.toStdString());
        v4::session_params sp;
        sp.n_ctx = 2048;
        std::vector<std::unique_ptr<CompletionSource>> sources;
        sources.push_back(std::make_unique<ChatRunnerSource>(model, sp, QFileInfo(path).completeBaseName()));
        ApiServerSettings settings;
        settings.port = 0;
        m_server      = std::make_unique<ApiServer>(settings, std::move(sources));
        QString error;
        QVERIFY2(m_server->listen(&error), qPrintable(error));
    }
    void cleanupTestCase() { m_server.reset(); }

    void modelsListsTheLoadedModel() {
        const auto r = rawExchange(m_server->port(), httpRequest("GET", "/v1/models"));
        QCOMPARE(r.status, 200);
        QCOMPARE(r.json()[QLatin1String("data")].toArray().at(0)[QLatin1String("id")].toString(), QStringLiteral("gemma-3-270m-q4_k_m"));
    }

    void remoteBackendStreamsWithUsage() {
        RemoteBackend backend(remoteSettings());
        QSignalSpy    tokens(&backend, &ChatBackend::token);
        QSignalSpy    thinking(&backend, &ChatBackend::thinking);
        QSignalSpy    finished(&backend, &ChatBackend::finished);
        QSignalSpy    failed(&backend, &ChatBackend::failed);
        backend.start(request(24));
        QTRY_VERIFY_WITH_TIMEOUT(finished.size() + failed.size() > 0, 120000);
        QVERIFY2(failed.isEmpty(), failed.isEmpty() ? "" : qPrintable(failed.first().at(0).value<ChatError>().message));
        QVERIFY2(tokens.size() + thinking.size() > 0, "no streamed pieces");
        const auto stats = finished.first().at(0).value<GenerationStats>();
        QVERIFY(stats.promptTokens > 0);
        QVERIFY(stats.completionTokens > 0 && stats.completionTokens <= 24);
        QVERIFY(stats.finishReason == QLatin1String("stop") || stats.finishReason == QLatin1String("length"));
    }

    void cancelMidStreamStopsPromptly() {
        RemoteBackend backend(remoteSettings());
        QSignalSpy    tokens(&backend, &ChatBackend::token);
        QSignalSpy    finished(&backend, &ChatBackend::finished);
        QSignalSpy    failed(&backend, &ChatBackend::failed);
        ChatRequest   r = request(1500);
        r.sampling.temperature = 1.5; // a base model wanders on rather than ending early
        backend.start(r);
        QTRY_VERIFY_WITH_TIMEOUT(tokens.size() >= 3 || !finished.isEmpty(), 120000);
        if (!finished.isEmpty()) {
            QSKIP("the model ended its answer before it could be cancelled");
        }
        QElapsedTimer timer;
        timer.start();
        backend.cancel();
        QTRY_COMPARE_WITH_TIMEOUT(failed.size(), 1, 5000);
        QCOMPARE(failed.first().at(0).value<ChatError>().kind, ChatError::Kind::Cancelled);
        // The worker is free again soon: the next request is answered without waiting for 1500 tokens.
        const QByteArray body = R"({"messages":[{"role":"user","content":"Hi"}],"max_tokens":4,"stream":false})";
        const auto       next = rawExchange(m_server->port(), httpRequest("POST", "/v1/chat/completions", body), 60000);
        QCOMPARE(next.status, 200);
        QVERIFY2(timer.elapsed() < 30000, qPrintable(QString::number(timer.elapsed())));
        QVERIFY(next.json()[QLatin1String("usage")][QLatin1String("completion_tokens")].toInt() > 0);
        QVERIFY(!next.json()[QLatin1String("choices")].toArray().at(0)[QLatin1String("finish_reason")].toString().isEmpty());
    }

    void badRequestThenNormalRequest() {
        auto r = rawExchange(m_server->port(), httpRequest("POST", "/v1/chat/completions", "{oops"));
        QCOMPARE(r.status, 400);
        r = rawExchange(m_server->port(), httpRequest("GET", "/v1/models", {}, {}, "rebind.example.com"));
        QCOMPARE(r.status, 403);
        const QByteArray body = R"({"model":"gemma-3-270m-q4_k_m","messages":[{"role":"user","content":"Hi"}],"max_tokens":3})";
        r = rawExchange(m_server->port(), httpRequest("POST", "/v1/chat/completions", body), 60000);
        QCOMPARE(r.status, 200);
        QCOMPARE(r.json()[QLatin1String("object")].toString(), QStringLiteral("chat.completion"));
        QVERIFY(r.json()[QLatin1String("usage")][QLatin1String("prompt_tokens")].toInt() > 0);
    }
};

QTEST_GUILESS_MAIN(TestServerRealModel)
#include "test_server_realmodel.moc"
