// GGUF reader: a valid image built in memory and the committed fixture parse to exactly the
// values written; every kind of malformed input fails with ErrorCode::format and a message that
// names the problem; every prefix of a valid file fails cleanly.
#include <QFile>
#include <QTest>

#include <cmath>
#include <cstring>
#include <initializer_list>
#include <limits>
#include <string>

#include "format/gguf.h"
#include "gguf_builder.h"
#include "test_paths.h"
#include "v4/error.h"

using namespace v4test;
using v4test::fixturePath;
using v4::gguf::value_type;

namespace {

// Parses `b` and returns the error message; fails the test when parsing succeeds or the error
// is not a format error.
std::string parse_error(const bytes & b, v4::ErrorCode expected = v4::ErrorCode::format) {
    try {
        (void) v4::gguf::file::from_memory(b);
    } catch (const v4::Error & e) {
        if (e.code() != expected) {
            return std::string("WRONG CODE ") + v4::error_code_name(e.code()) + ": " + e.what();
        }
        return e.what();
    }
    return "NO ERROR";
}

bool contains_all(const std::string & msg, std::initializer_list<const char *> words) {
    for (const char * w : words) {
        if (msg.find(w) == std::string::npos) {
            qWarning("message \"%s\" lacks \"%s\"", msg.c_str(), w);
            return false;
        }
    }
    return true;
}

#define EXPECT_FORMAT_ERROR(builder_bytes, ...)                                                                        \
    do {                                                                                                               \
        const std::string msg_ = parse_error(builder_bytes);                                                           \
        QVERIFY2(msg_.rfind("gguf: ", 0) == 0, msg_.c_str());                                                          \
        QVERIFY2(contains_all(msg_, {__VA_ARGS__}), msg_.c_str());                                                     \
    } while (0)

// A small valid file: one key of each scalar type, a few arrays, two tensors.
gguf_builder valid_builder() {
    gguf_builder g;
    g.kv_string("general.architecture", "llama");
    g.kv<uint32_t>("llama.block_count", vt_u32, 2);
    g.kv<float>("llama.rope.freq_base", vt_f32, 10000.0f);
    g.kv<uint8_t>("flag", vt_bool, 1);
    g.kv_string_array("tokenizer.ggml.tokens", {"<s>", "</s>", "h\xC3\xA9llo"});
    g.kv_array<float>("tokenizer.ggml.scores", vt_f32, {0.0f, -1.5f, 2.25f});
    g.kv_array<int32_t>("tokenizer.ggml.token_type", vt_i32, {3, 3, 1});
    g.add_tensor("token_embd.weight", {32, 3}, 0 /* f32 */, 32 * 3 * 4);
    g.add_tensor("blk.0.attn_q.weight", {256, 2}, 12 /* q4_K */, 2 * 144);
    return g;
}

} // namespace

class TestGguf : public QObject {
    Q_OBJECT

private slots:
    void parsesBuiltFile();
    void parsesFixtureWithEveryValueType();
    void typedGetters();
    void honoursAlignment();
    void acceptsVersion2();
    void everyPrefixFailsCleanly();
    void rejectsBadMagic();
    void rejectsVersions();
    void rejectsHugeCounts();
    void rejectsHugeStringAndArray();
    void rejectsBadValues();
    void rejectsDuplicates();
    void rejectsBadAlignment();
    void rejectsBadTensorShapes();
    void rejectsBadTensorTypes();
    void rejectsBadTensorPlacement();
    void reportsIoErrors();
};

