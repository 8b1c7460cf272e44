// The CUDA path of v4::session end to end on the default model (Gemma 3 270M Q4_K_M): logits vs
// the CPU backend and vs the transformers golden file, decode (graph replay) vs prefill, multi-row
// GEMV ubatches, session snapshots through the device cache, and device-side sampling (the token
// session::sample draws on the device is the one the host sampler draws from the same logits), and
// decode with q8_1 activations (fast precision) against f32 activations. Skips with the probe's reason
// when no CUDA device answers, and with the path when the model is absent.
#include <QFileInfo>
#include <QTest>

#include <algorithm>
#include <cmath>

#include "../model/logits_fixture.h"
#include "cuda_test_util.h"
#include "test_paths.h"
#include "v4/sampler.h"
#include "v4/session.h"

namespace {

// Issue 9's acceptance bar: the CUDA and CPU paths agree on the argmax at >= 99.5% of positions.
constexpr double k_min_top1_vs_cpu = 0.995;
constexpr double k_min_top1_vs_golden = 0.99;
constexpr double k_max_mean_kl = 0.01;

int argmax(std::span<const float> v) { return int(std::max_element(v.begin(), v.end()) - v.begin()); }

float max_abs_diff(std::span<const float> a, std::span<const float> b) {
    float d = 0.0f;
    for (size_t i = 0; i < a.size(); ++i) d = std::max(d, std::fabs(a[i] - b[i]));
    return d;
}

v4::session_params params(v4::compute_device device, uint32_t n_batch = 256) {
    v4::session_params sp{.n_ctx = 1024, .n_threads = 2, .n_batch = n_batch};
    sp.precision = v4::activation_precision::accurate;
    sp.device = device;
    return sp;
}

} // namespace

class TestCudaForward : public QObject {
    Q_OBJECT

    std::shared_ptr<const v4::model> m_model;
    v4test::logits_fixture           m_fx;

private slots:
    void initTestCase() {
        V4_REQUIRE_CUDA();
        V4_REQUIRE_DEFAULT_MODEL(path);
        m_model = v4::model::load(path.toStdString());
        m_fx = v4test::logits_fixture::load(
            v4test::fixturePath(QStringLiteral("logits/gemma-3-270m-q4_k_m.bin")).toStdString());
    }

    void logitsMatchCpuAndGolden() {
        v4::prefill_options opt;
        opt.all_logits = true;
        v4::session gpu(m_model, params(v4::compute_device::cuda));
        QCOMPARE(QString(gpu.device()), QStringLiteral("cuda"));
        qInfo("%s", gpu.device_note().c_str());
        gpu.prefill(m_fx.tokens, nullptr, opt);
        v4::session cpu(m_model, params(v4::compute_device::cpu));
        cpu.prefill(m_fx.tokens, nullptr, opt);

        const size_t n_vocab = m_fx.n_vocab;
        int          same = 0;
        v4test::logits_comparer golden(m_fx);
        for (uint32_t p = 0; p < m_fx.n_tokens; ++p) {
            const auto g = gpu.all_logits().subspan(p * n_vocab, n_vocab);
            same += argmax(g) == argmax(cpu.all_logits().subspan(p * n_vocab, n_vocab));
            golden.add(p, g);
        }
        const double top1 = double(same) / m_fx.n_tokens;
        const auto   r = golden.result();
        qInfo("CUDA vs CPU top-1 %.4f; vs transformers top-1 %.4f, mean KL %.5f, max KL %.5f", top1, r.top1_agreement,
              r.mean_kl, r.max_kl);
        QVERIFY2(top1 >= k_min_top1_vs_cpu, "top-1 agreement with the CPU backend below 99.5%");
        QVERIFY(r.top1_agreement >= k_min_top1_vs_golden);
        QVERIFY(r.mean_kl <= k_max_mean_kl);
    }

