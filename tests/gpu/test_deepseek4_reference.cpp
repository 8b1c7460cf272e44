// The scalar DeepSeek-V4 references (kernels/reference/deepseek4_ops) against the engine's own fp32
// forward, on the CPU, so the ground truth of the CUDA tests is itself checked without a GPU:
//   - weight decoders and views against engine quant_formats (every code),
//   - indexer scores and top-k against engine deepseek4_index (ties included),
//   - routing against values worked out by hand,
//   - the device forward's step sequence (engine/src/backend/cuda/deepseek4/d4_forward_steps.h) run
//     with the reference ops (mHC, compressor, indexer, sparse attention with sinks, routing, expert
//     GEMVs) against d4_eval, chunk by chunk with the carried state.
// Also the host-side partition math of the CUDA launchers (kernels/cuda/deepseek4/d4_launch_math.h).
#include <QTest>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "backend/cuda/deepseek4/d4_host_ops.h"
#include "cuda/deepseek4/d4_launch_math.h"
#include "deepseek4_tiny_config.h"
#include "logit_agreement.h"
#include "models/deepseek4/deepseek4.h"
#include "models/deepseek4/deepseek4_index.h"
#include "models/deepseek4/deepseek4_synthetic.h"
#include "models/deepseek4/quant_formats.h"
#include "reference/deepseek4_ops.h"

namespace ds = v4::deepseek4;
namespace rd = v4::kernels::ref::d4;
namespace lm = v4::kernels::cuda::d4;

namespace {

bool same_float(float a, float b) { return (std::isnan(a) && std::isnan(b)) || (a == b && std::signbit(a) == std::signbit(b)); }

} // namespace

class TestDeepseek4Reference : public QObject {
    Q_OBJECT

private slots:
    void decodersMatchEngineForEveryCode() {
        for (int b = 0; b < 256; b++) {
            QVERIFY2(same_float(rd::fp8_e4m3_to_float(uint8_t(b)), ds::fp8_e4m3_to_float(uint8_t(b))) ||
                         (std::isnan(rd::fp8_e4m3_to_float(uint8_t(b))) && std::isnan(ds::fp8_e4m3_to_float(uint8_t(b)))),
                     qPrintable(QString("fp8 code %1").arg(b)));
            QVERIFY2(same_float(rd::e8m0_to_float(uint8_t(b)), ds::e8m0_to_float(uint8_t(b))), qPrintable(QString("e8m0 %1").arg(b)));
        }
        for (int b = 0; b < 16; b++) QVERIFY(same_float(rd::fp4_e2m1_to_float(uint8_t(b)), ds::fp4_e2m1_to_float(uint8_t(b))));
        QCOMPARE(rd::bf16_to_float(0x3F80), 1.0f);
        QCOMPARE(rd::bf16_to_float(0xC040), -3.0f);
        QCOMPARE(rd::fp8_e4m3_to_float(0x7E), 448.0f);      // the largest finite E4M3
        QCOMPARE(rd::fp8_e4m3_to_float(0x01), 0.001953125f); // the smallest subnormal, 2^-9
    }

    // weight_at over fp8 128-blocks (ragged edges, two experts, a row0 view) and MXFP4 against the
    // engine's whole-matrix dequantisers.
    void weightViewsMatchEngineDequant() {
        std::mt19937 rng(7);
        const int64_t rows = 300, cols = 200, E = 2;  // 3 x 2 scale blocks, both ragged
        std::vector<uint8_t> w8(size_t(E * rows * cols));
        for (auto & b : w8) b = uint8_t(rng() & 0x7E);  // no NaN codes
        const int64_t nsc = 3 * 2;
        std::vector<float> sc(size_t(E * nsc));
        for (auto & s : sc) s = std::ldexp(1.0f, int(rng() % 9) - 4);
        const rd::weight_view v8{rd::wfmt::fp8_e4m3_b128, w8.data(), sc.data(), cols, rows, 0};
        const rd::weight_view v8_up{rd::wfmt::fp8_e4m3_b128, w8.data(), sc.data(), cols, rows, 150};
        std::vector<float> full(size_t(rows * cols));
        for (int e = 0; e < E; e++) {
            ds::dequant_fp8_blocks(&w8[size_t(e * rows * cols)], rows, cols, &sc[size_t(e * nsc)], 128, full.data());
            for (int64_t r = 0; r < rows; r++) {
                for (int64_t c = 0; c < cols; c++) QCOMPARE(rd::weight_at(v8, e, r, c), full[size_t(r * cols + c)]);
            }
            for (int64_t r = 0; r < 150; r++) QCOMPARE(rd::weight_at(v8_up, e, r, 199), full[size_t((150 + r) * cols + 199)]);
        }
        const int64_t r4 = 5, c4 = 96;
        std::vector<uint8_t> p4(size_t(E * r4 * c4 / 2)), s4(size_t(E * r4 * c4 / 32));
        for (auto & b : p4) b = uint8_t(rng());
        for (auto & b : s4) b = uint8_t(120 + rng() % 14);
        const rd::weight_view v4{rd::wfmt::fp4_e2m1_b32, p4.data(), s4.data(), c4, r4, 0};
        std::vector<float> full4(size_t(r4 * c4));
        for (int e = 0; e < E; e++) {
            ds::dequant_fp4(&p4[size_t(e * r4 * c4 / 2)], r4, c4, &s4[size_t(e * r4 * c4 / 32)], full4.data());
            for (int64_t r = 0; r < r4; r++) {
                for (int64_t c = 0; c < c4; c++) QCOMPARE(rd::weight_at(v4, e, r, c), full4[size_t(r * c4 + c)]);
            }
        }
    }

