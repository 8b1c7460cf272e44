// dtype traits and the reference kernels against golden outputs of the gguf Python package
// (tests/fixtures/dtypes/dtypes.gguf, written by tools/reference/make_dtype_fixtures.py).
// Every comparison is bit for bit: float results are compared as uint32 patterns, so NaN equals
// NaN only when the payloads match and -0 differs from +0.
#include <QTest>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "format/gguf.h"
#include "reference/dequantize.h"
#include "reference/vec_dot.h"
#include "tensor/dtype.h"
#include "tensor/kernel_type.h"
#include "test_paths.h"

namespace ref = v4::kernels::ref;
using v4::dtype;

namespace {

uint32_t bits_of(float f) {
    uint32_t u;
    std::memcpy(&u, &f, 4);
    return u;
}

float float_of(uint32_t u) {
    float f;
    std::memcpy(&f, &u, 4);
    return f;
}

const v4::gguf::file & fixture() {
    static const v4::gguf::file f =
        v4::gguf::file::open(v4test::fixturePath(QStringLiteral("dtypes/dtypes.gguf")).toStdString());
    return f;
}

std::vector<float> floats_of(const v4::gguf::tensor_info & t) {
    std::vector<float> v(static_cast<size_t>(t.n_elements()));
    std::memcpy(v.data(), t.data, v.size() * 4);
    return v;
}

std::vector<uint16_t> halves_of(const v4::gguf::tensor_info & t) {
    std::vector<uint16_t> v(static_cast<size_t>(t.n_elements()));
    std::memcpy(v.data(), t.data, v.size() * 2);
    return v;
}

} // namespace

class TestDtypes : public QObject {
    Q_OBJECT

private slots:
    void traitsTable();
    void rowBytes();
    void dequantizeMatchesGgufPy_data();
    void dequantizeMatchesGgufPy();
    void vecDotIsDoubleSumOfDequantized_data();
    void vecDotIsDoubleSumOfDequantized();
    void rejectsBadArguments();
    void fp16RoundTripExhaustive();
    void bf16RoundTripExhaustive();
    void fp16EncodeMatchesNumpy();
    void bf16EncodeMatchesGgufPy();
    void e8m0Scale();
    void quantizeQ8_0MatchesGgufPy();
    void quantizeQ8_K();
};

void TestDtypes::traitsTable() {
    const auto all = v4::all_dtypes();
    QCOMPARE(all.size(), size_t{34});
    int n_supported = 0;
    for (const dtype t : all) {
        const auto & tr = v4::traits(t);
        QVERIFY(tr.name != nullptr && std::strcmp(tr.name, "unknown") != 0);
        QVERIFY(tr.block_size > 0 && tr.block_bytes > 0);
        QCOMPARE(v4::dtype_from_u32(static_cast<uint32_t>(t)), std::optional<dtype>(t));
        // Supported exactly when the kernels handle it, with the same geometry.
        const auto kt = v4::kernel_type(t);
        QCOMPARE(kt.has_value(), tr.supported);
        if (kt) {
            ++n_supported;
            const auto g = v4::kernels::geometry(*kt);
            QCOMPARE(size_t(g.block_size), tr.block_size);
            QCOMPARE(g.block_bytes, tr.block_bytes);
        }
    }
    QCOMPARE(n_supported, 13);
    for (uint32_t raw : {4u, 5u, 31u, 32u, 33u, 36u, 37u, 38u, 42u, 1000u}) {
        QVERIFY(!v4::dtype_from_u32(raw).has_value());
    }
    QCOMPARE(std::string(v4::traits(dtype::q4_k).name), std::string("q4_K"));
    QCOMPARE(std::string(v4::traits(dtype::iq4_xs).name), std::string("iq4_xs"));
    QVERIFY(!v4::traits(dtype::q8_k).supported); // an activation type, never stored as weights
}

