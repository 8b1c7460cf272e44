// LocalBackend with session snapshots: a long prefill is saved per conversation, a backend started
// afresh (the app restarted) restores it instead of prefilling, and answers exactly as a backend
// that prefilled everything; stale snapshots are dropped; a snapshot that cannot be written is a
// warning and the chat goes on. Observed through LocalBackend's signals and GenerationStats, not time.
#include "backends/LocalBackend.h"
#include "sessions/SessionSnapshotStore.h"

#include "test_paths.h"

#include <QFile>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

using namespace v4app;

namespace {

constexpr qint64 kConversation = 42;

struct Answer {
    QString         text;
    GenerationStats stats;
};

// Runs one request to its end; fails the test on an error or a timeout.
Answer answer(LocalBackend & backend, const ChatRequest & request) {
    Answer      a;
    QSignalSpy  finished(&backend, &ChatBackend::finished);
    QSignalSpy  failed(&backend, &ChatBackend::failed);
    const auto  c = QObject::connect(&backend, &ChatBackend::token, [&](const QString & t) { a.text += t; });
    backend.start(request);
    if (!QTest::qWaitFor([&] { return !finished.isEmpty() || !failed.isEmpty(); }, 900'000)) {
        qWarning("no answer within 15 minutes");
    } else if (!failed.isEmpty()) {
        qWarning() << "answer failed:" << failed.first().first().value<ChatError>().message;
    } else {
        a.stats = finished.first().first().value<GenerationStats>();
    }
    QObject::disconnect(c);
    return a;
}

} // namespace

class TestLocalBackendSnapshots : public QObject {
    Q_OBJECT

    QString       m_model;
    QTemporaryDir m_dir;

    LocalBackendSettings settings(const QString & snapshotsDir) const {
        return {.contextSize = 1024, .threads = 2, .snapshotsDir = snapshotsDir, .snapshotMinTokens = 64};
    }
    ChatRequest request(const QString & firstMessage, qint64 conversationId = kConversation) const {
        ChatRequest r;
        r.model          = m_model;
        r.conversationId = conversationId;
        r.maxTokens      = 6;
        r.sampling.topK  = 1; // greedy: the same prompt gives the same answer
        r.sampling.seed  = 1;
        r.messages       = {{QStringLiteral("user"), firstMessage, {}, {}}};
        return r;
    }
    static QString longMessage() {
        QString text;
        for (int i = 0; i < 6; ++i) {
            text += QStringLiteral("Entry %1: the lighthouse keeper wrote down the wind, the ships that passed and the "
                                   "colour of the sea at dusk. ").arg(i + 1);
        }
        return text + QStringLiteral("What did he write down?");
    }

private slots:
    void initTestCase() {
        V4_REQUIRE_DEFAULT_MODEL(path);
        m_model = path;
        QVERIFY(m_dir.isValid());
    }

