// Row quantizers: gguf-py bit-exactness for the types it implements, round-trip error bounds for
// every type, the importance weighting of the K-quants, and bad input.
#include <QFile>
#include <QTest>

#include <cmath>
#include <random>

#include "quantize/quantize_row.h"
#include "v4/error.h"

using v4::dtype;

namespace {

constexpr int k_rows = 8, k_cols = 256;

QByteArray readFixture(const QString & name) {
    QFile f(QStringLiteral(V4_TEST_FIXTURES "/quantize/") + name);
    if (!f.open(QIODevice::ReadOnly)) {
        qFatal("missing fixture %s", qPrintable(f.fileName()));
    }
    return f.readAll();
}

std::vector<float> gaussian(size_t n, uint32_t seed) {
    std::mt19937                    rng(seed);
    std::normal_distribution<float> d(0.0f, 1.0f);
    std::vector<float>              v(n);
    for (float & x : v) {
        x = d(rng);
    }
    return v;
}

std::vector<float> roundTrip(dtype t, const std::vector<float> & x, const float * importance = nullptr) {
    const int64_t        n = static_cast<int64_t>(x.size());
    std::vector<uint8_t> q(*v4::row_bytes(t, n));
    v4::quant::quantize_row(t, x.data(), q.data(), n, importance);
    std::vector<float> y(x.size());
    v4::quant::dequantize_row(t, q.data(), y.data(), n);
    return y;
}

double relRmse(const std::vector<float> & x, const std::vector<float> & y) {
    double e = 0.0, s = 0.0;
    for (size_t i = 0; i < x.size(); ++i) {
        e += (static_cast<double>(x[i]) - y[i]) * (static_cast<double>(x[i]) - y[i]);
        s += static_cast<double>(x[i]) * x[i];
    }
    return std::sqrt(e / s);
}

} // namespace

class TestQuantize : public QObject {
    Q_OBJECT
private slots:
    void matchesGgufPy_data() {
        QTest::addColumn<QString>("name");
        QTest::addColumn<int>("type");
        QTest::newRow("q8_0") << "q8_0" << int(dtype::q8_0);
        QTest::newRow("q4_0") << "q4_0" << int(dtype::q4_0);
        QTest::newRow("q4_1") << "q4_1" << int(dtype::q4_1);
        QTest::newRow("q5_0") << "q5_0" << int(dtype::q5_0);
        QTest::newRow("q5_1") << "q5_1" << int(dtype::q5_1);
        QTest::newRow("mxfp4") << "mxfp4" << int(dtype::mxfp4);
    }
    void matchesGgufPy() {
        QFETCH(QString, name);
        QFETCH(int, type);
        const QByteArray input    = readFixture(QStringLiteral("input.f32"));
        const QByteArray expected = readFixture(name + QStringLiteral(".bin"));
        QCOMPARE(input.size(), qsizetype(k_rows * k_cols * 4));
        const auto   t  = static_cast<dtype>(type);
        const size_t rb = *v4::row_bytes(t, k_cols);
        QCOMPARE(expected.size(), qsizetype(rb * k_rows));
        for (int r = 0; r < k_rows; ++r) {
            std::vector<uint8_t> q(rb);
            v4::quant::quantize_row(t, reinterpret_cast<const float *>(input.constData()) + r * k_cols, q.data(), k_cols);
            for (size_t i = 0; i < rb; ++i) {
                if (q[i] != static_cast<uint8_t>(expected[static_cast<qsizetype>(r * rb + i)])) {
                    QFAIL(qPrintable(QStringLiteral("row %1 byte %2: %3, gguf-py %4").arg(r).arg(i).arg(q[i])
                                         .arg(static_cast<uint8_t>(expected[static_cast<qsizetype>(r * rb + i)]))));
                }
            }
        }
    }