void TestGguf::parsesBuiltFile() {
    const bytes b = valid_builder().build();
    const auto  f = v4::gguf::file::from_memory(b);
    QCOMPARE(f.version(), 3u);
    QCOMPARE(f.alignment(), uint64_t{32});
    QCOMPARE(f.file_size(), uint64_t{b.size()});
    QCOMPARE(f.metadata().size(), size_t{7});
    QCOMPARE(f.get_string("general.architecture"), std::string("llama"));
    QCOMPARE(f.get_u32("llama.block_count"), 2u);
    QCOMPARE(f.get_f32("llama.rope.freq_base"), 10000.0f);
    QCOMPARE(f.get_bool("flag"), true);
    QCOMPARE(f.get_string_array("tokenizer.ggml.tokens"), (std::vector<std::string>{"<s>", "</s>", "h\xC3\xA9llo"}));
    QCOMPARE(f.get_f32_array("tokenizer.ggml.scores"), (std::vector<float>{0.0f, -1.5f, 2.25f}));
    QCOMPARE(f.get_i32_array("tokenizer.ggml.token_type"), (std::vector<int32_t>{3, 3, 1}));

    QCOMPARE(f.tensors().size(), size_t{2});
    const auto & t0 = f.tensor("token_embd.weight");
    QCOMPARE(t0.type, v4::dtype::f32);
    QCOMPARE(t0.shape, (std::vector<int64_t>{32, 3}));
    QCOMPARE(t0.n_elements(), int64_t{96});
    QCOMPARE(t0.n_bytes, size_t{384});
    QCOMPARE(t0.offset, uint64_t{0});
    QCOMPARE(f.data_offset() % 32, uint64_t{0});
    QVERIFY(t0.data == b.data() + f.data_offset());
    const auto & t1 = f.tensor("blk.0.attn_q.weight");
    QCOMPARE(t1.type, v4::dtype::q4_k);
    QCOMPARE(t1.n_bytes, size_t{288});
    QCOMPARE(t1.offset, uint64_t{384});
    QVERIFY(t1.data + t1.n_bytes == b.data() + b.size());
    QVERIFY(f.find_tensor("nope") == nullptr);
    try {
        (void) f.tensor("nope");
        QFAIL("no exception");
    } catch (const v4::Error & e) {
        QVERIFY(contains_all(e.what(), {"tensor 'nope'", "missing"}));
    }
}

