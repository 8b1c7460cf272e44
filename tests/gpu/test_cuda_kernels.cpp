// CUDA kernels against a plain C++ computation of the same formula, on random inputs and odd
// shapes. Skips (with the reason) on machines without a usable GPU.
#include <QTest>

#include <cmath>
#include <random>
#include <vector>

#include "cuda/device.h"
#include "cuda/rms_norm.h"

namespace cuda = v4::kernels::cuda;

class TestCudaKernels : public QObject {
    Q_OBJECT

private slots:
    void initTestCase() {
        const cuda::device_probe probe = cuda::probe_devices();
        if (probe.device_count == 0) {
            QSKIP(qPrintable(QStringLiteral("no CUDA device: %1").arg(QString::fromStdString(probe.unavailable_reason))));
        }
        qInfo("CUDA device: %s (sm_%d%d)", probe.name.c_str(), probe.compute_major, probe.compute_minor);
    }

    void rmsNormMatchesHost_data() {
        QTest::addColumn<int>("rows");
        QTest::addColumn<int>("cols");
        QTest::newRow("1x640") << 1 << 640;
        QTest::newRow("7x1000") << 7 << 1000;
        QTest::newRow("3x4097") << 3 << 4097;
        QTest::newRow("64x1") << 64 << 1;
    }

    void rmsNormMatchesHost() {
        QFETCH(int, rows);
        QFETCH(int, cols);
        std::mt19937                          rng(rows * 131 + cols);
        std::uniform_real_distribution<float> dist(-2.0f, 2.0f);
        std::vector<float> x(static_cast<size_t>(rows) * cols), w(cols), y(x.size());
        for (float & v : x) v = dist(rng);
        for (float & v : w) v = dist(rng);
        const float eps = 1e-6f;

        const std::string err = cuda::rms_norm_host(x.data(), w.data(), y.data(), rows, cols, eps);
        QVERIFY2(err.empty(), err.c_str());

        double max_err = 0, norm = 0;
        for (int r = 0; r < rows; ++r) {
            double ss = 0;
            for (int c = 0; c < cols; ++c) ss += double(x[r * cols + c]) * x[r * cols + c];
            const double scale = 1.0 / std::sqrt(ss / cols + eps);
            for (int c = 0; c < cols; ++c) {
                const double ref = x[r * cols + c] * scale * w[c];
                max_err = std::max(max_err, std::abs(ref - y[r * cols + c]) / (1.0 + std::abs(ref)));
                norm += std::abs(y[r * cols + c]);
            }
        }
        QVERIFY(norm > 0); // guard against a kernel that wrote nothing
        // fp32 reduction in a different order: a few ulp of the row sum, far below 1e-5 relative.
        QVERIFY2(max_err < 1e-5, qPrintable(QString::number(max_err)));
    }
};

QTEST_GUILESS_MAIN(TestCudaKernels)
#include "test_cuda_kernels.moc"
