// Token sampling on the device, so a decode step returns one token id instead of n_vocab logits.
// The pipeline and its order are v4::sampler's (engine/include/v4/sampler.h): logit bias and
// repetition/presence/frequency penalties -> [temperature <= 0: argmax] -> top-k -> top-p -> min-p
// (all on the untempered logits) -> temperature -> inverse-CDF draw with the host's uniform number,
// over the candidates in the sampler's order (higher logit first, then lower id).
//
// The candidates are sorted in shared memory, so at most sample_max_candidates of them: top-k, or
// without top-k the tokens above the sampler's own pre-filter threshold (min-p, and the top-p
// floor). A larger set (plain temperature sampling over the vocabulary, or a top-k above the cap)
// returns sample_status::too_many and the caller samples on the host.
#pragma once

#include <cstdint>

#include <cuda_runtime.h>

namespace v4::kernels::cuda {

constexpr int sample_max_candidates = 2048;

// One token whose logit the bias or the penalties change; ids are distinct.
struct sample_adjust {
    int32_t id = 0;
    float   bias = 0.0f;  // added first (logit_bias; -inf bans)
    int32_t count = 0;    // occurrences in the penalty window (0: no penalty for this id)
};

enum sample_status : int32_t {
    sample_ok = 0,        // token chosen without using the uniform draw (greedy, or one candidate)
    sample_ok_drew = 1,   // token chosen by the draw (the caller consumes its random number)
    sample_too_many = 2,  // more candidates than sample_max_candidates: sample on the host
    sample_all_banned = 3 // every logit is -inf or NaN
};

struct sample_result {
    int32_t token = -1;
    int32_t status = sample_ok;
};

struct sample_params {
    const float *         logits = nullptr;   // [n_vocab], not modified
    float *               work = nullptr;     // [n_vocab] scratch: logits after bias and penalties
    const sample_adjust * adjust = nullptr;   // [n_adjust]
    int                   n_adjust = 0;
    int                   n_vocab = 0;
    float                 temperature = 0.8f;
    int                   top_k = 40;
    float                 top_p = 0.95f;
    float                 min_p = 0.05f;
    float                 repetition_penalty = 1.0f; // 1 when disabled (then l / 1 and l * 1 change nothing)
    float                 presence_penalty = 0.0f;
    float                 frequency_penalty = 0.0f;
    double                uniform = 0.0;      // in [0, 1): the sampler's next draw
    sample_result *       result = nullptr;   // device
};

// Three launches on `stream` (copy, adjust, select); reads no host memory, so it can be captured.
void sample(const sample_params & p, cudaStream_t stream);

} // namespace v4::kernels::cuda