// tests/fixtures/gguf/all_types.gguf, written by gguf-py's GGUFWriter (tools/reference/make_dtype_fixtures.py).
void TestGguf::parsesFixtureWithEveryValueType() {
    const auto f = v4::gguf::file::open(fixturePath(QStringLiteral("gguf/all_types.gguf")).toStdString());
    QCOMPARE(f.version(), 3u);
    QCOMPARE(f.alignment(), uint64_t{32});
    QCOMPARE(f.data_offset() % 32, uint64_t{0});

    auto type_of = [&](const char * key) {
        const v4::gguf::value * v = f.find(key);
        return v ? v->type : static_cast<value_type>(0xffff);
    };
    QCOMPARE(f.get_string("general.architecture"), std::string("llama"));
    QCOMPARE(type_of("test.u8"), value_type::uint8);
    QCOMPARE(f.find("test.u8")->as_u64("test.u8"), uint64_t{200});
    QCOMPARE(type_of("test.i8"), value_type::int8);
    QCOMPARE(f.find("test.i8")->as_i64("test.i8"), int64_t{-100});
    QCOMPARE(type_of("test.u16"), value_type::uint16);
    QCOMPARE(f.get_u32("test.u16"), 60000u);
    QCOMPARE(type_of("test.i16"), value_type::int16);
    QCOMPARE(f.find("test.i16")->as_i64("test.i16"), int64_t{-30000});
    QCOMPARE(type_of("test.u32"), value_type::uint32);
    QCOMPARE(f.get_u32("test.u32"), 4000000000u);
    QCOMPARE(type_of("test.i32"), value_type::int32);
    QCOMPARE(f.find("test.i32")->as_i64("test.i32"), int64_t{-2000000000});
    QCOMPARE(type_of("test.f32"), value_type::float32);
    QCOMPARE(f.get_f32("test.f32"), 0.1f);
    QCOMPARE(f.find("test.f32")->as_f64("test.f32"), double(0.1f));
    QCOMPARE(type_of("test.u64"), value_type::uint64);
    QCOMPARE(f.find("test.u64")->as_u64("test.u64"), uint64_t{18000000000000000000ull});
    QCOMPARE(type_of("test.i64"), value_type::int64);
    QCOMPARE(f.find("test.i64")->as_i64("test.i64"), int64_t{-9000000000000000000ll});
    QCOMPARE(type_of("test.f64"), value_type::float64);
    QCOMPARE(f.find("test.f64")->as_f64("test.f64"), 2.718281828459045);
    QCOMPARE(type_of("test.bool_true"), value_type::boolean);
    QCOMPARE(f.get_bool("test.bool_true"), true);
    QCOMPARE(f.get_bool("test.bool_false"), false);
    QCOMPARE(f.get_string("test.string"), std::string("h\xC3\xA9llo \xE4\xB8\x96\xE7\x95\x8C \xF0\x9F\x98\x80"));
    QCOMPARE(f.get_string("test.empty_string"), std::string());
    QCOMPARE(f.get_string_array("test.arr_str"), (std::vector<std::string>{"a", "\xC3\x9F", "", "tab\there"}));
    QCOMPARE(f.get_i32_array("test.arr_i32"), (std::vector<int32_t>{1, -2, 2147483647, -2147483647 - 1}));
    QCOMPARE(f.get_f32_array("test.arr_f32"), (std::vector<float>{0.5f, -1.25f, 3.0e38f}));
    QCOMPARE(f.find("test.arr_bool")->as_array("test.arr_bool").element_type, value_type::boolean);
    QCOMPARE(f.find("test.arr_bool")->to_display_string(), std::string("[true, false, true]"));
    QCOMPARE(f.find("test.arr_u8")->as_array("test.arr_u8").element_type, value_type::uint8);
    QCOMPARE(f.get_i32_array("test.arr_u8"), (std::vector<int32_t>{0, 1, 255}));
    const auto & u64s = f.find("test.arr_u64")->as_array("test.arr_u64");
    QCOMPARE(u64s.element_type, value_type::uint64);
    QCOMPARE(u64s.elements.at(1).as_u64("test.arr_u64"), std::numeric_limits<uint64_t>::max());
    const auto & f64s = f.find("test.arr_f64")->as_array("test.arr_f64");
    QCOMPARE(f64s.element_type, value_type::float64);
    QCOMPARE(f64s.elements.at(1).as_f64("test.arr_f64"), -2.0e300);

    const auto & nested = f.find("test.nested")->as_array("test.nested");
    QCOMPARE(nested.element_type, value_type::array);
    QCOMPARE(nested.elements.size(), size_t{3});
    QCOMPARE(nested.elements[2].as_array("test.nested").element_type, value_type::int32);
    QCOMPARE(nested.elements[2].as_array("test.nested").elements[2].as_i64("test.nested"), int64_t{6});
    QCOMPARE(f.find("test.nested")->to_display_string(), std::string("[[1, 2], [3], [4, 5, 6]]"));
    QCOMPARE(f.find("test.nested_str")->to_display_string(), std::string("[[\"x\", \"y\"], [\"z\"]]"));
    QCOMPARE(f.find("test.arr_i32")->to_display_string(2), std::string("[1, -2, ... (4 elements)]"));
    QCOMPARE(f.find("test.f32")->to_display_string(), std::string("0.1"));

    QCOMPARE(f.tensors().size(), size_t{3});
    const auto & emb = f.tensor("token_embd.weight");
    QCOMPARE(emb.type, v4::dtype::f32);
    QCOMPARE(emb.shape, (std::vector<int64_t>{32, 2}));
    for (int i = 0; i < 64; ++i) {
        float v;
        std::memcpy(&v, emb.data + 4 * i, 4);
        QCOMPARE(v, float(i));
    }
    const auto & norm = f.tensor("output_norm.weight");
    QCOMPARE(norm.type, v4::dtype::f16);
    QCOMPARE(norm.shape, (std::vector<int64_t>{4}));
    QCOMPARE(norm.n_bytes, size_t{8});
    const auto & q = f.tensor("blk.0.attn_q.weight");
    QCOMPARE(q.type, v4::dtype::q8_0);
    QCOMPARE(q.shape, (std::vector<int64_t>{32, 2}));
    QCOMPARE(q.n_bytes, size_t{68});
    QCOMPARE(q.offset % 32, uint64_t{0});

    // Every prefix of a real gguf-py file fails cleanly or, once it holds all tensor data (gguf-py
    // pads the end of the file), parses (samples every 7th cut point).
    QFile file(fixturePath(QStringLiteral("gguf/all_types.gguf")));
    QVERIFY(file.open(QIODevice::ReadOnly));
    const QByteArray raw = file.readAll();
    const bytes      all(raw.begin(), raw.end());
    for (size_t n = 0; n < all.size(); n += 7) {
        const bytes       prefix(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(n));
        const std::string msg = parse_error(prefix);
        const bool        ok  = msg == "NO ERROR" && n >= size_t(q.data - emb.data) + f.data_offset() + q.n_bytes;
        QVERIFY2(ok || msg.rfind("gguf: ", 0) == 0, (std::to_string(n) + ": " + msg).c_str());
    }
    QCOMPARE(v4::gguf::file::from_memory(all).metadata().size(), f.metadata().size());
}

