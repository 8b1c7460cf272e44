// DeepSeek-V4 sessions and the CUDA device: make_cuda_runner picks the V4 device forward for arch
// "deepseek4". Without a GPU, device=auto falls back to the CPU saying why and device=cuda refuses;
// with one, a CUDA session gives the CPU session's logits through prefill, decode and a rewind
// (replay), and refuses snapshots with a clear error. Also the replay rule (d4_seek) and the decode
// traffic `v4 bench` reports for V4.
#include <QTest>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <vector>

#include "backend/cuda/deepseek4/d4_cuda_forward.h"
#include "logit_agreement.h"
#include "models/deepseek4/deepseek4.h"
#include "models/deepseek4/deepseek4_replay.h"
#include "models/deepseek4/deepseek4_synthetic.h"
#include "models/deepseek4/safetensors.h"
#include "test_paths.h"
#include "v4/error.h"
#include "v4/model.h"
#include "v4/roofline.h"
#include "v4/session.h"

namespace ds = v4::deepseek4;

namespace {

std::string fixture_dir() { return v4test::fixturePath(QStringLiteral("deepseek4/mixed4")).toStdString(); }

std::vector<int32_t> fixture_ids(const std::string & dir) {
    std::vector<int32_t> ids;
    for (int64_t id : ds::safetensors_file(dir + "/expected.safetensors").i64("input_ids")) ids.push_back(int32_t(id));
    return ids;
}

std::vector<float> copy(std::span<const float> s) { return {s.begin(), s.end()}; }

} // namespace

class TestCudaDeepseek4Session : public QObject {
    Q_OBJECT

    std::string m_no_gpu = ds::d4_cuda_unavailable_reason();

private slots:
    void autoFallsBackToCpuWithTheReason() {
        if (m_no_gpu.empty()) QSKIP("a CUDA device answers: the fallback is not taken here");
        const auto model = v4::model::load(fixture_dir() + "/model.gguf");
        v4::session s(model, {.n_ctx = 512, .n_threads = 1, .n_batch = 64, .device = v4::compute_device::automatic});
        QCOMPARE(std::string(s.device()), std::string("cpu"));
        const QString note = QString::fromStdString(s.device_note());
        QVERIFY2(note.startsWith(QStringLiteral("cpu (auto: CUDA backend unavailable: ")), qPrintable(note));
        QVERIFY2(note.contains(QString::fromStdString(m_no_gpu)), qPrintable(note));  // the V4 forward's reason
        s.prefill(std::vector<int32_t>{1, 2, 3});
        QCOMPARE(s.n_past(), 3u);
        try {
            v4::session cuda(model, {.n_ctx = 512, .n_threads = 1, .n_batch = 64, .device = v4::compute_device::cuda});
            QFAIL("device=cuda made a session without a device");
        } catch (const v4::Error & e) {
            QCOMPARE(e.code(), v4::ErrorCode::unsupported);
            QVERIFY2(QString::fromUtf8(e.what()).contains(QString::fromStdString(m_no_gpu)), e.what());
        }
    }

    // d4_seek, the rewind rule of the CPU state and the device runner: a rewind starts a fresh state
    // and replays the kept prefix in chunks; a cancel between chunks leaves the state at a chunk
    // boundary and the next call resumes there instead of starting over; a position beyond the
    // tokens evaluated is an internal error.
    void seekReplaysAndResumesAfterACancel() {
        struct fake_state {
            std::vector<int32_t> seen;
            int resets = 0;
            std::atomic<bool> * cancel_after_advance = nullptr;
            int position() const { return int(seen.size()); }
            void reset() {
                seen.clear();
                resets++;
            }
            void advance(const std::vector<int32_t> & part) {
                seen.insert(seen.end(), part.begin(), part.end());
                if (cancel_after_advance) cancel_after_advance->store(true);
            }
        } st;
        std::vector<int32_t> log(600);
        for (size_t i = 0; i < log.size(); i++) log[i] = int32_t(i);
        st.seen = log;
        ds::d4_seek(st, log, 600, nullptr);  // appending: nothing to do
        QCOMPARE(st.resets, 0);
        std::atomic<bool> cancel{false};
        st.cancel_after_advance = &cancel;
        QVERIFY_THROWS_EXCEPTION(v4::Error, ds::d4_seek(st, log, 300, &cancel));
        QCOMPARE(st.resets, 1);
        QCOMPARE(st.position(), 256);  // one chunk replayed before the cancel
        cancel = false;
        st.cancel_after_advance = nullptr;
        ds::d4_seek(st, log, 300, &cancel);
        QCOMPARE(st.resets, 1);  // resumed, not restarted
        QVERIFY(std::equal(st.seen.begin(), st.seen.end(), log.begin()) && st.seen.size() == 300);
        QCOMPARE(log.size(), size_t(300));  // the log is cut at the new position
        try {
            ds::d4_seek(st, log, 301, nullptr);
            QFAIL("a position beyond the evaluated tokens was accepted");
        } catch (const v4::Error & e) {
            QCOMPARE(e.code(), v4::ErrorCode::internal);
        }
    }

