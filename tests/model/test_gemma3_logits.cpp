// Gemma 3 270M Q4_K_M (the default model) against golden logits from transformers, plus the
// session behaviours that need a real model: decode == prefill, prefix reuse, state round trip,
// context overflow. Skips with a message when the model file is absent.
//
// Thresholds: mean KL <= 0.01 (KL method: see logits_fixture.h, reference top-32 plus one bucket
// for the remaining mass) and same top-1 at >= 99% of positions with activation_precision::accurate
// (two-pass int8 activations; measured 100%, like the f32-activation debug path V4_EXACT_MATMUL=1).
// The fast path quantizes activations to int8 once (Q8_0/Q8_K, as llama.cpp does), which flips
// near-ties: the
// positions that differ all have a reference top-2 margin below 0.3 nats. That path is chaotic at
// the 1% level: changing only the float summation order of attention's q.k moved top-1 from 96.2%
// to 95.1% (int8 rounding boundaries flip and cascade), hence its 94% floor.
#include <QFileInfo>
#include <QTest>

#include <algorithm>
#include <cmath>

#include "prefill_comparison.h"
#include "test_paths.h"
#include "v4/error.h"
#include "v4/session.h"

namespace {

constexpr double k_min_top1_accurate = 0.99;
constexpr double k_min_top1_fast = 0.94;
constexpr double k_max_mean_kl = 0.01;

// KL(p || q) of the softmaxes of two full logit rows.
double full_kl(std::span<const float> p_logits, std::span<const float> q_logits) {
    const double pm = *std::max_element(p_logits.begin(), p_logits.end());
    const double qm = *std::max_element(q_logits.begin(), q_logits.end());
    double       zp = 0.0, zq = 0.0;
    for (size_t v = 0; v < p_logits.size(); ++v) {
        zp += std::exp(p_logits[v] - pm);
        zq += std::exp(q_logits[v] - qm);
    }
    double kl = 0.0;
    for (size_t v = 0; v < p_logits.size(); ++v) {
        const double lp = p_logits[v] - pm - std::log(zp), lq = q_logits[v] - qm - std::log(zq);
        kl += std::exp(lp) * (lp - lq);
    }
    return std::max(kl, 0.0);
}

float max_abs_diff(std::span<const float> a, std::span<const float> b) {
    float d = 0.0f;
    for (size_t i = 0; i < a.size(); ++i) {
        d = std::max(d, std::fabs(a[i] - b[i]));
    }
    return d;
}

// load_state must refuse the blob as stale (format error saying so).
void expectStale(v4::session & s, const std::vector<uint8_t> & blob) {
    try {
        s.load_state(blob);
        QFAIL("a stale snapshot was accepted");
    } catch (const v4::Error & e) {
        QCOMPARE(e.code(), v4::ErrorCode::format);
        QVERIFY2(std::string(e.what()).find("stale") != std::string::npos, e.what());
    }
}

} // namespace

class TestGemma3Logits : public QObject {
    Q_OBJECT

    std::shared_ptr<const v4::model> m_model;
    v4test::logits_fixture           m_fx;

    bool ensureModel() {
        if (m_model) {
            return true;
        }
        const QString path = v4test::defaultModelPath();
        if (!QFileInfo::exists(path)) {
            return false;
        }
        m_model = v4::model::load(path.toStdString());
        m_fx = v4test::logits_fixture::load(
            v4test::fixturePath(QStringLiteral("logits/gemma-3-270m-q4_k_m.bin")).toStdString());
        return true;
    }

private slots:
    void info() {
        V4_REQUIRE_DEFAULT_MODEL(path);
        QVERIFY(ensureModel());
        const v4::model_info & i = m_model->info();
        QCOMPARE(QString::fromStdString(i.architecture), QStringLiteral("gemma3"));
        QCOMPARE(i.n_layers, 18u);
        QCOMPARE(i.n_embd, 640u);
        QCOMPARE(i.n_vocab, m_fx.n_vocab);
        QVERIFY(i.tensor_types.count("q5_0") == 1 && i.tensor_types.count("q8_0") == 1);
        qInfo("%s: %llu params, %.1f MiB of weights, fingerprint %s", i.name.c_str(),
              static_cast<unsigned long long>(i.n_params), i.weight_bytes / 1048576.0, i.fingerprint.c_str());
    }