void TestGguf::typedGetters() {
    const bytes b = valid_builder().build();
    const auto  f = v4::gguf::file::from_memory(b);
    QVERIFY(f.find("missing") == nullptr);
    QVERIFY(!f.get_u32_opt("missing").has_value());
    QVERIFY(!f.get_string_opt("missing").has_value());
    QVERIFY(!f.get_f32_opt("missing").has_value());
    QVERIFY(!f.get_bool_opt("missing").has_value());
    QCOMPARE(f.get_u32_opt("llama.block_count").value(), 2u);
    QCOMPARE(f.get_string_opt("general.architecture").value(), std::string("llama"));

    auto expect = [](auto fn, std::initializer_list<const char *> words) {
        try {
            fn();
        } catch (const v4::Error & e) {
            return e.code() == v4::ErrorCode::format && contains_all(e.what(), words);
        }
        return false;
    };
    QVERIFY(expect([&] { (void) f.get_u32("missing"); }, {"'missing'", "missing"}));
    QVERIFY(expect([&] { (void) f.get_u32("general.architecture"); }, {"'general.architecture'", "string", "integer"}));
    QVERIFY(expect([&] { (void) f.get_u32_opt("general.architecture"); }, {"has type string"}));
    QVERIFY(expect([&] { (void) f.get_string("llama.block_count"); }, {"has type uint32", "expected string"}));
    QVERIFY(expect([&] { (void) f.get_f32("llama.block_count"); }, {"uint32", "expected float32"}));
    QVERIFY(expect([&] { (void) f.get_bool("llama.block_count"); }, {"expected bool"}));
    QVERIFY(expect([&] { (void) f.get_string_array("tokenizer.ggml.scores"); }, {"array of float32", "string"}));
    QVERIFY(expect([&] { (void) f.get_f32_array("tokenizer.ggml.tokens"); }, {"array of string", "float32"}));
    QVERIFY(expect([&] { (void) f.get_i32_array("general.architecture"); }, {"expected array"}));

    gguf_builder g;
    g.kv<uint64_t>("big", vt_u64, 1ull << 40);
    g.kv<int32_t>("neg", vt_i32, -5);
    g.kv_array<uint32_t>("big_arr", vt_u32, {1, 0xffffffffu});
    const bytes b2 = g.build();
    const auto  f2 = v4::gguf::file::from_memory(b2);
    QVERIFY(expect([&] { (void) f2.get_u32("big"); }, {"1099511627776", "does not fit in uint32"}));
    QVERIFY(expect([&] { (void) f2.get_u32("neg"); }, {"negative", "-5"}));
    QVERIFY(expect([&] { (void) f2.get_i32_array("big_arr"); }, {"element 1", "4294967295", "int32"}));
}

void TestGguf::honoursAlignment() {
    gguf_builder g;
    g.alignment = 64;
    g.kv<uint32_t>("general.alignment", vt_u32, 64);
    g.add_tensor("a", {8}, 0, 32);
    g.add_tensor("b", {4}, 1, 8);
    const bytes b = g.build();
    const auto  f = v4::gguf::file::from_memory(b);
    QCOMPARE(f.alignment(), uint64_t{64});
    QCOMPARE(f.data_offset() % 64, uint64_t{0});
    QCOMPARE(f.tensor("b").offset, uint64_t{64});
    QCOMPARE(f.tensor("b").type, v4::dtype::f16);
}

void TestGguf::acceptsVersion2() {
    gguf_builder g = valid_builder();
    g.version      = 2;
    const bytes b  = g.build();
    QCOMPARE(v4::gguf::file::from_memory(b).version(), 2u);
}