    // Relative RMS error on Gaussian rows; each bound sits 10-40% above what the type achieves
    // (q3_K 0.145, q4_K 0.071, q5_K 0.036, q6_K 0.017, q8_0 0.0053), so a broken search fails.
    void roundTripErrorBounds_data() {
        QTest::addColumn<int>("type");
        QTest::addColumn<double>("bound");
        QTest::newRow("q8_0") << int(dtype::q8_0) << 0.006;
        QTest::newRow("q6_K") << int(dtype::q6_k) << 0.021;
        QTest::newRow("q5_1") << int(dtype::q5_1) << 0.045;
        QTest::newRow("q5_K") << int(dtype::q5_k) << 0.043;
        QTest::newRow("q5_0") << int(dtype::q5_0) << 0.05;
        QTest::newRow("q4_1") << int(dtype::q4_1) << 0.09;
        QTest::newRow("q4_K") << int(dtype::q4_k) << 0.086;
        QTest::newRow("q4_0") << int(dtype::q4_0) << 0.10;
        QTest::newRow("mxfp4") << int(dtype::mxfp4) << 0.16;
        QTest::newRow("q3_K") << int(dtype::q3_k) << 0.20;
        QTest::newRow("f16") << int(dtype::f16) << 0.0004;
        QTest::newRow("bf16") << int(dtype::bf16) << 0.003;
    }
    void roundTripErrorBounds() {
        QFETCH(int, type);
        QFETCH(double, bound);
        const std::vector<float> x   = gaussian(64 * 256, 7);
        const double             err = relRmse(x, roundTrip(static_cast<dtype>(type), x));
        qInfo("%s: relative RMSE %.5f (bound %.3f)", v4::traits(static_cast<dtype>(type)).name, err, bound);
        QVERIFY(err < bound);
    }

    // Zero and constant rows survive every type (no NaN, zero stays zero).
    void degenerateRows() {
        for (dtype t : {dtype::q8_0, dtype::q4_0, dtype::q4_1, dtype::q5_0, dtype::q5_1, dtype::mxfp4, dtype::q3_k,
                        dtype::q4_k, dtype::q5_k, dtype::q6_k}) {
            const std::vector<float> zero(256, 0.0f);
            for (float v : roundTrip(t, zero)) {
                QCOMPARE(v, 0.0f);
            }
            const std::vector<float> flat(256, 0.5f);
            for (float v : roundTrip(t, flat)) {
                QVERIFY2(std::fabs(v - 0.5f) < 0.05f, v4::traits(t).name);
            }
        }
    }

    // Columns with a large importance get a smaller error than without the importance matrix.
    void importanceLowersWeightedError() {
        for (dtype t : {dtype::q3_k, dtype::q4_k, dtype::q5_k, dtype::q6_k}) {
            const std::vector<float> x = gaussian(32 * 256, 11);
            std::vector<float>       imp(x.size(), 0.01f);
            for (size_t i = 0; i < imp.size(); i += 8) {
                imp[i] = 100.0f;
            }
            auto weighted = [&](const std::vector<float> & y) {
                double e = 0.0;
                for (size_t i = 0; i < x.size(); ++i) {
                    e += imp[i] * (x[i] - y[i]) * (x[i] - y[i]);
                }
                return e;
            };
            const double plain = weighted(roundTrip(t, x)), with = weighted(roundTrip(t, x, imp.data()));
            qInfo("%s: weighted error %.4f without, %.4f with the importance", v4::traits(t).name, plain, with);
            QVERIFY2(with < 0.9 * plain, v4::traits(t).name);
        }
    }

    void badInput() {
        std::vector<float>   x(100, 1.0f);
        std::vector<uint8_t> q(1024);
        QVERIFY_THROWS_EXCEPTION(v4::Error, v4::quant::quantize_row(dtype::q4_k, x.data(), q.data(), 100));
        QVERIFY_THROWS_EXCEPTION(v4::Error, v4::quant::quantize_row(dtype::q2_k, x.data(), q.data(), 256));
        QVERIFY_THROWS_EXCEPTION(v4::Error, v4::quant::dequantize_row(dtype::iq2_xs, q.data(), x.data(), 256));
    }
};

QTEST_APPLESS_MAIN(TestQuantize)
#include "test_quantize.moc"
