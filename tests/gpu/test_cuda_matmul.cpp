// The CUDA dequantizers, GEMV (decode; also the fused q/k/v launch and the gate+up GEMV with the
// GLU in its epilogue), tiled GEMM (prefill) and embedding lookup against kernels/reference, for
// every weight type the CUDA path accepts, on random rows and odd shapes (rows that start at no
// 16-byte boundary, rows whose last stretch is shorter than 32 chunks).
// Skips with the probe's reason when no CUDA device answers.
#include <QTest>

#include <cmath>

#include "cuda/dense_ops.h"
#include "cuda_test_util.h"

namespace kc = v4::kernels::cuda;
using v4::kernels::qtype;

Q_DECLARE_METATYPE(qtype)

namespace {

struct matrix_case {
    std::vector<uint8_t>          bytes;
    std::vector<std::vector<float>> rows; // reference dequantization
    kc::dev_weight                w;
    cudatest::dev_vec<uint8_t>    dev;

    matrix_case(qtype t, int64_t n_out, int64_t n_in, uint32_t seed)
        : bytes(cudatest::random_rows(t, n_out, n_in, seed)), dev(bytes) {
        for (int64_t r = 0; r < n_out; ++r) rows.push_back(cudatest::reference_row(t, bytes, r, n_in));
        w.type = static_cast<uint32_t>(t);
        w.n_in = n_in;
        w.n_out = n_out;
        w.row_bytes = cudatest::row_bytes(t, n_in);
        w.data = dev.ptr;
    }
};

std::vector<float> random_floats(size_t n, uint32_t seed) {
    std::mt19937                          rng(seed);
    std::uniform_real_distribution<float> d(-1.0f, 1.0f);
    std::vector<float>                    v(n);
    for (float & x : v) x = d(rng);
    return v;
}

void add_type_rows() {
    QTest::addColumn<qtype>("type");
    QTest::addColumn<int>("n_out");
    QTest::addColumn<int>("n_in");
    const struct { qtype t; const char * name; int n_in; } types[] = {
        {qtype::f32, "f32", 96},     {qtype::f16, "f16", 160},     {qtype::bf16, "bf16", 224},
        {qtype::q4_0, "q4_0", 352},  {qtype::q4_1, "q4_1", 96},    {qtype::q5_0, "q5_0", 160},
        {qtype::q5_1, "q5_1", 288},  {qtype::q8_0, "q8_0", 608},   {qtype::mxfp4, "mxfp4", 2880},
        {qtype::q3_k, "q3_K", 768},  {qtype::q4_k, "q4_K", 1280},  {qtype::q5_k, "q5_K", 512},
        {qtype::q6_k, "q6_K", 2304},
    };
    for (const auto & c : types) {
        // 133 rows: not a multiple of the 4 rows per GEMV block nor of the 64 per GEMM tile.
        QTest::newRow(c.name) << c.t << 133 << c.n_in;
    }
}

// max |got - want| / (sum |w| |x| + 1e-6) over all outputs: the error of an f32 sum in another order.
double matmul_error(const matrix_case & m, const std::vector<float> & x, int n_rows, const std::vector<float> & y) {
    double worst = 0;
    const int64_t n_in = m.w.n_in, n_out = m.w.n_out;
    for (int t = 0; t < n_rows; ++t) {
        for (int64_t o = 0; o < n_out; ++o) {
            double want = 0, mag = 0;
            for (int64_t i = 0; i < n_in; ++i) {
                want += double(m.rows[o][i]) * x[t * n_in + i];
                mag += std::abs(double(m.rows[o][i]) * x[t * n_in + i]);
            }
            worst = std::max(worst, std::abs(want - y[t * n_out + o]) / (mag + 1e-6));
        }
    }
    return worst;
}

} // namespace

class TestCudaMatmul : public QObject {
    Q_OBJECT

private slots:
    void initTestCase() { V4_REQUIRE_CUDA(); }

