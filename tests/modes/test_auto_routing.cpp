// ChatController with profiles: each answer uses its mode's profile and backend; Auto asks the
// Router, reports "Auto → …" and the one-click override answers again in the other mode.
#include <QSignalSpy>
#include <QTimer>
#include <QTemporaryDir>
#include <QTest>

#include "chat/ChatController.h"
#include "modes/ProfileStore.h"
#include "storage/ConversationStore.h"
#include "storage/Database.h"

using namespace v4app;

namespace {
// Records each request and answers "ok" at once (or never, when held, so a stop can land).
class RecordingBackend final : public ChatBackend {
public:
    explicit RecordingBackend(QString name) : m_name(std::move(name)) {}
    QString name() const override { return m_name; }
    bool    isBusy() const override { return m_busy; }
    void    start(const ChatRequest & request) override {
        requests.push_back(request);
        m_busy = true;
        if (!hold) QTimer::singleShot(0, this, [this] { finish(); });
    }
    void cancel() override {
        QTimer::singleShot(0, this, [this] {
            m_busy = false;
            emit failed(ChatError{ChatError::Kind::Cancelled, QStringLiteral("Stopped."), 0, 0});
        });
    }
    void finish() {
        emit token(QStringLiteral("ok"));
        m_busy = false;
        GenerationStats s;
        s.completionTokens = 1;
        emit finished(s);
    }
    QVector<ChatRequest> requests;
    bool                 hold = false;

private:
    QString m_name;
    bool    m_busy = false;
};
} // namespace

class TestAutoRouting : public QObject {
    Q_OBJECT

private slots:
    void init() {
        QVERIFY(m_dir.isValid());
        auto db = Database::open(m_dir.filePath(QStringLiteral("c%1.sqlite3").arg(++m_counter)));
        QVERIFY(db);
        m_db = std::move(db.value());
        m_store = std::make_unique<ConversationStore>(*m_db);
        m_profiles = std::make_unique<ProfileStore>(m_dir.filePath(QStringLiteral("s%1.ini").arg(m_counter)));
        m_local = std::make_unique<RecordingBackend>(QStringLiteral("local-cpu"));
        m_remote = std::make_unique<RecordingBackend>(QStringLiteral("remote"));
        m_controller = std::make_unique<ChatController>(m_local.get(), m_store.get(), QStringLiteral("/m/default.gguf"));
        m_controller->setProfiles(m_profiles.get());
        m_controller->setBackendChooser([this](const ModeProfile & p) -> ChatBackend * {
            return p.isLocal() ? static_cast<ChatBackend *>(m_local.get()) : m_remote.get();
        });
    }
    void cleanup() {
        m_controller.reset();
        m_store.reset();
        m_db.reset();
    }

    void fastAndExpertUseTheirProfiles();
    void autoRoutesAndSaysWhy();
    void overrideAnswersInTheOtherMode();
    void remoteProfileUsesTheRemoteBackend();

private:
    QTemporaryDir                     m_dir;
    int                               m_counter = 0;
    std::unique_ptr<Database>         m_db;
    std::unique_ptr<ConversationStore> m_store;
    std::unique_ptr<ProfileStore>     m_profiles;
    std::unique_ptr<RecordingBackend> m_local;
    std::unique_ptr<RecordingBackend> m_remote;
    std::unique_ptr<ChatController>   m_controller;
};

void TestAutoRouting::fastAndExpertUseTheirProfiles() {
    ModeProfile fast = m_profiles->profile(ChatMode::Fast);
    fast.sampling.temperature = 0.2;
    fast.systemPrompt = QStringLiteral("Be brief.");
    fast.model = QStringLiteral("/m/fast.gguf");
    m_profiles->setProfile(ChatMode::Fast, fast);
    QSignalSpy done(m_controller.get(), &ChatController::answerFinished);
    m_controller->send(QStringLiteral("hi"), ChatMode::Fast);
    QVERIFY(done.wait());
    const ChatRequest & r = m_local->requests.last();
    QCOMPARE(r.sampling.temperature, 0.2);
    QCOMPARE(r.model, QStringLiteral("/m/fast.gguf"));
    QVERIFY(!r.thinking);
    QCOMPARE(r.messages.first().role, QStringLiteral("system"));

    m_controller->send(QStringLiteral("and again"), ChatMode::Expert);
    QVERIFY(done.wait());
    const ChatRequest & e = m_local->requests.last();
    QVERIFY(e.thinking);
    const ModeProfile expert = m_profiles->profile(ChatMode::Expert);
    QCOMPARE(e.maxTokens, expert.maxTokens + expert.thinkingBudget);
    QCOMPARE(m_store->message(m_controller->messages().last().id)->mode, QStringLiteral("expert"));
}

