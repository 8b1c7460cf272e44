// The device-resident DeepSeek-V4 forward (engine/src/backend/cuda/deepseek4) against the engine's
// fp32 d4_eval, end to end: the same chunks (prefill, single-token decode steps, a long chunk) through
// both, logits compared row by row. Skips with the reason when no GPU answers.
#include <QFileInfo>
#include <QTest>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "backend/cuda/deepseek4/d4_cuda_forward.h"
#include "deepseek4_tiny_config.h"
#include "logit_agreement.h"
#include "models/deepseek4/deepseek4.h"
#include "models/deepseek4/deepseek4_synthetic.h"
#include "test_paths.h"
#include "v4/error.h"

namespace ds = v4::deepseek4;

class TestCudaDeepseek4Forward : public QObject {
    Q_OBJECT

    // Runs `chunks` through both forwards; returns (worst |diff| / max |logit| of a row, rows, same top-1).
    void compare(const ds::d4_model & m, const std::vector<int> & chunks, uint32_t seed) {
        const ds::d4_config & c = m.cfg;
        const auto dm = ds::d4_cuda_upload(m);
        ds::d4_state cpu = ds::d4_new_state(m);
        ds::d4_cuda_state gpu = ds::d4_cuda_new_state(*dm);
        std::mt19937 rng(seed);
        logit_agreement agree;
        for (size_t i = 0; i < chunks.size(); i++) {
            std::vector<int32_t> part(static_cast<size_t>(chunks[i]));
            for (int32_t & t : part) t = int32_t(rng() % unsigned(c.vocab));
            const bool all = i % 2 == 0;  // alternate all-logits and last-row-only
            const std::vector<float> want = ds::d4_eval(m, cpu, part, all);
            const std::vector<float> got = ds::d4_cuda_eval(*dm, gpu, part, all);
            QCOMPARE(got.size(), want.size());
            agree.add(want, got, c.vocab);
        }
        QCOMPARE(gpu.n_past, cpu.n_past);
        qInfo("device forward vs d4_eval: %d rows, worst |diff| / max |logit| = %.3g, same top-1 %d/%d (weights %.1f MiB)",
              agree.rows, agree.worst, agree.same_top1, agree.rows, double(ds::d4_cuda_weight_bytes(*dm)) / (1 << 20));
        // The indexer's top-k may flip on a near-tie between CPU and GPU rounding; the bar is 99.5 % top-1.
        QVERIFY2(agree.same_top1 * 1000 >= agree.rows * 995, qPrintable(QString("%1 of %2").arg(agree.same_top1).arg(agree.rows)));
        QVERIFY2(agree.worst < 1e-2, qPrintable(QString::number(agree.worst)));
    }

private slots:
    void initTestCase() {
        const std::string why = ds::d4_cuda_unavailable_reason();
        if (!why.empty()) QSKIP(why.c_str());
    }

    void tinyModelMatchesEngine() {
        const ds::d4_config c = d4_tiny_config();
        compare(ds::d4_synthetic_model(c, 42), {13, 1, 1, 7, 18, 1, 33}, 5);
    }

    // V4 shapes at small width: window 128, CSA top-64 over more entries than 64, HCA 128.
    void syntheticModelMatchesEngine() {
        const ds::d4_config c = ds::d4_synthetic_config();
        compare(ds::d4_synthetic_model(c, 7), {300, 1, 1, 40}, 9);
    }

    // The transformers-checked fixture (tests/fixtures/deepseek4, see docs/notes-deepseek4.md): real
    // config parsing, YaRN tables, mixed layer and routing types.
    void fixtureModelMatchesEngine() {
        const QString dir = v4test::fixturePath(QStringLiteral("deepseek4/mixed4"));
        if (!QFileInfo::exists(dir + QStringLiteral("/config.json"))) {
            QSKIP(qPrintable(QStringLiteral("fixture not found at %1 (binaries moved without the source tree?)").arg(dir)));
        }
        compare(ds::d4_load(dir.toStdString()), {300, 1, 1, 5}, 3);
    }

    void badInputIsRefused() {
        const ds::d4_model m = ds::d4_synthetic_model(d4_tiny_config(), 1);
        const auto dm = ds::d4_cuda_upload(m);
        ds::d4_cuda_state s = ds::d4_cuda_new_state(*dm);
        QVERIFY_THROWS_EXCEPTION(v4::Error, ds::d4_cuda_eval(*dm, s, {}));
        QVERIFY_THROWS_EXCEPTION(v4::Error, ds::d4_cuda_eval(*dm, s, {m.cfg.vocab}));
        QCOMPARE(s.n_past, 0);
    }
};

QTEST_GUILESS_MAIN(TestCudaDeepseek4Forward)
#include "test_cuda_deepseek4_forward.moc"
