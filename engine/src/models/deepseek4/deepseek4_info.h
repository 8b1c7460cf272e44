// Human-readable facts about a DeepSeek-V4 model for `v4 inspect` and `v4 bench`.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "models/deepseek4/deepseek4.h"
#include "models/deepseek4/deepseek4_kv.h"

namespace v4::deepseek4 {

// Lines "label: text": per-layer schedule (SWA / CSA ratio / HCA ratio, hash or learned routing),
// attention, experts, mHC, total and activated parameters, KV growth per token.
std::vector<std::string> d4_describe(const d4_model & m);

// Floating-point operations (a multiply-add counts 2) of prefilling n_tokens from an empty state, the
// v4::prefill_flops contract: every activated parameter once per token (the routed experts a token
// uses; the embedding row and the small norm vectors counted as if multiplied, negligible), the
// output projection for the last position only, attention (q.k and p.v) over the rows each query
// sees (window, HCA entries or the CSA top-k) and the indexer's scores over every closed CSA window.
double d4_prefill_flops(const d4_model & m, uint64_t n_tokens);

// "fp32: 2 CSA x (128 + 128 B)/4 + 1 HCA x 128 B/128 + windows 4 x 31 rows" style summary.
std::string d4_kv_layout(const d4_config & c, const d4_kv_size & kv);

} // namespace v4::deepseek4
