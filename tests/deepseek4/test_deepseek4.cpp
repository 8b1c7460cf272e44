// DeepSeek-V4 fp32 reference forward against transformers 5.23 (fixtures from
// tools/reference/make_deepseek4_fixtures.py): prefill logits at every one of the 300 positions,
// the same through chunked prefill with a carried state, the 64-token greedy continuation (stateless
// and with single-token decode steps), and precise errors for broken weights and configs.
//
// Error measure, per position t: rel(t) = max_v |got[t,v] - ref[t,v]| / max_v |ref[t,v]|;
// the test takes the maximum over t and requires <= 1e-3 (fp32 vs fp32 lands near 1e-6).
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QTest>

#include <cmath>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>

#include "models/deepseek4/deepseek4.h"
#include "models/deepseek4/deepseek4_index.h"
#include "models/deepseek4/safetensors.h"
#include "test_paths.h"
#include "v4/error.h"

using namespace v4::deepseek4;

namespace {

constexpr double max_rel_error = 1e-3;

std::string fixture_dir(const char * config) {
    return v4test::fixturePath(QStringLiteral("deepseek4/%1").arg(QLatin1String(config))).toStdString();
}

// max over positions of max_v |got - ref| / max_v |ref|; sets worst_pos.
double max_rel_error_of(const std::vector<float> & got, const std::vector<float> & ref, int T, int V, int & worst_pos) {
    double worst = 0.0;
    worst_pos = -1;
    for (int t = 0; t < T; t++) {
        double diff = 0.0, scale = 0.0;
        for (int v = 0; v < V; v++) {
            const size_t i = size_t(t) * V + v;
            diff = std::max(diff, std::isfinite(got[i]) ? double(std::fabs(got[i] - ref[i])) : INFINITY);
            scale = std::max(scale, double(std::fabs(ref[i])));
        }
        if (diff / scale > worst) {
            worst = diff / scale;
            worst_pos = t;
        }
    }
    return worst;
}

std::vector<int32_t> to_i32(const std::vector<int64_t> & v) { return std::vector<int32_t>(v.begin(), v.end()); }

// Minimal safetensors writer for the broken-file cases: F32 tensors, plus I64 for integer ones.
struct st_entry {
    std::string dtype;
    std::vector<int64_t> shape;
    std::vector<uint8_t> bytes;
};

void write_safetensors(const std::string & path, const std::map<std::string, st_entry> & tensors) {
    std::string header = "{";
    size_t offset = 0;
    for (const auto & [name, t] : tensors) {
        std::string shape;
        for (size_t i = 0; i < t.shape.size(); i++) {
            if (i) shape.push_back(',');
            shape.append(std::to_string(t.shape[i]));
        }
        if (header.size() > 1) header.push_back(',');
        header.append("\"").append(name).append("\":{\"dtype\":\"").append(t.dtype);
        header.append("\",\"shape\":[").append(shape).append("],\"data_offsets\":[");
        header.append(std::to_string(offset)).append(",").append(std::to_string(offset + t.bytes.size())).append("]}");
        offset += t.bytes.size();
    }
    header += "}";
    std::ofstream out(path, std::ios::binary);
    const uint64_t len = header.size();
    for (int i = 0; i < 8; i++) out.put(char((len >> (8 * i)) & 0xFF));
    out << header;
    for (const auto & [name, t] : tensors) out.write(reinterpret_cast<const char *>(t.bytes.data()), std::streamsize(t.bytes.size()));
}

// The fixture's weights as writable entries.
std::map<std::string, st_entry> fixture_tensors(const std::string & path) {
    const safetensors_file st(path);
    std::map<std::string, st_entry> out;
    for (const auto & [name, info] : st.tensors()) {
        st_entry e{info.dtype == "I64" ? "I64" : "F32", info.shape, {}};
        if (e.dtype == "I64") {
            const std::vector<int64_t> v = st.i64(name);
            e.bytes.resize(v.size() * 8);
            std::memcpy(e.bytes.data(), v.data(), e.bytes.size());
        } else {
            const std::vector<float> v = st.f32(name);
            e.bytes.resize(v.size() * 4);
            std::memcpy(e.bytes.data(), v.data(), e.bytes.size());
        }
        out.emplace(name, std::move(e));
    }
    return out;
}

} // namespace

