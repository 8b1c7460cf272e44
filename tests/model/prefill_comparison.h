// Runs a logits fixture's tokens through a session in one prefill with every position's logits
// kept, and compares each position with the reference (shared by the real-model logits tests).
#pragma once

#include <algorithm>
#include <memory>

#include "logits_fixture.h"
#include "v4/model.h"
#include "v4/session.h"

namespace v4test {

struct prefill_comparison {
    v4::prefill_stats stats;
    logits_comparison comparison;
};

inline prefill_comparison prefill_and_compare(const std::shared_ptr<const v4::model> & model, const logits_fixture & fx,
                                              v4::activation_precision precision) {
    v4::session_params sp{.n_ctx = 1024, .n_threads = 2, .n_batch = 256};
    sp.precision = precision;
    v4::session         s(model, sp);
    v4::prefill_options opt;
    opt.all_logits = true;
    prefill_comparison out;
    out.stats = s.prefill(fx.tokens, nullptr, opt);
    logits_comparer cmp(fx);
    // The caller checks n_evaluated == fx.n_tokens; never read past what the session kept.
    const uint32_t n = std::min<uint32_t>(out.stats.n_evaluated, fx.n_tokens);
    for (uint32_t p = 0; p < n; ++p) {
        cmp.add(p, s.all_logits().subspan(size_t(p) * fx.n_vocab, fx.n_vocab));
    }
    out.comparison = cmp.result();
    return out;
}

} // namespace v4test
