// SmolLM2-135M-Instruct Q4_1 (a real llama-architecture model: GQA 9:3, rope theta 1e5, tied
// embeddings, 30 layers) against golden logits from transformers on the same GGUF in fp32
// (tests/fixtures/arch/smollm2-135m-instruct-q4_1.logits.bin, made by make_logits_fixtures.py).
// The model is optional: `tools/fetch-model smollm2` puts it into the models folder, or
// V4_SMOLLM2_MODEL names the file; the test skips with a message when it is absent.
//
// Thresholds as for Gemma 3 (test_gemma3_logits.cpp, KL method in logits_fixture.h): with
// activation_precision::accurate, same top-1 at >= 99% of positions and mean KL <= 0.01; the fast
// path (int8 activations) is reported and held to mean KL <= 0.01.
#include <QFileInfo>
#include <QTest>

#include "prefill_comparison.h"
#include "test_paths.h"
#include "v4/session.h"

namespace {

constexpr double k_min_top1_accurate = 0.99;
constexpr double k_max_mean_kl = 0.01;
constexpr const char * k_sha256 = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53";

QString smollm2Path() {
    const QByteArray env = qgetenv("V4_SMOLLM2_MODEL");
    return env.isEmpty() ? v4test::modelsDir() + QStringLiteral("/SmolLM2-135M-Instruct.Q4_1.gguf") : QString::fromLocal8Bit(env);
}

} // namespace

class TestSmollm2Logits : public QObject {
    Q_OBJECT

private slots:
    void matchesTransformers_data() {
        QTest::addColumn<int>("precision");
        QTest::addColumn<double>("minTop1");
        QTest::newRow("accurate") << static_cast<int>(v4::activation_precision::accurate) << k_min_top1_accurate;
        QTest::newRow("fast") << static_cast<int>(v4::activation_precision::fast) << 0.0;
    }

    void matchesTransformers() {
        const QString path = smollm2Path();
        if (!QFileInfo::exists(path)) {
            QSKIP(qPrintable(QStringLiteral("SmolLM2 not found at %1 (tools/fetch-model smollm2 fetches it, SHA-256 %2; "
                                            "or set V4_SMOLLM2_MODEL)")
                                 .arg(path, QLatin1String(k_sha256))));
        }
        QFETCH(int, precision);
        QFETCH(double, minTop1);
        const auto model = v4::model::load(path.toStdString());
        QCOMPARE(QString::fromStdString(model->info().architecture), QStringLiteral("llama"));
        const v4test::logits_fixture fx = v4test::logits_fixture::load(
            v4test::fixturePath(QStringLiteral("arch/smollm2-135m-instruct-q4_1.logits.bin")).toStdString());
        QCOMPARE(model->info().n_vocab, fx.n_vocab);

        const auto [st, r] = v4test::prefill_and_compare(model, fx, static_cast<v4::activation_precision>(precision));
        QCOMPARE(st.n_evaluated, fx.n_tokens);
        qInfo("smollm2 (%s) vs transformers over %d positions: top-1 %.2f%%, mean KL %.7f, max KL %.7f", QTest::currentDataTag(),
              r.n_positions, 100.0 * r.top1_agreement, r.mean_kl, r.max_kl);
        QVERIFY2(r.top1_agreement >= minTop1, "top-1 agreement below threshold");
        QVERIFY2(r.mean_kl <= k_max_mean_kl, "mean KL above threshold");
    }
};

QTEST_GUILESS_MAIN(TestSmollm2Logits)
#include "test_smollm2_logits.moc"
