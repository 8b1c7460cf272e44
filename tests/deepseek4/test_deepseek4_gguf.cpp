// DeepSeek-V4 from GGUF (llama.cpp's deepseek4 names; fixtures written by
// tools/reference/convert_deepseek4_gguf.py) and through v4::model / v4::session:
// the same logits as the safetensors checkpoint, bit for bit; precise errors for broken files;
// session prefill, decode and prefix reuse equal the reference forward.
#include <QFile>
#include <QTemporaryDir>
#include <QTest>

#include <algorithm>
#include <cstring>
#include <fstream>

#include "format/gguf.h"
#include "models/deepseek4/deepseek4.h"
#include "models/deepseek4/deepseek4_gguf.h"
#include "models/deepseek4/safetensors.h"
#include "test_paths.h"
#include "v4/error.h"
#include "v4/model.h"
#include "v4/session.h"

using namespace v4::deepseek4;

namespace {

std::string fixture_dir(const QString & config) {
    return v4test::fixturePath(QStringLiteral("deepseek4/%1").arg(config)).toStdString();
}

std::vector<int32_t> fixture_ids(const std::string & dir) {
    std::vector<int32_t> ids;
    for (int64_t id : safetensors_file(dir + "/expected.safetensors").i64("input_ids")) ids.push_back(int32_t(id));
    return ids;
}

std::vector<uint8_t> read_bytes(const std::string & path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Replaces the first occurrence of `from` by `to` (same length) in the file image.
void patch(std::vector<uint8_t> & bytes, const std::string & from, const std::string & to) {
    const auto it = std::search(bytes.begin(), bytes.end(), from.begin(), from.end());
    QVERIFY(it != bytes.end());
    std::copy(to.begin(), to.end(), it);
}

void expect_gguf_error(const std::vector<uint8_t> & bytes, v4::ErrorCode code, const QString & expected) {
    try {
        const v4::gguf::file f = v4::gguf::file::from_memory(bytes, "broken.gguf");
        d4_load_gguf(f);
        QFAIL("loaded a broken GGUF");
    } catch (const v4::Error & e) {
        QVERIFY2(e.code() == code, e.what());
        QVERIFY2(QString::fromUtf8(e.what()).contains(expected), e.what());
    }
}

} // namespace

class TestDeepseek4Gguf : public QObject {
    Q_OBJECT

private slots:
    void gguf_logits_equal_safetensors_data() {
        QTest::addColumn<QString>("config");
        QTest::newRow("mixed4") << QStringLiteral("mixed4");
        QTest::newRow("hca_first3") << QStringLiteral("hca_first3");
    }

    void gguf_logits_equal_safetensors() {
        QFETCH(QString, config);
        const std::string dir = fixture_dir(config);
        const d4_model from_st = d4_load(dir);
        const v4::gguf::file f = v4::gguf::file::open(dir + "/model.gguf");
        const d4_model from_gguf = d4_load_gguf(f);
        QVERIFY(from_gguf.cfg.attn_types == from_st.cfg.attn_types);
        QVERIFY(from_gguf.cfg.hash_moe == from_st.cfg.hash_moe);
        const std::vector<int32_t> ids = fixture_ids(dir);
        const std::vector<float> a = d4_forward(from_st, ids), b = d4_forward(from_gguf, ids);
        QCOMPARE(a.size(), b.size());
        QVERIFY(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);  // identical, not just close
    }

    void missing_gguf_tensor_is_named() {
        std::vector<uint8_t> bytes = read_bytes(fixture_dir(QStringLiteral("mixed4")) + "/model.gguf");
        patch(bytes, "blk.1.indexer.attn_q_b.weight", "blk.1.indexer.attn_x_b.weight");
        expect_gguf_error(bytes, v4::ErrorCode::format, QStringLiteral("missing tensor 'blk.1.indexer.attn_q_b.weight'"));
    }

    void wrong_gguf_key_is_named() {
        std::vector<uint8_t> bytes = read_bytes(fixture_dir(QStringLiteral("mixed4")) + "/model.gguf");
        patch(bytes, "deepseek4.attention.q_lora_rank", "deepseek4.attention.x_lora_rank");
        expect_gguf_error(bytes, v4::ErrorCode::format, QStringLiteral("deepseek4.attention.q_lora_rank"));
    }

    void wrong_gguf_shape_is_named() {
        // blk.2.attn_sinks.weight is [4]; the dim is the u64 after the name and its u32 n_dims.
        std::vector<uint8_t> bytes = read_bytes(fixture_dir(QStringLiteral("mixed4")) + "/model.gguf");
        const std::string name = "blk.2.attn_sinks.weight";
        const auto it = std::search(bytes.begin(), bytes.end(), name.begin(), name.end());
        QVERIFY(it != bytes.end());
        const size_t dim_at = size_t(it - bytes.begin()) + name.size() + 4;
        uint64_t dim = 0;
        std::memcpy(&dim, &bytes[dim_at], 8);
        QCOMPARE(dim, uint64_t(4));
        dim = 2;
        std::memcpy(&bytes[dim_at], &dim, 8);
        expect_gguf_error(bytes, v4::ErrorCode::format,
                          QStringLiteral("tensor 'blk.2.attn_sinks.weight' has ggml shape [2], expected [4]"));
    }

