// The DeepSeek-V4 device_runner (see d4_cuda_runner.h). CUDA-free: it only calls d4_cuda_forward.h,
// which says why in builds without CUDA.
#include "backend/cuda/deepseek4/d4_cuda_runner.h"

#include <cstdio>
#include <cstring>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <vector>

#include "backend/cuda/deepseek4/d4_cuda_forward.h"
#include "models/deepseek4/deepseek4_engine.h"
#include "models/deepseek4/deepseek4_replay.h"
#include "models/model_impl.h"
#include "v4/error.h"
#include "v4/sampler.h"

namespace v4::detail {

namespace {

using namespace v4::deepseek4;

// Models whose weights are on the device, so that a second session of the same model reuses them.
std::mutex                                                                  g_mutex;
std::unordered_map<const d4_model *, std::weak_ptr<const d4_cuda_model>> g_resident;

std::shared_ptr<const d4_cuda_model> weights_for(const d4_model & m) {
    std::lock_guard lock(g_mutex);
    if (auto it = g_resident.find(&m); it != g_resident.end()) {
        if (auto w = it->second.lock()) return w;
    }
    auto w = d4_cuda_upload(m);
    g_resident[&m] = w;
    return w;
}

class d4_cuda_runner final : public device_runner {
public:
    d4_cuda_runner(std::shared_ptr<const model> owner, const d4_model & m)
        : m_owner(std::move(owner)), m_weights(weights_for(m)), m_state(d4_cuda_new_state(*m_weights)),
          m_vocab(size_t(m.cfg.vocab)), m_last(m_vocab, 0.0f), m_device(d4_cuda_device_info()) {}

    void forward(std::span<const int32_t> tokens, int pos0, bool all_logits, float * logits,
                 const std::atomic<bool> * cancel) override {
        d4_seek(*this, m_log, pos0, cancel);
        if (cancel != nullptr && cancel->load(std::memory_order_relaxed)) {
            throw Error(ErrorCode::cancelled, "evaluation cancelled");
        }
        const std::vector<int32_t> part(tokens.begin(), tokens.end());
        std::vector<float> out = d4_cuda_eval(*m_weights, m_state, part, all_logits);
        m_log.insert(m_log.end(), part.begin(), part.end());
        if (logits != nullptr) std::memcpy(logits, out.data(), out.size() * sizeof(float));
        m_last.assign(out.end() - std::ptrdiff_t(m_vocab), out.end());
    }
    // d4_cuda_eval brings the last row back with the forward, so these run on the host copy: no
    // device sampling (the session samples read_logits() on the host).
    void read_logits(float * logits) override { std::memcpy(logits, m_last.data(), m_last.size() * sizeof(float)); }
    std::optional<int32_t> sample(sampler &) override { return std::nullopt; }

    // d4_seek's view of the device state
    int position() const { return m_state.n_past; }
    void reset() { m_state = d4_cuda_new_state(*m_weights); }
    void advance(const std::vector<int32_t> & part) { d4_cuda_eval(*m_weights, m_state, part, false); }

    void read_kv(int, int, uint16_t *, uint16_t *) override { no_snapshots(); }
    void write_kv(int, int, const uint16_t *, const uint16_t *) override { no_snapshots(); }
    int kv_dim() const override { return 0; }

    std::string describe() const override {
        char buf[160];
        std::snprintf(buf, sizeof buf, "%s: DeepSeek-V4 weights %.2f GiB (fp32), state on the device",
                      m_device.name.c_str(), double(d4_cuda_weight_bytes(*m_weights)) / double(1ull << 30));
        return buf;
    }
    double peak_bandwidth() const override { return m_device.peak_bandwidth; }

private:
    [[noreturn]] static void no_snapshots() {
        throw Error(ErrorCode::unsupported, "deepseek4 on CUDA: session snapshots are not supported (the V4 state "
                                            "stays on the device); run the session on the CPU to save it");
    }

    std::shared_ptr<const model>         m_owner;  // keeps the d4_model alive
    std::shared_ptr<const d4_cuda_model> m_weights;
    d4_cuda_state                        m_state;
    std::vector<int32_t>                 m_log;  // the replay log (d4_seek)
    size_t                               m_vocab;
    std::vector<float>                   m_last;  // [vocab] of the last forward's last token
    d4_cuda_device                       m_device;
};

} // namespace

std::unique_ptr<device_runner> make_d4_cuda_runner(const std::shared_ptr<const model> & m) {
    const d4_model * dm = d4_model_of(m->impl());
    if (dm == nullptr) throw Error(ErrorCode::internal, "make_d4_cuda_runner: not a DeepSeek-V4 model");
    try {
        return std::make_unique<d4_cuda_runner>(m, *dm);
    } catch (const Error & e) {
        throw Error(e.code(), std::string("CUDA backend unavailable: ") + e.what());
    }
}

} // namespace v4::detail
