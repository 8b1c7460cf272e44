// DeepSeek-V4 weight formats (spec §5) decoded at load, against torch
// (tools/reference/make_deepseek4_quant_fixtures.py) and against the kernels' MXFP4 reference
// dequantizer: FP8 E4M3 with 128x128 block scales (F32 "_scale_inv" and UE8M0 ".scale"), FP4 E2M1
// with one UE8M0 scale per 32.
#include <QTest>

#include <cmath>
#include <cstring>

#include "models/deepseek4/quant_formats.h"
#include "models/deepseek4/safetensors.h"
#include "reference/dequantize_legacy.h"
#include "test_paths.h"
#include "v4/error.h"

using namespace v4::deepseek4;

namespace {

std::string formats_file() {
    return v4test::fixturePath(QStringLiteral("deepseek4/quant/formats.safetensors")).toStdString();
}

bool same_floats(const std::vector<float> & a, const std::vector<float> & b) {
    return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

} // namespace

class TestDeepseek4Formats : public QObject {
    Q_OBJECT

private slots:
    void e4m3_matches_torch_for_every_byte() {
        const std::vector<float> table = safetensors_file(formats_file()).f32("e4m3_table", {256});
        for (int b = 0; b < 256; b++) {
            const float got = fp8_e4m3_to_float(uint8_t(b)), want = table[size_t(b)];
            if (std::isnan(want)) QVERIFY2(std::isnan(got), qPrintable(QString::number(b)));
            else QVERIFY2(got == want && std::signbit(got) == std::signbit(want), qPrintable(QString::number(b)));
        }
    }

    void fp8_block_scaled_matches_torch() {
        const safetensors_file st(formats_file());
        const std::vector<float> want = st.f32("fp8.expected", {200, 300});
        QVERIFY(same_floats(st.f32("fp8.weight", {200, 300}), want));   // F32 weight_scale_inv (HF)
        QVERIFY(same_floats(st.f32("fp8e.weight", {200, 300}), want));  // UE8M0 .scale (release)
    }

    void fp4_matches_torch() {
        const safetensors_file st(formats_file());
        QVERIFY(same_floats(st.f32("fp4.weight", {64, 96}), st.f32("fp4.expected", {64, 96})));
    }

    // The same codes and scales repacked as GGML MXFP4 blocks (1 UE8M0 byte + 16 bytes; byte j holds
    // elements j (low nibble) and j + 16 (high)) give the same floats through kernels/reference.
    void fp4_matches_the_kernels_mxfp4_reference() {
        const int rows = 5, cols = 64;
        std::vector<uint8_t> packed(size_t(rows * cols / 2)), scales(size_t(rows * cols / 32)), codes(size_t(rows * cols));
        for (size_t i = 0; i < codes.size(); i++) codes[i] = uint8_t((i * 7 + i / 13) % 16);
        for (size_t i = 0; i < scales.size(); i++) scales[i] = uint8_t(120 + i % 12);
        for (size_t i = 0; i < packed.size(); i++) packed[i] = uint8_t(codes[2 * i] | (codes[2 * i + 1] << 4));
        std::vector<float> mine(size_t(rows * cols)), ref(size_t(rows * cols));
        dequant_fp4(packed.data(), rows, cols, scales.data(), mine.data());
        std::vector<uint8_t> blocks;
        for (int r = 0; r < rows; r++) {
            for (int b = 0; b < cols / 32; b++) {
                blocks.push_back(scales[size_t(r * cols / 32 + b)]);
                for (int j = 0; j < 16; j++) {
                    const uint8_t lo = codes[size_t(r * cols + b * 32 + j)], hi = codes[size_t(r * cols + b * 32 + j + 16)];
                    blocks.push_back(uint8_t(lo | (hi << 4)));
                }
            }
        }
        constexpr uint32_t ggml_mxfp4 = 39;
        QVERIFY(v4::kernels::ref::dequantize_row_any(ggml_mxfp4, blocks.data(), ref.data(), rows * cols));
        for (size_t i = 0; i < mine.size(); i++) QCOMPARE(mine[i], ref[i]);  // by value: ggml's code 8 is +0, E2M1's -0
    }

    void fp8_without_scale_is_an_error() {
        const safetensors_file st(formats_file());
        try {
            st.f32("fp8.expected_missing", {1});
            QFAIL("read a missing tensor");
        } catch (const v4::Error & e) {
            QVERIFY(QString::fromUtf8(e.what()).contains(QStringLiteral("missing tensor 'fp8.expected_missing'")));
        }
        try {  // a packed FP4 tensor asked for with the wrong logical shape names both shapes
            st.f32("fp4.weight", {64, 64});
            QFAIL("accepted a wrong FP4 shape");
        } catch (const v4::Error & e) {
            QVERIFY2(QString::fromUtf8(e.what()).contains(QStringLiteral("fp4.weight")), e.what());
        }
    }
};

QTEST_GUILESS_MAIN(TestDeepseek4Formats)
#include "test_deepseek4_formats.moc"
