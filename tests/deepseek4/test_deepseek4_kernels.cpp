// The DeepSeek-V4 forward's fast paths against their plain definitions: the fused indexer (score
// and top-k in one pass) selects exactly what index_scores + top_k_entries select, ties included;
// both matmul paths and the attention kernel match sums written out in double; and a thread pool
// does not change a single logit.
#include <QTest>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>

#include "backend/cpu/thread_pool.h"
#include "models/deepseek4/deepseek4.h"
#include "models/deepseek4/deepseek4_index.h"
#include "models/deepseek4/deepseek4_kernels.h"
#include "test_paths.h"

using namespace v4::deepseek4;

namespace {

// Values on a coarse grid, so that scores tie often (the tie rule is what is being checked).
std::vector<float> grid_values(std::mt19937 & rng, size_t n, int levels) {
    std::uniform_int_distribution<int> pick(-levels, levels);
    std::vector<float> v(n);
    for (float & x : v) x = float(pick(rng)) * 0.25f;
    return v;
}

std::vector<float> normal_values(std::mt19937 & rng, size_t n) {
    std::normal_distribution<float> dist(0.0f, 1.0f);
    std::vector<float> v(n);
    for (float & x : v) x = dist(rng);
    return v;
}

} // namespace

class TestDeepseek4Kernels : public QObject {
    Q_OBJECT

private slots:
    void fused_indexer_selects_like_scores_then_top_k_data() {
        QTest::addColumn<int>("n_q");
        QTest::addColumn<int>("H");
        QTest::addColumn<int>("dim");
        QTest::addColumn<int>("k");
        QTest::addColumn<int>("levels");
        QTest::newRow("full group, synthetic shape") << 32 << 2 << 32 << 64 << 1000;
        QTest::newRow("full group, many ties") << 32 << 2 << 32 << 8 << 1;
        QTest::newRow("part group, odd heads, odd dim") << 5 << 3 << 7 << 4 << 2;
        QTest::newRow("one query (decode)") << 1 << 8 << 32 << 8 << 3;
        QTest::newRow("few queries, odd dim, many ties") << 3 << 3 << 7 << 4 << 1;
        QTest::newRow("few queries, long keys") << 2 << 2 << 40 << 16 << 1000;
        QTest::newRow("fixture shape") << 17 << 8 << 32 << 8 << 1000;
    }

    void fused_indexer_selects_like_scores_then_top_k() {
        QFETCH(int, n_q);
        QFETCH(int, H);
        QFETCH(int, dim);
        QFETCH(int, k);
        QFETCH(int, levels);
        std::mt19937 rng(uint32_t(n_q * 131 + H * 17 + dim));
        const int n_keys = 700;
        const std::vector<float> keys = grid_values(rng, size_t(n_keys) * dim, levels);
        const std::vector<float> q = grid_values(rng, size_t(n_q) * H * dim, levels);
        const std::vector<float> w = grid_values(rng, size_t(n_q) * H, levels);
        // Visible keys per query: none, fewer than k, exactly k, and most of them.
        std::vector<int> n_ready(static_cast<size_t>(n_q));
        for (int t = 0; t < n_q; t++) {
            const int choices[] = {0, k / 2, k, k + 1, n_keys - 3 * t, n_keys};
            n_ready[size_t(t)] = std::clamp(choices[t % 6], 0, n_keys);
        }
        std::vector<std::vector<int>> got(static_cast<size_t>(n_q));
        index_select_group(keys.data(), dim, q.data(), w.data(), n_q, H, n_ready.data(), k, got.data());
        std::vector<float> scores(size_t(n_q) * n_keys);
        index_scores(keys.data(), n_keys, dim, q.data(), w.data(), n_q, H, scores.data());
        for (int t = 0; t < n_q; t++) {
            const std::vector<int> want = top_k_entries(scores.data() + size_t(t) * n_keys, n_ready[size_t(t)], k);
            QVERIFY2(got[size_t(t)] == want, qPrintable(QStringLiteral("query %1 (%2 keys visible)").arg(t).arg(n_ready[size_t(t)])));
        }
    }