    void dequantizeMatchesReference_data() { add_type_rows(); }
    void dequantizeMatchesReference() {
        QFETCH(qtype, type);
        QFETCH(int, n_out);
        QFETCH(int, n_in);
        matrix_case             m(type, n_out, n_in, 11u + n_in);
        const int64_t           r0 = 5, n = n_out - 7; // an interior range of rows
        cudatest::dev_vec<float> out(static_cast<size_t>(n * n_in));
        kc::dequantize_rows(m.w, r0, n, out.ptr, nullptr);
        const std::vector<float> got = out.read();
        for (int64_t r = 0; r < n; ++r) {
            for (int64_t i = 0; i < n_in; ++i) {
                const float want = m.rows[r0 + r][i], have = got[r * n_in + i];
                // Same formula; only a fused multiply-add may round once instead of twice.
                if (std::abs(want - have) > 1e-6f * (1.0f + std::abs(want))) {
                    QFAIL(qPrintable(QStringLiteral("row %1 col %2: %3 vs reference %4").arg(r0 + r).arg(i).arg(have).arg(want)));
                }
            }
        }
    }

    void gemvMatchesReference_data() { add_type_rows(); }
    void gemvMatchesReference() {
        QFETCH(qtype, type);
        QFETCH(int, n_out);
        QFETCH(int, n_in);
        matrix_case m(type, n_out, n_in, 23u + n_in);
        for (int n_rows : {1, 3, kc::gemv_max_rows}) {
            const std::vector<float> x = random_floats(size_t(n_rows) * n_in, 7u * n_rows);
            cudatest::dev_vec<float> dx(x), dy(size_t(n_rows) * n_out);
            kc::gemv(m.w, dx.ptr, n_rows, dy.ptr, nullptr);
            const double err = matmul_error(m, x, n_rows, dy.read());
            QVERIFY2(err < 1e-5, qPrintable(QStringLiteral("%1 rows: relative error %2").arg(n_rows).arg(err)));
        }
    }

    // The q, k and v projections in one launch: three types, two row counts, outputs kept apart.
    void fusedQkvGemvMatchesReference() {
        const int   n_in = 1280;
        matrix_case q(qtype::q4_k, 133, n_in, 41), k(qtype::q6_k, 37, n_in, 42), v(qtype::q5_0, 37, n_in, 43);
        for (int n_rows : {1, 5, kc::gemv_max_rows}) {
            const std::vector<float> x = random_floats(size_t(n_rows) * n_in, 13u * n_rows);
            cudatest::dev_vec<float> dx(x), dq(size_t(n_rows) * 133), dk(size_t(n_rows) * 37), dv(size_t(n_rows) * 37);
            const kc::dev_weight * w[3] = {&q.w, &k.w, &v.w};
            float * const          y[3] = {dq.ptr, dk.ptr, dv.ptr};
            kc::gemv_multi(w, y, 3, dx.ptr, n_rows, nullptr);
            const double eq = matmul_error(q, x, n_rows, dq.read()), ek = matmul_error(k, x, n_rows, dk.read()),
                         ev = matmul_error(v, x, n_rows, dv.read());
            QVERIFY2(eq < 1e-5 && ek < 1e-5 && ev < 1e-5,
                     qPrintable(QStringLiteral("%1 rows: q %2 k %3 v %4").arg(n_rows).arg(eq).arg(ek).arg(ev)));
        }
    }