class TestDeepseek4 : public QObject {
    Q_OBJECT

    QTemporaryDir m_dir;

    std::string tmp(const char * name) { return (m_dir.path() + QLatin1Char('/') + QLatin1String(name)).toStdString(); }

    static void expect_error(const std::string & config, const std::string & weights, v4::ErrorCode code,
                             const QString & expected) {
        try {
            d4_load(config, weights);
            QFAIL("loaded a broken model");
        } catch (const v4::Error & e) {
            const QString msg = QString::fromUtf8(e.what());
            QVERIFY2(e.code() == code, e.what());
            QVERIFY2(msg.contains(expected), qPrintable(QStringLiteral("message '%1' lacks '%2'").arg(msg, expected)));
        }
    }

    std::string write_config(const char * name, const std::function<void(QJsonObject &)> & edit) {
        QFile in(QString::fromStdString(fixture_dir("mixed4") + "/config.json"));
        if (!in.open(QIODevice::ReadOnly)) qFatal("cannot read fixture config");
        QJsonObject obj = QJsonDocument::fromJson(in.readAll()).object();
        edit(obj);
        const std::string path = tmp(name);
        QFile out(QString::fromStdString(path));
        if (!out.open(QIODevice::WriteOnly)) qFatal("cannot write temp config");
        out.write(QJsonDocument(obj).toJson());
        return path;
    }

private slots:
    void prefill_matches_transformers_data() {
        QTest::addColumn<QString>("config");
        QTest::newRow("mixed4 (SWA, CSA, HCA, CSA; 2 hash + 2 learned MoE; 4 streams; YaRN)") << QStringLiteral("mixed4");
        QTest::newRow("hca_first3 (HCA, CSA, SWA; 1 hash + 2 learned MoE; 2 streams)") << QStringLiteral("hca_first3");
    }

    void prefill_matches_transformers() {
        QFETCH(QString, config);
        const std::string dir = fixture_dir(config.toUtf8().constData());
        const d4_model model = d4_load(dir);
        const safetensors_file expected(dir + "/expected.safetensors");
        const std::vector<int32_t> ids = to_i32(expected.i64("input_ids"));
        const int V = model.cfg.vocab, T = int(ids.size());
        const std::vector<float> ref = expected.f32("logits", {T, V});
        QVERIFY(T > 2 * model.cfg.hca_ratio);  // at least two HCA windows close

        const std::vector<float> got = d4_forward(model, ids);
        QCOMPARE(got.size(), ref.size());
        double worst = 0.0, norm = 0.0;
        int worst_pos = -1;
        for (int t = 0; t < T; t++) {
            double diff = 0.0, scale = 0.0;
            for (int v = 0; v < V; v++) {
                const size_t i = size_t(t) * V + v;
                QVERIFY2(std::isfinite(got[i]), "non-finite logit");
                diff = std::max(diff, double(std::fabs(got[i] - ref[i])));
                scale = std::max(scale, double(std::fabs(ref[i])));
                norm += double(got[i]) * got[i];
            }
            if (diff / scale > worst) {
                worst = diff / scale;
                worst_pos = t;
            }
        }
        QVERIFY(norm > 0.0);  // a test that passes for nothing would have all-zero logits
        qInfo("%s: max rel error %.3g (position %d of %d)", qPrintable(config), worst, worst_pos, T);
        QVERIFY2(worst <= max_rel_error,
                 qPrintable(QStringLiteral("max rel error %1 at position %2").arg(worst).arg(worst_pos)));
    }

    void chunked_prefill_matches_data() { prefill_matches_transformers_data(); }

