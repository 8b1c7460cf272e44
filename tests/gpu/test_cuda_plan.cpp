// The CUDA backend's host-side arithmetic, checked on any machine: flash-decoding split counts,
// the device scratch layout (sampling buffers, partials only below the prefill-attention tile), the
// memory budget and its message; and, with the default model, how a session chooses its device when
// CUDA cannot run and that session::sample/decode follow the host path (passes with or without a GPU).
#include <QFileInfo>
#include <QTest>

#include "backend/cuda/cuda_plan.h"
#include "test_paths.h"
#include "v4/error.h"
#include "v4/sampler.h"
#include "v4/session.h"

using namespace v4::detail;

namespace {

hparams qwen7b() { // DeepSeek-R1-Distill-Qwen-7B
    hparams hp;
    hp.n_vocab = 152064;
    hp.n_embd = 3584;
    hp.n_layer = 28;
    hp.n_head = 28;
    hp.n_head_kv = 4;
    hp.head_dim = 128;
    hp.n_ff = 18944;
    return hp;
}

} // namespace

class TestCudaPlan : public QObject {
    Q_OBJECT

private slots:
    void splitsFillTheDeviceWithinBounds() {
        // H100: 132 SMs. Decode of 28 heads: ceil(264 / 28) = 10 splits once the context has 320 keys.
        QCOMPARE(attention_splits(1, 28, 4096, 132), 10);
        QCOMPARE(attention_splits(1, 28, 100, 132), 4);   // ceil(100 / 32): no split under 32 keys
        QCOMPARE(attention_splits(1, 28, 1, 132), 1);
        QCOMPARE(attention_splits(1, 1, 1 << 20, 132), 64); // capped
        QCOMPARE(attention_splits(256, 28, 4096, 132), 1);  // a prefill ubatch fills the device alone
        for (int n_kv = 1; n_kv < 5000; n_kv += 37) {       // monotone in n_kv: the n_ctx bound holds
            QVERIFY(attention_splits(1, 8, n_kv, 132) <= attention_splits(1, 8, n_kv + 37, 132));
        }
    }

    void scratchLayoutIsAlignedAndDisjoint() {
        const hparams             hp = qwen7b();
        const cuda_scratch_layout s = plan_cuda_scratch(hp, 256, 4096, 132);
        const size_t offs[] = {s.x,      s.cur,     s.q,           s.k,           s.v,
                               s.attn,   s.o,       s.gate,        s.up,          s.logits,
                               s.partial, s.sample_work, s.sample_adjust, s.sample_result, s.q8,
                               s.q8_ds,   s.tokens,  s.pos0};
        for (size_t i = 0; i < std::size(offs); ++i) {
            QCOMPARE(offs[i] % 256, size_t(0));
            if (i > 0) QVERIFY(offs[i] > offs[i - 1]);
        }
        QCOMPARE(s.cur - s.x, size_t(256) * 3584 * 4);
        QCOMPARE(s.partial - s.logits, size_t(256) * 152064 * 4);
        // The largest partial buffer a flash-decoded ubatch needs: T = 1 .. 15 with its own split
        // count (from 16 tokens on the query-tiled prefill kernel needs no partials).
        size_t want = 0;
        for (int t = 1; t < cuda_prefill_attention_tile; ++t) {
            want = std::max(want, size_t(t) * 28 * attention_splits(t, 28, 4096, 132) * 130);
        }
        QCOMPARE(s.sample_work - s.partial, (want * 4 + 255) / 256 * 256);
        // Device sampling: the adjusted logits, one adjust entry per vocabulary id, the result.
        QCOMPARE(s.sample_adjust - s.sample_work, size_t(152064) * 4);
        QCOMPARE(s.sample_result - s.sample_adjust, (size_t(152064) * cuda_sample_adjust_bytes + 255) / 256 * 256);
        QCOMPARE(s.q8 - s.sample_result, size_t(256));
        // q8_1 activations for the GEMV ubatches (<= 8 rows) of the widest input (n_ff = 18944).
        QCOMPARE(s.q8_ds - s.q8, size_t(8) * 18944);
        QCOMPARE(s.tokens - s.q8_ds, size_t(8) * (18944 / 32) * 8);
        QVERIFY(s.total >= s.pos0 + 4);
        // A ubatch that never reaches the prefill kernel keeps partials for every size it can have.
        const cuda_scratch_layout small = plan_cuda_scratch(hp, 4, 4096, 132);
        size_t want_small = 0;
        for (int t = 1; t <= 4; ++t) want_small = std::max(want_small, size_t(t) * 28 * attention_splits(t, 28, 4096, 132) * 130);
        QCOMPARE(small.sample_work - small.partial, (want_small * 4 + 255) / 256 * 256);
    }

