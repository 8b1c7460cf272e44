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

double measure_read_bandwidth(int n_threads, int repetitions) {
    // 1 GiB: far beyond any last-level cache, so every pass streams from DRAM.
    constexpr size_t k_bytes = size_t{1} << 30;
    constexpr size_t k_words = k_bytes / sizeof(uint64_t);
    std::unique_ptr<uint64_t[]> buf(new uint64_t[k_words]);
    std::memset(buf.get(), 1, k_bytes); // touch every page before timing
    detail::thread_pool pool(std::max(1, n_threads));
    const int           n_tasks = pool.size() * 16; // slices small enough that no thread idles at the end
    std::vector<uint64_t> sums(static_cast<size_t>(n_tasks));
    auto pass = [&] {
        pool.run(n_tasks, [&](int task, int) {
            const size_t    per = k_words / static_cast<size_t>(n_tasks);
            const uint64_t * p = buf.get() + per * static_cast<size_t>(task);
            uint64_t         s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0;
            for (size_t i = 0; i < per; i += 8) {
                s0 += p[i];     s1 += p[i + 1]; s2 += p[i + 2]; s3 += p[i + 3];
                s4 += p[i + 4]; s5 += p[i + 5]; s6 += p[i + 6]; s7 += p[i + 7];
            }
            sums[static_cast<size_t>(task)] = s0 + s1 + s2 + s3 + s4 + s5 + s6 + s7; // keeps the loads alive
        });
    };
    pass();
    std::vector<double> rates;
    for (int r = 0; r < std::max(1, repetitions); ++r) {
        const auto t0 = std::chrono::steady_clock::now();
        pass();
        const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        rates.push_back(static_cast<double>(k_bytes) / s);
    }
    std::sort(rates.begin(), rates.end());
    return rates[rates.size() / 2];
}

} // namespace v4