    // The same 300 tokens in chunks of 1, 130, 3, 7 and 159 (boundaries inside CSA and HCA windows
    // and inside the sliding window) through one carried state.
    void chunked_prefill_matches() {
        QFETCH(QString, config);
        const std::string dir = fixture_dir(config.toUtf8().constData());
        const d4_model model = d4_load(dir);
        const safetensors_file expected(dir + "/expected.safetensors");
        const std::vector<int32_t> ids = to_i32(expected.i64("input_ids"));
        const int V = model.cfg.vocab, T = int(ids.size());
        const std::vector<float> ref = expected.f32("logits", {T, V});
        d4_state state = d4_new_state(model);
        std::vector<float> got;
        size_t at = 0;
        for (size_t len : {size_t(1), size_t(130), size_t(3), size_t(7), size_t(T) - 141}) {
            const std::vector<int32_t> chunk(ids.begin() + std::ptrdiff_t(at), ids.begin() + std::ptrdiff_t(at + len));
            const std::vector<float> logits = d4_eval(model, state, chunk);
            got.insert(got.end(), logits.begin(), logits.end());
            at += len;
        }
        QCOMPARE(state.n_past, T);
        int worst_pos = -1;
        const double worst = max_rel_error_of(got, ref, T, V, worst_pos);
        qInfo("%s chunked: max rel error %.3g (position %d)", qPrintable(config), worst, worst_pos);
        QVERIFY2(worst <= max_rel_error, qPrintable(QStringLiteral("max rel error %1 at position %2").arg(worst).arg(worst_pos)));
    }

    void greedy_decode_matches_data() { prefill_matches_transformers_data(); }

    // Prefill once, then 63 single-token decode steps with the carried state.
    void greedy_decode_matches() {
        QFETCH(QString, config);
        const std::string dir = fixture_dir(config.toUtf8().constData());
        const d4_model model = d4_load(dir);
        const safetensors_file expected(dir + "/expected.safetensors");
        const std::vector<int32_t> ids = to_i32(expected.i64("input_ids"));
        const std::vector<int32_t> want = to_i32(expected.i64("continuation"));
        const std::vector<int32_t> got = d4_greedy_decode(model, ids, int(want.size()));
        for (size_t i = 0; i < want.size(); i++) {
            QVERIFY2(got[i] == want[i], qPrintable(QStringLiteral("token %1: got %2, transformers %3")
                                                       .arg(i).arg(got[i]).arg(want[i])));
        }
    }

    void greedy_continuation_matches_data() { prefill_matches_transformers_data(); }

    void greedy_continuation_matches() {
        QFETCH(QString, config);
        const std::string dir = fixture_dir(config.toUtf8().constData());
        const d4_model model = d4_load(dir);
        const safetensors_file expected(dir + "/expected.safetensors");
        const std::vector<int32_t> ids = to_i32(expected.i64("input_ids"));
        const std::vector<int32_t> want = to_i32(expected.i64("continuation"));
        const std::vector<int32_t> got = d4_greedy(model, ids, int(want.size()));
        for (size_t i = 0; i < want.size(); i++) {
            QVERIFY2(got[i] == want[i], qPrintable(QStringLiteral("token %1: got %2, transformers %3")
                                                       .arg(i).arg(got[i]).arg(want[i])));
        }
    }

    void missing_tensor_is_named() {
        const std::string dir = fixture_dir("mixed4");
        auto tensors = fixture_tensors(dir + "/model.safetensors");
        tensors.erase("model.layers.1.self_attn.compressor.indexer.q_b_proj.weight");
        const std::string weights = tmp("missing.safetensors");
        write_safetensors(weights, tensors);
        expect_error(dir + "/config.json", weights, v4::ErrorCode::format,
                     QStringLiteral("missing tensor 'model.layers.1.self_attn.compressor.indexer.q_b_proj.weight'"));
    }

    void wrong_shape_is_named() {
        const std::string dir = fixture_dir("mixed4");
        auto tensors = fixture_tensors(dir + "/model.safetensors");
        st_entry & sinks = tensors.at("model.layers.2.self_attn.sinks");  // [4] -> [2, 2]
        sinks.shape = {2, 2};
        const std::string weights = tmp("shape.safetensors");
        write_safetensors(weights, tensors);
        expect_error(dir + "/config.json", weights, v4::ErrorCode::format,
                     QStringLiteral("tensor 'model.layers.2.self_attn.sinks' has shape [2, 2], expected [4]"));
    }