void TestGguf::everyPrefixFailsCleanly() {
    for (gguf_builder g : {valid_builder(), gguf_builder{}}) {
        const bytes full = g.build();
        QVERIFY(v4::gguf::file::from_memory(full).metadata().size() == g.kvs.size());
        for (size_t n = 0; n < full.size(); ++n) {
            const bytes prefix(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(n));
            const std::string msg = parse_error(prefix);
            QVERIFY2(msg.rfind("gguf: ", 0) == 0, (std::to_string(n) + ": " + msg).c_str());
            QVERIFY2(msg.find("truncated") != std::string::npos || msg.find("past the end") != std::string::npos ||
                         msg.find("cannot fit") != std::string::npos || msg.find("exceeds") != std::string::npos,
                     (std::to_string(n) + ": " + msg).c_str());
        }
    }
}

void TestGguf::rejectsBadMagic() {
    gguf_builder g = valid_builder();
    g.magic        = "GGML";
    EXPECT_FORMAT_ERROR(g.build(), "bad magic", "0x47474d4c", "not a GGUF file");
    EXPECT_FORMAT_ERROR(bytes{}, "truncated", "0 bytes");
    EXPECT_FORMAT_ERROR(bytes({'G', 'G'}), "truncated", "2 bytes");
}

void TestGguf::rejectsVersions() {
    gguf_builder g = valid_builder();
    g.version      = 1;
    EXPECT_FORMAT_ERROR(g.build(), "unsupported version 1", "obsolete", "2 and 3");
    g.version = 99;
    EXPECT_FORMAT_ERROR(g.build(), "unsupported version 99", "2 and 3");
    g.version = 0x03000000;
    EXPECT_FORMAT_ERROR(g.build(), "unsupported version 50331648", "big-endian");
}

void TestGguf::rejectsHugeCounts() {
    gguf_builder g         = valid_builder();
    g.n_tensors_override   = 1ull << 60;
    EXPECT_FORMAT_ERROR(g.build(), "tensor count 1152921504606846976", "cannot fit");
    g.n_tensors_override.reset();
    g.n_kv_override = std::numeric_limits<uint64_t>::max();
    EXPECT_FORMAT_ERROR(g.build(), "metadata count 18446744073709551615", "cannot fit");
    g.n_kv_override = 8; // one more than present: the 8th entry runs into the tensor table and then EOF
    const std::string msg = parse_error(g.build());
    QVERIFY2(msg.rfind("gguf: ", 0) == 0, msg.c_str());
}

void TestGguf::rejectsHugeStringAndArray() {
    {
        gguf_builder g;
        bytes        b;
        put<uint64_t>(b, 1ull << 63);
        g.kv_raw("s", vt_string, b);
        EXPECT_FORMAT_ERROR(g.build(), "key 's'", "string length 9223372036854775808", "exceeds");
    }
    {
        bytes key;
        put<uint64_t>(key, 0xffffffffffffull);
        key.resize(key.size() + 16, 0);
        gguf_builder g2;
        g2.kvs.push_back(key);
        EXPECT_FORMAT_ERROR(g2.build(), "metadata entry #0", "key length 281474976710655", "exceeds");
    }
    {
        gguf_builder g;
        bytes        b;
        put<uint32_t>(b, vt_u32);
        put<uint64_t>(b, 1ull << 62);
        g.kv_raw("arr", vt_array, b);
        EXPECT_FORMAT_ERROR(g.build(), "key 'arr'", "array count 4611686018427387904", "cannot fit");
    }
    {
        gguf_builder g; // 2^24 + 1 uint8 elements fit in the file but exceed the memory bound
        g.kv_array<uint8_t>("many", vt_u8, std::vector<uint8_t>((size_t{1} << 24) + 1, 0));
        EXPECT_FORMAT_ERROR(g.build(), "key 'many'", "array count 16777217", "16777216 array elements in total");
    }
    {
        gguf_builder g; // the bound is on the total: 1000 + (2^24 - 999) fails at the second key
        g.kv_array<uint8_t>("first", vt_u8, std::vector<uint8_t>(1000, 0));
        bytes b;
        put<uint32_t>(b, vt_u8);
        put<uint64_t>(b, (uint64_t{1} << 24) - 999);
        b.resize(b.size() + (size_t{1} << 24), 0);
        g.kv_raw("second", vt_array, b);
        EXPECT_FORMAT_ERROR(g.build(), "key 'second'", "array count 16776217", "in total");
    }
    {
        gguf_builder g; // array of strings: each element needs at least 8 bytes
        bytes        b;
        put<uint32_t>(b, vt_string);
        put<uint64_t>(b, 3);
        put<uint64_t>(b, 0);
        put<uint64_t>(b, 0);
        g.kv_raw("strs", vt_array, b);
        EXPECT_FORMAT_ERROR(g.build(), "key 'strs'", "array count 3", "cannot fit");
    }
}

