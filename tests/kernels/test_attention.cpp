// The SIMD attention kernel against its scalar twin on random shapes: head sizes 8..256 (not all
// multiples of 64), query groups 1..8, key counts around the 8-key step (1, 7, 8, 9, 100, 1000),
// a KV row stride wider than one head. Tolerance: the vectorized exp is within ~2e-7 relative and
// the sums run in another order, so 1e-5 of max_j |v_j[d]| per output dim, plus 1e-6.
#include <QTest>

#include <cmath>
#include <random>
#include <vector>

#include "cpu/attention.h"

namespace kc = v4::kernels::cpu;

class TestAttention : public QObject {
    Q_OBJECT

private slots:
    void matchesScalar_data() {
        QTest::addColumn<int>("headDim");
        QTest::addColumn<int>("group");
        QTest::addColumn<int>("nKeys");
        for (int hd : {8, 40, 64, 72, 128, 256}) {
            for (int g : {1, 4, 8}) {
                for (int nk : {1, 7, 8, 9, 100, 1000}) {
                    QTest::addRow("hd%d_g%d_k%d", hd, g, nk) << hd << g << nk;
                }
            }
        }
    }

    void matchesScalar() {
        QFETCH(int, headDim);
        QFETCH(int, group);
        QFETCH(int, nKeys);
        std::mt19937                    rng(static_cast<unsigned>(headDim * 7919 + group * 101 + nKeys));
        std::normal_distribution<float> nd(0.0f, 1.0f);
        const size_t                    stride = static_cast<size_t>(headDim) * 3 + 8; // other heads between rows
        std::vector<float> q(static_cast<size_t>(group) * headDim), k(stride * nKeys), v(stride * nKeys);
        for (auto * buf : {&q, &k, &v}) {
            for (float & x : *buf) {
                x = nd(rng);
            }
        }
        const float scale = 1.0f / std::sqrt(static_cast<float>(headDim));
        std::vector<float> scores(static_cast<size_t>(group) * nKeys), want(q.size()), got(q.size());
        kc::find_attend_kernel_scalar()(q.data(), k.data(), v.data(), stride, nKeys, headDim, group, scale,
                                        scores.data(), want.data());
        kc::find_attend_kernel(headDim)(q.data(), k.data(), v.data(), stride, nKeys, headDim, group, scale,
                                        scores.data(), got.data());
        for (int g = 0; g < group; ++g) {
            for (int d = 0; d < headDim; ++d) {
                double bound = 0.0;
                for (int j = 0; j < nKeys; ++j) {
                    bound = std::max(bound, static_cast<double>(std::fabs(v[j * stride + d])));
                }
                const size_t i = static_cast<size_t>(g) * headDim + d;
                if (std::fabs(static_cast<double>(got[i]) - want[i]) > 1e-5 * bound + 1e-6) {
                    QFAIL(qPrintable(QStringLiteral("head %1 dim %2: %3 vs scalar %4").arg(g).arg(d).arg(got[i]).arg(want[i])));
                }
            }
        }
    }
};

QTEST_APPLESS_MAIN(TestAttention)
#include "test_attention.moc"
