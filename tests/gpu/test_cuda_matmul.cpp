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
    for (const cudatest::weight_type_case & c : cudatest::weight_type_cases()) {
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

// q8_1 as quantize_q8_1 defines it (q8_1.cuh): per 32 values d = max|x| / 127, q = round-half-even(x / d),
// ds = {d, d * sum q}; `view` gets the values the integer dot sees, d * q.
struct q8_host {
    std::vector<int8_t> q;
    std::vector<float>  ds; // pairs
    std::vector<float>  view;
};
q8_host quantize_q8_1_host(const std::vector<float> & x) {
    q8_host h;
    h.q.resize(x.size());
    h.view.resize(x.size());
    for (size_t b = 0; b < x.size() / 32; ++b) {
        float amax = 0;
        for (int j = 0; j < 32; ++j) amax = std::max(amax, std::abs(x[b * 32 + j]));
        const float d = amax / 127.0f;
        int         sum = 0;
        for (int j = 0; j < 32; ++j) {
            const int q = d > 0 ? int(std::rint(x[b * 32 + j] / d)) : 0;
            h.q[b * 32 + j] = int8_t(q);
            h.view[b * 32 + j] = d * float(q);
            sum += q;
        }
        h.ds.push_back(d);
        h.ds.push_back(d * float(sum));
    }
    return h;
}

// Device copies of q8_host, as the GEMV takes them.
struct q8_device {
    cudatest::dev_vec<int8_t> q;
    cudatest::dev_vec<float>  ds;
    kc::q8_act                act;
    explicit q8_device(const q8_host & h) : q(h.q), ds(h.ds) {
        act.q = q.ptr;
        act.ds = reinterpret_cast<float2 *>(ds.ptr);
    }
};

bool integer_type(qtype t) { return t != qtype::f32 && t != qtype::f16 && t != qtype::bf16; }

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

    // The quantizer and the RMSNorm that quantizes its output write exactly quantize_q8_1_host.
    void q8QuantizersMatchHost() {
        const int                rows = 3, n = 1280;
        const std::vector<float> x = random_floats(size_t(rows) * n, 61), w = random_floats(n, 62);
        const q8_host            want = quantize_q8_1_host(x);
        cudatest::dev_vec<float>  dx(x);
        cudatest::dev_vec<int8_t> q(x.size());
        cudatest::dev_vec<float>  ds(x.size() / 16);
        kc::q8_act                act{q.ptr, reinterpret_cast<float2 *>(ds.ptr)};
        kc::quantize_q8_1(dx.ptr, rows, n, act, nullptr);
        QVERIFY(q.read() == want.q);
        QVERIFY(ds.read() == want.ds);

        cudatest::dev_vec<float> dw(w), y(x.size());
        kc::add_rms_norm(dx.ptr, nullptr, dw.ptr, y.ptr, rows, n, 1e-6f, nullptr, &act);
        const q8_host of_y = quantize_q8_1_host(y.read()); // the norm's own f32 output, quantized
        QVERIFY(q.read() == of_y.q);
        QVERIFY(ds.read() == of_y.ds);
    }

    // The integer (dp4a) GEMV against the reference dot with the quantized activations; float rows
    // ignore the q8_1 input and use x.
    void gemvQ8MatchesReference_data() { add_type_rows(); }
    void gemvQ8MatchesReference() {
        QFETCH(qtype, type);
        QFETCH(int, n_out);
        QFETCH(int, n_in);
        matrix_case m(type, n_out, n_in, 29u + n_in);
        for (int n_rows : {1, 3, kc::gemv_max_rows}) {
            const std::vector<float> x = random_floats(size_t(n_rows) * n_in, 9u * n_rows);
            const q8_host            h = quantize_q8_1_host(x);
            q8_device                xq(h);
            cudatest::dev_vec<float> dx(x), dy(size_t(n_rows) * n_out);
            kc::gemv(m.w, dx.ptr, n_rows, dy.ptr, nullptr, &xq.act);
            const double err = matmul_error(m, integer_type(type) ? h.view : x, n_rows, dy.read());
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
            for (bool quantized : {false, true}) {
                const q8_host h = quantize_q8_1_host(x);
                q8_device     xq(h);
                kc::gemv_multi(w, y, 3, dx.ptr, n_rows, nullptr, quantized ? &xq.act : nullptr);
                const std::vector<float> & seen = quantized ? h.view : x;
                const double eq = matmul_error(q, seen, n_rows, dq.read()), ek = matmul_error(k, seen, n_rows, dk.read()),
                             ev = matmul_error(v, seen, n_rows, dv.read());
                QVERIFY2(eq < 1e-5 && ek < 1e-5 && ev < 1e-5,
                         qPrintable(QStringLiteral("%1 rows, q8 %2: q %3 k %4 v %5")
                                        .arg(n_rows).arg(quantized).arg(eq).arg(ek).arg(ev)));
            }
        }
    }

    // act(gate . x) * (up . x) in the GEMV's epilogue, SiLU and tanh GELU, gate and up of different
    // types, with f32 and with q8_1 activations.
    void gemvGluMatchesReference() {
        const int   n_in = 2304, n_out = 133;
        matrix_case gate(qtype::q4_k, n_out, n_in, 51), up(qtype::q8_0, n_out, n_in, 52);
        for (int variant = 0; variant < 4; ++variant) {
            const int  act = variant & 1;
            const bool quantized = variant >= 2;
            for (int n_rows : {1, kc::gemv_max_rows}) {
                const std::vector<float> input = random_floats(size_t(n_rows) * n_in, 17u * n_rows + act);
                const q8_host            h = quantize_q8_1_host(input);
                q8_device                xq(h);
                const std::vector<float> & x = quantized ? h.view : input; // what the kernel multiplies
                cudatest::dev_vec<float> dx(input), out(size_t(n_rows) * n_out);
                kc::gemv_glu(gate.w, up.w, dx.ptr, n_rows, act, out.ptr, nullptr, quantized ? &xq.act : nullptr);
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
