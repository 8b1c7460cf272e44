// The llama, qwen2 and qwen3 forwards against transformers, on tiny random-weight models written by
// tools/reference/make_arch_fixtures.py (tests/fixtures/arch/tiny-*.gguf + .json): logits at every
// position of a 40-token sequence, the same in ubatches of 7, and a 16-token greedy continuation
// through decode_one.
//
// The weights are F32 (llama: F16, which the reference rounds identically), so the engine runs f32
// dot products and agrees with PyTorch's fp32 up to summation order: we require max |diff| <= 1e-3
// with logits of standard deviation ~1-2 (measured: ~1e-6), i.e. any wrong rope pairing, bias,
// norm or GQA mapping (errors of order 1) fails by three orders of magnitude.
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>

#include <algorithm>
#include <cmath>

#include "test_paths.h"
#include "v4/session.h"

namespace {

constexpr float k_max_abs_diff = 1e-3f;

struct arch_fixture {
    std::vector<int32_t> tokens;
    std::vector<float>   logits; // [n_tokens][n_vocab]
    std::vector<int32_t> greedy;
    uint32_t             n_vocab = 0;
};

arch_fixture load_fixture(const QString & name) {
    QFile f(v4test::fixturePath(QStringLiteral("arch/") + name + QStringLiteral(".json")));
    if (!f.open(QIODevice::ReadOnly)) {
        qFatal("cannot open fixture %s", qPrintable(f.fileName()));
    }
    const QJsonObject o = QJsonDocument::fromJson(f.readAll()).object();
    arch_fixture      fx;
    fx.n_vocab = static_cast<uint32_t>(o.value(QStringLiteral("n_vocab")).toInt());
    for (const QJsonValue v : o.value(QStringLiteral("tokens")).toArray()) fx.tokens.push_back(v.toInt());
    for (const QJsonValue v : o.value(QStringLiteral("logits")).toArray()) fx.logits.push_back(static_cast<float>(v.toDouble()));
    for (const QJsonValue v : o.value(QStringLiteral("greedy")).toArray()) fx.greedy.push_back(v.toInt());
    return fx;
}

struct error_stats {
    float max_abs = 0.0f;
    float max_rel = 0.0f; // max |diff| / max |reference| over the same row
};

error_stats compare_rows(std::span<const float> ours, std::span<const float> ref, uint32_t n_vocab) {
    error_stats e;
    for (size_t row = 0; row * n_vocab < ref.size(); ++row) {
        float diff = 0.0f, scale = 0.0f;
        for (size_t i = row * n_vocab; i < (row + 1) * n_vocab; ++i) {
            diff  = std::max(diff, std::fabs(ours[i] - ref[i]));
            scale = std::max(scale, std::fabs(ref[i]));
        }
        e.max_abs = std::max(e.max_abs, diff);
        e.max_rel = std::max(e.max_rel, scale > 0.0f ? diff / scale : diff);
    }
    return e;
}

int32_t argmax(std::span<const float> v) { return static_cast<int32_t>(std::max_element(v.begin(), v.end()) - v.begin()); }

} // namespace

class TestArchLogits : public QObject {
    Q_OBJECT

private slots:
    void matchesTransformers_data() {
        QTest::addColumn<QString>("name");
        QTest::addColumn<QString>("arch");
        QTest::newRow("llama (GQA, F16, untied, theta 5e4)") << QStringLiteral("tiny-llama") << QStringLiteral("llama");
        QTest::newRow("qwen2 (q/k/v bias, tied)") << QStringLiteral("tiny-qwen2") << QStringLiteral("qwen2");
        QTest::newRow("qwen3 (q/k norm, head_dim 32, GQA 4:1)") << QStringLiteral("tiny-qwen3") << QStringLiteral("qwen3");
    }

    void matchesTransformers() {
        QFETCH(QString, name);
        QFETCH(QString, arch);
        const arch_fixture fx    = load_fixture(name);
        const auto         model = v4::model::load(v4test::fixturePath(QStringLiteral("arch/") + name + QStringLiteral(".gguf")).toStdString());
        QCOMPARE(QString::fromStdString(model->info().architecture), arch);
        QCOMPARE(model->info().n_vocab, fx.n_vocab);
        const size_t n = fx.tokens.size();
        QCOMPARE(fx.logits.size(), n * fx.n_vocab);

        v4::prefill_options all;
        all.all_logits = true;
        for (const uint32_t n_batch : {256u, 7u}) { // one ubatch, and ubatches that split the sequence
            v4::session s(model, {.n_ctx = 128, .n_threads = 2, .n_batch = n_batch, .precision = v4::activation_precision::accurate});
            s.prefill(fx.tokens, nullptr, all);
            const error_stats e = compare_rows(s.all_logits(), fx.logits, fx.n_vocab);
            int top1 = 0;
            for (size_t p = 0; p < n; ++p) {
                top1 += argmax(s.all_logits().subspan(p * fx.n_vocab, fx.n_vocab)) ==
                        argmax(std::span<const float>(fx.logits).subspan(p * fx.n_vocab, fx.n_vocab));
            }
            qInfo("%s, n_batch %u: %zu positions, max |diff| %.3g, max relative %.3g, top-1 %d/%zu", qPrintable(name), n_batch,
                  n, e.max_abs, e.max_rel, top1, n);
            QVERIFY2(e.max_abs <= k_max_abs_diff, "logits differ from transformers");
            QCOMPARE(top1, static_cast<int>(n));
        }

        // Greedy continuation through the single-token decode path. Accurate precision: its f32 KV
        // cache is exact, while the default f16 cache moves these logits by ~2e-3, enough to flip a
        // near-tie of random weights within 16 steps (tiny-qwen3 at step 5).
        v4::session          s(model, {.n_ctx = 128, .n_threads = 2, .precision = v4::activation_precision::accurate});
        std::vector<int32_t> greedy;
        std::span<const float> logits = (s.prefill(fx.tokens), s.logits());
        for (size_t i = 0; i < fx.greedy.size(); ++i) {
            greedy.push_back(argmax(logits));
            logits = s.decode_one(greedy.back());
        }
        QCOMPARE(greedy, fx.greedy);
    }
};

QTEST_GUILESS_MAIN(TestArchLogits)
#include "test_arch_logits.moc"