    void topKMatchesEngineWithTies() {
        std::mt19937 rng(11);
        for (int n : {0, 1, 3, 4, 37, 500}) {
            for (int k : {1, 3, 4, 64}) {
                for (int levels : {3, 1000}) {  // few levels: ties everywhere
                    std::vector<float> s(static_cast<size_t>(n));
                    for (float & v : s) v = float(int(rng() % unsigned(levels)) - levels / 2) * 0.25f;
                    std::vector<int32_t> got(size_t(std::min(n, k)));
                    const int m = rd::top_k_ascending(s.data(), n, k, got.data());
                    const std::vector<int> want = ds::top_k_entries(s.data(), n, k);
                    QCOMPARE(m, int(want.size()));
                    QVERIFY2(std::equal(want.begin(), want.end(), got.begin()), qPrintable(QString("n %1 k %2").arg(n).arg(k)));
                }
            }
        }
    }

    void indexScoresMatchEngine() {
        std::mt19937 rng(3);
        std::normal_distribution<float> N(0.0f, 1.0f);
        const int n_keys = 19, dim = 24, n_q = 5, H = 3;
        std::vector<float> keys(size_t(n_keys * dim)), q(size_t(n_q * H * dim)), w(size_t(n_q * H));
        for (auto * v : {&keys, &q, &w}) for (float & x : *v) x = N(rng);
        std::vector<float> a(size_t(n_q * n_keys)), b(a.size());
        rd::index_scores(keys.data(), n_keys, dim, q.data(), w.data(), 1.0f, n_q, H, a.data());
        ds::index_scores(keys.data(), n_keys, dim, q.data(), w.data(), n_q, H, b.data());
        for (size_t i = 0; i < a.size(); i++) QVERIFY(std::abs(a[i] - b[i]) <= 1e-5f * (1.0f + std::abs(b[i])));
    }

    // Worked by hand: logits 0 for every expert give score sqrt(ln 2) each; with bias {0, .5, .5, 0}
    // the top 2 are experts 1 and 2 (tie between them, and 0 / 3 tie below: lower ids win), each
    // weight = 1/2 * routed_scale. A hashed token takes the table's order.
    void routeByHand() {
        const float logits[4] = {0, 0, 0, 0}, bias[4] = {0, 0.5f, 0.5f, 0};
        int32_t ids[2];
        float w[2];
        rd::route(logits, 1, 4, 2, bias, nullptr, nullptr, 3.0f, ids, w);
        QCOMPARE(ids[0], 1);
        QCOMPARE(ids[1], 2);
        QCOMPARE(w[0], 1.5f);
        QCOMPARE(w[1], 1.5f);
        const float bias_tie[4] = {0, 0, 0, 0};  // all equal: 0 and 1
        rd::route(logits, 1, 4, 2, bias_tie, nullptr, nullptr, 1.0f, ids, w);
        QCOMPARE(ids[0], 0);
        QCOMPARE(ids[1], 1);
        const float lg[4] = {30.0f, 0.0f, 0.0f, 0.0f};  // softplus(30) = 30 (threshold), sqrt: 5.4772
        const int64_t table[2 * 2] = {3, 1, 0, 2};
        const int32_t tok = 1;
        rd::route(lg, 1, 4, 2, nullptr, table, &tok, 1.0f, ids, w);
        QCOMPARE(ids[0], 0);
        QCOMPARE(ids[1], 2);
        const float s0 = std::sqrt(30.0f), s2 = std::sqrt(std::log(2.0f));
        QVERIFY(std::abs(w[0] - s0 / (s0 + s2)) < 1e-6f);
        QVERIFY(std::abs(w[1] - s2 / (s0 + s2)) < 1e-6f);
        QCOMPARE(rd::swiglu_clamped(3.0f, -5.0f, 1.0f), (1.0f / (1.0f + std::exp(-1.0f))) * -1.0f);
    }

