// Lightning indexer loops (see deepseek4_index.h).
#include "models/deepseek4/deepseek4_index.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <numeric>

#include "models/deepseek4/deepseek4_simd.h"

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

namespace {

void select_generic(const float * keys, int dim, const float * q, const float * head_w, int n_q, int H, const int * n_ready,
                    int k, std::vector<int> * selected) {
    const int n_keys = *std::max_element(n_ready, n_ready + n_q);
    std::vector<float> scores(size_t(n_q) * size_t(n_keys));
    index_scores(keys, n_keys, dim, q, head_w, n_q, H, scores.data());
    for (int t = 0; t < n_q; t++) selected[t] = top_k_entries(scores.data() + size_t(t) * size_t(n_keys), n_ready[t], k);
}

#ifdef D4_HAVE_AVX512_PATH

// The k best so far of one query: a heap whose top is the entry to drop next (lowest score, and of
// equal scores the highest id, since a stable descending sort keeps the lower ids).
struct top_k_heap {
    std::vector<std::pair<float, int>> items;
    static bool better(const std::pair<float, int> & a, const std::pair<float, int> & b) {
        return a.first > b.first || (a.first == b.first && a.second < b.second);
    }
    void push(float score, int id, int k) {  // ids arrive in ascending order
        if (int(items.size()) == k) {
            std::pop_heap(items.begin(), items.end(), better);
            items.back() = {score, id};
        } else {
            items.emplace_back(score, id);
        }
        std::push_heap(items.begin(), items.end(), better);
    }
    // Entries still to beat: a new id (higher than all so far) gets in only above the k-th score.
    bool full(int k) const { return int(items.size()) == k; }
    float kth() const { return items.front().first; }
    std::vector<int> ids() const {
        std::vector<int> out;
        for (const auto & item : items) out.push_back(item.second);
        std::sort(out.begin(), out.end());
        return out;
    }
};

// One head's dots for 32 queries (columns col[i * 32 + t]), then its ReLU-weighted share of the
// score, in the order index_scores adds them (mul then add, no fusing, so the sums are the same).
__attribute__((target("avx512f"), always_inline)) inline void add_head(const float * col, const float * w, int dim,
                                                                         const float * key, __m512 & s0, __m512 & s1) {
    const __m512 zero = _mm512_setzero_ps();
    __m512 d0 = zero, d1 = zero;
    for (int i = 0; i < dim; i++, col += index_group) {
        const __m512 ki = _mm512_set1_ps(key[i]);
        d0 = _mm512_add_ps(d0, _mm512_mul_ps(ki, _mm512_loadu_ps(col)));
        d1 = _mm512_add_ps(d1, _mm512_mul_ps(ki, _mm512_loadu_ps(col + 16)));
    }
    s0 = _mm512_add_ps(s0, _mm512_mul_ps(_mm512_max_ps(d0, zero), _mm512_loadu_ps(w)));
    s1 = _mm512_add_ps(s1, _mm512_mul_ps(_mm512_max_ps(d1, zero), _mm512_loadu_ps(w + 16)));
}

__attribute__((target("avx512f"))) void select_avx512(const float * keys, int dim, const float * q, const float * head_w,
                                                        int n_q, int H, const int * n_ready, int k,
                                                        std::vector<int> * selected) {
    constexpr int lanes = index_group;  // two vectors of 16 queries
    // qt[(h * dim + i) * lanes + t] = q[t, h, i]; padded queries are zero and see no keys.
    std::vector<float> qt(size_t(H) * dim * lanes, 0.0f), w(size_t(H) * lanes, 0.0f);
    alignas(64) int limit[lanes] = {};
    for (int t = 0; t < n_q; t++) {
        limit[t] = n_ready[t];
        for (int h = 0; h < H; h++) {
            w[size_t(h) * lanes + t] = head_w[t * H + h];
            for (int i = 0; i < dim; i++) qt[(size_t(h) * dim + i) * lanes + t] = q[(size_t(t) * H + h) * dim + i];
        }
    }
    const int n_keys = *std::max_element(n_ready, n_ready + n_q);
    const __m512i lim0 = _mm512_load_si512(limit), lim1 = _mm512_load_si512(limit + 16);
    top_k_heap heaps[lanes];
    alignas(64) float threshold[lanes];  // a query's k-th best score; -inf (take anything) until it has k
    std::fill(threshold, threshold + lanes, -std::numeric_limits<float>::infinity());
    uint32_t not_full = 0xffffffffu;
    alignas(64) float score[lanes];
    for (int s = 0; s < n_keys; s++) {
        const float * key = keys + size_t(s) * dim;
        __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
        for (int h = 0; h < H; h++) add_head(&qt[size_t(h) * dim * lanes], &w[size_t(h) * lanes], dim, key, s0, s1);
        const __m512i vs = _mm512_set1_epi32(s);
        const uint32_t visible = uint32_t(_mm512_cmplt_epi32_mask(vs, lim0)) | (uint32_t(_mm512_cmplt_epi32_mask(vs, lim1)) << 16);
        const uint32_t above = uint32_t(_mm512_cmp_ps_mask(s0, _mm512_load_ps(threshold), _CMP_GT_OQ)) |
                               (uint32_t(_mm512_cmp_ps_mask(s1, _mm512_load_ps(threshold + 16), _CMP_GT_OQ)) << 16);
        uint32_t take = visible & (above | not_full);
        if (take == 0) continue;
        _mm512_store_ps(score, s0);
        _mm512_store_ps(score + 16, s1);
        for (; take; take &= take - 1) {
            const int t = __builtin_ctz(take);
            top_k_heap & heap = heaps[t];
            heap.push(score[t], s, k);
            if (heap.full(k)) {
                not_full &= ~(1u << t);
                threshold[t] = heap.kth();
            }
        }
    }
    for (int t = 0; t < n_q; t++) selected[t] = heaps[t].ids();
}

// Few queries (decode): lanes over 16 keys instead, the keys transposed in registers 16 dims at a
// time. Each score is still sum_i key[i] * q[i] in order (mul then add) and the heads in order, so
// the selection is the same as index_scores + top_k_entries and as select_avx512.
constexpr int few_queries = 4;
constexpr int few_max_dim = 256;

__attribute__((target("avx512f"))) void select_few_avx512(const float * keys, int dim, const float * q, const float * head_w,
                                                            int n_q, int H, const int * n_ready, int k,
                                                            std::vector<int> * selected) {
    const int n_keys = *std::max_element(n_ready, n_ready + n_q);
    top_k_heap heaps[few_queries];
    alignas(64) __m512 kt[few_max_dim];  // kt[i] = dim i of the block's 16 keys
    alignas(64) float score[16];
    const __m512 zero = _mm512_setzero_ps();
    for (int s0 = 0; s0 < n_keys; s0 += 16) {
        const int n_s = std::min(16, n_keys - s0);
        for (int i0 = 0; i0 < dim; i0 += 16) {
            const int n_i = std::min(16, dim - i0);
            __m512 r[16];
            for (int a = 0; a < 16; a++) {
                r[a] = a < n_s ? _mm512_maskz_loadu_ps(first_lanes(n_i), keys + size_t(s0 + a) * dim + i0) : zero;
            }
            transpose16(r);
            for (int i = 0; i < n_i; i++) kt[i0 + i] = r[i];
        }
        for (int t = 0; t < n_q; t++) {
            if (s0 >= n_ready[t]) continue;
            __m512 sc = zero;
            for (int h = 0; h < H; h++) {
                const float * qh = q + (size_t(t) * H + h) * dim;
                __m512 d = zero;
                for (int i = 0; i < dim; i++) d = _mm512_add_ps(d, _mm512_mul_ps(kt[i], _mm512_set1_ps(qh[i])));
                sc = _mm512_add_ps(sc, _mm512_mul_ps(_mm512_max_ps(d, zero), _mm512_set1_ps(head_w[t * H + h])));
            }
            top_k_heap & heap = heaps[t];
            uint32_t take = first_lanes(std::min(16, n_ready[t] - s0));
            if (heap.full(k)) take &= _mm512_cmp_ps_mask(sc, _mm512_set1_ps(heap.kth()), _CMP_GT_OQ);
            if (take == 0) continue;
            _mm512_store_ps(score, sc);
            for (int l = 0; l < 16; l++) {  // in id order; the k-th score rises as the heap fills
                if ((take >> l & 1u) && (!heap.full(k) || score[l] > heap.kth())) heap.push(score[l], s0 + l, k);
            }
        }
    }
    for (int t = 0; t < n_q; t++) selected[t] = heaps[t].ids();
}

#endif

} // namespace

void index_select_group(const float * keys, int dim, const float * q, const float * head_w, int n_q, int H,
                        const int * n_ready, int k, std::vector<int> * selected) {
    if (k <= 0) {
        for (int t = 0; t < n_q; t++) selected[t].clear();
        return;
    }
#ifdef D4_HAVE_AVX512_PATH
    if (cpu_has_avx512() && n_q <= few_queries && dim <= few_max_dim) {
        select_few_avx512(keys, dim, q, head_w, n_q, H, n_ready, k, selected);
        return;
    }
    if (cpu_has_avx512() && n_q <= index_group) {
        select_avx512(keys, dim, q, head_w, n_q, H, n_ready, k, selected);
        return;
    }
#endif
    select_generic(keys, dim, q, head_w, n_q, H, n_ready, k, selected);
}

} // namespace v4::deepseek4
