// Lightning indexer loops (see deepseek4_index.h).
#include "models/deepseek4/deepseek4_index.h"

#include <algorithm>
#include <numeric>

namespace v4::deepseek4 {

// One clone per ISA level, picked at load time (GCC/Clang ifunc on x86-64 Linux); elsewhere the
// compiler's default target.
#if defined(__x86_64__) && defined(__linux__) && (defined(__GNUC__) || defined(__clang__))
#define D4_VECTOR_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define D4_VECTOR_CLONES
#endif

// Vectorised across the n_q * H query heads: the queries are transposed once to [dim, n_q * H],
// then each key adds key[i] * column i to a row of partial dots (no horizontal sums per key).
D4_VECTOR_CLONES
void index_scores(const float * keys, int n_keys, int dim, const float * q, const float * head_w, int n_q, int H,
                  float * scores) {
    const int n_qh = n_q * H;
    std::vector<float> qt(size_t(dim) * n_qh), dots(static_cast<size_t>(n_qh));
    for (int th = 0; th < n_qh; th++) {
        for (int i = 0; i < dim; i++) qt[size_t(i) * n_qh + th] = q[size_t(th) * dim + i];
    }
    for (int s = 0; s < n_keys; s++) {
        const float * key = keys + size_t(s) * dim;
        std::fill(dots.begin(), dots.end(), 0.0f);
        for (int i = 0; i < dim; i++) {
            const float ki = key[i];
            const float * col = &qt[size_t(i) * n_qh];
            for (int th = 0; th < n_qh; th++) dots[size_t(th)] += ki * col[th];
        }
        for (int t = 0; t < n_q; t++) {
            float acc = 0.0f;
            for (int h = 0; h < H; h++) acc += std::max(dots[size_t(t * H + h)], 0.0f) * head_w[size_t(t * H + h)];
            scores[size_t(t) * n_keys + s] = acc;
        }
    }
}

std::vector<int> top_k_entries(const float * scores, int n, int k) {
    std::vector<int> out;
    if (n <= k) {
        out.resize(static_cast<size_t>(n));
        std::iota(out.begin(), out.end(), 0);
        return out;
    }
    // The k-th largest value, then everything above it plus the lowest-index entries equal to it.
    thread_local std::vector<float> tmp;
    tmp.assign(scores, scores + n);
    std::nth_element(tmp.begin(), tmp.begin() + (k - 1), tmp.end(), std::greater<float>());
    const float kth = tmp[size_t(k - 1)];
    int n_above = 0;
    for (int s = 0; s < n; s++) n_above += scores[s] > kth;
    int ties_left = k - n_above;
    out.reserve(static_cast<size_t>(k));
    for (int s = 0; s < n; s++) {
        if (scores[s] > kth || (scores[s] == kth && ties_left-- > 0)) out.push_back(s);
    }
    return out;
}

} // namespace v4::deepseek4