    // The device forward's steps with the reference ops reproduce the engine: same logits, chunk by
    // chunk (all rows, then last-row-only, alternating), on the tiny config and on the
    // transformers-checked fixture (YaRN, window 32, top-8 of up to 75 CSA entries, two HCA windows).
    void forwardStepsMatchEngine_data() {
        QTest::addColumn<QString>("model");
        QTest::addColumn<QList<int>>("chunks");
        QTest::newRow("tiny") << QString("tiny") << QList<int>{13, 1, 1, 7, 18};
        QTest::newRow("fixture mixed4") << QString("mixed4") << QList<int>{150, 1, 1, 148, 3};
    }
    void forwardStepsMatchEngine() {
        QFETCH(QString, model);
        QFETCH(QList<int>, chunks);
        const ds::d4_model m = model == "tiny" ? ds::d4_synthetic_model(d4_tiny_config(), 42)
                                               : ds::d4_load(V4_TEST_FIXTURES "/deepseek4/" + model.toStdString());
        const ds::d4_config & c = m.cfg;
        ds::d4_check_config(c, "test model");
        std::mt19937 rng(5);
        ds::d4_state es = ds::d4_new_state(m);
        ds::d4_host_state rs = ds::d4_host_new_state(m);
        logit_agreement agree;
        int fed = 0;
        for (qsizetype i = 0; i < chunks.size(); i++) {
            std::vector<int32_t> part(static_cast<size_t>(chunks[i]));
            for (int32_t & t : part) t = int32_t(rng() % unsigned(c.vocab));
            fed += chunks[i];
            const bool all = i % 2 == 0;
            const std::vector<float> want = ds::d4_eval(m, es, part, all);
            const std::vector<float> got = ds::d4_host_eval(m, rs, part, all);
            QCOMPARE(got.size(), want.size());
            agree.add(want, got, c.vocab);
        }
        QCOMPARE(rs.n_past, fed);
        qInfo("forward steps with the reference ops vs d4_eval (%s): %d rows, max |diff| / max |logit| = %.3g, same top-1 %d/%d",
              qPrintable(model), agree.rows, agree.worst, agree.same_top1, agree.rows);
        QVERIFY2(agree.worst < 1e-4, qPrintable(QString::number(agree.worst)));
        QCOMPARE(agree.same_top1, agree.rows);
    }

    // The launchers' partitions cover every index exactly once.
    void launchPartitionsCoverEverything() {
        for (int n : {0, 1, 31, 32, 33, 1000, 262144 + 7}) {
            for (int parts : {1, 3, 8, 64}) {
                int covered = 0, prev_end = 0;
                const int chunk = lm::split_chunk(n, parts);
                for (int s = 0; s < lm::split_count(n, chunk); s++) {
                    const lm::span sp = lm::split_span(n, chunk, s);
                    QCOMPARE(sp.begin, prev_end);
                    QVERIFY(sp.end > sp.begin && sp.end <= n);
                    covered += sp.end - sp.begin;
                    prev_end = sp.end;
                }
                QCOMPARE(covered, n);
                QVERIFY(lm::split_count(n, chunk) <= std::max(parts, 1));
            }
        }
        // The mHC mixing GEMV's chunks: about 2048 elements, at most 64 (gridDim.z), covering n * D.
        for (int nD : {1, 2047, 2048, 2049, 4 * 4096, 8 * 7168, 64 * 4096}) {
            const int chunk = lm::hc_mix_chunk(nD), splits = lm::hc_mix_splits(nD);
            QVERIFY(splits >= 1 && splits <= 64);
            QCOMPARE(lm::split_span(nD, chunk, splits - 1).end, nD);
            QVERIFY(lm::split_span(nD, chunk, splits - 1).begin < nD);
            QVERIFY(chunk <= 2048 || splits == 64);
        }
        QCOMPARE(lm::hc_mix_splits(4 * 4096), 8);  // V4-Flash: 24 rows x 8 chunks per token
        // Flash-decoding splits: only with few (token, head) blocks and long key lists, at most 32.
        QCOMPARE(lm::attn_splits(1, 64, 128 + 800), 1);  // short lists stay in one block
        QCOMPARE(lm::attn_splits(1, 64, 128 + 1000), 3);
        QCOMPARE(lm::attn_splits(1, 64, 128 + (1 << 20) / 128), 17);  // V4-Flash decode at 1M: HCA
        QCOMPARE(lm::attn_splits(1, 5, 128 + 3000000 / 128), 32);
        QCOMPARE(lm::attn_splits(16, 64, 1 << 20), 1);  // a prefill chunk fills the device already
        // Radix select: 4 passes of 8 bits over the order-preserving key; -0 and +0 share a key.
        QCOMPARE(lm::float_order_key(-0.0f), lm::float_order_key(0.0f));
        const float ladder[] = {-INFINITY, -3.5f, -1e-30f, 0.0f, 1e-30f, 2.0f, 3.5f, INFINITY};
        for (size_t i = 0; i + 1 < std::size(ladder); i++) QVERIFY(lm::float_order_key(ladder[i]) < lm::float_order_key(ladder[i + 1]));
        QCOMPARE(lm::ceil_div(0, 4), 0);
        QCOMPARE(lm::ceil_div(9, 4), 3);
        QCOMPARE(lm::visible_entries(0, 0, 4), 0);   // position 0: nothing closed yet
        QCOMPARE(lm::visible_entries(3, 0, 4), 1);   // position 3 closes the first window
        QCOMPARE(lm::visible_entries(10, 5, 4), 4);  // position 15
    }
};

QTEST_GUILESS_MAIN(TestDeepseek4Reference)
#include "test_deepseek4_reference.moc"
