// LocalServerController (the app's server switch) with a fake source: start -> Running and
// answering, a second server on the same port -> Failed saying the port is in use, stop, a
// missing model file, and stop during a slow load.
#include "ServerTestClient.h"
#include "server/LocalServerController.h"

#include <QSignalSpy>
#include <QTest>

#include <chrono>
#include <thread>

using namespace v4app;
using v4test::httpRequest;
using v4test::rawExchange;

namespace {

class EchoSource final : public CompletionSource {
public:
    QString         modelId() const override { return QStringLiteral("echo"); }
    bool            promptOpensThinking(const v4::chat_request &) override { return false; }
    v4::chat_result generate(const v4::chat_request &, const v4::text_callback & onText, const std::atomic<bool> *) override {
        onText("pong");
        v4::chat_result r;
        r.text = "pong";
        r.n_generated = 1;
        return r;
    }
};

LocalServerController::SourceFactory fakeFactory(int loadDelayMs = 0) {
    return [loadDelayMs](const LocalServerSettings &, QString *) {
        std::this_thread::sleep_for(std::chrono::milliseconds(loadDelayMs));
        std::vector<std::unique_ptr<CompletionSource>> sources;
        sources.push_back(std::make_unique<EchoSource>());
        return sources;
    };
}

LocalServerSettings anyPort() {
    LocalServerSettings s;
    s.port = 0;
    return s;
}

} // namespace

class TestLocalServerController : public QObject {
    Q_OBJECT

private slots:
    void startServeStop() {
        LocalServerController controller(fakeFactory());
        QSignalSpy            states(&controller, &LocalServerController::stateChanged);
        controller.start(anyPort());
        QCOMPARE(controller.state(), LocalServerController::State::Starting);
        QTRY_COMPARE_WITH_TIMEOUT(controller.state(), LocalServerController::State::Running, 5000);
        QCOMPARE(controller.modelId(), QStringLiteral("echo"));
        QVERIFY(controller.url().toString().startsWith(QLatin1String("http://127.0.0.1:")));
        QVERIFY(controller.url().toString().endsWith(QLatin1String("/v1")));

        const quint16 port = static_cast<quint16>(controller.url().port());
        const auto    r = rawExchange(port, httpRequest("GET", "/v1/models", {}));
        QCOMPARE(r.status, 200);
        QVERIFY(r.body.contains("\"echo\""));

        controller.stop();
        QCOMPARE(controller.state(), LocalServerController::State::Stopped);
        QVERIFY(controller.url().isEmpty());
        QCOMPARE(states.size(), 3); // Starting, Running, Stopped
        QCOMPARE(rawExchange(port, httpRequest("GET", "/health", {}), 1000).status, 0); // nobody listens
    }

    void portInUseFailsWithAClearMessage() {
        LocalServerController first(fakeFactory());
        first.start(anyPort());
        QTRY_COMPARE_WITH_TIMEOUT(first.state(), LocalServerController::State::Running, 5000);

        LocalServerController second(fakeFactory());
        LocalServerSettings   s;
        s.port = static_cast<quint16>(first.url().port());
        second.start(s);
        QTRY_COMPARE_WITH_TIMEOUT(second.state(), LocalServerController::State::Failed, 5000);
        QVERIFY2(second.errorString().contains(QLatin1String("already in use")), qPrintable(second.errorString()));
        QVERIFY(second.errorString().contains(QString::number(s.port)));

        // After the failure it can start again (here on a free port).
        second.start(anyPort());
        QTRY_COMPARE_WITH_TIMEOUT(second.state(), LocalServerController::State::Running, 5000);
    }

    void missingModelFails() {
        LocalServerController controller; // the real engine factory
        LocalServerSettings   s = anyPort();
        s.modelPath = QStringLiteral("/nonexistent/model.gguf");
        controller.start(s);
        QTRY_COMPARE_WITH_TIMEOUT(controller.state(), LocalServerController::State::Failed, 5000);
        QVERIFY2(controller.errorString().contains(QLatin1String("/nonexistent/model.gguf")), qPrintable(controller.errorString()));
    }

    void stopWhileLoadingAbandonsTheLoad() {
        LocalServerController controller(fakeFactory(300));
        controller.start(anyPort());
        controller.stop();
        QCOMPARE(controller.state(), LocalServerController::State::Stopped);
        QTest::qWait(500); // the load finishes; its result must be dropped
        QCOMPARE(controller.state(), LocalServerController::State::Stopped);
        QVERIFY(controller.url().isEmpty());
    }

    void apiKeyIsEnforced() {
        LocalServerController controller(fakeFactory());
        LocalServerSettings   s = anyPort();
        s.apiKey = QStringLiteral("k-123");
        controller.start(s);
        QTRY_COMPARE_WITH_TIMEOUT(controller.state(), LocalServerController::State::Running, 5000);
        const quint16 port = static_cast<quint16>(controller.url().port());
        QCOMPARE(rawExchange(port, httpRequest("GET", "/v1/models", {})).status, 401);
    }
};

QTEST_GUILESS_MAIN(TestLocalServerController)
#include "test_local_server_controller.moc"
