// The DeepSeek-V4 CUDA kernels (kernels/cuda/deepseek4) against their scalar references
// (kernels/reference/deepseek4_ops, themselves checked against the engine by test_deepseek4_reference)
// on random inputs and odd shapes. Selections (top-k ids, expert ids) must match exactly; values to
// fp32 reordering tolerance. Skips with the reason when no GPU answers.
#include <QTest>

#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <tuple>
#include <vector>

#include "cuda/device.h"
#include "cuda/deepseek4/attention.h"
#include "cuda/deepseek4/compressor.h"
#include "cuda/deepseek4/indexer.h"
#include "cuda/deepseek4/mhc.h"
#include "cuda/deepseek4/moe.h"
#include "cuda/deepseek4/rows.h"
#include "reference/deepseek4_ops.h"

namespace rd = v4::kernels::ref::d4;
namespace kd = v4::kernels::cuda::d4;

namespace {

// A device copy of a host vector; get() copies back.
template <typename T>
struct dev {
    T * p = nullptr;
    size_t n = 0;
    explicit dev(const std::vector<T> & h) : n(h.size()) {
        if (cudaMalloc(&p, std::max<size_t>(n, 1) * sizeof(T)) != cudaSuccess) qFatal("cudaMalloc failed");
        if (n && cudaMemcpy(p, h.data(), n * sizeof(T), cudaMemcpyHostToDevice) != cudaSuccess) qFatal("upload failed");
    }
    explicit dev(size_t count) : dev(std::vector<T>(count)) {}
    dev(const dev &) = delete;
    dev & operator=(const dev &) = delete;
    ~dev() { cudaFree(p); }
    std::vector<T> get() const {
        std::vector<T> h(n);
        if (cudaDeviceSynchronize() != cudaSuccess) qFatal("kernel failed: %s", cudaGetErrorString(cudaGetLastError()));
        if (n && cudaMemcpy(h.data(), p, n * sizeof(T), cudaMemcpyDeviceToHost) != cudaSuccess) qFatal("download failed");
        return h;
    }
};

std::vector<float> normal(std::mt19937 & rng, size_t n, float sd = 1.0f) {
    std::normal_distribution<float> N(0.0f, sd);
    std::vector<float> v(n);
    for (float & x : v) x = N(rng);
    return v;
}

// max |got - want| / (1 + |want|); fails the test on a size mismatch or a NaN.
double rel_err(const std::vector<float> & got, const std::vector<float> & want) {
    if (got.size() != want.size()) return INFINITY;
    double worst = 0;
    for (size_t i = 0; i < got.size(); i++) {
        if (std::isnan(got[i]) != std::isnan(want[i])) return INFINITY;
        if (!std::isnan(want[i])) worst = std::max(worst, double(std::abs(got[i] - want[i])) / (1.0 + std::abs(want[i])));
    }
    return worst;
}

#define CHECK_OK(expr)                                 \
    do {                                               \
        const std::string err_ = (expr);               \
        QVERIFY2(err_.empty(), err_.c_str());          \
    } while (0)

#define CHECK_CLOSE(got, want, tol)                                                        \
    do {                                                                                   \
        const double e_ = rel_err(got, want);                                              \
        QVERIFY2(e_ <= (tol), qPrintable(QStringLiteral(#got " off by %1").arg(e_)));      \
    } while (0)

std::vector<float> inv_freq(int pairs) {
    std::vector<float> f(static_cast<size_t>(pairs));
    for (int i = 0; i < pairs; i++) f[size_t(i)] = std::pow(160000.0f, -2.0f * float(i) / float(2 * pairs));
    return f;
}

// Random weights of one format for E experts of [rows, cols], plus their scales.
struct weights {
    rd::wfmt fmt;
    std::vector<uint8_t> data, scales;
    rd::weight_view host(int64_t rows, int64_t cols, int64_t row0 = 0) const {
        return {fmt, data.data(), scales.empty() ? nullptr : scales.data(), cols, rows, row0};
    }
};

weights random_weights(std::mt19937 & rng, rd::wfmt fmt, int E, int64_t rows, int64_t cols) {
    weights w{fmt, {}, {}};
    const int64_t n = rows * cols * E;
    std::normal_distribution<float> N(0.0f, 1.0f / std::sqrt(float(cols)));
    auto put_float = [&](float f) {
        uint8_t b[4];
        std::memcpy(b, &f, 4);
        w.data.insert(w.data.end(), b, b + 4);
    };
    switch (fmt) {
        case rd::wfmt::f32:
            for (int64_t i = 0; i < n; i++) put_float(N(rng));
            break;
        case rd::wfmt::bf16:
            for (int64_t i = 0; i < n; i++) {
                const float f = N(rng);
                uint32_t u;
                std::memcpy(&u, &f, 4);
                w.data.push_back(uint8_t(u >> 16));
                w.data.push_back(uint8_t(u >> 24));
            }
            break;
        case rd::wfmt::fp8_e4m3_b128: {
            for (int64_t i = 0; i < n; i++) {
                uint8_t b = uint8_t(rng());
                if ((b & 0x7F) == 0x7F) b ^= 1;  // not the NaN code
                w.data.push_back(b);
            }
            const int64_t blocks = E * ((rows + 127) / 128) * ((cols + 127) / 128);
            for (int64_t i = 0; i < blocks; i++) {
                const float s = std::ldexp(1.0f, -int(rng() % 6) - 6);
                uint8_t b[4];
                std::memcpy(b, &s, 4);
                w.scales.insert(w.scales.end(), b, b + 4);
            }
            break;
        }
        case rd::wfmt::fp4_e2m1_b32:
            for (int64_t i = 0; i < n / 2; i++) w.data.push_back(uint8_t(rng()));
            for (int64_t i = 0; i < n / 32; i++) w.scales.push_back(uint8_t(118 + rng() % 6));
            break;
    }
    return w;
}

// The same view over device copies of the weights.
struct dev_weights {
    dev<uint8_t> data, scales;
    explicit dev_weights(const weights & w) : data(w.data), scales(w.scales) {}
    rd::weight_view view(const rd::weight_view & h) const {
        rd::weight_view v = h;
        v.data = data.p;
        v.scales = h.scales ? scales.p : nullptr;
        return v;
    }
};

} // namespace

class TestCudaDeepseek4 : public QObject {
    Q_OBJECT

private slots:
    void initTestCase() {
        const v4::kernels::cuda::device_probe probe = v4::kernels::cuda::probe_devices();
        if (probe.device_count == 0) {
            QSKIP(qPrintable(QStringLiteral("no CUDA device: %1").arg(QString::fromStdString(probe.unavailable_reason))));
        }
        qInfo("CUDA device: %s (sm_%d%d)", probe.name.c_str(), probe.compute_major, probe.compute_minor);
    }

    // RMSNorm rows (weighted and not), RoPE of every head at its token's position and back, embedding.
    void rows() {
        std::mt19937 rng(2);
        for (auto [T, heads, dim, pairs] : {std::tuple{3, 4, 64, 8}, std::tuple{1, 64, 512, 32}, std::tuple{5, 1, 33, 16}}) {
            const std::vector<float> x = normal(rng, size_t(T) * heads * dim), w = normal(rng, size_t(dim)),
                                     freq = inv_freq(pairs);
            std::vector<float> want = x, want_w = x;
            rd::rms_norm_rows(want.data(), int64_t(T) * heads, dim, nullptr, 1e-6f);
            rd::rms_norm_rows(want_w.data(), int64_t(T) * heads, dim, w.data(), 1e-6f);
            dev<float> dx(x), dx_w(x), dw(w), dfreq(freq);
            CHECK_OK(kd::rms_norm_rows(dx.p, int64_t(T) * heads, dim, nullptr, 1e-6f, nullptr));
            CHECK_OK(kd::rms_norm_rows(dx_w.p, int64_t(T) * heads, dim, dw.p, 1e-6f, nullptr));
            CHECK_CLOSE(dx.get(), want, 1e-5);
            CHECK_CLOSE(dx_w.get(), want_w, 1e-5);
            const int pos0 = 65530;  // large angles: argument reduction matters
            for (int t = 0; t < T; t++) {
                for (int h = 0; h < heads; h++) {
                    rd::rope_apply(&want[(size_t(t) * heads + h) * dim], dim, {freq.data(), pairs, 0.9f}, pos0 + t, 1.0f);
                }
            }
            CHECK_OK(kd::rope_rows(dx.p, T, heads, dim, {dfreq.p, pairs, 0.9f}, pos0, 1.0f, nullptr));
            CHECK_CLOSE(dx.get(), want, 1e-5);
        }
        const int V = 11, n = 3, D = 37;
        const std::vector<float> embd = normal(rng, size_t(V) * D);
        const std::vector<int32_t> tokens = {4, 0, 10, 4};
        std::vector<float> want(tokens.size() * n * D);
        for (size_t t = 0; t < tokens.size(); t++) {
            for (int j = 0; j < n; j++) std::copy_n(&embd[size_t(tokens[t]) * D], D, &want[(t * n + size_t(j)) * D]);
        }
        dev<float> de(embd), dX(want.size());
        dev<int32_t> dt(tokens);
        CHECK_OK(kd::embed_streams(de.p, dt.p, int(tokens.size()), n, D, dX.p, nullptr));
        QCOMPARE(dX.get(), want);
    }

    void mhc_data() {
        QTest::addColumn<int>("n");
        QTest::addColumn<int>("D");
        QTest::addColumn<int>("T");
        QTest::newRow("n4 D256 T3") << 4 << 256 << 3;
        QTest::newRow("n1 D1 T1") << 1 << 1 << 1;
        QTest::newRow("n3 D33 T5") << 3 << 33 << 5;
        QTest::newRow("n8 D1000 T2") << 8 << 1000 << 2;
        QTest::newRow("n4 D4096 T1 (V4-Flash)") << 4 << 4096 << 1;
        QTest::newRow("n8 D7168 T3 (64 chunks)") << 8 << 7168 << 3;
    }
    void mhc() {
        QFETCH(int, n);
        QFETCH(int, D);
        QFETCH(int, T);
        std::mt19937 rng(n * 1000 + D + T);
        const rd::hc_params p{n, D, 20, 1e-6f, 1e-6f};
        const int n_mix = (2 + n) * n;
        const std::vector<float> X = normal(rng, size_t(T) * n * D), fn = normal(rng, size_t(n_mix) * n * D, 0.05f),
                                 base = normal(rng, size_t(n_mix), 0.1f), scale = {0.5f, 0.7f, 0.9f},
                                 out = normal(rng, size_t(T) * D), head_fn = normal(rng, size_t(n) * n * D, 0.05f);
        std::vector<float> c_ref(size_t(T) * D), post_ref(size_t(T) * n), comb_ref(size_t(T) * n * n), h_ref(size_t(T) * D);
        rd::hc_collapse(p, X.data(), T, fn.data(), base.data(), scale.data(), c_ref.data(), post_ref.data(), comb_ref.data());
        rd::hc_head(p, X.data(), T, head_fn.data(), base.data(), scale.data(), h_ref.data());
        std::vector<float> X_ref = X;
        rd::hc_expand(p, X_ref.data(), T, out.data(), post_ref.data(), comb_ref.data());

        dev<float> dX(X), dfn(fn), dbase(base), dscale(scale), dout(out), dhead(head_fn);
        dev<float> dc(c_ref.size()), dpost(post_ref.size()), dcomb(comb_ref.size()), dh(h_ref.size());
        dev<float> ws(kd::hc_workspace_floats(p, T, false)), ws_head(kd::hc_workspace_floats(p, T, true));
        CHECK_OK(kd::hc_collapse(p, dX.p, T, dfn.p, dbase.p, dscale.p, dc.p, dpost.p, dcomb.p, ws.p, nullptr));
        CHECK_OK(kd::hc_head(p, dX.p, T, dhead.p, dbase.p, dscale.p, dh.p, ws_head.p, nullptr));
        CHECK_CLOSE(dc.get(), c_ref, 1e-4);
        CHECK_CLOSE(dpost.get(), post_ref, 1e-5);
        CHECK_CLOSE(dcomb.get(), comb_ref, 1e-5);
        CHECK_CLOSE(dh.get(), h_ref, 1e-4);
        // Expand from the reference's weights so only the expansion is under test here.
        dev<float> dpost_ref(post_ref), dcomb_ref(comb_ref);
        CHECK_OK(kd::hc_expand(p, dX.p, T, dout.p, dpost_ref.p, dcomb_ref.p, nullptr));
        CHECK_CLOSE(dX.get(), X_ref, 1e-5);
    }

    void compressor_data() {
        QTest::addColumn<int>("ratio");
        QTest::addColumn<int>("dim");
        QTest::addColumn<bool>("overlap");
        QTest::addColumn<int>("n_windows");
        QTest::addColumn<int>("first_entry");
        QTest::newRow("CSA first windows") << 4 << 64 << true << 5 << 0;
        QTest::newRow("CSA later, prev carried") << 4 << 64 << true << 3 << 7;
        QTest::newRow("CSA indexer dim 128") << 4 << 128 << true << 1 << 1;
        QTest::newRow("HCA 128 x 512") << 128 << 512 << false << 2 << 3;
        QTest::newRow("odd: ratio 3 dim 33") << 3 << 33 << true << 4 << 2;
        QTest::newRow("no windows") << 4 << 16 << false << 0 << 0;
    }
    void compressor() {
        QFETCH(int, ratio);
        QFETCH(int, dim);
        QFETCH(bool, overlap);
        QFETCH(int, n_windows);
        QFETCH(int, first_entry);
        std::mt19937 rng(ratio * 7 + dim);
        const int width = (overlap ? 2 : 1) * dim, pairs = std::min(8, dim / 2);
        const std::vector<float> kv = normal(rng, size_t(n_windows) * ratio * width),
                                 gate = normal(rng, kv.size()), prev_kv = normal(rng, size_t(ratio) * width),
                                 prev_gate = normal(rng, prev_kv.size()), bias = normal(rng, size_t(ratio) * width, 0.1f),
                                 norm = normal(rng, size_t(dim)), freq = inv_freq(pairs);
        rd::compress_params p;
        p.ratio = ratio;
        p.dim = dim;
        p.overlap = overlap;
        p.pos_bias = bias.data();
        p.kv_norm = norm.data();
        p.rope = {freq.data(), pairs, 1.0f};
        std::vector<float> want(size_t(n_windows) * dim);
        rd::compress_windows(p, kv.data(), gate.data(), prev_kv.data(), prev_gate.data(), n_windows, first_entry, want.data());
        dev<float> dkv(kv), dgate(gate), dpkv(prev_kv), dpgate(prev_gate), dbias(bias), dnorm(norm), dfreq(freq), dout(want.size());
        p.pos_bias = dbias.p;
        p.kv_norm = dnorm.p;
        p.rope.inv_freq = dfreq.p;
        CHECK_OK(kd::compress_windows(p, dkv.p, dgate.p, dpkv.p, dpgate.p, n_windows, first_entry, dout.p, nullptr));
        CHECK_CLOSE(dout.get(), want, 1e-4);
        if (overlap) {  // a later CSA window without the previous one is refused, not read from null
            const std::string err = kd::compress_windows(p, dkv.p, dgate.p, nullptr, nullptr, 1, 1, dout.p, nullptr);
            QVERIFY(!err.empty());
        }
    }

    void indexScores_data() {
        QTest::addColumn<int>("n_keys");
        QTest::addColumn<int>("dim");
        QTest::addColumn<int>("n_q");
        QTest::addColumn<int>("H");
        QTest::newRow("V4 64x128, decode") << 3001 << 128 << 1 << 64;
        QTest::newRow("odd 24 x 3, 7 queries") << 37 << 24 << 7 << 3;
        QTest::newRow("one key one head") << 1 << 1 << 1 << 1;
        QTest::newRow("no keys") << 0 << 32 << 2 << 2;
    }
    void indexScores() {
        QFETCH(int, n_keys);
        QFETCH(int, dim);
        QFETCH(int, n_q);
        QFETCH(int, H);
        std::mt19937 rng(n_keys + dim);
        const std::vector<float> keys = normal(rng, size_t(n_keys) * dim), q = normal(rng, size_t(n_q) * H * dim),
                                 w = normal(rng, size_t(n_q) * H);
        std::vector<float> want(size_t(n_q) * n_keys);
        rd::index_scores(keys.data(), n_keys, dim, q.data(), w.data(), 0.125f, n_q, H, want.data());
        dev<float> dk(keys), dq(q), dw(w), ds(want.size());
        CHECK_OK(kd::index_scores(dk.p, n_keys, dim, dq.p, dw.p, 0.125f, n_q, H, ds.p, nullptr));
        CHECK_CLOSE(ds.get(), want, 1e-4);
    }

    void topK_data() {
        QTest::addColumn<int>("ld");
        QTest::addColumn<int>("n_q");
        QTest::addColumn<int>("pos0");
        QTest::addColumn<int>("k");
        QTest::addColumn<int>("levels");  // 0: continuous values; else that many distinct values (ties)
        QTest::newRow("prefill, fewer entries than k at first") << 40 << 33 << 0 << 8 << 0;
        QTest::newRow("ties everywhere") << 500 << 9 << 1990 << 64 << 3;
        QTest::newRow("V4 decode 1M tokens, k 512") << 262144 << 1 << 1048575 << 512 << 0;
        QTest::newRow("k 1, ties") << 100 << 4 << 396 << 1 << 2;
        QTest::newRow("signed zeros and infinities") << 300 << 2 << 1196 << 17 << -1;
    }
    void topK() {
        QFETCH(int, ld);
        QFETCH(int, n_q);
        QFETCH(int, pos0);
        QFETCH(int, k);
        QFETCH(int, levels);
        const int ratio = 4;
        std::mt19937 rng(ld + k);
        std::vector<float> s = normal(rng, size_t(n_q) * ld);
        if (levels > 0) {
            for (float & v : s) v = float(int(rng() % unsigned(levels))) * 0.5f;
        } else if (levels < 0) {
            const float specials[] = {0.0f, -0.0f, INFINITY, -INFINITY, 1.0f, -1.0f};
            for (float & v : s) v = specials[rng() % 6];
        }
        std::vector<int32_t> want(size_t(n_q) * k, -1), want_n(static_cast<size_t>(n_q));
        for (int t = 0; t < n_q; t++) {
            const int n = std::min(ld, (pos0 + t + 1) / ratio);
            want_n[size_t(t)] = rd::top_k_ascending(&s[size_t(t) * ld], n, k, &want[size_t(t) * k]);
        }
        dev<float> ds(s);
        dev<int32_t> dids(want.size()), dn(want_n.size());
        CHECK_OK(kd::top_k(ds.p, ld, n_q, pos0, ratio, k, dids.p, dn.p, nullptr));
        QCOMPARE(dn.get(), want_n);
        QCOMPARE(dids.get(), want);
    }

    void sparseAttention_data() {
        QTest::addColumn<int>("kind");  // 0 SWA, 1 CSA, 2 HCA
        QTest::addColumn<int>("hd");
        QTest::addColumn<int>("T");
        QTest::addColumn<int>("pos0");
        QTest::addColumn<bool>("ring");
        QTest::newRow("SWA prefill from 0") << 0 << 64 << 9 << 0 << false;
        QTest::newRow("SWA decode, ring buffer") << 0 << 64 << 1 << 300 << true;
        QTest::newRow("CSA decode 512") << 1 << 512 << 1 << 1000 << true;
        QTest::newRow("CSA chunk, odd hd 48") << 1 << 48 << 6 << 37 << false;
        QTest::newRow("HCA chunk") << 2 << 128 << 5 << 1021 << false;
        QTest::newRow("HCA before the first window closes") << 2 << 32 << 3 << 0 << false;
        // Long HCA lists at decode take the flash-decoding split (attn_splits: 4 and 32 spans).
        QTest::newRow("HCA decode 200k, split") << 2 << 128 << 1 << 200000 << true;
        QTest::newRow("HCA chunk 3M, 32 splits") << 2 << 64 << 3 << 3000000 << true;
    }
    void sparseAttention() {
        QFETCH(int, kind);
        QFETCH(int, hd);
        QFETCH(int, T);
        QFETCH(int, pos0);
        QFETCH(bool, ring);
        std::mt19937 rng(kind * 100 + hd + T);
        const int H = 5, W = 16, csa_ratio = 4, hca_ratio = 128, topk = 7, pairs = std::min(32, hd / 2);
        // Window rows: a buffer from win_base with every position the queries need, or a ring of W slots.
        const int win_base = std::max(0, pos0 - W + 1), last = pos0 + T - 1;
        const int win_cap = ring ? W + T : last - win_base + 1;
        const int ring_base = ring ? 0 : win_base;
        std::vector<float> win = normal(rng, size_t(win_cap) * hd);
        const int n_entries = (last + 1) / (kind == 2 ? hca_ratio : csa_ratio) + 1;
        const std::vector<float> comp = normal(rng, size_t(n_entries) * hd), q = normal(rng, size_t(T) * H * hd, 0.3f),
                                 sinks = normal(rng, size_t(H)), freq = inv_freq(pairs);
        std::vector<int32_t> sel(size_t(T) * topk, -1), n_sel(static_cast<size_t>(T));
        if (kind == 1) {
            for (int t = 0; t < T; t++) {
                const int visible = (pos0 + t + 1) / csa_ratio;
                std::vector<float> sc = normal(rng, size_t(visible));
                n_sel[size_t(t)] = rd::top_k_ascending(sc.data(), visible, topk, &sel[size_t(t) * topk]);
            }
        }
        rd::attn_params p;
        p.H = H;
        p.hd = hd;
        p.window = W;
        p.scale = 1.0f / std::sqrt(float(hd));
        p.sinks = sinks.data();
        p.rope = {freq.data(), pairs, 1.0f};
        rd::attn_kv kv;
        kv.win = win.data();
        kv.win_base = ring_base;
        kv.win_cap = win_cap;
        kv.comp = kind ? comp.data() : nullptr;
        if (kind == 1) {
            kv.sel = sel.data();
            kv.n_sel = n_sel.data();
            kv.sel_ld = topk;
        }
        kv.hca_ratio = kind == 2 ? hca_ratio : 0;
        std::vector<float> want(size_t(T) * H * hd);
        rd::sparse_attention(p, kv, q.data(), T, pos0, want.data());

        dev<float> dwin(win), dcomp(comp), dq(q), dsinks(sinks), dfreq(freq), dout(want.size());
        dev<int32_t> dsel(sel), dnsel(n_sel);
        p.sinks = dsinks.p;
        p.rope.inv_freq = dfreq.p;
        kv.win = dwin.p;
        kv.comp = kind ? dcomp.p : nullptr;
        if (kind == 1) {
            kv.sel = dsel.p;
            kv.n_sel = dnsel.p;
        }
        dev<float> ws(kd::sparse_attention_workspace_floats(p, kv, T, pos0));
        CHECK_OK(kd::sparse_attention(p, kv, dq.p, T, pos0, dout.p, ws.p, nullptr));
        CHECK_CLOSE(dout.get(), want, 1e-5);
    }

    void groupedLinear() {
        std::mt19937 rng(1);
        for (auto [T, G, in_g, R] : {std::tuple{1, 8, 4096, 1024}, std::tuple{3, 2, 33, 7}, std::tuple{2, 1, 1, 1}}) {
            const std::vector<float> x = normal(rng, size_t(T) * G * in_g), w = normal(rng, size_t(G) * R * in_g, 0.02f);
            std::vector<float> want(size_t(T) * G * R);
            rd::grouped_linear(x.data(), T, G, in_g, w.data(), R, want.data());
            dev<float> dx(x), dw(w), dy(want.size());
            CHECK_OK(kd::grouped_linear(dx.p, T, G, in_g, dw.p, R, dy.p, nullptr));
            CHECK_CLOSE(dy.get(), want, 1e-4);
        }
    }

    void route_data() {
        QTest::addColumn<int>("E");
        QTest::addColumn<int>("K");
        QTest::addColumn<bool>("hashed");
        QTest::addColumn<bool>("ties");
        QTest::newRow("V4-Flash 256 top-6") << 256 << 6 << false << false;
        QTest::newRow("384 top-8 with ties") << 384 << 8 << false << true;
        QTest::newRow("hash 256 top-6") << 256 << 6 << true << false;
        QTest::newRow("odd 7 top-7 (all)") << 7 << 7 << false << true;
        QTest::newRow("33 top-1 ties") << 33 << 1 << false << true;
    }
    void route() {
        QFETCH(int, E);
        QFETCH(int, K);
        QFETCH(bool, hashed);
        QFETCH(bool, ties);
        const int T = 19, vocab = 50;
        std::mt19937 rng(E + K);
        std::vector<float> logits = normal(rng, size_t(T) * E, 2.0f), bias = normal(rng, size_t(E), 0.01f);
        if (ties) {  // few distinct logits and a zero bias: many exact ties, broken by the lower id
            for (float & v : logits) v = float(int(rng() % 3));
            std::fill(bias.begin(), bias.end(), 0.0f);
        }
        logits[0] = 25.0f;  // above softplus's linear threshold
        std::vector<int64_t> table(size_t(vocab) * K);
        std::vector<int32_t> tokens(static_cast<size_t>(T));
        for (int v = 0; v < vocab; v++) {
            for (int k = 0; k < K; k++) table[size_t(v) * K + k] = (v * 7 + k * 3) % E;
        }
        for (int32_t & t : tokens) t = int32_t(rng() % vocab);
        std::vector<int32_t> want_ids(size_t(T) * K);
        std::vector<float> want_w(size_t(T) * K);
        rd::route(logits.data(), T, E, K, hashed ? nullptr : bias.data(), table.data(), tokens.data(), 2.5f,
                  want_ids.data(), want_w.data());
        dev<float> dl(logits), db(bias), dw(want_w.size());
        dev<int64_t> dt(table);
        dev<int32_t> dtok(tokens), dids(want_ids.size());
        CHECK_OK(kd::route(dl.p, T, E, K, hashed ? nullptr : db.p, dt.p, dtok.p, 2.5f, dids.p, dw.p, nullptr));
        QCOMPARE(dids.get(), want_ids);
        CHECK_CLOSE(dw.get(), want_w, 1e-5);
    }

    void experts_data() {
        QTest::addColumn<int>("fmt");
        QTest::addColumn<int>("D");
        QTest::addColumn<int>("F");
        QTest::newRow("f32 odd 200 x 48") << int(rd::wfmt::f32) << 200 << 48;
        QTest::newRow("bf16 256 x 96") << int(rd::wfmt::bf16) << 256 << 96;
        QTest::newRow("fp8 ragged blocks 200 x 160") << int(rd::wfmt::fp8_e4m3_b128) << 200 << 160;
        QTest::newRow("fp8 1024 x 256") << int(rd::wfmt::fp8_e4m3_b128) << 1024 << 256;
        QTest::newRow("mxfp4 224 x 96") << int(rd::wfmt::fp4_e2m1_b32) << 224 << 96;
        // row_dot_lane's 16-byte groups with tails, and misaligned rows / activations on the element loop.
        QTest::newRow("f32 203 x 37") << int(rd::wfmt::f32) << 203 << 37;
        QTest::newRow("bf16 203 x 40") << int(rd::wfmt::bf16) << 203 << 40;
        QTest::newRow("fp8 1000 x 72") << int(rd::wfmt::fp8_e4m3_b128) << 1000 << 72;
        QTest::newRow("mxfp4 4096 x 512 (16-byte groups only)") << int(rd::wfmt::fp4_e2m1_b32) << 4096 << 512;
    }
    // Routed experts (gate / up as two views of one stacked [2F, D] matrix per expert), then the shared
    // expert (no ids), then the down projections accumulated in order; plus `linear` over a view.
    void experts() {
        QFETCH(int, fmt);
        QFETCH(int, D);
        QFETCH(int, F);
        const rd::wfmt f = rd::wfmt(fmt);
        const int E = 6, K = 3, T = 4;
        const float limit = 2.0f;
        std::mt19937 rng(fmt * 31 + D + F);
        const weights gu = random_weights(rng, f, E, 2 * F, D), down = random_weights(rng, f, E, D, F),
                      sh_gu = random_weights(rng, f, 1, 2 * F, D), sh_down = random_weights(rng, f, 1, D, F);
        const std::vector<float> x = normal(rng, size_t(T) * D, 2.0f);
        std::vector<int32_t> ids(size_t(T) * K);
        for (int t = 0; t < T; t++) {
            for (int k = 0; k < K; k++) ids[size_t(t) * K + k] = int32_t((t + 2 * k) % E);
        }
        const std::vector<float> w = normal(rng, ids.size());
        // Reference
        std::vector<float> h_sh(size_t(T) * F), h(size_t(T) * K * F), want(size_t(T) * D);
        rd::expert_gate_up(sh_gu.host(2 * F, D, 0), sh_gu.host(2 * F, D, F), x.data(), T, nullptr, 1, F, limit, h_sh.data());
        rd::expert_down(sh_down.host(D, F), h_sh.data(), T, nullptr, nullptr, 1, D, F, false, want.data());
        rd::expert_gate_up(gu.host(2 * F, D, 0), gu.host(2 * F, D, F), x.data(), T, ids.data(), K, F, limit, h.data());
        rd::expert_down(down.host(D, F), h.data(), T, ids.data(), w.data(), K, D, F, true, want.data());
        // Device
        const dev_weights dgu(gu), ddown(down), dsh_gu(sh_gu), dsh_down(sh_down);
        dev<float> dx(x), dw(w), dh_sh(h_sh.size()), dh(h.size()), dout(want.size());
        dev<int32_t> dids(ids);
        const auto gate = [&](const dev_weights & d, const weights & hw, int rows) { return d.view(hw.host(rows, D, 0)); };
        const auto up = [&](const dev_weights & d, const weights & hw, int rows) { return d.view(hw.host(rows, D, F)); };
        // sh_gu is [2F, D] too: gate rows then up rows, like the routed experts.
        CHECK_OK(kd::expert_gate_up(gate(dsh_gu, sh_gu, 2 * F), up(dsh_gu, sh_gu, 2 * F), dx.p, T, nullptr, 1, F, limit,
                                    dh_sh.p, nullptr));
        CHECK_OK(kd::expert_down(dsh_down.view(sh_down.host(D, F)), dh_sh.p, T, nullptr, nullptr, 1, D, F, false, dout.p, nullptr));
        CHECK_OK(kd::expert_gate_up(gate(dgu, gu, 2 * F), up(dgu, gu, 2 * F), dx.p, T, dids.p, K, F, limit, dh.p, nullptr));
        CHECK_OK(kd::expert_down(ddown.view(down.host(D, F)), dh.p, T, dids.p, dw.p, K, D, F, true, dout.p, nullptr));
        CHECK_CLOSE(dh_sh.get(), h_sh, 1e-4);
        CHECK_CLOSE(dh.get(), h, 1e-4);
        CHECK_CLOSE(dout.get(), want, 1e-4);
        // linear: the up half of expert 0 as a plain [F, D] matrix.
        std::vector<float> y_want(size_t(T) * F);
        rd::expert_down(gu.host(2 * F, D, F), x.data(), T, nullptr, nullptr, 1, F, D, false, y_want.data());
        dev<float> dy(y_want.size());
        CHECK_OK(kd::linear(up(dgu, gu, 2 * F), dx.p, T, F, dy.p, nullptr));
        CHECK_CLOSE(dy.get(), y_want, 1e-4);
        // Bad views are refused with the argument named.
        rd::weight_view bad = down.host(D, F);
        bad.row0 = 1;
        QVERIFY(!kd::expert_down(ddown.view(bad), dh.p, T, dids.p, dw.p, K, D, F, true, dout.p, nullptr).empty());
    }
};

QTEST_GUILESS_MAIN(TestCudaDeepseek4)
#include "test_cuda_deepseek4.moc"
