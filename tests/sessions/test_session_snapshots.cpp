// SessionSnapshotStore: codecs round-trip, a restored session has the original's logits and cache,
// and stale snapshots (other model file, different prefix, damaged file) are dropped.
#include "sessions/SessionSnapshotStore.h"
#include "sessions/SnapshotCompression.h"

#include "test_paths.h"

#include "v4/model.h"
#include "v4/session.h"
#include "v4/tokenizer.h"

#include <QBuffer>
#include <QDateTime>
#include <QFile>
#include <QRandomGenerator>
#include <QTemporaryDir>
#include <QTest>

#include <cstring>

using namespace v4app::sessions;

class TestSessionSnapshots : public QObject {
    Q_OBJECT

    std::shared_ptr<const v4::model> m_model;
    std::vector<int32_t>             m_tokens;
    QString                          m_modelPath;

    bool loadModel() {
        m_modelPath = v4test::defaultModelPath();
        if (!QFileInfo::exists(m_modelPath)) {
            return false;
        }
        if (!m_model) {
            m_model  = v4::model::load(m_modelPath.toStdString());
            auto tok = v4::tokenizer::open(m_modelPath.toStdString());
            m_tokens = tok.encode("The lighthouse keeper wrote in his log every night: the wind, the ships that "
                                  "passed, the colour of the sea at dusk, and the names of the gulls he had come "
                                  "to know by their cries.",
                                  true, false);
        }
        return true;
    }
    v4::session newSession() { return v4::session(m_model, {.n_ctx = 256, .n_threads = 2}); }

private slots:
    void codecsRoundTrip_data() {
        QTest::addColumn<int>("codec");
        QTest::newRow("zlib") << int(Codec::Zlib);
        if (preferredCodec() == Codec::Zstd) {
            QTest::newRow("zstd") << int(Codec::Zstd);
        }
    }
    void codecsRoundTrip() {
        QFETCH(int, codec);
        std::vector<uint8_t> raw(3'000'000);
        for (size_t i = 0; i < raw.size(); ++i) { // half noise, half runs: both paths of the codec
            raw[i] = i < raw.size() / 2 ? uint8_t(QRandomGenerator::global()->generate()) : uint8_t(i / 1000);
        }
        QBuffer buffer;
        buffer.open(QIODevice::ReadWrite);
        QString error;
        QVERIFY2(compressTo(Codec(codec), raw, buffer, &error), qPrintable(error));
        buffer.seek(0);
        std::vector<uint8_t> back(raw.size());
        QVERIFY2(decompressFrom(Codec(codec), buffer, back, &error), qPrintable(error));
        QVERIFY(back == raw);

        // truncated input is an error, not a crash or a silent short read
        QBuffer cut;
        cut.setData(buffer.data().left(buffer.data().size() / 2));
        cut.open(QIODevice::ReadOnly);
        QVERIFY(!decompressFrom(Codec(codec), cut, back, &error));
        QVERIFY(!error.isEmpty());
    }