    void prefillAttentionFromOneQueryTile() {
        QVERIFY(!uses_prefill_attention(1));
        QVERIFY(!uses_prefill_attention(cuda_prefill_attention_tile - 1));
        QVERIFY(uses_prefill_attention(cuda_prefill_attention_tile));
        QVERIFY(uses_prefill_attention(512));
    }

    void memoryBudgetNamesTheNumbers() {
        const hparams hp = qwen7b();
        constexpr uint64_t gib = uint64_t(1) << 30;
        QCOMPARE(cuda_kv_bytes(hp, 4096), uint64_t(2) * 28 * 4096 * 512 * 2); // 224 MiB of f16 K+V
        const cuda_memory_plan fits = plan_cuda_memory(hp, uint64_t(4.4 * gib), 4096, 256, 79 * gib, 132);
        QVERIFY(fits.fits());
        QCOMPARE(fits.margin_bytes, 79 * gib / 20);
        const cuda_memory_plan tight = plan_cuda_memory(hp, uint64_t(4.4 * gib), 4096, 256, 5 * gib, 132);
        QCOMPARE(tight.margin_bytes, uint64_t(512) << 20);
        QVERIFY(!tight.fits());
        const QString msg = QString::fromStdString(tight.describe());
        QVERIFY2(msg.contains(QStringLiteral("weights 4.40 GiB")) && msg.contains(QStringLiteral("free 5.00 GiB")),
                 qPrintable(msg));
    }

    void parsesDeviceNames() {
        v4::compute_device d{};
        QVERIFY(v4::parse_compute_device("cuda", d) && d == v4::compute_device::cuda);
        QVERIFY(v4::parse_compute_device("auto", d) && d == v4::compute_device::automatic);
        QVERIFY(v4::parse_compute_device("cpu", d) && d == v4::compute_device::cpu);
        QVERIFY(!v4::parse_compute_device("gpu", d));
    }

    // Without a usable GPU (this machine, CI): `auto` runs on the CPU and says why; `cuda` refuses
    // with a message. With one, both run on it.
    void sessionDeviceChoice() {
        V4_REQUIRE_DEFAULT_MODEL(path);
        auto               model = v4::model::load(path.toStdString());
        v4::session_params sp{.n_ctx = 256, .n_threads = 2};
        sp.device = v4::compute_device::automatic;
        v4::session automatic(model, sp);
        qInfo("auto: %s", automatic.device_note().c_str());
        QVERIFY(!automatic.device_note().empty());
        const std::vector<int32_t> toks = {2, 818, 5279};
        automatic.prefill(toks); // runs wherever it landed
        if (QString(automatic.device()) == QStringLiteral("cpu")) {
            QVERIFY(automatic.device_note().rfind("cpu (auto: ", 0) == 0);
            sp.device = v4::compute_device::cuda;
            try {
                v4::session forced(model, sp);
                QFAIL("a CUDA session was created although auto fell back to the CPU");
            } catch (const v4::Error & e) {
                QVERIFY2(QString(e.what()).startsWith(QStringLiteral("CUDA backend unavailable: ")), e.what());
            }
        }
    }

