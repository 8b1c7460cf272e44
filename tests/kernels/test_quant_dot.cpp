// Each CPU dot kernel against its scalar twin and against the reference vec_dot, on random blocks
// and several row lengths (1 block, odd block counts, f32/f16/bf16 tails); the multi-row variants
// (dot4, gemv with 1-4 weight rows) against the one-row kernel, bit for bit.
//
// Tolerances:
//  - SIMD vs scalar twin: both see the same quantized activations, so they differ only in the
//    order of float additions (and in the SIMD kernels summing integer products exactly before
//    scaling): |simd - scalar| <= 1e-5 * sum|w_i * a_i| + 1e-6. A SIMD kernel may take its own
//    activation layout (q8_0x4); its dequantized values must equal the scalar twin's exactly.
//  - scalar vs reference (f32 activations, double sums): the only real difference is the int8
//    rounding of the activations, bounded by sum_i |w_i| * |x_i - deq(q(x_i))|, which we compute
//    exactly; we allow that bound plus the same float-order slack.
#include <QTest>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "cpu/quant_dot.h"
#include "reference/dequantize.h"
#include "reference/dequantize_legacy.h"
#include "reference/vec_dot.h"

namespace kc = v4::kernels::cpu;
namespace kr = v4::kernels::ref;
using v4::kernels::block_q8_0;
using v4::kernels::block_q8_k;

namespace {

struct type_case {
    uint32_t    type;
    const char *name;
    int         block_size;
    size_t      block_bytes;
    size_t      d_offset; // where the fp16 scale(s) live, patched to sane values
    int         n_halves; // how many fp16 at d_offset
};

const type_case k_cases[] = {
    {0, "f32", 1, 4, 0, 0},          {1, "f16", 1, 2, 0, 0},          {30, "bf16", 1, 2, 0, 0},
    {2, "q4_0", 32, 18, 0, 1},       {3, "q4_1", 32, 20, 0, 2},       {6, "q5_0", 32, 22, 0, 1},
    {7, "q5_1", 32, 24, 0, 2},       {8, "q8_0", 32, 34, 0, 1},       {39, "mxfp4", 32, 17, 0, 0},
    {11, "q3_K", 256, 110, 108, 1},  {12, "q4_K", 256, 144, 0, 2},    {13, "q5_K", 256, 176, 0, 2},
    {14, "q6_K", 256, 210, 208, 1},
};

std::vector<uint8_t> random_row(const type_case & tc, int64_t n, std::mt19937 & rng) {
    std::uniform_real_distribution<float> uf(-1.0f, 1.0f);
    std::vector<uint8_t>                  row;
    if (tc.type == 0 || tc.type == 1 || tc.type == 30) {
        row.resize(static_cast<size_t>(n) * tc.block_bytes);
        for (int64_t i = 0; i < n; ++i) {
            const float v = uf(rng);
            if (tc.type == 0) {
                std::memcpy(&row[i * 4], &v, 4);
            } else {
                const uint16_t h = tc.type == 1 ? kr::fp32_to_fp16(v) : kr::fp32_to_bf16(v);
                std::memcpy(&row[i * 2], &h, 2);
            }
        }
        return row;
    }
    const int64_t n_blocks = n / tc.block_size;
    row.resize(static_cast<size_t>(n_blocks) * tc.block_bytes);
    for (uint8_t & b : row) {
        b = static_cast<uint8_t>(rng());
    }
    for (int64_t b = 0; b < n_blocks; ++b) {
        uint8_t * blk = row.data() + b * tc.block_bytes;
        for (int h = 0; h < tc.n_halves; ++h) {
            const uint16_t d = kr::fp32_to_fp16(0.001f + 0.02f * std::fabs(uf(rng)));
            std::memcpy(blk + tc.d_offset + 2 * h, &d, 2);
        }
        if (tc.type == 39) {
            blk[0] = static_cast<uint8_t>(120 + rng() % 8); // E8M0 scale near 2^-5
        }
    }
    return row;
}

} // namespace

