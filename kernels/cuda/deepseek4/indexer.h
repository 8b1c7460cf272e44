// The DeepSeek-V4 lightning indexer on the GPU (CSA layers): scores of every compressed key against
// each query, and the causal top-k selection (ties to the lower entry id, ids ascending: the engine's
// top_k_entries). Contracts as ref::d4::index_scores / top_k_ascending; device pointers.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>
#include <string>

namespace v4::kernels::cuda::d4 {

// scores[t * n_keys + s] = sum_h (head_w[t, h] * w_scale) * ReLU(q[t, h, :] . keys[s, :]); the query's
// H * (dim + 1) floats must fit in 40 KiB of shared memory (V4: 64 heads x 128).
std::string index_scores(const float * keys, int n_keys, int dim, const float * q, const float * head_w, float w_scale,
                         int n_q, int H, float * scores, cudaStream_t stream);

// Per query t (position pos0 + t): the top k of scores[t * ld, t * ld + n_t), n_t = min(ld,
// (pos0 + t + 1) / ratio) visible entries, as ascending ids in ids[t * k ..], count[t] = min(n_t, k);
// the unused tail of a row is -1.
std::string top_k(const float * scores, int ld, int n_q, int pos0, int ratio, int k, int32_t * ids, int32_t * count,
                  cudaStream_t stream);

} // namespace v4::kernels::cuda::d4