    void matchesTransformers_data() {
        QTest::addColumn<int>("precision");
        QTest::addColumn<double>("minTop1");
        QTest::newRow("accurate") << static_cast<int>(v4::activation_precision::accurate) << k_min_top1_accurate;
        QTest::newRow("fast") << static_cast<int>(v4::activation_precision::fast) << k_min_top1_fast;
    }

    void matchesTransformers() {
        V4_REQUIRE_DEFAULT_MODEL(path);
        QVERIFY(ensureModel());
        QFETCH(int, precision);
        QFETCH(double, minTop1);
        const auto [st, r] = v4test::prefill_and_compare(m_model, m_fx, static_cast<v4::activation_precision>(precision));
        QCOMPARE(st.n_evaluated, m_fx.n_tokens);
        qInfo("gemma3 (%s) vs transformers over %d positions: top-1 %.2f%%, mean KL %.7f, max KL %.7f (%.1f tok/s "
              "prefill with all logits)",
              QTest::currentDataTag(), r.n_positions, 100.0 * r.top1_agreement, r.mean_kl, r.max_kl,
              st.n_evaluated / st.seconds);
        QVERIFY2(r.top1_agreement >= minTop1, "top-1 agreement below threshold");
        QVERIFY2(r.mean_kl <= k_max_mean_kl, "mean KL above threshold");
    }

    // Decode (one row per step) against one prefill of all rows. Decode has its own attention
    // kernel (AVX-512 straight from the f16 cache; prefill tiles keys for many rows), so the two
    // agree up to float summation order, not bit for bit. With accurate precision that is what
    // shows: max |diff| 0.003-0.006 over 262k logits, KL ~1e-7 (measured; the scalar reference
    // kernel in decode gives the same). With fast precision the int8 activation rounding turns
    // that order noise into whole quantization steps (the chaos described at the top): KL 4e-4 to
    // 1.7e-2 per position, one near-tie top-1 of 16, again the same with the scalar kernel. A real
    // decode bug (position, cache row, mask) moves the distribution by far more.
    void decodeEqualsPrefill_data() {
        QTest::addColumn<int>("precision");
        QTest::newRow("accurate") << static_cast<int>(v4::activation_precision::accurate);
        QTest::newRow("fast") << static_cast<int>(v4::activation_precision::fast);
    }

    void decodeEqualsPrefill() {
        V4_REQUIRE_DEFAULT_MODEL(path);
        QVERIFY(ensureModel());
        QFETCH(int, precision);
        const auto                     prec = static_cast<v4::activation_precision>(precision);
        const std::span<const int32_t> toks(m_fx.tokens.data(), 48);
        v4::session                    full(m_model, {.n_ctx = 128, .n_threads = 2, .n_batch = 64, .precision = prec});
        v4::prefill_options            opt;
        opt.all_logits = true;
        full.prefill(toks, nullptr, opt);
        v4::session step(m_model, {.n_ctx = 128, .n_threads = 2, .n_batch = 64, .precision = prec});
        step.prefill(toks.first(32));
        const uint32_t V = full.n_vocab();
        double         kl_sum = 0.0;
        int            same_top1 = 0, n = 0;
        for (size_t i = 32; i < toks.size(); ++i, ++n) {
            const std::span<const float> l = step.decode_one(toks[i]);
            const std::span<const float> f = full.all_logits().subspan(i * V, V);
            const double                 kl = full_kl(f, l);
            kl_sum += kl;
            same_top1 += std::max_element(l.begin(), l.end()) - l.begin() == std::max_element(f.begin(), f.end()) - f.begin();
            if (prec == v4::activation_precision::accurate) {
                const float d = max_abs_diff(l, f);
                QVERIFY2(d < 2e-2f && kl < 1e-5, qPrintable(QStringLiteral("position %1: max |diff| %2, KL %3").arg(i).arg(d).arg(kl)));
            }
        }
        qInfo("mean KL %.2e, same top-1 at %d of %d positions", kl_sum / n, same_top1, n);
        QVERIFY2(kl_sum / n < 2e-2, qPrintable(QStringLiteral("mean KL %1").arg(kl_sum / n)));
        QVERIFY(same_top1 >= n - 2);
        QCOMPARE(step.n_past(), 48u);
    }