void TestDtypes::rowBytes() {
    QCOMPARE(v4::row_bytes(dtype::q4_k, 4096), std::optional<size_t>(16 * 144));
    QCOMPARE(v4::row_bytes(dtype::f32, 3), std::optional<size_t>(12));
    QCOMPARE(v4::row_bytes(dtype::mxfp4, 64), std::optional<size_t>(34));
    QCOMPARE(v4::row_bytes(dtype::q8_0, 0), std::optional<size_t>(0));
    QVERIFY(!v4::row_bytes(dtype::q4_k, 100).has_value());
    QVERIFY(!v4::row_bytes(dtype::f32, -32).has_value());
    QVERIFY(!v4::row_bytes(dtype::f32, std::numeric_limits<int64_t>::max()).has_value()); // odd, and * 4 overflows
    QVERIFY(!v4::row_bytes(dtype::f64, int64_t{1} << 61).has_value());                     // 2^64 bytes
    QCOMPARE(v4::row_bytes(dtype::f64, (int64_t{1} << 61) - 1), std::optional<size_t>(((size_t{1} << 61) - 1) * 8));
}

void TestDtypes::dequantizeMatchesGgufPy_data() {
    QTest::addColumn<QString>("name");
    for (const char * n : {"f32", "f16", "bf16", "q8_0", "q4_0", "q4_1", "q5_0", "q5_1", "mxfp4", "q4_k", "q5_k", "q6_k", "q3_k"}) {
        QTest::newRow(n) << QString::fromLatin1(n);
    }
}

void TestDtypes::dequantizeMatchesGgufPy() {
    QFETCH(QString, name);
    const auto & f        = fixture();
    const auto & blocks   = f.tensor(name.toStdString() + ".blocks");
    const auto & expected = f.tensor(name.toStdString() + ".expected");
    QCOMPARE(expected.type, dtype::f32);
    QCOMPARE(blocks.n_elements(), expected.n_elements());
    QCOMPARE(std::string(v4::traits(blocks.type).name).size() > 0, true);
    const auto kt = v4::kernel_type(blocks.type);
    QVERIFY(kt.has_value());

    const int64_t      n = blocks.n_elements();
    std::vector<float> out(static_cast<size_t>(n), float_of(0x7fbadbad));
    QVERIFY(ref::dequantize_row(*kt, blocks.data, out.data(), n));
    const std::vector<float> want = floats_of(expected);
    double                   norm = 0;
    for (int64_t i = 0; i < n; ++i) {
        if (bits_of(out[i]) != bits_of(want[i])) {
            QFAIL(qPrintable(QStringLiteral("%1: element %2 (block %3): got %4 (0x%5), want %6 (0x%7)")
                                 .arg(name)
                                 .arg(i)
                                 .arg(i / int64_t(v4::traits(blocks.type).block_size))
                                 .arg(double(out[i]))
                                 .arg(bits_of(out[i]), 8, 16, QLatin1Char('0'))
                                 .arg(double(want[i]))
                                 .arg(bits_of(want[i]), 8, 16, QLatin1Char('0'))));
        }
        if (std::isfinite(want[i])) {
            norm += double(want[i]) * double(want[i]);
        }
    }
    QVERIFY2(norm > 0, "fixture is all zeros: the test would pass for nothing");
}

void TestDtypes::vecDotIsDoubleSumOfDequantized_data() { dequantizeMatchesGgufPy_data(); }

void TestDtypes::vecDotIsDoubleSumOfDequantized() {
    QFETCH(QString, name);
    if (name == QLatin1String("f32") || name == QLatin1String("f16") || name == QLatin1String("bf16")) {
        QSKIP("contains NaN/inf by design");
    }
    const auto & f        = fixture();
    const auto & blocks   = f.tensor(name.toStdString() + ".blocks");
    const auto   want     = floats_of(f.tensor(name.toStdString() + ".expected"));
    const auto   kt       = v4::kernel_type(blocks.type);
    const int64_t n       = blocks.n_elements();
    std::mt19937 rng(7);
    std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
    std::vector<float>                    x(static_cast<size_t>(n));
    for (float & v : x) {
        v = dist(rng);
    }
    double expected = 0;
    for (int64_t i = 0; i < n; ++i) {
        expected += double(want[i]) * double(x[i]);
    }
    const auto got = ref::vec_dot(*kt, blocks.data, x.data(), n);
    QVERIFY(got.has_value());
    QCOMPARE(*got, expected); // same products, same order: exactly equal
    QVERIFY(expected != 0);
}