    // The device sampler's adjustment list, applied as its kernel applies it, changes the logits
    // exactly as the host sampler's bias + penalties do (window, out-of-range ids, bans, repeats).
    void sampleAdjustmentsMatchTheHostSampler() {
        v4::sampler_params sp;
        sp.repetition_penalty = 1.3f;
        sp.presence_penalty = 0.25f;
        sp.frequency_penalty = 0.1f;
        sp.penalty_last_n = 6;
        sp.logit_bias = {{3, 2.0f}, {9, -INFINITY}, {-1, 5.0f}, {500, 1.0f}}; // -1 and 500: outside
        v4::sampler smp(sp);
        for (int32_t t : {1, 7, 7, 3, 700, 4, 7, 2, 1}) smp.accept(t); // window: the last 6
        const uint32_t                       n_vocab = 12;
        const std::vector<sample_adjustment> adj = sample_adjustments(smp, n_vocab);
        std::vector<float> logits(n_vocab), want(n_vocab);
        for (uint32_t i = 0; i < n_vocab; ++i) logits[i] = want[i] = float(i) - 5.5f;
        v4::apply_logit_bias(want, sp);
        const std::vector<int32_t> window(smp.history().end() - 6, smp.history().end());
        v4::apply_penalties(want, window, sp);
        for (size_t i = 1; i < adj.size(); ++i) QVERIFY(adj[i - 1].id < adj[i].id); // distinct, in id order
        for (const sample_adjustment & a : adj) {
            float & l = logits[size_t(a.id)];
            l += a.bias;
            if (a.count > 0) {
                l = l > 0.0f ? l / sp.repetition_penalty : l * sp.repetition_penalty;
                l -= float(a.count) * sp.frequency_penalty + sp.presence_penalty;
            }
        }
        for (uint32_t i = 0; i < n_vocab; ++i) QCOMPARE(logits[i], want[i]);
        // Penalties off: only the bias remains.
        sp.repetition_penalty = 1.0f;
        sp.presence_penalty = sp.frequency_penalty = 0.0f;
        v4::sampler plain(sp);
        plain.accept(7);
        const std::vector<sample_adjustment> bias_only = sample_adjustments(plain, n_vocab);
        QCOMPARE(bias_only.size(), size_t(2));
        QVERIFY(bias_only[0].id == 3 && bias_only[0].count == 0 && bias_only[1].id == 9);
    }

    // session::sample and session::decode are the host sampler and decode_one wherever the session
    // runs (here the CPU; on a GPU machine test_cuda_forward checks the device path the same way).
    void sessionSampleAndDecodeFollowTheHostPath() {
        V4_REQUIRE_DEFAULT_MODEL(path);
        auto                       model = v4::model::load(path.toStdString());
        const v4::session_params   sp{.n_ctx = 128, .n_threads = 2};
        v4::session                a(model, sp), b(model, sp);
        const std::vector<int32_t> toks = {2, 818, 5279, 529};
        a.prefill(toks);
        b.prefill(toks);
        v4::sampler_params smp = v4::sampler_default_params();
        smp.seed = 9;
        smp.temperature = 1.0f;
        v4::sampler sa(smp), sb(smp);
        for (int i = 0; i < 6; ++i) {
            const int32_t ta = a.sample(sa);
            const int32_t tb = sb.sample(b.logits());
            QCOMPARE(ta, tb);
            sa.accept(ta);
            sb.accept(tb);
            a.decode(ta);
            const std::span<const float> lb = b.decode_one(tb);
            const std::span<const float> la = a.logits();
            QVERIFY(std::equal(la.begin(), la.end(), lb.begin(), lb.end()));
        }
    }
};

QTEST_GUILESS_MAIN(TestCudaPlan)
#include "test_cuda_plan.moc"