    void prefixReuse() {
        V4_REQUIRE_DEFAULT_MODEL(path);
        QVERIFY(ensureModel());
        const std::span<const int32_t> toks(m_fx.tokens.data(), 40);
        v4::session                    s(m_model, {.n_ctx = 128, .n_threads = 2});
        v4::prefill_stats              a = s.prefill(toks.first(30));
        QCOMPARE(a.n_reused, 0u);
        QCOMPARE(a.n_evaluated, 30u);
        v4::prefill_stats b = s.prefill(toks);
        QCOMPARE(b.n_reused, 30u);
        QCOMPARE(b.n_evaluated, 10u);
        v4::session fresh(m_model, {.n_ctx = 128, .n_threads = 2});
        fresh.prefill(toks);
        QVERIFY(max_abs_diff(s.logits(), fresh.logits()) < 1e-3f);
        // a diverging suffix drops the cached tail
        std::vector<int32_t> other(toks.begin(), toks.begin() + 20);
        other.push_back(toks[25]);
        v4::prefill_stats c = s.prefill(other);
        QCOMPARE(c.n_reused, 20u);
        QCOMPARE(c.n_evaluated, 1u);
        QCOMPARE(s.n_past(), 21u);
    }

    void saveLoadState() {
        V4_REQUIRE_DEFAULT_MODEL(path);
        QVERIFY(ensureModel());
        const std::span<const int32_t> toks(m_fx.tokens.data(), 24);
        v4::session                    a(m_model, {.n_ctx = 64, .n_threads = 2});
        a.prefill(toks);
        const std::vector<uint8_t> snap = a.save_state();
        v4::session                b(m_model, {.n_ctx = 64, .n_threads = 2});
        b.load_state(snap);
        QCOMPARE(b.n_past(), 24u);
        QCOMPARE(max_abs_diff(a.logits(), b.logits()), 0.0f);
        const std::vector<float> la(a.decode_one(m_fx.tokens[24]).begin(), a.logits().end());
        const std::span<const float> lb = b.decode_one(m_fx.tokens[24]);
        QCOMPARE(max_abs_diff(la, lb), 0.0f);
        // corrupted blobs are rejected with precise errors
        std::vector<uint8_t> bad = snap;
        bad[0] = 'X';
        try {
            b.load_state(bad);
            QFAIL("bad magic accepted");
        } catch (const v4::Error & e) {
            QCOMPARE(e.code(), v4::ErrorCode::format);
        }
        bad = snap;
        bad.resize(bad.size() - 4);
        QVERIFY_THROWS_EXCEPTION(v4::Error, b.load_state(bad));
        // stale, never reinterpreted: a version-1 blob (f32 rows from before the KV type tag) and a
        // blob from a session of the other precision (f16 cache here, f32 there)
        bad = snap;
        const uint8_t version1[4] = {1, 0, 0, 0}; // u32 after the magic, little endian
        std::copy(std::begin(version1), std::end(version1), bad.begin() + 4);
        expectStale(b, bad);
        v4::session accurate(m_model, {.n_ctx = 64, .n_threads = 2, .precision = v4::activation_precision::accurate});
        expectStale(accurate, snap);
    }

    void contextOverflow() {
        V4_REQUIRE_DEFAULT_MODEL(path);
        QVERIFY(ensureModel());
        v4::session s(m_model, {.n_ctx = 16, .n_threads = 1});
        try {
            s.prefill(std::span<const int32_t>(m_fx.tokens.data(), 20));
            QFAIL("no error for a prompt longer than n_ctx");
        } catch (const v4::Error & e) {
            QCOMPARE(e.code(), v4::ErrorCode::context_overflow);
            const QString msg = QString::fromUtf8(e.what());
            QVERIFY2(msg.contains(QStringLiteral("20")) && msg.contains(QStringLiteral("16")), e.what());
        }
        s.prefill(std::span<const int32_t>(m_fx.tokens.data(), 16));
        QVERIFY_THROWS_EXCEPTION(v4::Error, s.decode_one(m_fx.tokens[16]));
    }

    void cancellation() {
        V4_REQUIRE_DEFAULT_MODEL(path);
        QVERIFY(ensureModel());
        v4::session       s(m_model, {.n_ctx = 64, .n_threads = 2});
        std::atomic<bool> stop{true};
        try {
            s.prefill(std::span<const int32_t>(m_fx.tokens.data(), 8), &stop);
            QFAIL("cancel flag ignored");
        } catch (const v4::Error & e) {
            QCOMPARE(e.code(), v4::ErrorCode::cancelled);
        }
        QCOMPARE(s.n_past(), 0u);
    }
};

QTEST_APPLESS_MAIN(TestGemma3Logits)
#include "test_gemma3_logits.moc"