void TestAutoRouting::autoRoutesAndSaysWhy() {
    QSignalSpy routed(m_controller.get(), &ChatController::autoRouted);
    QSignalSpy done(m_controller.get(), &ChatController::answerFinished);
    m_controller->send(QStringLiteral("Prove that there are infinitely many primes, step by step."), ChatMode::Auto);
    QVERIFY(done.wait());
    QCOMPARE(routed.size(), 1);
    QVERIFY2(routed.first().at(1).toString().startsWith(QStringLiteral("Auto \u2192 Expert: ")),
             qPrintable(routed.first().at(1).toString()));
    QVERIFY(m_local->requests.last().thinking);
    QCOMPARE(m_store->message(m_controller->messages().last().id)->mode, QStringLiteral("expert")); // what answered
    QCOMPARE(m_store->conversation(m_controller->conversationId())->mode, QStringLiteral("auto")); // what the chat uses

    m_controller->send(QStringLiteral("thanks!"), ChatMode::Auto);
    QVERIFY(done.wait());
    QVERIFY(routed.last().at(1).toString().startsWith(QStringLiteral("Auto \u2192 Fast")));
    QVERIFY(!m_local->requests.last().thinking);
}

void TestAutoRouting::overrideAnswersInTheOtherMode() {
    m_local->hold = true; // the routed answer is still streaming when the user clicks
    QSignalSpy routed(m_controller.get(), &ChatController::autoRouted);
    QSignalSpy done(m_controller.get(), &ChatController::answerFinished);
    m_controller->send(QStringLiteral("What is the capital of Peru?"), ChatMode::Auto);
    QCOMPARE(routed.size(), 1);
    QCOMPARE(routed.first().at(2).value<ChatMode>(), ChatMode::Fast);
    m_local->hold = false;
    m_controller->overrideAutoChoice(); // stop, then answer again in Expert
    QVERIFY(done.wait());
    QCOMPARE(m_local->requests.size(), 2);
    QVERIFY(m_local->requests.last().thinking);
    auto family = m_store->siblings(m_controller->messages().last().id);
    QVERIFY(family);
    QCOMPARE(family->ids.size(), 2); // the stopped Fast answer is kept as a branch
}

void TestAutoRouting::remoteProfileUsesTheRemoteBackend() {
    m_profiles->setEndpoints({RemoteEndpoint{QStringLiteral("ep-1"), QStringLiteral("Lab"), QStringLiteral("vllm"),
                                             QUrl(QStringLiteral("http://127.0.0.1:8000/v1")), QStringLiteral("qwen3"), false}});
    ModeProfile expert = m_profiles->profile(ChatMode::Expert);
    expert.backend = QStringLiteral("ep-1");
    expert.model.clear();
    m_profiles->setProfile(ChatMode::Expert, expert);
    QSignalSpy done(m_controller.get(), &ChatController::answerFinished);
    m_controller->send(QStringLiteral("hello"), ChatMode::Expert);
    QVERIFY(done.wait());
    QCOMPARE(m_remote->requests.size(), 1);
    QCOMPARE(m_remote->requests.first().model, QStringLiteral("qwen3")); // the endpoint's model
    QVERIFY(m_local->requests.isEmpty());
    m_controller->send(QStringLiteral("hello again"), ChatMode::Fast); // back to the local engine
    QVERIFY(done.wait());
    QCOMPARE(m_local->requests.size(), 1);
}

QTEST_GUILESS_MAIN(TestAutoRouting)
#include "test_auto_routing.moc"
