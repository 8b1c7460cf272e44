// The CUDA chunk decoders (kernels/cuda/dequant.cuh: f32 values; dequant_int.cuh: the packed
// integers + scales the dp4a GEMV uses) run on the host here, against kernels/reference, for every
// weight type and every chunk of random rows. They are __host__ __device__, so this checks their
// index arithmetic (chunk -> block, sub-block scales, bit positions, byte packing) on any machine;
// on a GPU, test_cuda_matmul checks the same code inside the kernels. Also the GEMV stage's split
// of a byte range into unaligned head, aligned 16-byte middle and unaligned tail.
#include <QTest>

#include <cmath>

#include "cuda/dequant_int.cuh"
#include "cuda/stage.cuh"
#include "cuda_test_util.h"

namespace kc = v4::kernels::cuda;
using v4::kernels::qtype;

Q_DECLARE_METATYPE(qtype)

namespace {

// Value j of an integer chunk: scale[j / 16] * q[j] + min.
float int_chunk_value(const kc::int_chunk & ch, int j) {
    const auto q = static_cast<int8_t>(static_cast<uint32_t>(ch.qw[j / 4]) >> (8 * (j % 4)));
    return ch.scale[j / 16] * static_cast<float>(q) + ch.min;
}

} // namespace

class TestCudaDequantHost : public QObject {
    Q_OBJECT

private slots:
    void chunksMatchReference_data() {
        QTest::addColumn<qtype>("type");
        QTest::addColumn<int>("n_in");
        for (const cudatest::weight_type_case & c : cudatest::weight_type_cases()) QTest::newRow(c.name) << c.t << c.n_in;
    }
    void chunksMatchReference() {
        QFETCH(qtype, type);
        QFETCH(int, n_in);
        const int64_t              n_rows = 5;
        const std::vector<uint8_t> bytes = cudatest::random_rows(type, n_rows, n_in, 7u + n_in);
        const uint32_t             t = static_cast<uint32_t>(type);
        const bool                 integer = type != qtype::f32 && type != qtype::f16 && type != qtype::bf16;
        QCOMPARE(kc::has_int_chunk(t), integer);
        for (int64_t r = 0; r < n_rows; ++r) {
            const std::vector<float> want = cudatest::reference_row(type, bytes, r, n_in);
            const uint8_t *          row = bytes.data() + cudatest::row_bytes(type, n_in) * r;
            for (int64_t c = 0; c < n_in / 32; ++c) {
                float f[32];
                kc::dequant_chunk(t, row, c, f);
                kc::int_chunk ch{};
                if (integer) kc::int_chunk_of(t, row, c, ch);
                for (int j = 0; j < 32; ++j) {
                    const float w = want[c * 32 + j], tol = 1e-6f * (1.0f + std::abs(w));
                    if (std::abs(f[j] - w) > tol || (integer && std::abs(int_chunk_value(ch, j) - w) > tol)) {
                        QFAIL(qPrintable(QStringLiteral("row %1 element %2: float %3, integer %4, reference %5")
                                             .arg(r).arg(c * 32 + j).arg(f[j])
                                             .arg(integer ? int_chunk_value(ch, j) : 0.0f).arg(w)));
                    }
                }
            }
        }
    }

    // Head, middle and tail cover [begin, end) exactly once, the middle in whole aligned 16-byte
    // pieces, head and tail under 16 bytes (one per lane), and the stage (from base) fits the GEMV's
    // 32 * 128 + 16 bytes for the longest stretch (32 f32 chunks).
    void stageSplitCoversTheRange() {
        for (uintptr_t b = 4096; b < 4096 + 48; ++b) {
            for (uintptr_t len : {0u, 1u, 2u, 15u, 16u, 17u, 31u, 33u, 144u, 198u, 576u, 840u, 4096u}) {
                const uintptr_t         e = b + len;
                const kc::stage_split   sp = kc::split_for_stage(b, e);
                std::vector<int>        covered(len + 64, 0); // bytes b - 32 .. e + 31
                auto mark = [&](uintptr_t lo, uintptr_t hi) {
                    for (uintptr_t a = lo; a < hi; ++a) ++covered[a + 32 - b];
                };
                mark(b, sp.head_end);
                mark(sp.mid_lo, sp.mid_hi);
                mark(sp.tail_lo, e);
                for (uintptr_t a = b - 32; a < e + 32; ++a) QCOMPARE(covered[a + 32 - b], a >= b && a < e ? 1 : 0);
                QCOMPARE(sp.base % 16, uintptr_t(0));
                QVERIFY(sp.base <= b && b - sp.base < 16);
                QVERIFY(sp.head_end >= b && sp.head_end - b < 16);
                QCOMPARE(sp.mid_lo % 16, uintptr_t(0));
                QCOMPARE(sp.mid_hi % 16, uintptr_t(0));
                QVERIFY(sp.tail_lo <= e && e - sp.tail_lo < 16);
                QVERIFY(e - sp.base <= 32 * 128 + 16);
            }
        }
    }

    // The per-byte subtraction the integer decoders use, for every byte value they produce.
    void subtractsPerByte() {
        for (uint32_t k : {8u, 16u, 32u}) {
            for (uint32_t v = 0; v < 64; ++v) {
                const uint32_t x = v | ((63 - v) << 8) | ((v / 2) << 16) | ((v % 7) << 24);
                const uint32_t got = static_cast<uint32_t>(kc::sub_bytes(x, k));
                for (int b = 0; b < 4; ++b) {
                    const int in = static_cast<int>((x >> (8 * b)) & 0xFF);
                    QCOMPARE(static_cast<int>(static_cast<int8_t>(got >> (8 * b))), in - static_cast<int>(k));
                }
            }
        }
    }
};

QTEST_GUILESS_MAIN(TestCudaDequantHost)
#include "test_cuda_dequant_host.moc"
