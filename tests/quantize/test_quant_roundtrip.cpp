// Acceptance 2 of docs/QUANTIZATION.md: a file our quantizer wrote gives the same logits in our
// engine as the gguf package's reading of it. The fixtures (tools/reference/
// make_quant_roundtrip_fixtures.py) are a tiny random qwen3 model written by `v4 quantize --rule
// q4_k_m` (q4_K, q6_K, q5_0 and q8_0 tensors) and gguf-py's f32 dequantization of that file.
//
// Both run with accurate activations, so the only differences left are f32 summation order and the
// residual of the two-pass activation quantization: we require the same top-1 at every position
// and mean KL <= 1e-5 nats (measured ~1e-7; a dequantizer that misreads one block layout, scale or
// nibble order changes the logits by orders of magnitude more).
#include <QTest>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "test_paths.h"
#include "v4/session.h"

namespace {

constexpr double k_max_mean_kl = 1e-5;

std::vector<float> all_logits(const QString & fixture, const std::vector<int32_t> & tokens) {
    const auto  model = v4::model::load(v4test::fixturePath(fixture).toStdString());
    v4::session s(model, {.n_ctx = 64, .n_threads = 2, .precision = v4::activation_precision::accurate});
    s.prefill(tokens, nullptr, {.all_logits = true});
    const std::span<const float> all = s.all_logits();
    return {all.begin(), all.end()};
}

std::vector<double> log_softmax(std::span<const float> row) {
    const double        mx = *std::max_element(row.begin(), row.end());
    double              s  = 0.0;
    for (float x : row) {
        s += std::exp(x - mx);
    }
    std::vector<double> out(row.size());
    for (size_t i = 0; i < row.size(); ++i) {
        out[i] = row[i] - mx - std::log(s);
    }
    return out;
}

} // namespace

class TestQuantRoundtrip : public QObject {
    Q_OBJECT
private slots:
    void fileHoldsSeveralQuantTypes() {
        const auto model = v4::model::load(v4test::fixturePath(QStringLiteral("quantize/roundtrip-q4_k_m.gguf")).toStdString());
        const auto & types = model->info().tensor_types;
        for (const char * t : {"q4_K", "q6_K", "q5_0", "q8_0"}) {
            QVERIFY2(types.count(t) == 1, t);
        }
    }

    void sameLogitsAsGgufPyDequantization() {
        std::vector<int32_t> tokens(48);
        for (size_t i = 0; i < tokens.size(); ++i) {
            tokens[i] = static_cast<int32_t>((i * 37 + 11) % 64);
        }
        const std::vector<float> ours = all_logits(QStringLiteral("quantize/roundtrip-q4_k_m.gguf"), tokens);
        const std::vector<float> ref  = all_logits(QStringLiteral("quantize/roundtrip-q4_k_m.gguf-py-f32.gguf"), tokens);
        QCOMPARE(ours.size(), ref.size());
        const size_t n_vocab = ours.size() / tokens.size();
        double       kl_sum = 0.0, kl_max = 0.0;
        int          same_top1 = 0;
        for (size_t t = 0; t < tokens.size(); ++t) {
            const std::span<const float> q(ours.data() + t * n_vocab, n_vocab), p(ref.data() + t * n_vocab, n_vocab);
            const std::vector<double>    lq = log_softmax(q), lp = log_softmax(p);
            double                       kl = 0.0;
            for (size_t i = 0; i < n_vocab; ++i) {
                kl += std::exp(lp[i]) * (lp[i] - lq[i]);
            }
            kl_sum += kl;
            kl_max = std::max(kl_max, kl);
            same_top1 += std::max_element(q.begin(), q.end()) - q.begin() == std::max_element(p.begin(), p.end()) - p.begin();
        }
        const double kl_mean = kl_sum / static_cast<double>(tokens.size());
        qInfo("%zu positions: same top-1 %d, mean KL %.3g, max KL %.3g (nats, gguf-py f32 || ours)", tokens.size(),
              same_top1, kl_mean, kl_max);
        QCOMPARE(same_top1, static_cast<int>(tokens.size()));
        QVERIFY2(kl_mean <= k_max_mean_kl, qPrintable(QString::number(kl_mean)));
    }
};

QTEST_GUILESS_MAIN(TestQuantRoundtrip)
#include "test_quant_roundtrip.moc"
