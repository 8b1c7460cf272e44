// Device-side sampling (kernels/cuda/sampling.h) against v4::sampler on the host: the same token
// from the same logits, parameters, penalty window and uniform draw, for greedy, top-k, top-p and
// min-p without top-k, bias and penalties, ties at the top-k boundary; plus the statuses (the
// draw used or not, too many candidates, every token banned). Skips without a CUDA device.
#include <QTest>

#include <cmath>
#include <random>
#include <vector>

#include "backend/cuda/cuda_plan.h"
#include "cuda/sampling.h"
#include "cuda_test_util.h"
#include "v4/sampler.h"

namespace kc = v4::kernels::cuda;

namespace {

std::vector<float> random_logits(int n, uint32_t seed, float sigma) {
    std::mt19937                    rng(seed);
    std::normal_distribution<float> d(0.0f, sigma);
    std::vector<float>              v(static_cast<size_t>(n));
    for (float & x : v) x = d(rng);
    return v;
}

// Runs the device sampler on `logits` with `sp` and the adjustments the test lists by hand.
kc::sample_result device_sample(const std::vector<float> & logits, const v4::sampler_params & sp,
                                const std::vector<kc::sample_adjust> & adjust, double uniform) {
    cudatest::dev_vec<float>             dl(logits), work(logits.size());
    cudatest::dev_vec<kc::sample_adjust> da(adjust);
    cudatest::dev_vec<kc::sample_result> res(1);
    kc::sample_params                    p;
    p.logits = dl.ptr;
    p.work = work.ptr;
    p.adjust = da.ptr;
    p.n_adjust = static_cast<int>(adjust.size());
    p.n_vocab = static_cast<int>(logits.size());
    p.temperature = sp.temperature;
    p.top_k = sp.top_k;
    p.top_p = sp.top_p;
    p.min_p = sp.min_p;
    p.repetition_penalty = sp.repetition_penalty;
    p.presence_penalty = sp.presence_penalty;
    p.frequency_penalty = sp.frequency_penalty;
    p.uniform = uniform;
    p.result = res.ptr;
    kc::sample(p, nullptr);
    return res.read()[0];
}

} // namespace

class TestCudaSampling : public QObject {
    Q_OBJECT

private slots:
    void initTestCase() { V4_REQUIRE_CUDA(); }

    void matchesHostSampler_data() {
        QTest::addColumn<int>("n_vocab");
        QTest::addColumn<float>("temperature");
        QTest::addColumn<int>("top_k");
        QTest::addColumn<float>("top_p");
        QTest::addColumn<float>("min_p");
        QTest::addColumn<float>("sigma");
        QTest::newRow("greedy") << 262144 << 0.0f << 1 << 1.0f << 0.0f << 3.0f;
        QTest::newRow("default top-k 40") << 151936 << 0.8f << 40 << 0.95f << 0.05f << 3.0f;
        QTest::newRow("top-k 2000 hot") << 50000 << 1.5f << 2000 << 1.0f << 0.0f << 1.0f;
        QTest::newRow("top-p + min-p, no top-k") << 32000 << 1.0f << 0 << 0.9f << 0.05f << 4.0f;
        QTest::newRow("top-p floor only, peaked") << 32000 << 0.7f << 0 << 0.5f << 0.0f << 6.0f;
        QTest::newRow("odd vocabulary, top-k 7") << 1001 << 1.0f << 7 << 0.8f << 0.0f << 1.0f;
    }
    void matchesHostSampler() {
        QFETCH(int, n_vocab);
        QFETCH(float, temperature);
        QFETCH(int, top_k);
        QFETCH(float, top_p);
        QFETCH(float, min_p);
        QFETCH(float, sigma);
        v4::sampler_params sp;
        sp.temperature = temperature;
        sp.top_k = top_k;
        sp.top_p = top_p;
        sp.min_p = min_p;
        sp.seed = 77;
        v4::sampler host(sp);
        int         drew = 0;
        for (int trial = 0; trial < 20; ++trial) {
            const std::vector<float> logits = random_logits(n_vocab, 100u + trial, sigma);
            const double             u = host.peek_uniform();
            const int32_t            want = host.sample(logits);
            const kc::sample_result  got = device_sample(logits, sp, {}, u);
            QVERIFY2(got.status == kc::sample_ok || got.status == kc::sample_ok_drew,
                     qPrintable(QStringLiteral("trial %1: status %2").arg(trial).arg(got.status)));
            QCOMPARE(got.token, want);
            // The device used the draw exactly when the host consumed it.
            QCOMPARE(got.status == kc::sample_ok_drew, host.peek_uniform() != u);
            drew += got.status == kc::sample_ok_drew;
        }
        if (temperature > 0.0f) QVERIFY(drew > 0); // the draw path itself was exercised
    }

