// The gated activations (kernels/cpu/glu.h): the SIMD versions against the std::exp / std::tanh
// loops, on ordinary values, the ends of the float range (where e^x overflows or vanishes) and
// every tail length. Tolerance: the polynomial e^x is good to ~2e-7 relative, and tanh through
// 1 - 2 / (1 + e^2u) loses up to ~1e-7 absolute near 0, so |simd - plain| <= 2e-6 |plain| +
// 1e-6 |g * up| (the second term bounds what tanh's absolute error does to g/2 * (1 + tanh)).
#include <QTest>

#include <cmath>
#include <random>
#include <vector>

#include "cpu/glu.h"

namespace kc = v4::kernels::cpu;

class TestGlu : public QObject {
    Q_OBJECT

private slots:
    void matchesPlainLoops() {
        std::mt19937                          rng(17u);
        std::uniform_real_distribution<float> u(-12.0f, 12.0f);
        for (const size_t n : {size_t{1}, size_t{15}, size_t{16}, size_t{33}, size_t{2048}, size_t{2816}}) {
            std::vector<float> gate(n), up(n);
            for (size_t i = 0; i < n; ++i) {
                gate[i] = u(rng);
                up[i] = u(rng);
            }
            const float extremes[] = {0.0f, -0.0f, 1e-8f, -1e-8f, 88.0f, -88.0f, 100.0f, -100.0f, 1e4f, -1e4f, 3e38f, -3e38f};
            for (size_t i = 0; i < n && i < std::size(extremes); ++i) {
                gate[i] = extremes[i];
            }
            for (const bool silu : {true, false}) {
                std::vector<float> fast = gate, plain = gate;
                if (silu) {
                    kc::glu_silu(fast.data(), up.data(), n);
                    kc::glu_silu_scalar(plain.data(), up.data(), n);
                } else {
                    kc::glu_gelu_tanh(fast.data(), up.data(), n);
                    kc::glu_gelu_tanh_scalar(plain.data(), up.data(), n);
                }
                for (size_t i = 0; i < n; ++i) {
                    const double tol = 2e-6 * std::fabs(plain[i]) + 1e-6 * std::fabs(static_cast<double>(gate[i]) * up[i]);
                    if (fast[i] != plain[i] && !(std::fabs(static_cast<double>(fast[i]) - plain[i]) <= tol)) {
                        QFAIL(qPrintable(QStringLiteral("%1 n=%2 g=%3 up=%4: %5 vs %6")
                                             .arg(silu ? "silu" : "gelu").arg(n).arg(gate[i]).arg(up[i]).arg(fast[i]).arg(plain[i])));
                    }
                }
            }
        }
    }
};

QTEST_APPLESS_MAIN(TestGlu)
#include "test_glu.moc"