class TestQuantDot : public QObject {
    Q_OBJECT

private slots:
    void kernels_data() {
        QTest::addColumn<int>("caseIndex");
        QTest::addColumn<int>("nBlocks");
        for (int i = 0; i < static_cast<int>(std::size(k_cases)); ++i) {
            const type_case & tc = k_cases[i];
            const int         counts_plain[] = {1, 7, 33, 1000};
            const int         counts_q[] = {1, 3, 7, 20};
            for (int c : tc.block_size == 1 ? counts_plain : counts_q) {
                QTest::addRow("%s_x%d", tc.name, c) << i << c;
            }
        }
    }

    void kernels() {
        QFETCH(int, caseIndex);
        QFETCH(int, nBlocks);
        const type_case & tc = k_cases[caseIndex];
        const int64_t     n = static_cast<int64_t>(nBlocks) * tc.block_size;
        std::mt19937      rng(1234u + static_cast<unsigned>(caseIndex * 100 + nBlocks));

        const kc::dot_kernel * fast = kc::find_dot_kernel(tc.type);
        const kc::dot_kernel * scalar = kc::find_dot_kernel_scalar(tc.type);
        QVERIFY(fast != nullptr);
        QVERIFY(scalar != nullptr);
        if (scalar->act == kc::act_format::q8_k && n % 256 != 0) {
            QSKIP("not a multiple of 256");
        }

        for (int trial = 0; trial < 8; ++trial) {
            const std::vector<uint8_t> w = random_row(tc, n, rng);
            std::vector<float>         x(static_cast<size_t>(n));
            std::normal_distribution<float> nd(0.0f, 1.0f);
            for (float & v : x) {
                v = nd(rng);
            }
            std::vector<uint8_t> act(kc::act_row_bytes(scalar->act, n));
            kc::quantize_act_row(scalar->act, x.data(), act.data(), n);

            // the dequantized sides, for the tolerances
            std::vector<float> wf(static_cast<size_t>(n)), xq(static_cast<size_t>(n));
            QVERIFY(kr::dequantize_row_any(tc.type, w.data(), wf.data(), n));
            if (scalar->act == kc::act_format::f32) {
                xq = x;
            } else if (scalar->act == kc::act_format::q8_0) {
                kr::dequantize_row(v4::kernels::qtype::q8_0, act.data(), xq.data(), n);
            } else {
                kr::dequantize_row(v4::kernels::qtype::q8_k, act.data(), xq.data(), n);
            }
            double abs_sum = 0.0, act_err = 0.0, ref = 0.0;
            for (int64_t i = 0; i < n; ++i) {
                abs_sum += std::fabs(static_cast<double>(wf[i]) * x[i]);
                act_err += std::fabs(static_cast<double>(wf[i])) * std::fabs(static_cast<double>(x[i]) - xq[i]);
                ref += static_cast<double>(wf[i]) * x[i];
            }
            QVERIFY2(abs_sum > 0.0, "degenerate random row (all zero)");
            if (const auto r = kr::vec_dot(static_cast<v4::kernels::qtype>(tc.type), w.data(), x.data(), n)) {
                QVERIFY(std::fabs(*r - ref) <= 1e-9 * abs_sum + 1e-9); // our dequantization agrees with H1's
            }

            // the fast kernel may take another layout (q8_0x4) but must see the same values
            std::vector<uint8_t> fact(kc::act_row_bytes(fast->act, n));
            kc::quantize_act_row(fast->act, x.data(), fact.data(), n);
            if (fast->act != scalar->act) {
                std::vector<float> fq(static_cast<size_t>(n));
                kc::dequantize_act_row(fast->act, fact.data(), fq.data(), n);
                QVERIFY(fq == xq);
            }

            const float  s = scalar->dot(n, w.data(), act.data());
            const float  f = fast->dot(n, w.data(), fact.data());
            const double order_tol = 1e-5 * abs_sum + 1e-6;
            if (std::fabs(static_cast<double>(f) - s) > order_tol) {
                QFAIL(qPrintable(QStringLiteral("%1 (%2) vs scalar: %3 vs %4, tol %5")
                                     .arg(tc.name).arg(fast->isa).arg(f).arg(s).arg(order_tol)));
            }
            if (fast->dot4 != nullptr) { // multi-row variant: same order of operations, so exact
                std::vector<uint8_t> three(fact.size() * 3);
                for (int r = 0; r < 3; ++r) {
                    std::memcpy(three.data() + r * fact.size(), fact.data(), fact.size());
                }
                float out[4] = {};
                fast->dot4(n, w.data(), three.data(), fact.size(), 3, out);
                QCOMPARE(out[0], f);
                QCOMPARE(out[2], f);
            }
            if (fast->gemv != nullptr) { // decode's kernel: rows side by side, each exactly as dot
                std::vector<uint8_t> rows(w.size() * 4);
                std::memcpy(rows.data(), w.data(), w.size());
                for (int i = 1; i < 4; ++i) {
                    const std::vector<uint8_t> other = random_row(tc, n, rng);
                    std::memcpy(rows.data() + i * w.size(), other.data(), w.size());
                }
                for (int n_w = 1; n_w <= 4; ++n_w) {
                    float out[5] = {-1.0f, -1.0f, -1.0f, -1.0f, -1.0f};
                    fast->gemv(n, rows.data(), w.size(), n_w, fact.data(), out);
                    for (int i = 0; i < 5; ++i) {
                        QCOMPARE(out[i], i < n_w ? fast->dot(n, rows.data() + i * w.size(), fact.data()) : -1.0f);
                    }
                }
            }
            if (std::fabs(static_cast<double>(s) - ref) > act_err * 1.001 + order_tol) {
                QFAIL(qPrintable(QStringLiteral("%1 scalar vs reference: %2 vs %3, bound %4")
                                     .arg(tc.name).arg(s).arg(ref).arg(act_err + order_tol)));
            }
        }
    }

