// CUDA kernels against a plain C++ computation of the same formula, on random inputs and odd
// shapes: RMSNorm (+ residual add), GLU, the fused bias/QK-norm/RoPE/KV append, flash-decoding
// attention (GQA, sliding window, several splits, prefill and decode) and the query-tiled prefill
// attention (partial tiles, windows shorter and longer than a key tile, every head size). The quantized matrix
// kernels are in test_cuda_matmul.cpp. Skips (with the reason) on machines without a usable GPU.
#include <QTest>

#include <cmath>
#include <random>
#include <vector>

#include "cuda/dense_ops.h"
#include "cuda/device.h"
#include "cuda/rms_norm.h"
#include "cuda_test_util.h"
#include "reference/dequantize.h"

namespace cuda = v4::kernels::cuda;
namespace ref = v4::kernels::ref;

namespace {

std::vector<float> random_floats(size_t n, uint32_t seed, float lo = -2.0f, float hi = 2.0f) {
    std::mt19937                          rng(seed);
    std::uniform_real_distribution<float> d(lo, hi);
    std::vector<float>                    v(n);
    for (float & x : v) x = d(rng);
    return v;
}

float f16_round(float x) { return ref::fp16_to_fp32(ref::fp32_to_fp16(x)); }

// The CPU backend's rope for one head vector (double theta, float rotation).
void rope_ref(float * v, int pos, int n_rot, bool neox, float base, float scale, const float * factors) {
    const int half = n_rot / 2;
    for (int i = 0; i < half; ++i) {
        double inv_freq = std::pow(double(base), -2.0 * i / n_rot);
        if (factors) inv_freq /= factors[i];
        const double theta = double(pos) * scale * inv_freq;
        const float  c = float(std::cos(theta)), s = float(std::sin(theta));
        const int    i0 = neox ? i : 2 * i, i1 = neox ? i + half : 2 * i + 1;
        const float  x0 = v[i0], x1 = v[i1];
        v[i0] = x0 * c - x1 * s;
        v[i1] = x0 * s + x1 * c;
    }
}

} // namespace

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


    void addRmsNormAddsTheResidual() {
        const int rows = 5, cols = 1152;
        std::vector<float> x = random_floats(rows * cols, 1), add = random_floats(rows * cols, 2), w = random_floats(cols, 3);
        cudatest::dev_vec<float> dx(x), dadd(add), dw(w), dy(x.size());
        cuda::add_rms_norm(dx.ptr, dadd.ptr, dw.ptr, dy.ptr, rows, cols, 1e-6f, nullptr);
        const std::vector<float> gx = dx.read(), gy = dy.read();
        for (int r = 0; r < rows; ++r) {
            double ss = 0;
            for (int c = 0; c < cols; ++c) {
                const float s = x[r * cols + c] + add[r * cols + c];
                QCOMPARE(gx[r * cols + c], s); // the residual stream is updated in place
                ss += double(s) * s;
            }
            const double inv = 1.0 / std::sqrt(ss / cols + 1e-6);
            for (int c = 0; c < cols; ++c) {
                const double want = (x[r * cols + c] + add[r * cols + c]) * inv * w[c];
                QVERIFY(std::abs(want - gy[r * cols + c]) < 1e-5 * (1 + std::abs(want)));
            }
        }
    }

    void gluMatchesHost() {
        const int64_t n = 10007;
        for (int act : {0, 1}) {
            const std::vector<float> gate = random_floats(n, 4, -8, 8), up = random_floats(n, 5);
            cudatest::dev_vec<float> dg(gate), du(up);
            cuda::glu(dg.ptr, du.ptr, n, act, nullptr);
            const std::vector<float> got = dg.read();
            for (int64_t i = 0; i < n; ++i) {
                const double g = gate[i];
                const double a = act == 0 ? g / (1 + std::exp(-g))
                                          : 0.5 * g * (1 + std::tanh(0.7978845608028654 * g * (1 + 0.044715 * g * g)));
                QVERIFY(std::abs(a * up[i] - got[i]) < 1e-5 * (1 + std::abs(a * up[i])));
            }
        }
    }

    void qkvRopeStoreMatchesHost_data() {
        QTest::addColumn<int>("head_dim");
        QTest::addColumn<int>("n_rot");
        QTest::addColumn<bool>("neox");
        QTest::addColumn<bool>("norm");
        QTest::addColumn<bool>("bias");
        QTest::newRow("gemma3 256 neox qk-norm") << 256 << 256 << true << true << false;
        QTest::newRow("qwen2 128 neox bias") << 128 << 128 << true << false << true;
        QTest::newRow("llama 64 pairs partial-rot") << 64 << 32 << false << false << false;
    }
    void qkvRopeStoreMatchesHost() {
        QFETCH(int, head_dim);
        QFETCH(int, n_rot);
        QFETCH(bool, neox);
        QFETCH(bool, norm);
        QFETCH(bool, bias);
        const int T = 3, n_head = 4, n_head_kv = 2, n_ctx = 40, pos0 = 29, D = head_dim, kv_dim = n_head_kv * D;
        const std::vector<float> q = random_floats(T * n_head * D, 6), k = random_floats(T * kv_dim, 7), v = random_floats(T * kv_dim, 8);
        const std::vector<float> bq = random_floats(n_head * D, 9), bk = random_floats(kv_dim, 10), bv = random_floats(kv_dim, 11);
        const std::vector<float> qn = random_floats(D, 12), kn = random_floats(D, 13), ff = random_floats(n_rot / 2, 14, 1, 8);
        cudatest::dev_vec<float>    dq(q), dk(k), dv(v), dbq(bq), dbk(bk), dbv(bv), dqn(qn), dkn(kn), dff(ff);
        cudatest::dev_vec<uint16_t> kc(size_t(n_ctx) * kv_dim), vc(size_t(n_ctx) * kv_dim);
        cudatest::dev_vec<int>      dpos(std::vector<int>{pos0});
        cuda::qkv_params p;
        p.q = dq.ptr;
        p.k = dk.ptr;
        p.v = dv.ptr;
        if (bias) { p.bq = dbq.ptr; p.bk = dbk.ptr; p.bv = dbv.ptr; }
        if (norm) { p.q_norm = dqn.ptr; p.k_norm = dkn.ptr; }
        p.freq_factors = dff.ptr;
        p.k_cache = reinterpret_cast<__half *>(kc.ptr);
        p.v_cache = reinterpret_cast<__half *>(vc.ptr);
        p.pos0 = dpos.ptr;
        p.n_tokens = T; p.n_head = n_head; p.n_head_kv = n_head_kv; p.head_dim = D; p.n_rot = n_rot; p.neox = neox;
        p.freq_base = 1e6f; p.freq_scale = 0.5f; p.norm_eps = 1e-6f;
        cuda::qkv_rope_store(p, nullptr);
        const std::vector<float> gq = dq.read();
        const std::vector<uint16_t> gk = kc.read(), gv = vc.read();
        auto expect_head = [&](const float * src, const float * b, const float * nw, int pos) {
            std::vector<float> h(src, src + D);
            if (b) for (int d = 0; d < D; ++d) h[d] += b[d];
            if (nw) {
                double ss = 0;
                for (float x : h) ss += double(x) * x;
                const float inv = float(1.0 / std::sqrt(ss / D + 1e-6));
                for (int d = 0; d < D; ++d) h[d] = h[d] * inv * nw[d];
            }
            rope_ref(h.data(), pos, n_rot, neox, 1e6f, 0.5f, ff.data());
            return h;
        };
        for (int t = 0; t < T; ++t) {
            for (int h = 0; h < n_head; ++h) {
                const auto want = expect_head(&q[(t * n_head + h) * D], bias ? &bq[h * D] : nullptr, norm ? qn.data() : nullptr, pos0 + t);
                for (int d = 0; d < D; ++d) QVERIFY(std::abs(want[d] - gq[(t * n_head + h) * D + d]) < 1e-4f * (1 + std::abs(want[d])));
            }
            for (int h = 0; h < n_head_kv; ++h) {
                const auto want = expect_head(&k[(t * n_head_kv + h) * D], bias ? &bk[h * D] : nullptr, norm ? kn.data() : nullptr, pos0 + t);
                const size_t row = size_t(pos0 + t) * kv_dim + h * D;
                for (int d = 0; d < D; ++d) {
                    // f16 storage: compare after rounding the host value the same way, allowing one f16 step.
                    QVERIFY(std::abs(f16_round(want[d]) - ref::fp16_to_fp32(gk[row + d])) <= 1e-3f * (1 + std::abs(want[d])));
                    const float wv = v[(t * n_head_kv + h) * D + d] + (bias ? bv[h * D + d] : 0.0f);
                    QCOMPARE(ref::fp16_to_fp32(gv[row + d]), f16_round(wv));
                }
            }
        }
        // Rows outside pos0 .. pos0 + T - 1 are untouched.
        for (size_t i = 0; i < size_t(pos0) * kv_dim; ++i) QCOMPARE(gk[i], uint16_t(0));
    }

    void attentionMatchesHost_data() {
        QTest::addColumn<int>("n_tokens");
        QTest::addColumn<int>("pos0");
        QTest::addColumn<int>("head_dim");
        QTest::addColumn<int>("window");
        QTest::addColumn<int>("n_split");
        QTest::addColumn<bool>("tiled"); // attention_prefill instead of attention
        QTest::newRow("decode 1 split") << 1 << 0 << 64 << 0 << 1 << false;
        QTest::newRow("decode 7 splits") << 1 << 300 << 128 << 0 << 7 << false;
        QTest::newRow("decode more splits than keys") << 1 << 2 << 128 << 0 << 16 << false;
        QTest::newRow("decode window") << 1 << 500 << 256 << 64 << 5 << false;
        QTest::newRow("prefill from 0") << 13 << 0 << 64 << 0 << 3 << false;
        QTest::newRow("prefill window") << 9 << 77 << 256 << 20 << 2 << false;
        QTest::newRow("tiled one tile from 0") << 16 << 0 << 64 << 0 << 1 << true;
        QTest::newRow("tiled partial tile after a prefix") << 37 << 45 << 128 << 0 << 1 << true;
        QTest::newRow("tiled window under a key tile") << 50 << 100 << 256 << 20 << 1 << true;
        QTest::newRow("tiled window over key tiles") << 33 << 300 << 96 << 70 << 1 << true;
        QTest::newRow("tiled head 32, keys not a tile multiple") << 21 << 3 << 32 << 0 << 1 << true;
    }
    void attentionMatchesHost() {
        QFETCH(int, n_tokens);
        QFETCH(int, pos0);
        QFETCH(int, head_dim);
        QFETCH(int, window);
        QFETCH(int, n_split);
        QFETCH(bool, tiled);
        const int n_head = 6, n_head_kv = 2, D = head_dim, kv_dim = n_head_kv * D, n_kv = pos0 + n_tokens;
        const float scale = 1.0f / std::sqrt(float(D));
        const std::vector<float> q = random_floats(size_t(n_tokens) * n_head * D, 21);
        std::vector<float>       kf = random_floats(size_t(n_kv) * kv_dim, 22), vf = random_floats(size_t(n_kv) * kv_dim, 23);
        std::vector<uint16_t>    kh(kf.size()), vh(vf.size());
        for (size_t i = 0; i < kf.size(); ++i) {
            kh[i] = ref::fp32_to_fp16(kf[i]);
            vh[i] = ref::fp32_to_fp16(vf[i]);
            kf[i] = ref::fp16_to_fp32(kh[i]);
            vf[i] = ref::fp16_to_fp32(vh[i]);
        }
        cudatest::dev_vec<float>    dq(q), out(q.size());
        cudatest::dev_vec<uint16_t> dk(kh), dv(vh);
        cudatest::dev_vec<float>    partial(cuda::attention_partial_floats(n_tokens, n_head, n_split, D));
        cudatest::dev_vec<int>      dpos(std::vector<int>{pos0});
        cuda::attention_params p;
        p.q = dq.ptr;
        p.k_cache = reinterpret_cast<const __half *>(dk.ptr);
        p.v_cache = reinterpret_cast<const __half *>(dv.ptr);
        p.out = out.ptr;
        p.partial = partial.ptr;
        p.pos0 = dpos.ptr;
        p.n_tokens = n_tokens; p.n_head = n_head; p.n_head_kv = n_head_kv; p.head_dim = D;
        p.window = window; p.n_split = n_split; p.scale = scale;
        if (tiled) {
            cuda::attention_prefill(p, nullptr);
        } else {
            cuda::attention(p, nullptr);
        }
        const std::vector<float> got = out.read();
        for (int t = 0; t < n_tokens; ++t) {
            const int pos = pos0 + t, lo = window > 0 ? std::max(0, pos - window + 1) : 0;
            for (int h = 0; h < n_head; ++h) {
                const int     kvh = h / (n_head / n_head_kv);
                const float * qv = &q[(size_t(t) * n_head + h) * D];
                std::vector<double> w;
                double mx = -INFINITY;
                for (int key = lo; key <= pos; ++key) {
                    double dot = 0;
                    for (int d = 0; d < D; ++d) dot += double(qv[d]) * kf[size_t(key) * kv_dim + kvh * D + d];
                    w.push_back(dot * scale);
                    mx = std::max(mx, w.back());
                }
                double sum = 0;
                for (double & x : w) sum += (x = std::exp(x - mx));
                for (int d = 0; d < D; ++d) {
                    double want = 0;
                    for (int key = lo; key <= pos; ++key) want += w[key - lo] / sum * vf[size_t(key) * kv_dim + kvh * D + d];
                    const float have = got[(size_t(t) * n_head + h) * D + d];
                    if (std::abs(want - have) > 2e-4 * (1 + std::abs(want))) {
                        QFAIL(qPrintable(QStringLiteral("token %1 head %2 dim %3: %4 vs %5").arg(t).arg(h).arg(d).arg(have).arg(want)));
                    }
                }
            }
        }
    }
};

QTEST_GUILESS_MAIN(TestCudaKernels)
#include "test_cuda_kernels.moc"
