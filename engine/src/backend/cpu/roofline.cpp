// decode_bytes / prefill_flops from the loaded tensors, and the streaming-read bandwidth probe.
#include "v4/roofline.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <memory>
#include <vector>

#include "backend/cpu/thread_pool.h"
#include "models/model_impl.h"

namespace v4 {

namespace {

uint64_t matrix_bytes(const detail::weight & w) { return w ? static_cast<uint64_t>(w.row_bytes) * w.n_out : 0; }
double   matrix_macs(const detail::weight & w) { return w ? static_cast<double>(w.n_in) * w.n_out : 0.0; }

// Positions layer il attends to when the newest has index p (0-based).
uint64_t keys_seen(const detail::hparams & hp, uint32_t il, uint64_t p) {
    const bool sliding = hp.sliding_window > 0 && hp.is_local(il);
    return sliding ? std::min<uint64_t>(p + 1, hp.sliding_window) : p + 1;
}

} // namespace

decode_traffic decode_bytes(const model & mdl, uint32_t n_kv) {
    const detail::model_impl & m = mdl.impl();
    if (m.custom) return m.custom->decode_bytes(n_kv); // families with their own weights and state (deepseek4)
    decode_traffic             t;
    if (m.layers.empty()) { // families without the common layer table: count the whole file
        t.weight_bytes = mdl.info().weight_bytes;
        return t;
    }
    const bool tied = m.output.data == m.tok_embd.data;
    t.weight_bytes = matrix_bytes(m.output) + (tied ? 0 : m.tok_embd.row_bytes);
    for (const detail::layer & L : m.layers) {
        for (const detail::weight * w : {&L.wq, &L.wk, &L.wv, &L.wo, &L.ffn_gate, &L.ffn_up, &L.ffn_down}) {
            t.weight_bytes += matrix_bytes(*w);
        }
    }
    // K and V rows of the default (fast) precision's cache
    const uint64_t row = static_cast<uint64_t>(m.hp.kv_dim()) * detail::kv_cache_elem_bytes(detail::kv_cache_type(false)) * 2;
    for (uint32_t il = 0; il < m.hp.n_layer && n_kv > 0; ++il) {
        t.kv_bytes += keys_seen(m.hp, il, n_kv - 1) * row;
    }
    return t;
}

double prefill_flops(const model & mdl, uint32_t n_tokens) {
    const detail::model_impl & m = mdl.impl();
    if (m.custom) return m.custom->prefill_flops(n_tokens); // families with their own weights (deepseek4)
    double                     macs = matrix_macs(m.output);
    for (uint32_t il = 0; il < m.layers.size(); ++il) {
        const detail::layer & L = m.layers[il];
        double                per_token = 0.0;
        for (const detail::weight * w : {&L.wq, &L.wk, &L.wv, &L.wo, &L.ffn_gate, &L.ffn_up, &L.ffn_down}) {
            per_token += matrix_macs(*w);
        }
        macs += per_token * n_tokens;
        double pairs = 0.0;
        for (uint64_t p = 0; p < n_tokens; ++p) {
            pairs += static_cast<double>(keys_seen(m.hp, il, p));
        }
        macs += pairs * 2.0 * m.hp.n_head * m.hp.head_dim; // q.k and p.v
    }
    return 2.0 * macs;
}

struct bandwidth_probe::impl {
    const uint8_t *            begin = nullptr;
    size_t                     n_bytes = 0;
    std::unique_ptr<uint8_t[]> own; // for models whose weights could sit in the last-level cache
    detail::thread_pool        pool;
    explicit impl(int n_threads) : pool(std::max(1, n_threads)) {}
};

bandwidth_probe::bandwidth_probe(const model & mdl, int n_threads) : m_impl(std::make_unique<impl>(n_threads)) {
    const auto & tensors = mdl.impl().file.tensors();
    const uint8_t * lo = tensors.empty() ? nullptr : tensors.front().data;
    const uint8_t * hi = lo;
    for (const gguf::tensor_info & t : tensors) {
        lo = std::min(lo, t.data);
        hi = std::max(hi, t.data + t.n_bytes);
    }
    // Below 64 MiB (test fixtures, tiny models) a pass could come from cache: stream 256 MiB of our own.
    constexpr size_t k_min_bytes = size_t{64} << 20;
    constexpr size_t k_own_bytes = size_t{256} << 20;
    if (static_cast<size_t>(hi - lo) < k_min_bytes) {
        m_impl->own.reset(new uint8_t[k_own_bytes]);
        std::memset(m_impl->own.get(), 1, k_own_bytes); // touch every page before timing
        lo = m_impl->own.get();
        hi = lo + k_own_bytes;
    }
    // whole 64-byte words only, so the summing loop needs no tail
    m_impl->begin = lo;
    m_impl->n_bytes = static_cast<size_t>(hi - lo) / 64 * 64;
}

bandwidth_probe::~bandwidth_probe() = default;

uint64_t bandwidth_probe::bytes() const { return m_impl->n_bytes; }

double bandwidth_probe::measure(int passes) {
    impl &    p = *m_impl;
    const int n_tasks = p.pool.size() * 16; // slices small enough that no thread idles at the end
    const size_t per = p.n_bytes / 64 / static_cast<size_t>(n_tasks) * 64;
    if (per == 0) {
        return 0.0;
    }
    std::vector<uint64_t> sums(static_cast<size_t>(n_tasks));
    auto pass = [&] {
        p.pool.run(n_tasks, [&](int task, int) {
            const uint8_t * base = p.begin + per * static_cast<size_t>(task);
            uint64_t        s[8] = {};
            for (size_t i = 0; i < per; i += 64) {
                for (int k = 0; k < 8; ++k) {
                    uint64_t v;
                    std::memcpy(&v, base + i + 8 * k, sizeof v); // weights need not be 8-byte aligned
                    s[k] += v;
                }
            }
            sums[static_cast<size_t>(task)] = s[0] + s[1] + s[2] + s[3] + s[4] + s[5] + s[6] + s[7]; // keeps the loads
        });
    };
    std::vector<double> rates;
    for (int r = 0; r < std::max(1, passes); ++r) {
        const auto t0 = std::chrono::steady_clock::now();
        pass();
        const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        rates.push_back(static_cast<double>(per) * n_tasks / s);
    }
    std::sort(rates.begin(), rates.end());
    return rates[rates.size() / 2];
}

} // namespace v4