void TestGguf::rejectsBadValues() {
    {
        gguf_builder g;
        g.kv<uint32_t>("x", 13, 0);
        EXPECT_FORMAT_ERROR(g.build(), "key 'x'", "unknown value type 13");
    }
    {
        gguf_builder g;
        g.kv<uint8_t>("b", vt_bool, 2);
        EXPECT_FORMAT_ERROR(g.build(), "key 'b'", "bool value 2", "neither 0 nor 1");
    }
    {
        gguf_builder g;
        bytes        b;
        put<uint32_t>(b, 77);
        put<uint64_t>(b, 0);
        g.kv_raw("a", vt_array, b);
        EXPECT_FORMAT_ERROR(g.build(), "key 'a'", "unknown array element type 77");
    }
    {
        gguf_builder g; // arrays nested 9 deep
        bytes        b;
        for (int i = 0; i < 9; ++i) {
            put<uint32_t>(b, vt_array);
            put<uint64_t>(b, 1);
        }
        put<uint32_t>(b, vt_u8);
        put<uint64_t>(b, 0);
        g.kv_raw("deep", vt_array, b);
        EXPECT_FORMAT_ERROR(g.build(), "key 'deep'", "nested more than 8");
    }
}

void TestGguf::rejectsDuplicates() {
    {
        gguf_builder g;
        g.kv<uint32_t>("k", vt_u32, 1);
        g.kv<uint32_t>("other", vt_u32, 1);
        g.kv<uint32_t>("k", vt_u32, 2);
        EXPECT_FORMAT_ERROR(g.build(), "duplicate metadata key 'k'", "#0", "#2");
    }
    {
        gguf_builder g;
        g.add_tensor("w", {4}, 0, 16);
        g.add_tensor("w", {4}, 0, 16);
        EXPECT_FORMAT_ERROR(g.build(), "duplicate tensor name 'w'", "#0", "#1");
    }
}

void TestGguf::rejectsBadAlignment() {
    for (uint32_t a : {0u, 48u, 3u}) {
        gguf_builder g;
        g.kv<uint32_t>("general.alignment", vt_u32, a);
        EXPECT_FORMAT_ERROR(g.build(), "general.alignment", std::to_string(a).c_str(), "not a nonzero power of two");
    }
    gguf_builder g;
    g.kv_string("general.alignment", "32");
    EXPECT_FORMAT_ERROR(g.build(), "general.alignment has type string", "unsigned integer");
}

void TestGguf::rejectsBadTensorShapes() {
    {
        gguf_builder g;
        g.add_tensor("t5", {1, 1, 1, 1, 1}, 0, 4);
        EXPECT_FORMAT_ERROR(g.build(), "tensor 't5'", "n_dims 5", "out of range");
    }
    {
        gguf_builder g;
        g.add_tensor("th", {1}, 0, 4);
        g.tensors[0].n_dims_override = 0xffffffffu;
        EXPECT_FORMAT_ERROR(g.build(), "tensor 'th'", "n_dims 4294967295");
    }
    {
        gguf_builder g;
        g.add_tensor("t0", {1}, 0, 4);
        g.tensors[0].n_dims_override = 0;
        EXPECT_FORMAT_ERROR(g.build(), "tensor 't0'", "n_dims 0");
    }
    {
        gguf_builder g;
        g.add_tensor("z", {4, 0}, 0, 0);
        EXPECT_FORMAT_ERROR(g.build(), "tensor 'z'", "dimension 1 is 0", "positive");
    }
    {
        gguf_builder g;
        g.add_tensor("neg", {1ull << 63}, 0, 0);
        EXPECT_FORMAT_ERROR(g.build(), "tensor 'neg'", "dimension 0 is -9223372036854775808");
    }
    {
        gguf_builder g;
        g.add_tensor("ovf", {1ull << 32, 1ull << 32}, 0, 0);
        EXPECT_FORMAT_ERROR(g.build(), "tensor 'ovf'", "element count", "[4294967296, 4294967296]", "overflows int64");
    }
    {
        gguf_builder g; // 2^62 f32 elements fit in int64 but their 2^64 bytes do not fit in size_t
        g.add_tensor("bytes", {1ull << 31, 1ull << 31}, 0, 0);
        EXPECT_FORMAT_ERROR(g.build(), "tensor 'bytes'", "data size", "f32", "overflows");
    }
    {
        gguf_builder g;
        g.add_tensor("q", {100, 2}, 12, 0);
        EXPECT_FORMAT_ERROR(g.build(), "tensor 'q'", "ne[0] = 100", "q4_K block size 256");
    }
}

