// The x16 layout (kernels/cpu/x16.h): repacking is exactly reversible, the q8_0x16 activations hold
// quantize_row_q8_0's values, and the x16 kernels agree with the scalar kernel on the GGUF row
// (within the float-order tolerance of test_quant_dot) while dot, dot4 and gemv agree bit for bit.
// Row lengths cover one block, a short super-block alone, full ones and a short tail (640 and
// 2816 elements are Gemma 3 270M's and the llama-shape model's).
#include <QTest>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "cpu/quant_dot.h"
#include "cpu/x16.h"
#include "reference/dequantize.h"
#include "reference/dequantize_legacy.h"

namespace kc = v4::kernels::cpu;
namespace kr = v4::kernels::ref;

namespace {

struct x16_case {
    uint32_t    type;
    const char *name;
    size_t      block_bytes;
};
const x16_case k_types[] = {{2, "q4_0", 18}, {6, "q5_0", 22}, {8, "q8_0", 34}};
const int      k_block_counts[] = {1, 7, 16, 20, 33, 88};

std::vector<uint8_t> random_row(const x16_case & tc, int64_t n_blocks, std::mt19937 & rng) {
    std::vector<uint8_t> row(static_cast<size_t>(n_blocks) * tc.block_bytes);
    for (uint8_t & b : row) {
        b = static_cast<uint8_t>(rng());
    }
    std::uniform_real_distribution<float> scale(-0.02f, 0.02f); // Q4_0 scales are often negative
    for (int64_t b = 0; b < n_blocks; ++b) {
        const uint16_t d = kr::fp32_to_fp16(scale(rng));
        std::memcpy(row.data() + b * tc.block_bytes, &d, 2);
    }
    return row;
}

std::vector<uint8_t> repacked(const x16_case & tc, const std::vector<uint8_t> & row, int64_t n) {
    std::vector<uint8_t> out(row.size());
    kc::repack_row_x16(tc.type, row.data(), out.data(), n);
    return out;
}

} // namespace

class TestX16 : public QObject {
    Q_OBJECT

private slots:
    void round_trip() {
        std::mt19937 rng(5u);
        for (const x16_case & tc : k_types) {
            QVERIFY(kc::x16_type(tc.type));
            for (int nb : k_block_counts) {
                const int64_t              n = 32 * static_cast<int64_t>(nb);
                const std::vector<uint8_t> row = random_row(tc, nb, rng);
                const std::vector<uint8_t> x16 = repacked(tc, row, n);
                if (nb > 1) {
                    QVERIFY(x16 != row);
                }
                std::vector<uint8_t> back(row.size());
                kc::unpack_row_x16(tc.type, x16.data(), back.data(), n);
                QVERIFY2(back == row, qPrintable(QStringLiteral("%1 x %2 blocks").arg(tc.name).arg(nb)));
            }
            // a whole matrix at once: three rows, each as unpack_row_x16 gives it
            const int64_t        n = 32 * 20;
            std::vector<uint8_t> rows, packed;
            for (int r = 0; r < 3; ++r) {
                const std::vector<uint8_t> row = random_row(tc, 20, rng);
                const std::vector<uint8_t> x16 = repacked(tc, row, n);
                rows.insert(rows.end(), row.begin(), row.end());
                packed.insert(packed.end(), x16.begin(), x16.end());
            }
            std::vector<uint8_t> back(rows.size());
            kc::unpack_rows_x16(tc.type, packed.data(), back.data(), n, 3);
            QVERIFY(back == rows);
        }
        QVERIFY(!kc::x16_type(12)); // Q4_K keeps its layout
    }

    void activations() {
        std::mt19937                    rng(6u);
        std::normal_distribution<float> nd(0.0f, 1.0f);
        for (int nb : k_block_counts) {
            const int64_t      n = 32 * static_cast<int64_t>(nb);
            std::vector<float> x(static_cast<size_t>(n));
            for (float & v : x) {
                v = nd(rng);
            }
            x[3] = 0.0f;
            std::vector<uint8_t> fast(kc::q8_0x16_row_bytes(n), 0xee), scalar(kc::q8_0x16_row_bytes(n), 0x11);
            kc::quantize_row_q8_0x16(x.data(), fast.data(), n);
            kc::quantize_row_q8_0x16_scalar(x.data(), scalar.data(), n);
            QVERIFY(fast == scalar);
            std::vector<v4::kernels::block_q8_0> q(static_cast<size_t>(nb));
            kr::quantize_row_q8_0(x.data(), q.data(), n);
            std::vector<float> want(static_cast<size_t>(n)), got(static_cast<size_t>(n));
            kr::dequantize_row(v4::kernels::qtype::q8_0, q.data(), want.data(), n);
            kc::dequantize_row_q8_0x16(fast.data(), got.data(), n);
            QVERIFY(got == want);
        }
    }

