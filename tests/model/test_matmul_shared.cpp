// The CPU backend's shared-input matmul (q/k/v, gate/up in one call): for weights of mixed types,
// some sharing an activation format (Q4_K and Q6_K read Q8_K; x16 Q4_0 and Q8_0 read q8_0x16) and
// some not, every output is bit-identical to the weight's own matmul(), in decode (1 row) and
// prefill (7 rows), with one- and two-pass activations.
#include <QTest>

#include <cstring>
#include <random>
#include <vector>

#include "backend/backend.h"
#include "cpu/x16.h"
#include "quantize/quantize_row.h"
#include "v4/error.h"

using namespace v4;
using namespace v4::detail;

namespace {

constexpr int64_t k_n_in = 768; // 3 Q6_K blocks; 24 Q4_0 blocks: one whole x16 super-block and a partial one

// A random matrix quantized to `type`, rows in the x16 layout when asked (and the CPU has it).
struct test_weight {
    std::vector<uint8_t> bytes;
    weight               w;

    test_weight(dtype type, int64_t n_out, bool x16, std::mt19937 & rng) {
        std::normal_distribution<float> dist(0.0f, 1.0f);
        w.type = type;
        w.n_in = k_n_in;
        w.n_out = n_out;
        w.row_bytes = *row_bytes(type, k_n_in);
        bytes.resize(w.row_bytes * static_cast<size_t>(n_out));
        std::vector<float>   row(static_cast<size_t>(k_n_in));
        std::vector<uint8_t> packed(w.row_bytes);
        for (int64_t o = 0; o < n_out; ++o) {
            for (float & v : row) {
                v = dist(rng);
            }
            uint8_t * dst = bytes.data() + static_cast<size_t>(o) * w.row_bytes;
            quant::quantize_row(type, row.data(), dst, k_n_in);
            if (x16) {
                kernels::cpu::repack_row_x16(static_cast<uint32_t>(type), dst, packed.data(), k_n_in);
                std::memcpy(dst, packed.data(), w.row_bytes);
            }
        }
        w.data = bytes.data();
        w.x16 = x16;
    }
};

} // namespace

class TestMatmulShared : public QObject {
    Q_OBJECT

private slots:
    void sharedEqualsSeparate_data() {
        QTest::addColumn<int>("n_rows");
        QTest::addColumn<bool>("two_pass");
        QTest::newRow("decode") << 1 << false;
        QTest::newRow("prefill") << 7 << false;
        QTest::newRow("decode two-pass") << 1 << true;
        QTest::newRow("prefill two-pass") << 7 << true;
    }

    void sharedEqualsSeparate() {
        QFETCH(int, n_rows);
        QFETCH(bool, two_pass);
        std::mt19937 rng(42);
        const bool   x16 = kernels::cpu::find_dot_kernel_x16(static_cast<uint32_t>(dtype::q4_0)) != nullptr;
        // Row counts not multiples of 4 leave partial gemv calls and register tiles at each end.
        std::vector<test_weight> weights;
        weights.emplace_back(dtype::q4_0, 101, x16, rng);
        weights.emplace_back(dtype::q6_k, 37, false, rng);
        weights.emplace_back(dtype::f16, 64, false, rng);
        weights.emplace_back(dtype::q4_k, 70, false, rng);
        weights.emplace_back(dtype::q8_0, 45, x16, rng);
        weights.emplace_back(dtype::q4_0, 33, false, rng);

        std::vector<float>              x(static_cast<size_t>(n_rows * k_n_in));
        std::normal_distribution<float> dist(0.0f, 1.0f);
        for (float & v : x) {
            v = dist(rng);
        }
        const auto be = make_cpu_backend(2, two_pass);
        std::vector<std::vector<float>> separate, shared;
        std::vector<matmul_target>      targets;
        for (const test_weight & tw : weights) {
            const size_t n = static_cast<size_t>(n_rows * tw.w.n_out);
            separate.emplace_back(n);
            shared.emplace_back(n, -1.0f);
            be->matmul(tw.w, x.data(), n_rows, separate.back().data());
        }
        for (size_t i = 0; i < weights.size(); ++i) {
            targets.push_back({&weights[i].w, shared[i].data()});
        }
        be->matmul_shared_input(x.data(), n_rows, targets);
        for (size_t i = 0; i < weights.size(); ++i) {
            QVERIFY2(std::memcmp(separate[i].data(), shared[i].data(), separate[i].size() * sizeof(float)) == 0,
                     qPrintable(QStringLiteral("weight %1 (%2) differs").arg(i).arg(traits(weights[i].w.type).name)));
        }
    }

    void differentInputWidthsAreRefused() {
        std::mt19937 rng(7);
        test_weight  a(dtype::q4_0, 8, false, rng);
        weight       narrow = a.w;
        narrow.n_in = k_n_in / 2;
        narrow.row_bytes = *row_bytes(dtype::q4_0, narrow.n_in);
        std::vector<float>  x(static_cast<size_t>(k_n_in)), ya(8), yb(8);
        const auto          be = make_cpu_backend(1, false);
        const matmul_target targets[] = {{&a.w, ya.data()}, {&narrow, yb.data()}};
        QVERIFY_THROWS_EXCEPTION(Error, be->matmul_shared_input(x.data(), 1, targets));
    }
};

QTEST_APPLESS_MAIN(TestMatmulShared)
#include "test_matmul_shared.moc"