    // Turn one saves; after a "restart" turn two restores that state and evaluates only the new tail,
    // and its answer equals the one of a backend that prefilled the whole conversation.
    void aReopenedConversationRestoresInsteadOfPrefilling() {
        const QString snapshots = m_dir.filePath(QStringLiteral("restore"));
        ChatRequest   first     = request(longMessage());
        Answer        one;
        {
            LocalBackend backend(settings(snapshots));
            QSignalSpy   saved(&backend, &LocalBackend::sessionSaved);
            one = answer(backend, first);
            QVERIFY(one.stats.promptTokens > 64);
            QCOMPARE(one.stats.reusedPromptTokens, 0);
            QVERIFY(saved.wait(60'000) || !saved.isEmpty());
            QCOMPARE(saved.first().at(0).toLongLong(), kConversation);
            QVERIFY(saved.first().at(1).toInt() >= one.stats.promptTokens);
        }
        QVERIFY(QFile::exists(v4app::sessions::SessionSnapshotStore(snapshots).pathFor(kConversation)));

        ChatRequest second = first;
        second.messages << ChatMessage{QStringLiteral("assistant"), one.text, {}, {}}
                        << ChatMessage{QStringLiteral("user"), QStringLiteral("And then?"), {}, {}};
        Answer restoredAnswer;
        {
            LocalBackend backend(settings(snapshots)); // the app started again
            QSignalSpy   restored(&backend, &LocalBackend::sessionRestored);
            QSignalSpy   dropped(&backend, &LocalBackend::sessionDropped);
            restoredAnswer = answer(backend, second);
            QCOMPARE(dropped.count(), 0);
            QCOMPARE(restored.count(), 1);
            QCOMPARE(restored.first().at(0).toLongLong(), kConversation);
            const int restoredTokens = restored.first().at(1).toInt();
            QVERIFY2(restoredTokens >= one.stats.promptTokens, qPrintable(QString::number(restoredTokens)));
            // what was restored was not prefilled again
            QVERIFY(restoredAnswer.stats.reusedPromptTokens >= one.stats.promptTokens);
        }
        Answer fresh;
        {
            LocalBackend backend(settings({})); // no snapshots: prefills everything
            fresh = answer(backend, second);
            QCOMPARE(fresh.stats.reusedPromptTokens, 0);
        }
        QCOMPARE(restoredAnswer.stats.promptTokens, fresh.stats.promptTokens);
        QCOMPARE(restoredAnswer.text, fresh.text);
    }

    // A damaged file and a conversation whose first message changed: dropped with a reason, file
    // gone, the answer comes anyway (prefilled) and a new snapshot is written for it.
    void staleSnapshotsAreDroppedAndReplaced() {
        const QString                    snapshots = m_dir.filePath(QStringLiteral("stale"));
        v4app::sessions::SessionSnapshotStore store(snapshots);
        ChatRequest                      req = request(longMessage(), 7);
        {
            LocalBackend backend(settings(snapshots));
            QSignalSpy   saved(&backend, &LocalBackend::sessionSaved);
            QVERIFY(answer(backend, req).stats.promptTokens > 0);
            QVERIFY(saved.wait(60'000) || !saved.isEmpty());
        }
        {
            QFile f(store.pathFor(7));
            QVERIFY(f.open(QIODevice::ReadWrite));
            f.resize(f.size() / 3);
        }
        {
            LocalBackend backend(settings(snapshots));
            QSignalSpy   dropped(&backend, &LocalBackend::sessionDropped);
            QSignalSpy   restored(&backend, &LocalBackend::sessionRestored);
            QSignalSpy   saved(&backend, &LocalBackend::sessionSaved);
            const Answer a = answer(backend, req);
            QCOMPARE(a.stats.reusedPromptTokens, 0);
            QCOMPARE(restored.count(), 0);
            QCOMPARE(dropped.count(), 1);
            qInfo() << "damaged:" << dropped.first().at(1).toString();
            QVERIFY(saved.wait(60'000) || !saved.isEmpty()); // replaced by a good one
        }
        ChatRequest edited = request(QStringLiteral("Something else entirely. ") + longMessage(), 7);
        {
            LocalBackend backend(settings(snapshots));
            QSignalSpy   dropped(&backend, &LocalBackend::sessionDropped);
            QSignalSpy   restored(&backend, &LocalBackend::sessionRestored);
            const Answer a = answer(backend, edited);
            QVERIFY(a.stats.promptTokens > 0);
            QCOMPARE(restored.count(), 0);
            QCOMPARE(dropped.count(), 1);
            QVERIFY2(dropped.first().at(1).toString().contains(u"differ"), qPrintable(dropped.first().at(1).toString()));
        }
    }

    // The snapshot folder cannot be made (a file is in the way, as good as a full disk for the
    // writer): a warning signal, and the answer is complete.
    void aSnapshotThatCannotBeWrittenIsOnlyAWarning() {
        const QString blocker = m_dir.filePath(QStringLiteral("not-a-folder"));
        QFile         f(blocker);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.close();
        LocalBackend backend(settings(blocker));
        QSignalSpy   problem(&backend, &LocalBackend::sessionSaveFailed);
        const Answer a = answer(backend, request(longMessage(), 9));
        QVERIFY(a.stats.completionTokens > 0);
        QVERIFY(problem.wait(60'000) || !problem.isEmpty());
        QCOMPARE(problem.first().at(0).toLongLong(), qint64(9));
        qInfo() << "warning:" << problem.first().at(1).toString();
    }

    // Conversation 0 (a request outside any saved conversation, e.g. the API server): no snapshots.
    void noConversationNoSnapshot() {
        const QString snapshots = m_dir.filePath(QStringLiteral("none"));
        LocalBackend  backend(settings(snapshots));
        QSignalSpy    saved(&backend, &LocalBackend::sessionSaved);
        QVERIFY(answer(backend, request(longMessage(), 0)).stats.promptTokens > 0);
        QTest::qWait(200);
        QCOMPARE(saved.count(), 0);
        QVERIFY(!QDir(snapshots).exists() || QDir(snapshots).isEmpty());
    }
};

QTEST_GUILESS_MAIN(TestLocalBackendSnapshots)
#include "test_local_backend_snapshots.moc"