    void kernels() {
        std::mt19937 rng(7u);
        for (const x16_case & tc : k_types) {
            const kc::dot_kernel * x16 = kc::find_dot_kernel_x16(tc.type);
            if (x16 == nullptr) {
                QSKIP("this CPU has no AVX-512 VNNI: the loader keeps the GGUF layout");
            }
            QCOMPARE(static_cast<int>(x16->act), static_cast<int>(kc::act_format::q8_0x16));
            QVERIFY(x16->dot4 != nullptr && x16->gemv != nullptr);
            const kc::dot_kernel * scalar = kc::find_dot_kernel_scalar(tc.type);
            for (int nb : k_block_counts) {
                const int64_t n = 32 * static_cast<int64_t>(nb);
                std::vector<std::vector<uint8_t>> rows, packed;
                for (int i = 0; i < 4; ++i) {
                    rows.push_back(random_row(tc, nb, rng));
                    packed.push_back(repacked(tc, rows.back(), n));
                }
                const size_t         w_stride = rows[0].size();
                std::vector<uint8_t> w(w_stride * 4);
                for (int i = 0; i < 4; ++i) {
                    std::memcpy(w.data() + i * w_stride, packed[i].data(), w_stride);
                }
                std::normal_distribution<float> nd(0.0f, 1.0f);
                const size_t                    act_bytes = kc::act_row_bytes(x16->act, n);
                std::vector<uint8_t>            acts(act_bytes * 4), act_q8(kc::act_row_bytes(scalar->act, n) * 4);
                std::vector<float>              x(static_cast<size_t>(n) * 4);
                for (float & v : x) {
                    v = nd(rng);
                }
                for (int r = 0; r < 4; ++r) {
                    kc::quantize_act_row(x16->act, x.data() + r * n, acts.data() + r * act_bytes, n);
                    kc::quantize_act_row(scalar->act, x.data() + r * n, act_q8.data() + r * act_q8.size() / 4, n);
                }
                for (int i = 0; i < 4; ++i) {
                    std::vector<float> wf(static_cast<size_t>(n));
                    QVERIFY(kr::dequantize_row_any(tc.type, rows[i].data(), wf.data(), n));
                    float four[4];
                    x16->dot4(n, packed[i].data(), acts.data(), act_bytes, 4, four);
                    for (int r = 0; r < 4; ++r) {
                        const float f = x16->dot(n, packed[i].data(), acts.data() + r * act_bytes);
                        const float s = scalar->dot(n, rows[i].data(), act_q8.data() + r * act_q8.size() / 4);
                        double      abs_sum = 0.0;
                        for (int64_t e = 0; e < n; ++e) {
                            abs_sum += std::fabs(static_cast<double>(wf[e]) * x[r * n + e]);
                        }
                        const double tol = 1e-5 * abs_sum + 1e-6;
                        if (std::fabs(static_cast<double>(f) - s) > tol) {
                            QFAIL(qPrintable(QStringLiteral("%1 x %2 blocks, row %3 act %4: x16 %5 vs scalar %6, tol %7")
                                                 .arg(tc.name).arg(nb).arg(i).arg(r).arg(f).arg(s).arg(tol)));
                        }
                        QCOMPARE(four[r], f);
                    }
                }
                for (int n_w = 1; n_w <= 4; ++n_w) {
                    float out[5] = {-1.0f, -1.0f, -1.0f, -1.0f, -1.0f};
                    x16->gemv(n, w.data(), w_stride, n_w, acts.data(), out);
                    for (int i = 0; i < 5; ++i) {
                        QCOMPARE(out[i], i < n_w ? x16->dot(n, packed[i].data(), acts.data()) : -1.0f);
                    }
                }
            }
        }
    }
};

QTEST_APPLESS_MAIN(TestX16)
#include "test_x16.moc"