    // act(gate . x) * (up . x) in the GEMV's epilogue, SiLU and tanh GELU, gate and up of different types.
    void gemvGluMatchesReference() {
        const int   n_in = 2304, n_out = 133;
        matrix_case gate(qtype::q4_k, n_out, n_in, 51), up(qtype::q8_0, n_out, n_in, 52);
        for (int act : {0, 1}) {
            for (int n_rows : {1, kc::gemv_max_rows}) {
                const std::vector<float> x = random_floats(size_t(n_rows) * n_in, 17u * n_rows + act);
                cudatest::dev_vec<float> dx(x), out(size_t(n_rows) * n_out);
                kc::gemv_glu(gate.w, up.w, dx.ptr, n_rows, act, out.ptr, nullptr);
                const std::vector<float> got = out.read();
                for (int t = 0; t < n_rows; ++t) {
                    for (int o = 0; o < n_out; ++o) {
                        double g = 0, u = 0, mag_g = 0, mag_u = 0;
                        for (int i = 0; i < n_in; ++i) {
                            g += double(gate.rows[o][i]) * x[t * n_in + i];
                            u += double(up.rows[o][i]) * x[t * n_in + i];
                            mag_g += std::abs(double(gate.rows[o][i]) * x[t * n_in + i]);
                            mag_u += std::abs(double(up.rows[o][i]) * x[t * n_in + i]);
                        }
                        const double a = act == 0 ? g / (1 + std::exp(-g))
                                                  : 0.5 * g * (1 + std::tanh(0.7978845608028654 * g * (1 + 0.044715 * g * g)));
                        const double want = a * u;
                        // f32 sums in another order (~1e-6 of the magnitudes), through act' <= 1.1.
                        const double tol = 1e-5 * (mag_g * (1 + std::abs(u)) + mag_u * (1 + std::abs(a))) + 1e-6;
                        if (std::abs(want - got[t * n_out + o]) > tol) {
                            QFAIL(qPrintable(QStringLiteral("act %1 token %2 row %3: %4 vs %5")
                                                 .arg(act).arg(t).arg(o).arg(got[t * n_out + o]).arg(want)));
                        }
                    }
                }
            }
        }
    }

    void gemmMatchesReference_data() { add_type_rows(); }
    void gemmMatchesReference() {
        QFETCH(qtype, type);
        QFETCH(int, n_out);
        QFETCH(int, n_in);
        matrix_case m(type, n_out, n_in, 31u + n_in);
        for (int n_rows : {kc::gemv_max_rows + 1, 67}) { // the GEMM path; 67 leaves a partial token tile
            const std::vector<float> x = random_floats(size_t(n_rows) * n_in, 5u * n_rows);
            cudatest::dev_vec<float> dx(x), dy(size_t(n_rows) * n_out);
            kc::matmul(m.w, dx.ptr, n_rows, dy.ptr, nullptr);
            const double err = matmul_error(m, x, n_rows, dy.read());
            QVERIFY2(err < 1e-5, qPrintable(QStringLiteral("%1 rows: relative error %2").arg(n_rows).arg(err)));
        }
    }

    void getRowsMatchesReference() {
        matrix_case                m(qtype::q6_k, 50, 512, 3);
        const std::vector<int32_t> ids = {0, 49, 7, 7, 23};
        cudatest::dev_vec<int32_t> dids(ids);
        cudatest::dev_vec<float>   out(ids.size() * 512);
        kc::get_rows(m.w, dids.ptr, static_cast<int>(ids.size()), 2.0f, out.ptr, nullptr);
        const std::vector<float> got = out.read();
        for (size_t i = 0; i < ids.size(); ++i) {
            for (int j = 0; j < 512; ++j) {
                const float want = 2.0f * m.rows[ids[i]][j];
                QVERIFY(std::abs(got[i * 512 + j] - want) <= 1e-6f * (1.0f + std::abs(want)));
            }
        }
    }

    void weightSupportRules() {
        QVERIFY(kc::weight_supported(static_cast<uint32_t>(qtype::q4_k), 2048));
        QVERIFY(!kc::weight_supported(static_cast<uint32_t>(qtype::q8_k), 256)); // activations only
        QVERIFY(!kc::weight_supported(static_cast<uint32_t>(qtype::f32), 33));   // not whole 32-element chunks
    }
};

QTEST_GUILESS_MAIN(TestCudaMatmul)
#include "test_cuda_matmul.moc"
