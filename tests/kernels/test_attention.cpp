// The block attention kernels (cpu/attention.h) against a plain three-pass softmax in double over
// the same K/V (an f16 and an f32 cache): the dispatched SIMD kernel, the decode kernel on every
// shape (not only the few-row blocks it gets in the engine) and the scalar twin, on head sizes
// 8..256 (not all multiples of 64), GQA groups 1..8, query blocks of 1 (decode) to 37 tokens, blocks that start deep in the
// cache, sliding windows narrower and wider than a key tile, and key ranges folded in several
// splits and merged (flash-decoding). Tolerance: f32 sums in another order and a vectorized exp
// within ~2e-7 relative, so 2e-5 of max_j |v_j[d]| per output dim, plus 1e-6.
// Also: the f16 store rounds exactly as the reference fp32 -> fp16, odd lengths included.
#include <QTest>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "cpu/attention.h"
#include "reference/dequantize.h"

namespace kc = v4::kernels::cpu;
namespace ref = v4::kernels::ref;

namespace {

struct shape {
    int head_dim, group, n_q, pos0, window, n_split;
};

// Element i of a K or V cache as a double.
double cache_at(const kc::attend_block & b, const void * cache, size_t i) {
    return b.format == kc::kv_format::f32 ? static_cast<const float *>(cache)[i]
                                          : ref::fp16_to_fp32(static_cast<const kc::kv_half *>(cache)[i]);
}

// out[t][g] for every row of the block, by the textbook formula.
std::vector<double> reference_attention(const kc::attend_block & b) {
    const int           hd = b.head_dim;
    std::vector<double> out(static_cast<size_t>(b.n_q) * b.group * hd, 0.0);
    for (int t = 0; t < b.n_q; ++t) {
        const int p = b.pos0 + t;
        const int lo = b.window > 0 ? std::max(0, p - b.window + 1) : 0;
        for (int g = 0; g < b.group; ++g) {
            const float *       q = b.q + t * b.q_stride + static_cast<size_t>(g) * hd;
            std::vector<double> s(static_cast<size_t>(p + 1 - lo));
            double              mx = -INFINITY;
            for (int j = lo; j <= p; ++j) {
                double dot = 0.0;
                for (int d = 0; d < hd; ++d) {
                    dot += static_cast<double>(q[d]) * cache_at(b, b.k, j * b.kv_stride + d);
                }
                s[j - lo] = dot * b.scale;
                mx = std::max(mx, s[j - lo]);
            }
            double sum = 0.0;
            for (double & x : s) {
                x = std::exp(x - mx);
                sum += x;
            }
            double * o = out.data() + (static_cast<size_t>(t) * b.group + g) * hd;
            for (int j = lo; j <= p; ++j) {
                for (int d = 0; d < hd; ++d) {
                    o[d] += s[j - lo] / sum * cache_at(b, b.v, j * b.kv_stride + d);
                }
            }
        }
    }
    return out;
}

// Runs `fn` over the block's visible keys in n_split parts, merges, and returns the output rows.
std::vector<float> run_kernel(kc::attend_block_fn fn, const kc::attend_block & b, int n_split) {
    const int          rows = b.n_q * b.group, hd = b.head_dim;
    const int          k_begin = b.window > 0 ? std::max(0, b.pos0 - b.window + 1) : 0;
    const int          k_end = b.pos0 + b.n_q;
    std::vector<float> scratch(kc::attend_scratch_floats(hd));
    std::vector<std::vector<float>> bufs(static_cast<size_t>(n_split));
    std::vector<kc::attend_state>   states;
    for (auto & buf : bufs) {
        buf.resize(static_cast<size_t>(rows) * (hd + 2));
        states.push_back({buf.data(), buf.data() + rows, buf.data() + 2 * rows});
        kc::attend_state_init(states.back(), rows, hd);
    }
    for (int s = 0; s < n_split; ++s) {
        const int k0 = k_begin + (k_end - k_begin) * s / n_split, k1 = k_begin + (k_end - k_begin) * (s + 1) / n_split;
        fn(b, k0, k1, states[static_cast<size_t>(s)], scratch.data());
    }
    for (int s = 1; s < n_split; ++s) {
        kc::attend_state_merge(states[0], states[static_cast<size_t>(s)], rows, hd);
    }
    std::vector<float> out(static_cast<size_t>(rows) * hd);
    kc::attend_state_finish(states[0], b.n_q, b.group, hd, out.data(), static_cast<size_t>(b.group) * hd);
    return out;
}

} // namespace

