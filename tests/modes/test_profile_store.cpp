// ProfileStore: defaults, persistence across instances (a restart), change signals, endpoints,
// the Expert default's choice of a reasoning model, and applyProfile().
#include <QSettings>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

#include "modes/ProfileStore.h"

using namespace v4app;

class TestProfileStore : public QObject {
    Q_OBJECT

private slots:
    void init() {
        QVERIFY(m_dir.isValid());
        m_path = m_dir.filePath(QStringLiteral("settings-%1.ini").arg(++m_counter));
    }
    void defaults();
    void profilesPersistAcrossInstances();
    void changesAreSignalled();
    void resetRestoresDefault();
    void endpointsPersistInOrder();
    void expertDefaultPrefersReasoningModels();
    void notesExplainLimits();
    void applyProfileFillsRequest();
    void validationMessages();
    void readsLegacyWizardModel();

private:
    QTemporaryDir m_dir;
    QString       m_path;
    int           m_counter = 0;
};

void TestProfileStore::defaults() {
    ProfileStore store(m_path);
    const ModeProfile fast = store.profile(ChatMode::Fast);
    const ModeProfile expert = store.profile(ChatMode::Expert);
    QVERIFY(fast.isLocal());
    QVERIFY(!fast.thinking);
    QVERIFY(expert.thinking);
    QVERIFY(expert.maxTokens + expert.thinkingBudget > fast.maxTokens);
    QVERIFY(!store.isCustomised(ChatMode::Fast));
    QCOMPARE(store.autoThreshold(), ProfileStore::kDefaultAutoThreshold);
    QVERIFY(store.effectiveModel(fast).endsWith(QStringLiteral(".gguf")));
}

void TestProfileStore::profilesPersistAcrossInstances() {
    ModeProfile p;
    p.model = QStringLiteral("/models/x.gguf");
    p.sampling.temperature = 0.25;
    p.sampling.topK = 7;
    p.sampling.topP = 0.5;
    p.sampling.minP = 0.1;
    p.sampling.repetitionPenalty = 1.15;
    p.thinking = true;
    p.maxTokens = 300;
    p.thinkingBudget = 900;
    p.systemPrompt = QStringLiteral("Be terse.\nAnswer in English.");
    {
        ProfileStore store(m_path);
        store.setProfile(ChatMode::Fast, p);
        store.setAutoThreshold(5);
    }
    ProfileStore reopened(m_path);
    QCOMPARE(reopened.profile(ChatMode::Fast), p);
    QVERIFY(reopened.isCustomised(ChatMode::Fast));
    QVERIFY(!reopened.isCustomised(ChatMode::Expert));
    QCOMPARE(reopened.autoThreshold(), 5);
}

void TestProfileStore::changesAreSignalled() {
    ProfileStore store(m_path);
    QSignalSpy profiles(&store, &ProfileStore::profileChanged);
    QSignalSpy endpoints(&store, &ProfileStore::endpointsChanged);
    QSignalSpy local(&store, &ProfileStore::localSettingsChanged);
    store.setProfile(ChatMode::Expert, store.profile(ChatMode::Expert));
    store.setEndpoints({});
    store.setLocalSettings({});
    QCOMPARE(profiles.size(), 1);
    QCOMPARE(profiles.first().first().value<ChatMode>(), ChatMode::Expert);
    QCOMPARE(endpoints.size(), 1);
    QCOMPARE(local.size(), 1);
}

void TestProfileStore::resetRestoresDefault() {
    ProfileStore store(m_path);
    ModeProfile p = store.profile(ChatMode::Fast);
    p.sampling.temperature = 1.9;
    store.setProfile(ChatMode::Fast, p);
    store.resetProfile(ChatMode::Fast);
    QCOMPARE(store.profile(ChatMode::Fast), store.defaultProfile(ChatMode::Fast));
}

void TestProfileStore::endpointsPersistInOrder() {
    RemoteEndpoint a{ProfileStore::newEndpointId(), QStringLiteral("Lab vLLM"), QStringLiteral("vllm"),
                     QUrl(QStringLiteral("http://10.0.0.5:8000/v1")), QStringLiteral("Qwen/Qwen3-8B"), false};
    RemoteEndpoint b{ProfileStore::newEndpointId(), QStringLiteral("DeepSeek"), QStringLiteral("deepseek"),
                     QUrl(QStringLiteral("https://api.deepseek.com")), QStringLiteral("deepseek-chat"), true};
    QVERIFY(a.id != b.id);
    {
        ProfileStore store(m_path);
        store.setEndpoints({a, b});
    }
    ProfileStore reopened(m_path);
    QCOMPARE(reopened.endpoints(), (QVector<RemoteEndpoint>{a, b}));
    QCOMPARE(reopened.endpoint(b.id)->name, QStringLiteral("DeepSeek"));
    QVERIFY(!reopened.endpoint(QStringLiteral("nope")));
    reopened.setEndpoints({b});
    QCOMPARE(reopened.endpoints().size(), 1);
}

