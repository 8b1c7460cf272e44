#include "backend/cuda/cuda_plan.h"

#include <algorithm>
#include <cstdio>
#include <map>

namespace v4::detail {

int attention_splits(int n_tokens, int n_head, int n_kv, int n_sm) {
    const int per_wave = std::max(1, n_head * std::max(1, n_tokens));
    const int for_sms = (2 * std::max(1, n_sm) + per_wave - 1) / per_wave;
    const int for_keys = (std::max(1, n_kv) + 31) / 32;
    return std::clamp(std::min(for_sms, for_keys), 1, 64);
}

bool uses_prefill_attention(int n_tokens) { return n_tokens >= cuda_prefill_attention_tile; }

namespace {

size_t take(size_t & cursor, size_t bytes) {
    const size_t at = cursor;
    cursor += (bytes + 255) / 256 * 256;
    return at;
}

} // namespace

cuda_scratch_layout plan_cuda_scratch(const hparams & hp, uint32_t n_batch, uint32_t n_ctx, int n_sm) {
    const size_t T = n_batch, f = sizeof(float);
    size_t       partial = 0;
    for (uint32_t t = 1; t <= n_batch && !uses_prefill_attention(static_cast<int>(t)); ++t) {
        const int splits = attention_splits(static_cast<int>(t), static_cast<int>(hp.n_head), static_cast<int>(n_ctx), n_sm);
        partial = std::max(partial, static_cast<size_t>(t) * hp.n_head * splits * (hp.head_dim + 2));
    }
    cuda_scratch_layout s;
    size_t              c = 0;
    s.x = take(c, T * hp.n_embd * f);
    s.cur = take(c, T * hp.n_embd * f);
    s.q = take(c, T * hp.q_dim() * f);
    s.k = take(c, T * hp.kv_dim() * f);
    s.v = take(c, T * hp.kv_dim() * f);
    s.attn = take(c, T * hp.q_dim() * f);
    s.o = take(c, T * hp.n_embd * f);
    s.gate = take(c, T * hp.n_ff * f);
    s.up = take(c, T * hp.n_ff * f);
    s.logits = take(c, T * hp.n_vocab * f);
    s.partial = take(c, partial * f);
    s.sample_work = take(c, hp.n_vocab * f);
    s.sample_adjust = take(c, hp.n_vocab * cuda_sample_adjust_bytes);
    s.sample_result = take(c, 2 * sizeof(int32_t));
    const size_t q8_rows = std::min<size_t>(T, cuda_gemv_max_rows);
    const size_t widest = std::max<size_t>({hp.n_embd, hp.q_dim(), hp.n_ff});
    s.q8 = take(c, q8_rows * widest);
    s.q8_ds = take(c, q8_rows * (widest / 32) * 2 * sizeof(float));
    s.tokens = take(c, T * sizeof(int32_t));
    s.pos0 = take(c, sizeof(int32_t));
    s.total = c;
    return s;
}

std::vector<sample_adjustment> sample_adjustments(const sampler & smp, uint32_t n_vocab) {
    const sampler_params &   sp = smp.params();
    std::span<const int32_t> window = smp.history();
    if (sp.penalty_last_n > 0 && window.size() > static_cast<size_t>(sp.penalty_last_n)) {
        window = window.last(static_cast<size_t>(sp.penalty_last_n));
    }
    const bool rep = sp.repetition_penalty != 1.0f && sp.repetition_penalty > 0.0f;
    const bool rest = sp.presence_penalty != 0.0f || sp.frequency_penalty != 0.0f;
    auto       in_vocab = [&](int32_t id) { return id >= 0 && static_cast<uint32_t>(id) < n_vocab; };
    std::map<int32_t, sample_adjustment> by_id;
    for (const auto & [id, bias] : sp.logit_bias) {
        if (in_vocab(id)) by_id[id] = {id, bias, 0};
    }
    if (rep || rest) {
        for (const int32_t id : window) {
            if (!in_vocab(id)) continue;
            sample_adjustment & a = by_id[id];
            a.id = id;
            ++a.count;
        }
    }
    std::vector<sample_adjustment> out;
    out.reserve(by_id.size());
    for (const auto & entry : by_id) out.push_back(entry.second);
    return out;
}

uint64_t cuda_kv_bytes(const hparams & hp, uint32_t n_ctx) {
    return uint64_t{2} * hp.n_layer * n_ctx * hp.kv_dim() * 2; // K and V, f16
}

std::string cuda_memory_plan::describe() const {
    constexpr double gib = 1024.0 * 1024.0 * 1024.0;
    char             buf[256];
    std::snprintf(buf, sizeof buf,
                  "weights %.2f GiB + KV cache %.2f GiB + scratch %.2f GiB = %.2f GiB, free %.2f GiB (keeping %.2f GiB spare)",
                  weight_bytes / gib, kv_bytes / gib, scratch_bytes / gib, need() / gib, free_bytes / gib,
                  margin_bytes / gib);
    return buf;
}

cuda_memory_plan plan_cuda_memory(const hparams & hp, uint64_t weight_bytes, uint32_t n_ctx, uint32_t n_batch,
                                  uint64_t free_bytes, int n_sm) {
    cuda_memory_plan p;
    p.weight_bytes = weight_bytes;
    p.kv_bytes = cuda_kv_bytes(hp, n_ctx);
    p.scratch_bytes = plan_cuda_scratch(hp, n_batch, n_ctx, n_sm).total;
    p.free_bytes = free_bytes;
    p.margin_bytes = std::max<uint64_t>(uint64_t{512} << 20, free_bytes / 20);
    return p;
}

} // namespace v4::detail