class TestAttention : public QObject {
    Q_OBJECT

private slots:
    void matchesReference_data() {
        QTest::addColumn<int>("headDim");
        QTest::addColumn<int>("group");
        QTest::addColumn<int>("nQ");
        QTest::addColumn<int>("pos0");
        QTest::addColumn<int>("window");
        QTest::addColumn<int>("nSplit");
        QTest::addColumn<bool>("f32");
        const shape cases[] = {
            {0, 1, 1, 0, 0, 1},     // the first token: one key
            {0, 4, 1, 99, 0, 1},    // decode, GQA 4
            {0, 8, 1, 1000, 0, 3},  // decode over 1001 keys in 3 splits
            {0, 1, 37, 0, 0, 1},    // a prefill block from position 0, odd size
            {0, 2, 17, 300, 0, 2},  // a block deep in the cache, split keys
            {0, 4, 16, 500, 3, 1},  // a window narrower than the block
            {0, 4, 9, 700, 100, 2}, // a window wider than a tile, split
            {0, 1, 5, 40, 64, 1},   // a window wider than the history
            {0, 3, 3, 200, 20, 2},  // three heads per KV head (a padded quad), window, split
            {0, 6, 1, 130, 0, 1},   // a full quad and a half one
            {0, 4, 1, 37, 0, 1},    // a tile and six keys
        };
        for (int hd : {8, 40, 48, 64, 72, 80, 128, 256}) {
            for (const shape & c : cases) {
                for (bool f32 : {false, true}) {
                    QTest::addRow("hd%d_g%d_q%d_p%d_w%d_s%d_%s", hd, c.group, c.n_q, c.pos0, c.window, c.n_split,
                                  f32 ? "f32" : "f16")
                        << hd << c.group << c.n_q << c.pos0 << c.window << c.n_split << f32;
                }
            }
        }
    }

    void matchesReference() {
        QFETCH(int, headDim);
        QFETCH(int, group);
        QFETCH(int, nQ);
        QFETCH(int, pos0);
        QFETCH(int, window);
        QFETCH(int, nSplit);
        QFETCH(bool, f32);
        std::mt19937                    rng(static_cast<unsigned>(headDim * 7919 + group * 101 + nQ * 13 + pos0));
        std::normal_distribution<float> nd(0.0f, 1.0f);
        const size_t kv_stride = static_cast<size_t>(headDim) * 3 + 8; // other heads between rows
        const size_t q_stride = static_cast<size_t>(group) * headDim;
        const int    n_keys = pos0 + nQ;
        std::vector<float>       q(q_stride * nQ), k32(kv_stride * n_keys), v32(kv_stride * n_keys);
        std::vector<kc::kv_half> k16(k32.size()), v16(v32.size());
        for (float & x : q) {
            x = nd(rng);
        }
        for (size_t i = 0; i < k32.size(); ++i) {
            k32[i] = 2.0f * nd(rng);
            v32[i] = 2.0f * nd(rng);
            k16[i] = ref::fp32_to_fp16(k32[i]);
            v16[i] = ref::fp32_to_fp16(v32[i]);
        }
        kc::attend_block b;
        b.q = q.data();
        b.q_stride = q_stride;
        b.n_q = nQ;
        b.group = group;
        b.head_dim = headDim;
        b.pos0 = pos0;
        b.window = window;
        b.scale = 1.0f / std::sqrt(static_cast<float>(headDim));
        b.k = f32 ? static_cast<const void *>(k32.data()) : k16.data();
        b.v = f32 ? static_cast<const void *>(v32.data()) : v16.data();
        b.kv_stride = kv_stride;
        b.format = f32 ? kc::kv_format::f32 : kc::kv_format::f16;
        const std::vector<double> want = reference_attention(b);
        double                    bound = 0.0;
        for (size_t i = 0; i < v32.size(); ++i) {
            bound = std::max(bound, std::fabs(cache_at(b, b.v, i)));
        }
        for (const auto & [name, fn] : {std::pair{"scalar", kc::find_attend_block_kernel_scalar()},
                                        std::pair{"dispatched", kc::find_attend_block_kernel(headDim)},
                                        std::pair{"decode", kc::find_attend_decode_kernel(headDim)}}) {
            if (fn == nullptr) {
                continue; // no decode kernel on this CPU or for this head size
            }
            const std::vector<float> got = run_kernel(fn, b, nSplit);
            for (size_t i = 0; i < got.size(); ++i) {
                if (!(std::fabs(got[i] - want[i]) <= 2e-5 * bound + 1e-6)) {
                    QFAIL(qPrintable(QStringLiteral("%1 kernel, row %2 dim %3: %4 vs reference %5")
                                         .arg(name)
                                         .arg(i / headDim)
                                         .arg(i % headDim)
                                         .arg(got[i])
                                         .arg(want[i])));
                }
            }
        }
    }

    void storeRoundsLikeReference() {
        std::mt19937                    rng(7);
        std::normal_distribution<float> nd(0.0f, 30.0f);
        for (size_t n : {size_t(1), size_t(7), size_t(8), size_t(13), size_t(1003)}) {
            std::vector<float> x(n);
            for (float & f : x) {
                f = nd(rng);
            }
            x[0] = 1e-6f; // a half subnormal
            std::vector<kc::kv_half> y(n + 1, 0xabcd);
            kc::kv_from_f32(x.data(), y.data(), n);
            for (size_t i = 0; i < n; ++i) {
                QCOMPARE(y[i], ref::fp32_to_fp16(x[i]));
            }
            QCOMPARE(y[n], kc::kv_half(0xabcd)); // nothing written past the end
        }
    }
};

QTEST_APPLESS_MAIN(TestAttention)
#include "test_attention.moc"