    // Both matmul paths (a prefill chunk's many rows, a decode step's one row) against double sums.
    void matmul_rows_match_double_sums() {
        std::mt19937 rng(5);
        for (const auto & [in, out] : {std::pair{256, 64}, std::pair{37, 21}, std::pair{16, 3}}) {
            const std::vector<float> x = normal_values(rng, size_t(40) * in), w = normal_values(rng, size_t(out) * in);
            std::vector<float> all(size_t(40) * out), one(static_cast<size_t>(out));
            d4_matmul_rows(d4_pack_rows(x.data(), 40, in), w.data(), out, 0, out, all.data());
            for (int t : {0, 17, 39}) {
                d4_matmul_rows(d4_pack_rows(x.data() + size_t(t) * in, 1, in), w.data(), out, 0, out, one.data());
                for (int o = 0; o < out; o++) {
                    double ref = 0;
                    for (int i = 0; i < in; i++) ref += double(x[size_t(t) * in + i]) * w[size_t(o) * in + i];
                    QVERIFY(std::abs(one[size_t(o)] - ref) <= 1e-4 * (1.0 + std::abs(ref)));
                    QVERIFY(std::abs(all[size_t(t) * out + o] - ref) <= 1e-4 * (1.0 + std::abs(ref)));
                }
            }
        }
    }

    void attention_matches_the_softmax_written_out() {
        std::mt19937 rng(9);
        for (const int dim : {64, 32, 24}) {
            const int H = 3, n = 37;
            const std::vector<float> q = normal_values(rng, size_t(H) * dim), rows_data = normal_values(rng, size_t(n) * dim);
            const std::vector<float> sinks = {0.5f, -1.0f, 2.0f};
            std::vector<const float *> rows;
            for (int j = 0; j < n; j++) rows.push_back(&rows_data[size_t(j) * dim]);
            const float scale = 0.3f;
            std::vector<float> out(size_t(H) * dim), scratch;
            d4_attend(q.data(), H, dim, rows.data(), n, sinks.data(), scale, out.data(), scratch);
            for (int h = 0; h < H; h++) {
                std::vector<double> logit(static_cast<size_t>(n));
                double mx = sinks[size_t(h)];
                for (int j = 0; j < n; j++) {
                    double d = 0;
                    for (int i = 0; i < dim; i++) d += double(q[size_t(h) * dim + i]) * rows[size_t(j)][i];
                    logit[size_t(j)] = d * scale;
                    mx = std::max(mx, logit[size_t(j)]);
                }
                double sum = std::exp(sinks[size_t(h)] - mx);
                for (double & l : logit) sum += (l = std::exp(l - mx));
                for (int i = 0; i < dim; i++) {
                    double ref = 0;
                    for (int j = 0; j < n; j++) ref += logit[size_t(j)] / sum * rows[size_t(j)][i];
                    QVERIFY2(std::abs(out[size_t(h) * dim + i] - ref) <= 1e-5,
                             qPrintable(QStringLiteral("dim %1 head %2 channel %3").arg(dim).arg(h).arg(i)));
                }
            }
        }
    }

    // Matmul rows, experts, queries and indexer groups are split across threads, but each result is
    // computed by one thread in a fixed order: the logits are the same bits with or without a pool.
    void thread_pool_does_not_change_the_logits() {
        const d4_model m = d4_load(v4test::fixturePath(QStringLiteral("deepseek4/mixed4")).toStdString());
        std::mt19937 rng(3);
        std::uniform_int_distribution<int32_t> token(0, m.cfg.vocab - 1);
        std::vector<int32_t> ids(300);
        for (int32_t & id : ids) id = token(rng);
        v4::detail::thread_pool pool(3);
        d4_state a = d4_new_state(m), b = d4_new_state(m);
        for (size_t at = 0; at < ids.size(); at += 100) {  // prefill in chunks, then decode steps
            const std::vector<int32_t> chunk(ids.begin() + std::ptrdiff_t(at), ids.begin() + std::ptrdiff_t(at + 100));
            QVERIFY(d4_eval(m, a, chunk) == d4_eval(m, b, chunk, true, &pool));
        }
        for (int i = 0; i < 5; i++) {
            const std::vector<int32_t> one = {token(rng)};
            QVERIFY(d4_eval(m, a, one) == d4_eval(m, b, one, true, &pool));
        }
    }
};

QTEST_GUILESS_MAIN(TestDeepseek4Kernels)
#include "test_deepseek4_kernels.moc"