void TestProfileStore::expertDefaultPrefersReasoningModels() {
    ProfileStore store(m_path);
    QVERIFY(store.profile(ChatMode::Expert).isLocal());
    LocalEngineSettings local;
    local.modelFiles = {QStringLiteral("/m/gemma-3-270m.gguf"), QStringLiteral("/m/DeepSeek-R1-Distill-Qwen-1.5B-Q4_K_M.gguf")};
    store.setLocalSettings(local);
    QCOMPARE(store.profile(ChatMode::Expert).model, local.modelFiles[1]);
    const RemoteEndpoint ds{QStringLiteral("ep-ds"), QStringLiteral("DeepSeek"), QStringLiteral("deepseek"),
                            QUrl(QStringLiteral("https://api.deepseek.com")), QStringLiteral("deepseek-chat"), false};
    store.setEndpoints({ds});
    const ModeProfile expert = store.profile(ChatMode::Expert);
    QCOMPARE(expert.backend, QStringLiteral("ep-ds"));
    QCOMPARE(expert.model, QStringLiteral("deepseek-reasoner"));
    QVERIFY(!store.profile(ChatMode::Fast).thinking); // Fast stays local and quick
    QVERIFY(store.profile(ChatMode::Fast).isLocal());

    QVERIFY(looksLikeReasoningModel(QStringLiteral("QwQ-32B-Q4_K_M.gguf")));
    QVERIFY(!looksLikeReasoningModel(QStringLiteral("/home/r1/models/llama-3.2-1b.gguf"))); // folder names do not count
    QVERIFY(!looksLikeReasoningModel(QStringLiteral("starcoder2-3b.gguf")));
}

void TestProfileStore::notesExplainLimits() {
    ProfileStore store(m_path);
    QVERIFY(store.profileNote(ChatMode::Expert).contains(QStringLiteral("same local model")));
    ModeProfile p = store.profile(ChatMode::Fast);
    p.backend = QStringLiteral("ep-gone");
    store.setProfile(ChatMode::Fast, p);
    QVERIFY(store.profileNote(ChatMode::Fast).contains(QStringLiteral("removed")));
}

void TestProfileStore::applyProfileFillsRequest() {
    ModeProfile p;
    p.thinking = true;
    p.maxTokens = 500;
    p.thinkingBudget = 1500;
    p.sampling.temperature = 0.3;
    p.systemPrompt = QStringLiteral("You are careful.");
    p.model = QStringLiteral("deepseek-reasoner");
    ChatRequest r;
    r.messages = {ChatMessage{QStringLiteral("user"), QStringLiteral("hi"), {}, {}}};
    applyProfile(p, r);
    QCOMPARE(r.maxTokens, 2000);
    QVERIFY(r.thinking);
    QCOMPARE(r.sampling.temperature, 0.3);
    QCOMPARE(r.model, QStringLiteral("deepseek-reasoner"));
    QCOMPARE(r.messages.size(), 2);
    QCOMPARE(r.messages.first().role, QStringLiteral("system"));
    applyProfile(p, r); // an existing system message is not doubled
    QCOMPARE(r.messages.size(), 2);
    p.thinking = false;
    applyProfile(p, r);
    QCOMPARE(r.maxTokens, 500); // no thinking: no thinking budget
}

void TestProfileStore::validationMessages() {
    ModeProfile p;
    QVERIFY(validateProfile(p, false).isEmpty());
    p.sampling.temperature = 3;
    p.sampling.topP = 0;
    p.maxTokens = 1;
    QCOMPARE(validateProfile(p, false).size(), 3);
    p = {};
    p.backend = QStringLiteral("ep-missing");
    QVERIFY(validateProfile(p, false).first().contains(QStringLiteral("no longer exists")));
    QVERIFY(validateProfile(p, true).isEmpty());

    RemoteEndpoint e{QStringLiteral("ep"), QStringLiteral("x"), QStringLiteral("custom"), QUrl(QStringLiteral("ftp://a")), {}, false};
    QCOMPARE(validateEndpoint(e).size(), 1);
    e.baseUrl = QUrl(QStringLiteral("http://127.0.0.1:8080"));
    QVERIFY(validateEndpoint(e).isEmpty());
    e.name = QStringLiteral("  ");
    QCOMPARE(validateEndpoint(e).size(), 1);
}

void TestProfileStore::readsLegacyWizardModel() {
    {
        QSettings s(m_path, QSettings::IniFormat);
        s.setValue(QStringLiteral("setup/modelPath"), QStringLiteral("/old/choice.gguf"));
    }
    ProfileStore store(m_path);
    QCOMPARE(store.defaultLocalModel(), QStringLiteral("/old/choice.gguf"));
    QCOMPARE(store.effectiveModel(store.profile(ChatMode::Fast)), QStringLiteral("/old/choice.gguf"));
}

QTEST_GUILESS_MAIN(TestProfileStore)
#include "test_profile_store.moc"