    void restoredLogitsEqualTheOriginal() {
        if (!loadModel()) {
            QSKIP("default model not found");
        }
        QTemporaryDir dir;
        SessionSnapshotStore store(dir.path());
        const ModelIdentity  model = ModelIdentity::ofFile(m_modelPath);

        v4::session original = newSession();
        original.prefill(m_tokens);
        const std::vector<float> logits(original.logits().begin(), original.logits().end());
        auto saved = store.save(7, model, original);
        QVERIFY2(saved, saved ? "" : qPrintable(saved.error().message));
        QCOMPARE(saved->tokenCount, int(m_tokens.size()));
        QVERIFY(saved->storedBytes > 0);
        qInfo() << "snapshot" << saved->tokenCount << "tokens:" << saved->rawBytes << "bytes raw," << saved->storedBytes
                << saved->codec;

        v4::session restored = newSession();
        auto        outcome  = store.restore(7, model, m_tokens, restored);
        QVERIFY(outcome);
        QCOMPARE(outcome->restoredTokens, int(m_tokens.size()));
        QVERIFY(outcome->staleReason.isEmpty());
        QCOMPARE(restored.n_past(), uint32_t(m_tokens.size()));
        QCOMPARE(restored.logits().size(), logits.size());
        QVERIFY(std::memcmp(restored.logits().data(), logits.data(), logits.size() * sizeof(float)) == 0);

        // The cache came back too: the next token gives the same logits in both sessions.
        const int32_t next = 1000;
        const auto    a    = original.decode_one(next);
        const auto    b    = restored.decode_one(next);
        QVERIFY(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
    }

    void aLongerConversationReusesTheSnapshotAsPrefix() {
        if (!loadModel()) {
            QSKIP("default model not found");
        }
        QTemporaryDir        dir;
        SessionSnapshotStore store(dir.path());
        const ModelIdentity  model = ModelIdentity::ofFile(m_modelPath);
        v4::session          first = newSession();
        first.prefill(std::span(m_tokens).first(20));
        QVERIFY(store.save(1, model, first));

        v4::session restored = newSession();
        auto        outcome  = store.restore(1, model, m_tokens, restored);
        QVERIFY(outcome);
        QCOMPARE(outcome->restoredTokens, 20);
        const v4::prefill_stats st = restored.prefill(m_tokens);
        QCOMPARE(st.n_reused, 20u);
        QCOMPARE(st.n_evaluated, uint32_t(m_tokens.size() - 20));
    }

    // The state holds more than the conversation repeats (an answer re-tokenized differently, a
    // regenerated reply): the common prefix is restored and prefill() drops the rest of the cache.
    void aDivergingTailRestoresTheCommonPrefix() {
        if (!loadModel()) {
            QSKIP("default model not found");
        }
        QTemporaryDir        dir;
        SessionSnapshotStore store(dir.path());
        const ModelIdentity  model = ModelIdentity::ofFile(m_modelPath);
        v4::session          saved = newSession();
        saved.prefill(m_tokens);
        QVERIFY(store.save(2, model, saved));

        std::vector<int32_t> now(m_tokens.begin(), m_tokens.begin() + 30);
        now.push_back(m_tokens[30] + 1); // differs from token 30 on
        now.push_back(m_tokens[31]);
        v4::session restored = newSession();
        auto        outcome  = store.restore(2, model, now, restored);
        QVERIFY(outcome);
        QCOMPARE(outcome->restoredTokens, 30);
        const v4::prefill_stats st = restored.prefill(now);
        QCOMPARE(st.n_reused, 30u);
        QCOMPARE(st.n_evaluated, 2u);

        // the same logits as the original session going the same way in memory
        QCOMPARE(saved.prefill(now).n_reused, 30u);
        QVERIFY(std::memcmp(saved.logits().data(), restored.logits().data(), saved.logits().size() * sizeof(float)) == 0);
    }

    // The oldest snapshots go first until both limits hold; the one just written stays.
    void pruneKeepsTheNewestWithinTheBudget() {
        QTemporaryDir        dir;
        SessionSnapshotStore store(dir.path());
        const QDateTime      base = QDateTime::currentDateTimeUtc().addSecs(-100);
        for (int id = 1; id <= 5; ++id) {
            QFile f(store.pathFor(id));
            QVERIFY(f.open(QIODevice::WriteOnly));
            f.write(QByteArray(1000, 'x'));
            f.close();
            QVERIFY(f.open(QIODevice::ReadWrite)); // conversation 1 oldest ... 5 newest
            QVERIFY(f.setFileTime(base.addSecs(id * 10), QFileDevice::FileModificationTime));
        }
        QFile other(dir.filePath(QStringLiteral("notes.txt"))); // not a snapshot: never touched
        QVERIFY(other.open(QIODevice::WriteOnly));
        other.write(QByteArray(100000, 'y'));
        other.close();

        QStringList removed = store.prune({.maxFiles = 3, .maxBytes = 1 << 20}, 1);
        QCOMPARE(removed.size(), 2); // 2 and 3 (1 is kept)
        QVERIFY(QFile::exists(store.pathFor(1)) && !QFile::exists(store.pathFor(2)) && !QFile::exists(store.pathFor(3)));
        QVERIFY(QFile::exists(store.pathFor(4)) && QFile::exists(store.pathFor(5)));

        removed = store.prune({.maxFiles = 10, .maxBytes = 2500}, 0); // bytes: 3000 > 2500 → the oldest goes
        QCOMPARE(removed, QStringList{QFileInfo(store.pathFor(1)).absoluteFilePath()});
        QVERIFY(QFile::exists(other.fileName()));
    }

    void staleSnapshotsAreDropped() {
        if (!loadModel()) {
            QSKIP("default model not found");
        }
        QTemporaryDir        dir;
        SessionSnapshotStore store(dir.path());
        const ModelIdentity  model = ModelIdentity::ofFile(m_modelPath);
        v4::session          s     = newSession();
        s.prefill(m_tokens);

        // another model file (a replaced GGUF has another size or mtime)
        QVERIFY(store.save(3, model, s));
        ModelIdentity replaced = model;
        replaced.mtimeMs += 1000;
        v4::session other = newSession();
        auto        o1    = store.restore(3, replaced, m_tokens, other);
        QVERIFY(o1);
        QCOMPARE(o1->restoredTokens, 0);
        QVERIFY2(o1->staleReason.contains(u"another model"), qPrintable(o1->staleReason));
        QVERIFY(!QFile::exists(store.pathFor(3)));
        QCOMPARE(other.n_past(), 0u);

        // an edited first message: too little of the saved prefix still matches
        QVERIFY(store.save(3, model, s));
        std::vector<int32_t> edited = m_tokens;
        edited[2] += 1;
        auto o2 = store.restore(3, model, edited, other);
        QVERIFY(o2);
        QCOMPARE(o2->restoredTokens, 0);
        QVERIFY2(o2->staleReason.contains(u"differ"), qPrintable(o2->staleReason));
        QVERIFY(!QFile::exists(store.pathFor(3)));
        QCOMPARE(other.n_past(), 0u);

        // a conversation cut back to a few tokens: restoring the whole state would not pay
        QVERIFY(store.save(3, model, s));
        auto o3 = store.restore(3, model, std::span(m_tokens).first(3), other);
        QVERIFY(o3 && o3->restoredTokens == 0 && !o3->staleReason.isEmpty());

        // a version-1 file (SHA-256 of the tokens instead of the tokens): an older format, dropped
        QVERIFY(store.save(3, model, s));
        {
            QFile f(store.pathFor(3));
            QVERIFY(f.open(QIODevice::ReadWrite));
            QVERIFY(f.seek(4));
            const char v1[4] = {1, 0, 0, 0};
            f.write(v1, 4);
        }
        auto oldFormat = store.restore(3, model, m_tokens, other);
        QVERIFY(oldFormat && oldFormat->restoredTokens == 0);
        QVERIFY2(oldFormat->staleReason.contains(u"version"), qPrintable(oldFormat->staleReason));
        QVERIFY(!QFile::exists(store.pathFor(3)));

        // a damaged file: dropped with a reason, never a crash
        QVERIFY(store.save(3, model, s));
        {
            QFile f(store.pathFor(3));
            QVERIFY(f.open(QIODevice::ReadWrite));
            f.resize(f.size() / 2);
        }
        auto o4 = store.restore(3, model, m_tokens, other);
        QVERIFY(o4);
        QCOMPARE(o4->restoredTokens, 0);
        QVERIFY(!o4->staleReason.isEmpty());
        QVERIFY(!QFile::exists(store.pathFor(3)));
        QFile garbage(store.pathFor(4));
        QVERIFY(garbage.open(QIODevice::WriteOnly));
        garbage.write("not a snapshot at all");
        garbage.close();
        auto o5 = store.restore(4, model, m_tokens, other);
        QVERIFY(o5 && o5->restoredTokens == 0 && !o5->staleReason.isEmpty());

        // no snapshot: nothing restored, nothing stale
        auto o6 = store.restore(99, model, m_tokens, other);
        QVERIFY(o6 && o6->restoredTokens == 0 && o6->staleReason.isEmpty());
    }
};

QTEST_GUILESS_MAIN(TestSessionSnapshots)
#include "test_session_snapshots.moc"