    void session_matches_reference_with_prefix_reuse() {
        const std::string dir = fixture_dir(QStringLiteral("mixed4"));
        const d4_model ref = d4_load(dir);
        const std::vector<int32_t> ids = fixture_ids(dir);
        const std::vector<float> full = d4_forward(ref, ids);
        const int V = ref.cfg.vocab;
        auto row = [&](size_t pos) { return std::vector<float>(full.begin() + std::ptrdiff_t(pos * V), full.begin() + std::ptrdiff_t((pos + 1) * V)); };
        auto close = [&](std::span<const float> got, const std::vector<float> & want) {
            float worst = 0, scale = 0;
            for (int v = 0; v < V; v++) {
                worst = std::max(worst, std::fabs(got[size_t(v)] - want[size_t(v)]));
                scale = std::max(scale, std::fabs(want[size_t(v)]));
            }
            return worst <= 1e-5f * scale;
        };

        const auto model = v4::model::load(dir + "/model.gguf");
        QCOMPARE(model->info().architecture, std::string("deepseek4"));
        QVERIFY(model->info().n_params_active > 0 && model->info().n_params_active < model->info().n_params);
        v4::session s(model, {.n_ctx = 512, .n_threads = 1, .n_batch = 64});
        const std::vector<int32_t> first(ids.begin(), ids.begin() + 200);
        s.prefill(first);
        QVERIFY(close(s.logits(), row(199)));
        // Append (the chat case): the 200 cached tokens are reused.
        const v4::prefill_stats st = s.prefill(std::vector<int32_t>(ids.begin(), ids.begin() + 280));
        QCOMPARE(st.n_reused, 200u);
        QVERIFY(close(s.logits(), row(279)));
        for (size_t i = 280; i < ids.size(); i++) QVERIFY(close(s.decode_one(ids[i]), row(i)));
        // Rewind to a shorter prefix and branch: the state is rebuilt from the kept tokens.
        const v4::prefill_stats back = s.prefill(std::vector<int32_t>(ids.begin(), ids.begin() + 150));
        QCOMPARE(back.n_reused, 149u);
        QVERIFY(close(s.logits(), row(149)));
        QCOMPARE(model->kv_bytes(1 << 20).bytes_per_token, 2.0 * (128 + 128) / 4 + 128.0 / 128);
    }

    // The session's thread count reaches the V4 forward (arch_model::new_state): 2 threads give the
    // same logits as 1, bit for bit, through a prefill, decodes and a rewind (the replay).
    void session_threads_leave_logits_identical() {
        const std::string dir = fixture_dir(QStringLiteral("mixed4"));
        const std::vector<int32_t> ids = fixture_ids(dir);
        const auto model = v4::model::load(dir + "/model.gguf");
        v4::session one(model, {.n_ctx = 512, .n_threads = 1, .n_batch = 64});
        v4::session two(model, {.n_ctx = 512, .n_threads = 2, .n_batch = 64});
        const std::vector<int32_t> prompt(ids.begin(), ids.begin() + 140);
        one.prefill(prompt);
        two.prefill(prompt);
        QVERIFY(std::ranges::equal(one.logits(), two.logits()));
        for (size_t i = 140; i < 150; i++) {
            const auto l1 = one.decode_one(ids[i]);
            const std::vector<float> got(l1.begin(), l1.end());
            QVERIFY2(std::ranges::equal(got, two.decode_one(ids[i])), qPrintable(QStringLiteral("position %1").arg(i)));
        }
        const std::vector<int32_t> back(ids.begin(), ids.begin() + 100);
        one.prefill(back);
        two.prefill(back);
        QVERIFY(std::ranges::equal(one.logits(), two.logits()));
    }

    // A snapshot after 203 tokens (open CSA and HCA windows) restores into a fresh session, which
    // then decodes exactly as the original; damaged snapshots are format errors and change nothing.
    void session_snapshot_restores_the_state() {
        const std::string dir = fixture_dir(QStringLiteral("mixed4"));
        const std::vector<int32_t> ids = fixture_ids(dir);
        const auto model = v4::model::load(dir + "/model.gguf");
        v4::session a(model, {.n_ctx = 512, .n_threads = 1, .n_batch = 64});
        a.prefill(std::vector<int32_t>(ids.begin(), ids.begin() + 203));
        const std::vector<uint8_t> snap = a.save_state();
        v4::session b(model, {.n_ctx = 512, .n_threads = 1, .n_batch = 64});
        b.load_state(snap);
        QVERIFY(std::ranges::equal(a.logits(), b.logits()));
        for (size_t i = 203; i < 260; i++) {
            const auto la = a.decode_one(ids[i]);
            const std::vector<float> got_a(la.begin(), la.end());
            const auto lb = b.decode_one(ids[i]);
            QVERIFY2(std::ranges::equal(got_a, lb), qPrintable(QStringLiteral("position %1").arg(i)));
        }
        // Truncated, and a state from a shorter prefix spliced in: both rejected, session c untouched.
        v4::session c(model, {.n_ctx = 512, .n_threads = 1, .n_batch = 64});
        const std::vector<uint8_t> cut(snap.begin(), snap.end() - 5);
        QVERIFY_THROWS_EXCEPTION(v4::Error, c.load_state(cut));
        std::vector<uint8_t> bad = snap;
        bad[bad.size() - 4] ^= 0x7f;  // the last compressor's entry count
        try {
            c.load_state(bad);
            QFAIL("a wrong entry count was accepted");
        } catch (const v4::Error & e) {
            QCOMPARE(e.code(), v4::ErrorCode::format);
            QVERIFY2(QString::fromStdString(e.what()).contains(QStringLiteral("entries, expected")), e.what());
        }
        c.prefill(std::vector<int32_t>(ids.begin(), ids.begin() + 10));
        QCOMPARE(c.n_past(), 10u);
    }
};

QTEST_GUILESS_MAIN(TestDeepseek4Gguf)
#include "test_deepseek4_gguf.moc"