    void truncated_data_is_rejected() {
        const std::string dir = fixture_dir("mixed4");
        auto tensors = fixture_tensors(dir + "/model.safetensors");
        st_entry & norm = tensors.at("model.norm.weight");
        norm.bytes.resize(norm.bytes.size() - 4);  // header says 64 floats, data holds 63
        const std::string weights = tmp("truncated.safetensors");
        write_safetensors(weights, tensors);
        expect_error(dir + "/config.json", weights, v4::ErrorCode::format,
                     QStringLiteral("tensor 'model.norm.weight' is 252 bytes but F32 [64] needs 256"));
    }

    void bad_header_is_rejected() {
        const std::string config = fixture_dir("mixed4") + "/config.json";
        const std::string weights = tmp("header.safetensors");
        {
            std::ofstream out(weights, std::ios::binary);
            const uint64_t len = 1000;  // claims a 1000-byte header in a 10-byte file
            for (int i = 0; i < 8; i++) out.put(char((len >> (8 * i)) & 0xFF));
            out << "{}";
        }
        expect_error(config, weights, v4::ErrorCode::format, QStringLiteral("header length 1000 exceeds the file size 10"));
        const std::string broken = write_config("broken.json", [](QJsonObject &) {});
        {
            std::ofstream out(broken, std::ios::binary | std::ios::app);
            out << "}";
        }
        expect_error(broken, fixture_dir("mixed4") + "/model.safetensors", v4::ErrorCode::format,
                     QStringLiteral("invalid JSON at byte"));
    }

    void compress_ratios_length_must_match_layers() {
        const std::string weights = fixture_dir("mixed4") + "/model.safetensors";
        const std::string config = write_config("ratios.json", [](QJsonObject & o) {
            o.remove(QStringLiteral("layer_types"));
            o.insert(QStringLiteral("compress_ratios"), QJsonArray{0, 4, 128});
        });
        expect_error(config, weights, v4::ErrorCode::format,
                     QStringLiteral("compress_ratios has 3 entries but num_hidden_layers is 4"));
        const std::string types = write_config("types.json", [](QJsonObject & o) {
            o.insert(QStringLiteral("mlp_layer_types"), QJsonArray{QStringLiteral("hash_moe"), QStringLiteral("moe")});
        });
        expect_error(types, weights, v4::ErrorCode::format,
                     QStringLiteral("mlp_layer_types has 2 entries but num_hidden_layers is 4"));
    }

    void yarn_table_matches_the_spec_example() {
        // Spec §2.5 worked example: r = 64, base 160000, original length 65536, factor 16, beta 32 / 1
        // -> low 15, high 25: pairs 0-15 keep their frequency, pairs 25-31 are divided by 16.
        const d4_rope plain = d4_rope_default(160000.0f, 64);
        const d4_rope yarn = d4_rope_yarn(160000.0f, 64, 16.0f, 65536.0, 32.0f, 1.0f, true);
        QCOMPARE(yarn.inv_freq.size(), size_t(32));
        for (int i = 0; i <= 15; i++) QCOMPARE(yarn.inv_freq[size_t(i)], plain.inv_freq[size_t(i)]);
        for (int i = 25; i < 32; i++) QVERIFY(std::fabs(yarn.inv_freq[size_t(i)] * 16.0f / plain.inv_freq[size_t(i)] - 1.0f) < 1e-6f);
        QVERIFY(yarn.inv_freq[20] < plain.inv_freq[20] && yarn.inv_freq[20] > plain.inv_freq[20] / 16.0f);
    }

    void original_compress_ratios_load_like_layer_types() {
        const std::string weights = fixture_dir("mixed4") + "/model.safetensors";
        const std::string config = write_config("legacy.json", [](QJsonObject & o) {
            o.remove(QStringLiteral("layer_types"));
            o.insert(QStringLiteral("compress_ratios"), QJsonArray{0, 4, 128, 4});
        });
        const d4_model legacy = d4_load(config, weights);
        const d4_model modern = d4_load(fixture_dir("mixed4"));
        QVERIFY(legacy.cfg.attn_types == modern.cfg.attn_types);
    }

