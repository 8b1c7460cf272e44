// DeepSeek-V4 KV / state size: the one formula (deepseek4_kv.h) against the spec's numbers for the
// real V4-Flash config (acceptance 2 of issue 10) and against what d4_state really holds.
#include <QFile>
#include <QTest>

#include <cmath>

#include "models/deepseek4/deepseek4.h"
#include "models/deepseek4/deepseek4_kv.h"
#include "models/deepseek4/safetensors.h"
#include "test_paths.h"

using namespace v4::deepseek4;

namespace {

std::string fixture(const char * rel) {
    return v4test::fixturePath(QStringLiteral("deepseek4/%1").arg(QLatin1String(rel))).toStdString();
}

d4_config flash_config() {
    QFile f(QString::fromStdString(fixture("v4_flash/config.json")));
    if (!f.open(QIODevice::ReadOnly)) qFatal("cannot read the V4-Flash config fixture");
    return d4_parse_config(f.readAll().toStdString(), "v4_flash/config.json");
}

constexpr uint64_t one_m = uint64_t(1) << 20;  // 1M tokens = max_position_embeddings 1048576

} // namespace

class TestDeepseek4Kv : public QObject {
    Q_OBJECT

private slots:
    void flash_schedule_is_21_csa_20_hca_2_swa() {
        const d4_kv_size s = d4_kv_bytes(flash_config(), d4_kv_format::bf16(flash_config()), one_m);
        QCOMPARE(s.n_csa, 21);
        QCOMPARE(s.n_hca, 20);
        QCOMPARE(s.n_swa, 2);
    }

    // Spec §6: B/tok = N_CSA (b_kv + b_idx) / 4 + N_HCA b_kv / 128.
    void flash_bytes_per_token_match_the_spec() {
        const d4_config c = flash_config();
        const d4_kv_size bf16 = d4_kv_bytes(c, d4_kv_format::bf16(c), one_m);
        const d4_kv_size fp8 = d4_kv_bytes(c, d4_kv_format::fp8_fp4(), one_m);
        const d4_kv_size engine = d4_kv_bytes(c, d4_kv_format::engine(c), one_m);
        QCOMPARE(bf16.bytes_per_token, 21.0 * (1024 + 256) / 4 + 20.0 * 1024 / 128);  // 6,880
        QCOMPARE(bf16.bytes_per_token, 6880.0);
        QCOMPARE(fp8.bytes_per_token, 21.0 * (584 + 68) / 4 + 20.0 * 584 / 128);      // 3,514.25
        QCOMPARE(engine.bytes_per_token, 13760.0);
        // At exactly 1M tokens every window closes: compressed bytes are the per-token rate times 1M.
        QCOMPARE(double(bf16.compressed_bytes), 6880.0 * double(one_m));
        QCOMPARE(double(fp8.compressed_bytes), 3514.25 * double(one_m));
        // The constant part: 43 windows of 127 rows of 512 values.
        QCOMPARE(bf16.window_bytes, uint64_t(43) * 127 * 1024);
        qInfo("V4-Flash at 1M: bf16 %.0f B/tok, %.2f GiB total; fp8+fp4 %.2f B/tok, %.2f GiB; engine fp32 %.2f GiB",
              bf16.bytes_per_token, double(bf16.total()) / double(1ull << 30), fp8.bytes_per_token,
              double(fp8.total()) / double(1ull << 30), double(engine.total()) / double(1ull << 30));
    }

    // Spec §6: dense MLA V3.2 with FP8 records (656 B latent + 132 B indexer key, 61 layers) = 48,068
    // B/tok; V4-Flash FP8/FP4 is 7.3 % of it; BF16 vs BF16 (V3.2: 1152 + 256 per layer) 8.0 %.
    void flash_ratio_against_dense_mla() {
        const d4_config c = flash_config();
        const double v32_fp8 = dense_mla_bytes_per_token(61, 656, 132);
        const double v32_bf16 = dense_mla_bytes_per_token(61, 1152, 256);
        QCOMPARE(v32_fp8, 48068.0);
        const double ratio_fp8 = d4_kv_bytes(c, d4_kv_format::fp8_fp4(), one_m).bytes_per_token / v32_fp8;
        const double ratio_bf16 = d4_kv_bytes(c, d4_kv_format::bf16(c), one_m).bytes_per_token / v32_bf16;
        qInfo("V4-Flash / V3.2 KV per token: %.2f %% (fp8/fp4 vs fp8), %.2f %% (bf16 vs bf16)", 100 * ratio_fp8,
              100 * ratio_bf16);
        QCOMPARE(std::round(ratio_fp8 * 1000) / 10, 7.3);
        QCOMPARE(std::round(ratio_bf16 * 1000) / 10, 8.0);
    }

    // The formula with the engine's fp32 format is exactly what the state holds, at every length.
    void formula_equals_the_state_the_engine_keeps() {
        const std::string dir = fixture("mixed4");
        const d4_model m = d4_load(dir);
        const safetensors_file expected(dir + "/expected.safetensors");
        std::vector<int32_t> ids;
        for (int64_t id : expected.i64("input_ids")) ids.push_back(int32_t(id));
        d4_state st = d4_new_state(m);
        const std::vector<int32_t> prompt(ids.begin(), ids.begin() + 259);
        d4_eval(m, st, prompt);
        QCOMPARE(d4_state_bytes(st), d4_kv_bytes(m.cfg, d4_kv_format::engine(m.cfg), 259).total());
        for (size_t i = 259; i < ids.size(); i++) {
            d4_eval(m, st, {ids[i]});
            QCOMPARE(d4_state_bytes(st), d4_kv_bytes(m.cfg, d4_kv_format::engine(m.cfg), i + 1).total());
        }
    }
};

QTEST_GUILESS_MAIN(TestDeepseek4Kv)
#include "test_deepseek4_kv.moc"