    // Bias (one ban, one boost) and repetition/presence/frequency penalties, listed by
    // sample_adjustments as the CUDA runner lists them.
    void biasAndPenaltiesMatchHost() {
        v4::sampler_params sp;
        sp.temperature = 1.0f;
        sp.top_k = 20;
        sp.repetition_penalty = 1.3f;
        sp.presence_penalty = 0.2f;
        sp.frequency_penalty = 0.1f;
        sp.penalty_last_n = 64;
        sp.logit_bias = {{5, 3.0f}, {7, -INFINITY}};
        v4::sampler host(sp);
        for (int32_t t : {10, 10, 11, 5}) host.accept(t);
        std::vector<kc::sample_adjust> adjust;
        for (const v4::detail::sample_adjustment & a : v4::detail::sample_adjustments(host, 4096)) {
            adjust.push_back({a.id, a.bias, a.count});
        }
        QCOMPARE(adjust.size(), size_t(4)); // ids 5 (bias + once), 7 (ban), 10 (twice), 11 (once)
        for (int trial = 0; trial < 20; ++trial) {
            std::vector<float> logits = random_logits(4096, 300u + trial, 1.0f);
            logits[7] = 50.0f;  // banned: must never win
            logits[10] = 4.0f;  // penalised from the top
            logits[11] = -0.5f; // a negative logit: multiplied by the penalty
            const double      u = host.peek_uniform();
            const int32_t     want = host.sample(logits);
            kc::sample_result got = device_sample(logits, sp, adjust, u);
            QCOMPARE(got.token, want);
            QVERIFY(got.token != 7);
        }
    }

    // Equal logits across the top-k boundary: the sampler keeps the lower ids.
    void topKTiesKeepLowerIds() {
        v4::sampler_params sp;
        sp.temperature = 1.0f;
        sp.top_k = 5;
        sp.top_p = 1.0f;
        sp.min_p = 0.0f;
        std::vector<float> logits(3000, -1.0f);
        for (int id : {2999, 1500, 700, 20, 3, 1200, 1}) logits[size_t(id)] = 2.0f; // 7 tied, 5 kept
        v4::sampler host(sp);
        const std::vector<v4::token_prob> cand = host.candidates(logits);
        for (int trial = 0; trial < 40; ++trial) {
            const double            u = (trial + 0.5) / 40.0;
            const kc::sample_result got = device_sample(logits, sp, {}, u);
            QCOMPARE(got.status, int32_t(kc::sample_ok_drew));
            // Inverse CDF over the sorted five equal candidates: ids 1, 3, 20, 700, 1200.
            QCOMPARE(got.token, cand[size_t(std::min(4, int(u * 5)))].id);
        }
    }

    void statuses() {
        v4::sampler_params sp;
        sp.temperature = 1.0f;
        sp.top_k = 0;
        sp.top_p = 1.0f;
        sp.min_p = 0.0f; // plain temperature over 100k tokens: too many for the device
        QCOMPARE(device_sample(random_logits(100000, 5, 1.0f), sp, {}, 0.5).status, int32_t(kc::sample_too_many));
        std::vector<float> banned(1000, -INFINITY);
        banned[3] = NAN;
        QCOMPARE(device_sample(banned, sp, {}, 0.5).status, int32_t(kc::sample_all_banned));
        std::vector<float> one(1000, -INFINITY);
        one[42] = 1.0f; // one candidate: no draw used
        const kc::sample_result r = device_sample(one, sp, {}, 0.5);
        QCOMPARE(r.status, int32_t(kc::sample_ok));
        QCOMPARE(r.token, 42);
    }
};

QTEST_GUILESS_MAIN(TestCudaSampling)
#include "test_cuda_sampling.moc"