void TestDtypes::rejectsBadArguments() {
    float out[256];
    uint8_t in[256] = {};
    QVERIFY(!ref::dequantize_row(v4::kernels::qtype::q4_k, in, out, 100));
    QVERIFY(!ref::dequantize_row(v4::kernels::qtype::q8_0, in, out, -32));
    QVERIFY(!ref::dequantize_row(static_cast<v4::kernels::qtype>(4), in, out, 32));
    QVERIFY(!ref::dequantize_row(static_cast<v4::kernels::qtype>(16), in, out, 256));
    QVERIFY(!ref::vec_dot(v4::kernels::qtype::q4_0, in, out, 31).has_value());
    QVERIFY(ref::dequantize_row(v4::kernels::qtype::q8_0, in, out, 0));
}

void TestDtypes::fp16RoundTripExhaustive() {
    for (uint32_t h = 0; h < 65536; ++h) {
        const float    f   = ref::fp16_to_fp32(uint16_t(h));
        const uint16_t h2  = ref::fp32_to_fp16(f);
        const bool     nan = (h & 0x7c00) == 0x7c00 && (h & 0x3ff) != 0;
        const uint16_t want = nan ? uint16_t((h & 0x8000) | 0x7e00) : uint16_t(h);
        if (h2 != want || std::isnan(f) != nan) {
            QFAIL(qPrintable(QStringLiteral("fp16 0x%1 -> %2 -> 0x%3").arg(h, 4, 16).arg(double(f)).arg(h2, 4, 16)));
        }
    }
    // Spot values.
    QCOMPARE(bits_of(ref::fp16_to_fp32(0x0001)), bits_of(std::ldexp(1.0f, -24)));
    QCOMPARE(bits_of(ref::fp16_to_fp32(0x03ff)), bits_of(std::ldexp(1023.0f, -24)));
    QCOMPARE(ref::fp16_to_fp32(0x7bff), 65504.0f);
    QCOMPARE(bits_of(ref::fp16_to_fp32(0x8000)), 0x80000000u);
    QCOMPARE(bits_of(ref::fp16_to_fp32(0x7c01)), 0x7f802000u); // signalling NaN payload kept
}

void TestDtypes::bf16RoundTripExhaustive() {
    for (uint32_t h = 0; h < 65536; ++h) {
        const float    f    = ref::bf16_to_fp32(uint16_t(h));
        const bool     nan  = (h & 0x7f80) == 0x7f80 && (h & 0x7f) != 0;
        const uint16_t want = nan ? uint16_t(h | 0x40) : uint16_t(h);
        QCOMPARE(bits_of(f), h << 16);
        if (ref::fp32_to_bf16(f) != want) {
            QFAIL(qPrintable(QStringLiteral("bf16 0x%1 round trip").arg(h, 4, 16)));
        }
    }
}

void TestDtypes::fp16EncodeMatchesNumpy() {
    const auto & f   = fixture();
    const auto   in  = floats_of(f.tensor("f16.encode.input"));
    const auto   out = halves_of(f.tensor("f16.encode.expected"));
    QCOMPARE(in.size(), out.size());
    for (size_t i = 0; i < in.size(); ++i) {
        if (ref::fp32_to_fp16(in[i]) != out[i]) {
            QFAIL(qPrintable(QStringLiteral("fp32 0x%1 -> 0x%2, want 0x%3")
                                 .arg(bits_of(in[i]), 8, 16)
                                 .arg(ref::fp32_to_fp16(in[i]), 4, 16)
                                 .arg(out[i], 4, 16)));
        }
    }
    QCOMPARE(ref::fp32_to_fp16(float_of(0x7fc00001)), uint16_t(0x7e00)); // NaN: canonical, as ggml
    QCOMPARE(ref::fp32_to_fp16(float_of(0xff800001)), uint16_t(0xfe00));
}

void TestDtypes::bf16EncodeMatchesGgufPy() {
    const auto & f   = fixture();
    const auto   in  = floats_of(f.tensor("bf16.encode.input"));
    const auto   out = halves_of(f.tensor("bf16.encode.expected"));
    QCOMPARE(in.size(), out.size());
    int n_nan = 0;
    for (size_t i = 0; i < in.size(); ++i) {
        n_nan += std::isnan(in[i]);
        if (ref::fp32_to_bf16(in[i]) != out[i]) {
            QFAIL(qPrintable(QStringLiteral("fp32 0x%1 -> 0x%2, want 0x%3")
                                 .arg(bits_of(in[i]), 8, 16)
                                 .arg(ref::fp32_to_bf16(in[i]), 4, 16)
                                 .arg(out[i], 4, 16)));
        }
    }
    QVERIFY(n_nan >= 8);
}

