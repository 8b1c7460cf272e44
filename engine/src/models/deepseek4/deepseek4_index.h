// The lightning indexer's two hot loops (CSA layers), kept apart from the forward so they can be
// vectorised for the CPU at hand: scoring all compressed keys against a group of queries, and the
// top-k selection. Both are O(entries) per query, which is what makes a million-token prefill cost
// O(n^2 / ratio) in the indexer while attention itself stays O(window + top_k) per query.
#pragma once

#include <vector>

namespace v4::deepseek4 {

// scores[t * n_keys + s] = sum_h head_w[t * H + h] * ReLU(q[t, h, :] . keys[s, :])
// keys [n_keys, dim], q [n_q, H, dim], head_w [n_q, H] (scales folded in), scores [n_q, n_keys].
void index_scores(const float * keys, int n_keys, int dim, const float * q, const float * head_w, int n_q, int H,
                  float * scores);

// The k best of scores[0, n) (ties towards the lower index, as a stable sort would choose), as
// entry ids in ascending order; all of them when n <= k.
std::vector<int> top_k_entries(const float * scores, int n, int k);

// Both in one pass over the keys for a group of n_q <= index_group queries, without the score
// matrix: selected[t] = top_k_entries(row t of index_scores(...), n_ready[t], k), the same ids
// (the scores are summed in the same order, so ties and near-ties fall the same way). Keys are read
// up to the largest n_ready. With AVX-512 each key is scored for all queries at once and only
// scores above a query's current k-th best touch its heap.
constexpr int index_group = 32;
void index_select_group(const float * keys, int dim, const float * q, const float * head_w, int n_q, int H,
                        const int * n_ready, int k, std::vector<int> * selected);

} // namespace v4::deepseek4