    void unknown_rope_type_is_unsupported() {
        const std::string weights = fixture_dir("mixed4") + "/model.safetensors";
        const std::string config = write_config("yarn.json", [](QJsonObject & o) {
            QJsonObject rp = o.value(QStringLiteral("rope_parameters")).toObject();
            QJsonObject compress = rp.value(QStringLiteral("compress")).toObject();
            compress.insert(QStringLiteral("rope_type"), QStringLiteral("longrope"));
            rp.insert(QStringLiteral("compress"), compress);
            o.insert(QStringLiteral("rope_parameters"), rp);
        });
        expect_error(config, weights, v4::ErrorCode::unsupported,
                     QStringLiteral("compress rope_type 'longrope' (only default and yarn)"));
    }

    void indexer_top_k_breaks_ties_towards_lower_entries() {
        const std::vector<float> scores = {0.5f, 0.0f, 2.0f, 0.0f, 0.0f, 1.0f, 0.0f};
        QCOMPARE(top_k_entries(scores.data(), 7, 4), (std::vector<int>{0, 1, 2, 5}));
        QCOMPARE(top_k_entries(scores.data(), 7, 5), (std::vector<int>{0, 1, 2, 3, 5}));
        QCOMPARE(top_k_entries(scores.data(), 3, 5), (std::vector<int>{0, 1, 2}));
        const d4_model m = d4_load(fixture_dir("mixed4"));
        const std::vector<int32_t> ids(40, 3);
        d4_state a = d4_new_state(m), b = d4_new_state(m);
        const std::vector<float> all = d4_eval(m, a, ids), last = d4_eval(m, b, ids, false);
        QCOMPARE(last.size(), size_t(m.cfg.vocab));
        // The head's matmul sums one row (last only) in another order than 40 rows, so the last
        // bits may differ; a different selection would move the logits far more than this.
        int worst_pos = -1;
        const std::vector<float> all_last(all.end() - m.cfg.vocab, all.end());
        QVERIFY(max_rel_error_of(last, all_last, 1, m.cfg.vocab, worst_pos) <= 1e-5);
    }

    // Acceptance 4: each inconsistent config names the key and the numbers.
    void inconsistent_config_is_named_data() {
        QTest::addColumn<QString>("key");
        QTest::addColumn<QJsonValue>("value");
        QTest::addColumn<int>("code");
        QTest::addColumn<QString>("expected");
        const int format = int(v4::ErrorCode::format), unsupported = int(v4::ErrorCode::unsupported);
        QTest::newRow("heads not divisible by o_groups")
            << QStringLiteral("o_groups") << QJsonValue(3) << format
            << QStringLiteral("num_attention_heads 4 is not divisible by o_groups 3");
        QTest::newRow("top-k above the expert count")
            << QStringLiteral("num_experts_per_tok") << QJsonValue(7) << format
            << QStringLiteral("num_experts_per_tok 7 exceeds n_routed_experts 6");
        QTest::newRow("indexer top-k zero")
            << QStringLiteral("index_topk") << QJsonValue(0) << format
            << QStringLiteral("'index_topk' = 0.000000 is not an integer in [1, ");
        QTest::newRow("fractional head count")
            << QStringLiteral("num_attention_heads") << QJsonValue(2.5) << format
            << QStringLiteral("'num_attention_heads' = 2.500000 is not an integer");
        QTest::newRow("unknown activation")
            << QStringLiteral("hidden_act") << QJsonValue(QStringLiteral("gelu")) << unsupported
            << QStringLiteral("hidden_act 'gelu' (only silu)");
        QTest::newRow("unknown router scoring")
            << QStringLiteral("scoring_func") << QJsonValue(QStringLiteral("softmax")) << unsupported
            << QStringLiteral("scoring_func 'softmax' (only sqrtsoftplus)");
        QTest::newRow("several KV heads")
            << QStringLiteral("num_key_value_heads") << QJsonValue(4) << unsupported
            << QStringLiteral("num_key_value_heads must be 1");
        QTest::newRow("odd rope dims")
            << QStringLiteral("qk_rope_head_dim") << QJsonValue(15) << format
            << QStringLiteral("rope dim 15 must be even");
        QTest::newRow("missing hidden size")
            << QStringLiteral("hidden_size") << QJsonValue() << format << QStringLiteral("missing key 'hidden_size'");
        QTest::newRow("another architecture")
            << QStringLiteral("model_type") << QJsonValue(QStringLiteral("deepseek_v3")) << unsupported
            << QStringLiteral("model_type 'deepseek_v3' is not deepseek_v4");
        QTest::newRow("unknown layer type")
            << QStringLiteral("layer_types")
            << QJsonValue(QJsonArray{QStringLiteral("sliding_attention"), QStringLiteral("full_attention"),
                                     QStringLiteral("sliding_attention"), QStringLiteral("sliding_attention")})
            << format << QStringLiteral("layer_types entry 'full_attention' is not an attention type");
        QTest::newRow("negative SwiGLU clamp")
            << QStringLiteral("swiglu_limit") << QJsonValue(-1.0) << format << QStringLiteral("swiglu_limit");
    }