    // Extreme values: every quant byte 0xff (the largest unsigned quants and 6-bit scales; Q6_K's
    // int8 scales set to -128) against constant activations, which Q8_K quantizes to -128 all
    // through: the SIMD kernels' 16-bit partial sums are at their largest there.
    void extremes() {
        for (const type_case & tc : k_cases) {
            if (tc.n_halves == 0) {
                continue; // float rows and MXFP4 (whose 0xff scale byte is NaN)
            }
            const kc::dot_kernel * fast = kc::find_dot_kernel(tc.type);
            const kc::dot_kernel * scalar = kc::find_dot_kernel_scalar(tc.type);
            QVERIFY(fast != nullptr && scalar != nullptr);
            const int64_t        n = 2 * 256;
            std::vector<uint8_t> w(static_cast<size_t>(n / tc.block_size) * tc.block_bytes, 0xff);
            for (size_t b = 0; b < w.size(); b += tc.block_bytes) {
                for (int h = 0; h < tc.n_halves; ++h) {
                    const uint16_t d = kr::fp32_to_fp16(0.01f);
                    std::memcpy(&w[b + tc.d_offset + 2 * h], &d, 2);
                }
                if (tc.type == 14) {
                    std::memset(&w[b + 192], 0x80, 16);
                }
            }
            std::vector<float> wf(static_cast<size_t>(n));
            QVERIFY(kr::dequantize_row_any(tc.type, w.data(), wf.data(), n));
            for (const float v : {1.0f, -1.0f}) {
                const std::vector<float> x(static_cast<size_t>(n), v);
                std::vector<uint8_t>     act(kc::act_row_bytes(scalar->act, n)), fact(kc::act_row_bytes(fast->act, n));
                kc::quantize_act_row(scalar->act, x.data(), act.data(), n);
                kc::quantize_act_row(fast->act, x.data(), fact.data(), n);
                double abs_sum = 0.0;
                for (int64_t i = 0; i < n; ++i) {
                    abs_sum += std::fabs(static_cast<double>(wf[i]) * x[i]);
                }
                const float s = scalar->dot(n, w.data(), act.data());
                const float f = fast->dot(n, w.data(), fact.data());
                if (std::fabs(static_cast<double>(f) - s) > 1e-5 * abs_sum + 1e-6) {
                    QFAIL(qPrintable(QStringLiteral("%1 (%2) extremes: %3 vs scalar %4").arg(tc.name).arg(fast->isa).arg(f).arg(s)));
                }
                if (fast->gemv != nullptr) {
                    std::vector<uint8_t> rows(w.size() * 2);
                    std::memcpy(rows.data(), w.data(), w.size());
                    std::memcpy(rows.data() + w.size(), w.data(), w.size());
                    float out[2] = {};
                    fast->gemv(n, rows.data(), w.size(), 2, fact.data(), out);
                    QCOMPARE(out[0], f);
                    QCOMPARE(out[1], f);
                }
            }
        }
    }