void TestGguf::rejectsBadTensorTypes() {
    for (uint32_t id : {4u, 5u, 31u, 42u, 99u, 0xffffffffu}) {
        gguf_builder g;
        g.add_tensor("u", {32}, id, 64);
        EXPECT_FORMAT_ERROR(g.build(), "tensor 'u'", (" unknown tensor type id " + std::to_string(id)).c_str());
    }
    gguf_builder g; // known but unsupported types still parse, so `v4 inspect` can name them
    g.add_tensor("iq", {256}, 23 /* iq4_xs */, 136);
    const bytes b = g.build();
    const auto  f = v4::gguf::file::from_memory(b);
    QCOMPARE(f.tensor("iq").type, v4::dtype::iq4_xs);
    QVERIFY(!v4::traits(f.tensor("iq").type).supported);
}

void TestGguf::rejectsBadTensorPlacement() {
    {
        gguf_builder g;
        g.add_tensor("m", {4}, 0, 16);
        g.tensors[0].offset = 33;
        g.data_size         = 64;
        EXPECT_FORMAT_ERROR(g.build(), "tensor 'm'", "offset 33", "not a multiple of the alignment 32");
    }
    {
        gguf_builder g;
        g.add_tensor("blk.0.attn_q.weight", {1024}, 0, 4096);
        g.data_size     = 2000;
        const bytes b   = g.build();
        const auto  msg = parse_error(b);
        const size_t data_start = b.size() - 2000;
        QVERIFY2(contains_all(msg, {"tensor 'blk.0.attn_q.weight' data [offset", std::to_string(data_start).c_str(),
                                    "4096 bytes] lies past the end of the file", ("size " + std::to_string(b.size())).c_str()}),
                 msg.c_str());
    }
    {
        gguf_builder g; // offset near 2^64: the absolute position would overflow
        g.add_tensor("far", {4}, 0, 16);
        g.tensors[0].offset = std::numeric_limits<uint64_t>::max() - 31;
        EXPECT_FORMAT_ERROR(g.build(), "tensor 'far'", "data-section offset 18446744073709551584", "past the end");
    }
    {
        gguf_builder g; // file ends right after the tables, before the 32-aligned data section
        g.alignment = 1;
        g.add_tensor("t", {1}, 0, 0);
        EXPECT_FORMAT_ERROR(g.build(), "data section starts at offset 64", "past the end of the file (size 57)");
    }
}

void TestGguf::reportsIoErrors() {
    try {
        (void) v4::gguf::file::open("/nonexistent/x.gguf");
        QFAIL("no exception");
    } catch (const v4::Error & e) {
        QCOMPARE(e.code(), v4::ErrorCode::io);
        QVERIFY(contains_all(e.what(), {"cannot open", "/nonexistent/x.gguf"}));
    }
    try {
        (void) v4::gguf::file::open("/tmp");
        QFAIL("no exception");
    } catch (const v4::Error & e) {
        QCOMPARE(e.code(), v4::ErrorCode::io);
        QVERIFY(contains_all(e.what(), {"not a regular file"}));
    }
}

QTEST_APPLESS_MAIN(TestGguf)
#include "test_gguf.moc"
