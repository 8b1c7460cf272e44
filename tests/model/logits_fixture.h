// Reader for the golden-logits fixtures written by tools/reference/make_logits_fixtures.py, and
// the comparison the real-model tests use.
//
// KL method: per position, KL(P_ref || P_ours) over the reference's top-k tokens plus one bucket
// for the rest of the vocabulary: sum_i p_i (log p_i - log q_i) + p_rest (log p_rest - log q_rest),
// with p_rest = 1 - sum p_i and q_rest = 1 - sum q_i (q_i taken at the same ids). This is a lower
// bound of the full KL (merging outcomes never increases KL) and exact when the reference puts
// all its mass on the top-k.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <span>
#include <string>
#include <vector>

namespace v4test {

struct logits_fixture {
    uint32_t             n_tokens = 0, top_k = 0, n_vocab = 0;
    std::vector<int32_t> tokens;
    std::vector<int32_t> top1;
    std::vector<float>   lse;
    std::vector<int32_t> ids;      // [n_tokens][top_k]
    std::vector<float>   logprobs; // [n_tokens][top_k]

    // Throws std::runtime_error on a malformed file.
    static logits_fixture load(const std::string & path) {
        std::ifstream f(path, std::ios::binary);
        if (!f) {
            throw std::runtime_error("cannot open " + path);
        }
        auto rd = [&](void * p, size_t n) {
            if (!f.read(static_cast<char *>(p), static_cast<std::streamsize>(n))) {
                throw std::runtime_error("truncated fixture " + path);
            }
        };
        char magic[4];
        rd(magic, 4);
        uint32_t hdr[4];
        rd(hdr, sizeof(hdr));
        if (std::memcmp(magic, "V4LG", 4) != 0 || hdr[0] != 1) {
            throw std::runtime_error("bad fixture header in " + path);
        }
        logits_fixture fx;
        fx.n_tokens = hdr[1];
        fx.top_k = hdr[2];
        fx.n_vocab = hdr[3];
        fx.tokens.resize(fx.n_tokens);
        rd(fx.tokens.data(), fx.n_tokens * 4);
        fx.top1.resize(fx.n_tokens);
        fx.lse.resize(fx.n_tokens);
        fx.ids.resize(size_t(fx.n_tokens) * fx.top_k);
        fx.logprobs.resize(size_t(fx.n_tokens) * fx.top_k);
        for (uint32_t p = 0; p < fx.n_tokens; ++p) {
            rd(&fx.top1[p], 4);
            rd(&fx.lse[p], 4);
            rd(&fx.ids[size_t(p) * fx.top_k], fx.top_k * 4);
            rd(&fx.logprobs[size_t(p) * fx.top_k], fx.top_k * 4);
        }
        return fx;
    }
};

struct logits_comparison {
    double top1_agreement = 0.0; // fraction of positions with the same argmax
    double mean_kl = 0.0;
    double max_kl = 0.0;
    int    n_positions = 0;
};

// Accumulates positions one at a time: `logits` are ours (n_vocab) for fixture position p.
class logits_comparer {
public:
    explicit logits_comparer(const logits_fixture & fx) : m_fx(fx) {}

    void add(uint32_t p, std::span<const float> logits) {
        const int32_t argmax = static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
        double        mx = -INFINITY;
        for (float v : logits) {
            mx = std::max(mx, static_cast<double>(v));
        }
        double sum = 0.0;
        for (float v : logits) {
            sum += std::exp(static_cast<double>(v) - mx);
        }
        const double lse = mx + std::log(sum);
        double       kl = 0.0, p_top = 0.0, q_top = 0.0;
        for (uint32_t i = 0; i < m_fx.top_k; ++i) {
            const double lp = m_fx.logprobs[size_t(p) * m_fx.top_k + i];
            const double lq = logits[m_fx.ids[size_t(p) * m_fx.top_k + i]] - lse;
            kl += std::exp(lp) * (lp - lq);
            p_top += std::exp(lp);
            q_top += std::exp(lq);
        }
        const double p_rest = std::max(0.0, 1.0 - p_top), q_rest = std::max(1e-30, 1.0 - q_top);
        if (p_rest > 0.0) {
            kl += p_rest * (std::log(p_rest) - std::log(q_rest));
        }
        m_top1 += argmax == m_fx.top1[p] ? 1 : 0;
        m_kl_sum += kl;
        m_kl_max = std::max(m_kl_max, kl);
        ++m_n;
    }

    logits_comparison result() const {
        logits_comparison r;
        r.n_positions = m_n;
        r.top1_agreement = m_n ? static_cast<double>(m_top1) / m_n : 0.0;
        r.mean_kl = m_n ? m_kl_sum / m_n : 0.0;
        r.max_kl = m_kl_max;
        return r;
    }

private:
    const logits_fixture & m_fx;
    int                    m_top1 = 0;
    int                    m_n = 0;
    double                 m_kl_sum = 0.0;
    double                 m_kl_max = 0.0;
};

} // namespace v4test