    // `v4 bench` relates decode speed to the bytes a step reads (v4::decode_bytes): for V4 the fp32
    // weights of the activated parameters, not the whole file, and the state the step attends to;
    // and prefill speed to its arithmetic (v4::prefill_flops).
    void decodeTrafficAndPrefillFlopsCountTheActivatedWeights() {
        const std::string dir = fixture_dir();
        const auto model = v4::model::load(dir + "/model.gguf");
        const ds::d4_model ref = ds::d4_load(dir);
        const ds::d4_config & c = ref.cfg;
        const ds::d4_param_count params = ds::d4_count_params(ref);
        QVERIFY(params.activated < params.total);
        QCOMPARE(v4::decode_bytes(*model, 1).weight_bytes, params.activated * sizeof(float));
        QCOMPARE(v4::decode_bytes(*model, 1).kv_bytes, uint64_t(c.n_layers) * c.head_dim * sizeof(float));  // one window row
        const uint64_t n = 1000;
        uint64_t want = 0;
        for (const ds::d4_attn type : c.attn_types) {
            want += std::min<uint64_t>(n, uint64_t(c.sliding_window)) * c.head_dim;
            if (type == ds::d4_attn::hca) want += n / uint64_t(c.hca_ratio) * c.head_dim;
            if (type == ds::d4_attn::csa) {
                want += n / uint64_t(c.csa_ratio) * c.index_head_dim + std::min<uint64_t>(n / uint64_t(c.csa_ratio), uint64_t(c.index_topk)) * c.head_dim;
            }
        }
        QCOMPARE(v4::decode_bytes(*model, n).kv_bytes, want * sizeof(float));
        // Prefill: each activated parameter a multiply-add per token (the output projection once), plus
        // attention; one token sees one window row per layer.
        QCOMPARE(v4::prefill_flops(*model, 1), 2.0 * (double(params.activated) + 2.0 * c.n_layers * c.n_heads * c.head_dim));
        const double per_token = 2.0 * double(params.activated - ref.lm_head.size());
        QVERIFY(v4::prefill_flops(*model, 1000) > 1000 * per_token);
        QVERIFY(v4::prefill_flops(*model, 1000) < 1000 * per_token * 2);
    }

    void cudaSessionMatchesCpuSession() {
        if (!m_no_gpu.empty()) QSKIP(m_no_gpu.c_str());
        const std::string dir = fixture_dir();
        const std::vector<int32_t> ids = fixture_ids(dir);
        const auto model = v4::model::load(dir + "/model.gguf");
        v4::session cpu(model, {.n_ctx = 512, .n_threads = 1, .n_batch = 64, .device = v4::compute_device::cpu});
        v4::session gpu(model, {.n_ctx = 512, .n_threads = 1, .n_batch = 64, .device = v4::compute_device::cuda});
        QCOMPARE(std::string(gpu.device()), std::string("cuda"));
        qInfo("%s", gpu.device_note().c_str());
        const int V = int(cpu.n_vocab());
        logit_agreement agree;
        const std::vector<int32_t> prompt(ids.begin(), ids.begin() + 200);
        cpu.prefill(prompt, nullptr, {.all_logits = true});
        gpu.prefill(prompt, nullptr, {.all_logits = true});
        agree.add(copy(cpu.all_logits()), copy(gpu.all_logits()), V);
        for (size_t i = 200; i < ids.size(); i++) {
            const std::vector<float> want = copy(cpu.decode_one(ids[i]));
            agree.add(want, copy(gpu.decode_one(ids[i])), V);
        }
        // Rewind and branch: the device state is rebuilt by replaying the kept prefix.
        const std::vector<int32_t> back(ids.begin(), ids.begin() + 150);
        QCOMPARE(gpu.prefill(back).n_reused, 149u);
        cpu.prefill(back);
        agree.add(copy(cpu.logits()), copy(gpu.logits()), V);
        qInfo("CUDA vs CPU session: %d rows, worst |diff| / max |logit| = %.3g, same top-1 %d/%d", agree.rows, agree.worst,
              agree.same_top1, agree.rows);
        QVERIFY2(agree.same_top1 * 1000 >= agree.rows * 995, qPrintable(QString("%1 of %2").arg(agree.same_top1).arg(agree.rows)));
        QVERIFY2(agree.worst < 1e-2, qPrintable(QString::number(agree.worst)));
        try {
            (void)gpu.save_state();
            QFAIL("a CUDA V4 session saved a snapshot");
        } catch (const v4::Error & e) {
            QCOMPARE(e.code(), v4::ErrorCode::unsupported);
        }
        QCOMPARE(gpu.n_past(), 150u);  // the refused snapshot changed nothing
        agree = {};
        agree.add(copy(cpu.decode_one(ids[150])), copy(gpu.decode_one(ids[150])), V);
        QCOMPARE(agree.same_top1, 1);
    }
};

QTEST_GUILESS_MAIN(TestCudaDeepseek4Session)
#include "test_cuda_deepseek4_session.moc"