void TestDtypes::e8m0Scale() {
    QCOMPARE(ref::e8m0_to_fp32_half(128), 1.0f);
    QCOMPARE(ref::e8m0_to_fp32_half(127), 0.5f);
    QCOMPARE(ref::e8m0_to_fp32_half(2), std::ldexp(1.0f, -126));
    QCOMPARE(ref::e8m0_to_fp32_half(1), std::ldexp(1.0f, -127)); // subnormal
    QCOMPARE(ref::e8m0_to_fp32_half(0), std::ldexp(1.0f, -128));
    QCOMPARE(ref::e8m0_to_fp32_half(255), std::ldexp(1.0f, 127));
}

void TestDtypes::quantizeQ8_0MatchesGgufPy() {
    const auto & f        = fixture();
    const auto   in       = floats_of(f.tensor("q8_0.quant.input"));
    const auto & expected = f.tensor("q8_0.quant.expected");
    QCOMPARE(expected.type, dtype::q8_0);
    QCOMPARE(int64_t(in.size()), expected.n_elements());
    std::vector<v4::kernels::block_q8_0> out(in.size() / 32);
    ref::quantize_row_q8_0(in.data(), out.data(), int64_t(in.size()));
    QCOMPARE(out.size() * sizeof(out[0]), expected.n_bytes);
    for (size_t b = 0; b < out.size(); ++b) {
        QVERIFY2(std::memcmp(&out[b], expected.data + b * 34, 34) == 0, qPrintable(QStringLiteral("block %1").arg(b)));
    }
}

void TestDtypes::quantizeQ8_K() {
    // No Python reference exists for q8_K; check the defining properties of quantize_row_q8_K_ref.
    std::mt19937                    rng(11);
    std::normal_distribution<float> dist(0.0f, 3.0f);
    std::vector<float>              x(4 * 256);
    for (float & v : x) {
        v = dist(rng);
    }
    std::fill(x.begin() + 256, x.begin() + 512, 0.0f); // block 1 all zero
    x[600] = -100.0f;                                  // block 2: the extreme value is negative
    std::vector<v4::kernels::block_q8_k> y(4);
    ref::quantize_row_q8_k(x.data(), y.data(), int64_t(x.size()));
    for (int b = 0; b < 4; ++b) {
        const auto & blk = y[size_t(b)];
        if (b == 1) {
            QCOMPARE(blk.d, 0.0f);
            for (int j = 0; j < 256; ++j) {
                QCOMPARE(int(blk.qs[j]), 0);
            }
            continue;
        }
        float max = 0, amax = 0;
        for (int j = 0; j < 256; ++j) {
            if (std::fabs(x[size_t(b * 256 + j)]) > amax) {
                amax = std::fabs(x[size_t(b * 256 + j)]);
                max  = x[size_t(b * 256 + j)];
            }
        }
        const float iscale = -127.f / max;
        QCOMPARE(bits_of(blk.d), bits_of(1 / iscale));
        for (int j = 0; j < 16; ++j) {
            int sum = 0;
            for (int k = 0; k < 16; ++k) {
                sum += blk.qs[j * 16 + k];
            }
            QCOMPARE(int(blk.bsums[j]), sum);
        }
        for (int j = 0; j < 256; ++j) {
            const float xv = x[size_t(b * 256 + j)];
            QVERIFY(blk.qs[j] >= -127 && blk.qs[j] <= 127);
            QCOMPARE(int(blk.qs[j]), int(std::nearbyint(iscale * xv))); // round half to even
            QVERIFY(std::fabs(blk.d * blk.qs[j] - xv) <= std::fabs(blk.d) * 0.5f * 1.001f);
        }
        if (b == 2) {
            QCOMPARE(int(blk.qs[600 - 512]), -127); // iscale = -127/max: the extreme always maps to -127
        }
    }
    // Dequantizing q8_K is d * q.
    std::vector<float> back(256);
    QVERIFY(ref::dequantize_row(v4::kernels::qtype::q8_k, &y[0], back.data(), 256));
    QCOMPARE(bits_of(back[5]), bits_of(y[0].d * float(y[0].qs[5])));
}

QTEST_APPLESS_MAIN(TestDtypes)
#include "test_dtypes.moc"