    void inconsistent_config_is_named() {
        QFETCH(QString, key);
        QFETCH(QJsonValue, value);
        QFETCH(int, code);
        QFETCH(QString, expected);
        const std::string config = write_config("edited.json", [&](QJsonObject & o) {
            if (value.isNull()) o.remove(key);
            else o.insert(key, value);
        });
        expect_error(config, fixture_dir("mixed4") + "/model.safetensors", v4::ErrorCode(code), expected);
    }

    void compress_ratio_entry_must_be_a_known_rate() {
        const std::string config = write_config("ratio_entry.json", [](QJsonObject & o) {
            o.remove(QStringLiteral("layer_types"));
            o.insert(QStringLiteral("compress_ratios"), QJsonArray{0, 4, 64, 4});
        });
        expect_error(config, fixture_dir("mixed4") + "/model.safetensors", v4::ErrorCode::format,
                     QStringLiteral("compress_ratios[2] is not 0, 4 or 128"));
    }

    void trailing_mtp_compress_ratios_are_ignored() {
        // Released configs list one more ratio per MTP block than there are main layers.
        const std::string config = write_config("mtp.json", [](QJsonObject & o) {
            o.remove(QStringLiteral("layer_types"));
            o.insert(QStringLiteral("compress_ratios"), QJsonArray{0, 4, 128, 4, 0});
            o.insert(QStringLiteral("num_nextn_predict_layers"), 1);
        });
        QVERIFY(d4_load(config, fixture_dir("mixed4") + "/model.safetensors").cfg.attn_types ==
                d4_load(fixture_dir("mixed4")).cfg.attn_types);
    }

    void config_layers_beyond_the_weights_name_the_tensor() {
        const std::string config = write_config("layers5.json", [](QJsonObject & o) {
            o.remove(QStringLiteral("layer_types"));
            o.remove(QStringLiteral("mlp_layer_types"));
            o.insert(QStringLiteral("num_hidden_layers"), 5);
            o.insert(QStringLiteral("num_hash_layers"), 2);
            o.insert(QStringLiteral("compress_ratios"), QJsonArray{0, 4, 128, 4, 0});
        });
        expect_error(config, fixture_dir("mixed4") + "/model.safetensors", v4::ErrorCode::format,
                     QStringLiteral("missing tensor 'model.layers.4.attn_hc.fn'"));
    }

    void out_of_range_hash_expert_is_named() {
        const std::string dir = fixture_dir("mixed4");
        auto tensors = fixture_tensors(dir + "/model.safetensors");
        st_entry & t = tensors.at("model.layers.0.mlp.gate.tid2eid");
        const int64_t bad = 6;  // 6 experts: ids 0..5
        std::memcpy(t.bytes.data(), &bad, sizeof(bad));
        const std::string weights = tmp("bad_tid2eid.safetensors");
        write_safetensors(weights, tensors);
        expect_error(dir + "/config.json", weights, v4::ErrorCode::format,
                     QStringLiteral("model.layers.0.mlp.gate.tid2eid holds expert id 6 outside [0, 6)"));
    }
};

QTEST_GUILESS_MAIN(TestDeepseek4)
#include "test_deepseek4.moc"