    // The decode graph (replayed at every position) and the 2..8-row GEMV ubatches give the logits
    // the one-shot prefill gives.
    void decodeAndSmallUbatchesEqualPrefill() {
        const std::span<const int32_t> toks(m_fx.tokens.data(), 48);
        v4::prefill_options opt;
        opt.all_logits = true;
        v4::session whole(m_model, params(v4::compute_device::cuda));
        whole.prefill(toks, nullptr, opt);
        const size_t n_vocab = whole.n_vocab();

        v4::session step(m_model, params(v4::compute_device::cuda));
        step.prefill(toks.first(1));
        for (size_t i = 1; i < toks.size(); ++i) {
            const float d = max_abs_diff(step.decode_one(toks[i]), whole.all_logits().subspan(i * n_vocab, n_vocab));
            QVERIFY2(d < 2e-2f, qPrintable(QStringLiteral("decode at %1: max |diff| %2").arg(i).arg(d)));
        }
        v4::session small(m_model, params(v4::compute_device::cuda, 5)); // ubatches of 5: the multi-row GEMV
        small.prefill(toks);
        QVERIFY(max_abs_diff(small.logits(), whole.all_logits().subspan((toks.size() - 1) * n_vocab, n_vocab)) < 2e-2f);
    }

    // Fast precision: the decode GEMVs take q8_1 activations (dp4a). Their argmax should follow the
    // f32-activation path about as closely as the CPU's fast path follows its accurate one (95-96%
    // on this model); 90% is the bar until a GPU run measures it.
    void quantizedActivationsDecodeTracksF32() {
        const std::span<const int32_t> toks(m_fx.tokens.data(), 64);
        v4::session_params fast_params = params(v4::compute_device::cuda);
        fast_params.precision = v4::activation_precision::fast;
        v4::session fast(m_model, fast_params), accurate(m_model, params(v4::compute_device::cuda));
        fast.prefill(toks.first(1));
        accurate.prefill(toks.first(1));
        int same = 0;
        for (size_t i = 1; i < toks.size(); ++i) {
            same += argmax(fast.decode_one(toks[i])) == argmax(accurate.decode_one(toks[i]));
        }
        const double agree = double(same) / double(toks.size() - 1);
        qInfo("q8_1 vs f32 activations, decode top-1 agreement %.3f", agree);
        QVERIFY(agree >= 0.9);
    }

    void deviceSamplingMatchesHost_data() {
        QTest::addColumn<int>("config");
        QTest::newRow("greedy") << 0;
        QTest::newRow("default top-k 40") << 1;
        QTest::newRow("top-p + min-p, no top-k") << 2;
        QTest::newRow("penalties + bias") << 3;
        QTest::newRow("temperature only: host fallback") << 4;
    }
    void deviceSamplingMatchesHost() {
        QFETCH(int, config);
        v4::sampler_params sp = config == 0 ? v4::sampler_greedy_params() : v4::sampler_default_params();
        sp.seed = 1234;
        sp.temperature = config == 0 ? 0.0f : 1.2f; // hot: many draws land away from the argmax
        if (config == 2) { sp.top_k = 0; sp.top_p = 0.9f; sp.min_p = 0.02f; }
        if (config == 3) {
            sp.repetition_penalty = 1.3f;
            sp.presence_penalty = 0.4f;
            sp.frequency_penalty = 0.2f;
            sp.penalty_last_n = 16;
            sp.logit_bias = {{2, -INFINITY}, {818, 2.5f}};
        }
        if (config == 4) { sp.top_k = 0; sp.top_p = 1.0f; sp.min_p = 0.0f; }
        v4::sampler dev(sp), host(sp);
        v4::session s(m_model, params(v4::compute_device::cuda));
        s.prefill(std::span<const int32_t>(m_fx.tokens.data(), 20));
        for (int i = 0; i < 40; ++i) {
            const int32_t got = s.sample(dev);
            const int32_t want = host.sample(s.logits());
            QCOMPARE(got, want);
            QCOMPARE(dev.peek_uniform(), host.peek_uniform()); // the random streams stay in step
            dev.accept(got);
            host.accept(want);
            s.decode(got);
        }
    }

    void stateRoundTripThroughTheDevice() {
        const std::span<const int32_t> toks(m_fx.tokens.data(), 40);
        v4::session s(m_model, params(v4::compute_device::cuda));
        s.prefill(toks.first(30));
        const std::vector<uint8_t> snap = s.save_state();
        s.prefill(toks);
        const std::vector<float> want(s.logits().begin(), s.logits().end());

        v4::session restored(m_model, params(v4::compute_device::cuda));
        restored.load_state(snap);
        QCOMPARE(restored.n_past(), 30u);
        restored.prefill(toks); // reuses the 30 restored positions
        QVERIFY(max_abs_diff(restored.logits(), want) < 1e-4f);
    }
};

QTEST_GUILESS_MAIN(TestCudaForward)
#include "test_cuda_forward.moc"
