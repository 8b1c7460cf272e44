// The GGUF writer: what it writes reads back through our reader with every metadata type, the
// tensor data at aligned offsets; a failing tensor leaves neither a partial nor a damaged file.
#include <QFile>
#include <QTemporaryDir>
#include <QTest>

#include <cstring>
#include <fstream>

#include "format/gguf.h"
#include "format/gguf_writer.h"
#include "v4/error.h"

using namespace v4::gguf;

namespace {

value scalar(value_type t, auto v) {
    value x;
    x.type = t;
    x.data = v;
    return x;
}

} // namespace

class TestGgufWriter : public QObject {
    Q_OBJECT
private slots:
    void roundTrip() {
        QTemporaryDir dir;
        const std::string path = dir.filePath("t.gguf").toStdString();
        writer w;
        value::array_t arr;
        arr.element_type = value_type::string;
        arr.elements     = {scalar(value_type::string, std::string("a")), scalar(value_type::string, std::string("bc"))};
        value arrv;
        arrv.type = value_type::array;
        arrv.data = arr;
        w.set_metadata({{"general.architecture", scalar(value_type::string, std::string("llama"))},
                        {"general.alignment", scalar(value_type::uint32, uint64_t{64})},
                        {"x.i8", scalar(value_type::int8, int64_t{-5})},
                        {"x.f32", scalar(value_type::float32, 0.25)},
                        {"x.u64", scalar(value_type::uint64, uint64_t{1} << 40)},
                        {"x.bool", scalar(value_type::boolean, true)},
                        {"x.arr", arrv}});
        w.set_value("x.added", scalar(value_type::int32, int64_t{-7}));
        w.erase_metadata("x.bool");
        const float a[3] = {1.0f, 2.0f, 3.0f};
        w.add_tensor("a", v4::dtype::f32, {3}, 12, [&](uint8_t * d) { std::memcpy(d, a, 12); });
        w.add_tensor("b", v4::dtype::q8_0, {32, 2}, 68, [](uint8_t * d) { std::memset(d, 0x11, 68); });
        w.write(path);

        const file f = file::open(path);
        QCOMPARE(f.version(), 3u);
        QCOMPARE(f.alignment(), uint64_t{64});
        QCOMPARE(f.get_string("general.architecture"), std::string("llama"));
        QCOMPARE(f.find("x.i8")->as_i64("x.i8"), int64_t{-5});
        QCOMPARE(f.get_f32("x.f32"), 0.25f);
        QCOMPARE(f.find("x.u64")->as_u64("x.u64"), uint64_t{1} << 40);
        QCOMPARE(f.find("x.added")->as_i64("x.added"), int64_t{-7});
        QVERIFY(f.find("x.bool") == nullptr);
        QCOMPARE(f.get_string_array("x.arr"), (std::vector<std::string>{"a", "bc"}));
        QCOMPARE(f.tensors().size(), size_t{2});
        QCOMPARE(std::memcmp(f.tensor("a").data, a, 12), 0);
        QCOMPARE(f.tensor("b").offset % 64, uint64_t{0});
        QCOMPARE(f.tensor("b").shape, (std::vector<int64_t>{32, 2}));
        QCOMPARE(f.tensor("b").data[67], uint8_t{0x11});
    }

    void badTensorsAreRefused() {
        writer w;
        QVERIFY_THROWS_EXCEPTION(v4::Error, w.add_tensor("x", v4::dtype::q4_k, {100, 2}, 10, [](uint8_t *) {}));
        QVERIFY_THROWS_EXCEPTION(v4::Error, w.add_tensor("x", v4::dtype::f32, {4}, 15, [](uint8_t *) {}));
        w.add_tensor("x", v4::dtype::f32, {4}, 16, [](uint8_t *) {});
        QVERIFY_THROWS_EXCEPTION(v4::Error, w.add_tensor("x", v4::dtype::f32, {4}, 16, [](uint8_t *) {}));
        QVERIFY_THROWS_EXCEPTION(v4::Error, w.set_metadata({{"k", scalar(value_type::boolean, true)},
                                                            {"k", scalar(value_type::boolean, false)}}));
    }

    void failedWriteKeepsTheOldFile() {
        QTemporaryDir dir;
        const std::string path = dir.filePath("t.gguf").toStdString();
        std::ofstream(path) << "old";
        writer w;
        w.add_tensor("x", v4::dtype::f32, {4}, 16, [](uint8_t *) { throw v4::Error(v4::ErrorCode::cancelled, "stop"); });
        QVERIFY_THROWS_EXCEPTION(v4::Error, w.write(path));
        std::ifstream in(path);
        std::string   s;
        in >> s;
        QCOMPARE(s, std::string("old"));
        QVERIFY(!QFile::exists(QString::fromStdString(path + ".partial")));
    }
};

QTEST_APPLESS_MAIN(TestGgufWriter)
#include "test_gguf_writer.moc"