    // The Q8_K activation quantizer (AVX-512 where the CPU has it) against the reference, byte for
    // byte: random rows, an all-zero block, and a block whose largest magnitude appears first
    // negative then positive (the first one sets the sign of the scale).
    void q8_k_activations() {
        std::mt19937                    rng(91u);
        std::normal_distribution<float> nd(0.0f, 2.0f);
        constexpr int64_t               n = 4 * 256;
        std::vector<float>              x(n);
        for (int trial = 0; trial < 20; ++trial) {
            for (float & v : x) {
                v = nd(rng);
            }
            std::fill(x.begin() + 256, x.begin() + 512, 0.0f);
            x[512 + 7] = -9.5f;
            x[512 + 200] = 9.5f;
            std::vector<block_q8_k> fast(n / 256), ref(n / 256);
            kc::quantize_row_q8_k(x.data(), fast.data(), n);
            kr::quantize_row_q8_k(x.data(), ref.data(), n);
            QVERIFY(std::memcmp(fast.data(), ref.data(), sizeof(block_q8_k) * fast.size()) == 0);
        }
    }

    // The prefill register tiles (n_w weight rows x n_act activation rows) against the row-by-row
    // scalar kernel, for every tile shape and row lengths that leave a SIMD tail.
    void tiles() {
        std::mt19937 rng(77u);
        for (const type_case & tc : k_cases) {
            const kc::dot_kernel * fast = kc::find_dot_kernel(tc.type);
            const kc::dot_kernel * scalar = kc::find_dot_kernel_scalar(tc.type);
            if (fast == nullptr || fast->tile == nullptr) {
                continue;
            }
            QCOMPARE(static_cast<int>(fast->act), static_cast<int>(kc::act_format::f32));
            for (const int64_t n : {1, 15, 16, 33, 1000}) {
                std::vector<std::vector<uint8_t>> rows;
                for (int i = 0; i < 4; ++i) {
                    rows.push_back(random_row(tc, n, rng));
                }
                const size_t         w_stride = rows[0].size();
                std::vector<uint8_t> w(w_stride * 4);
                for (int i = 0; i < 4; ++i) {
                    std::memcpy(w.data() + i * w_stride, rows[i].data(), w_stride);
                }
                std::normal_distribution<float> nd(0.0f, 1.0f);
                std::vector<float>              a(static_cast<size_t>(n) * 4);
                for (float & v : a) {
                    v = nd(rng);
                }
                for (int n_w = 1; n_w <= 4; ++n_w) {
                    for (int n_act = 1; n_act <= 4; ++n_act) {
                        std::vector<float> y(static_cast<size_t>(n_act) * 5, -1.0f);
                        fast->tile(n, w.data(), w_stride, n_w, a.data(), n * sizeof(float), n_act, y.data(), 5);
                        for (int r = 0; r < n_act; ++r) {
                            for (int i = 0; i < 5; ++i) {
                                const float got = y[static_cast<size_t>(r) * 5 + i];
                                if (i >= n_w) {
                                    QCOMPARE(got, -1.0f); // nothing written past the tile
                                    continue;
                                }
                                const float want = scalar->dot(n, w.data() + i * w_stride, a.data() + r * n);
                                double      abs_sum = 0.0;
                                std::vector<float> wf(static_cast<size_t>(n));
                                QVERIFY(kr::dequantize_row_any(tc.type, w.data() + i * w_stride, wf.data(), n));
                                for (int64_t k = 0; k < n; ++k) {
                                    abs_sum += std::fabs(static_cast<double>(wf[k]) * a[r * n + k]);
                                }
                                if (std::fabs(static_cast<double>(got) - want) > 1e-5 * abs_sum + 1e-6) {
                                    QFAIL(qPrintable(QStringLiteral("%1 tile %2x%3 n=%4: %5 vs %6")
                                                         .arg(tc.name).arg(n_w).arg(n_act).arg(n).arg(got).arg(want)));
                                }
                            }
                        }
                    }
                }
            }
        }
    }
};

QTEST_APPLESS_MAIN(TestQuantDot)
#include "test_quant_dot.moc"
